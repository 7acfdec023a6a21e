/**
 * The house rule of documentation, checked over every file under src/ and main.ts: every export
 * has a JSDoc comment, and every exported function and class (what has behaviour) shows how to
 * use it in an example (a fenced code block, as in denoland/std). Constants and types need the
 * comment only: an example that echoes a constant's value teaches nothing. `deno task check`
 * type-checks the examples (`deno check --doc`) and `deno task test` runs them
 * (`deno test --doc`), so they cannot drift from the code either.
 *
 * @module
 */
import assert from "node:assert/strict";
import { sourceFiles } from "./source_files.ts";

const EXPORT =
  /^export (?:async )?(?:abstract )?(function\*?|class|const|let|interface|type|enum) (\w+)/;
const NEEDS_EXAMPLE = new Set(["function", "function*", "class"]);

/** The exports of `source` that break the rule, as `line name: what is missing`. */
export function undocumented(source: string): string[] {
  const lines = source.split("\n");
  const found: string[] = [];
  lines.forEach((line, index) => {
    const match = EXPORT.exec(line);
    if (match === null) return;
    const [, kind, name] = match;
    let end = index - 1;
    while (end >= 0 && lines[end]!.trim() === "") end--;
    if (end < 0 || !lines[end]!.trim().endsWith("*/")) {
      found.push(`${index + 1} ${name}: no JSDoc`);
      return;
    }
    let start = end;
    while (start >= 0 && !lines[start]!.includes("/**")) start--;
    const comment = lines.slice(Math.max(0, start), end + 1).join("\n");
    if (NEEDS_EXAMPLE.has(kind!) && !comment.includes("```")) {
      found.push(`${index + 1} ${name}: no example`);
    }
  });
  return found;
}

Deno.test("the checker flags a missing JSDoc and a missing example, and accepts types without one", () => {
  const source = [
    "export const bare = 1;",
    "/** A constant needs no example. */",
    "export const LIMIT = 2;",
    "/** Documented, no example. */",
    "export function lonely(): void {}",
    "/** A type needs no example. */",
    "export interface Shape {}",
    "/**",
    " * With one.",
    " *",
    " * ```ts",
    " * withExample(); // 1",
    " * ```",
    " */",
    "export function withExample(): number {",
    "  return 1;",
    "}",
    "export type Naked = string;",
  ].join("\n");
  assert.deepEqual(undocumented(source), [
    "1 bare: no JSDoc",
    "5 lonely: no example",
    "18 Naked: no JSDoc",
  ]);
});

Deno.test("every export under src/ has JSDoc, and every function and class an example", async () => {
  const files = await sourceFiles();
  assert.ok(files.size > 50, `read ${files.size} files`);
  const broken = [...files].flatMap(([path, source]) =>
    undocumented(source).map((finding) => `${path}:${finding}`)
  );
  assert.deepEqual(broken, []);
});
