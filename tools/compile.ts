/**
 * `deno task compile`: `deno compile` of main.ts with exactly the start task's permission flags
 * (read from deno.json by tools/common/start_task.ts, never copied), to `dist/edr-preprocessor`.
 * Arguments are passed on to `deno compile` (`deno task compile --target …`). Its exit code is
 * deno compile's.
 *
 * ```sh
 * deno task compile
 * ```
 *
 * @module
 */
import { compileCommand } from "./common/start_task.ts";

if (import.meta.main) {
  const [command, ...args] = compileCommand(Deno.args);
  console.error(`${command} ${args.join(" ")}`);
  const { code } = await new Deno.Command(command!, { args }).spawn().status;
  Deno.exit(code);
}
