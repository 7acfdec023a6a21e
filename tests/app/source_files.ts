/**
 * The files the house rules are checked over: every `.ts` file under src/, and main.ts.
 *
 * ```ts
 * import { sourceFiles } from "./source_files.ts";
 * const files = await sourceFiles();
 * files.has("src/components.ts"); // true
 * ```
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** Every source file of the service, by repository path, with its text. */
export async function sourceFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) await walk(path);
      else if (entry.name.endsWith(".ts")) {
        files.set(path, await Deno.readTextFile(new URL(path, ROOT)));
      }
    }
  };
  await walk("src");
  files.set("main.ts", await Deno.readTextFile(new URL("main.ts", ROOT)));
  return files;
}
