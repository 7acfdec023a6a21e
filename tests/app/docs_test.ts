/**
 * The house rule of documentation, checked over every file under src/ and main.ts: every export
 * has a JSDoc comment, and every exported function and class (what has behaviour) shows how to
 * use it in an example (a fenced code block, as in denoland/std). Constants and types need the
 * comment only: an example that echoes a constant's value teaches nothing. `deno task check`
 * type-checks the examples (`deno check --doc`), and `deno task test` runs every example under
 * src/ as a test of its own (`deno test --doc src/`, sanitizers on), so an example asserts what
 * it teaches with node:assert/strict, touches nothing beyond loopback, and cannot drift from the
 * code.
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

/**
 * An example line that states its result in a comment (`parse("a"); // → 1`) instead of asserting
 * it: a bare expression statement followed by a value-like comment. Declarations and assignments
 * may carry a comment (`const fd = open(); // a new descriptor`), and so may an assertion.
 */
const ECHO =
  /^\s*\*\s+(?!(?:const|let|var|import|export|await using|for|if|assert)\b)([^=]*?|.*?[=!<>]=.*?);\s*\/\/\s*(?:→|true\b|false\b|undefined\b|null\b|\[|\{|"|-?\d)/;

/** A result on a line of its own: `// → { counted: 1 }`. */
const ARROW = /^\s*\*\s+\/\/\s*→/;

/** The lines of examples in `source` that echo a result instead of asserting it. */
export function echoes(source: string): string[] {
  const found: string[] = [];
  let inExample = false;
  source.split("\n").forEach((line, index) => {
    if (/^\s*\*\s*```/.test(line)) inExample = !inExample;
    else if (inExample && (ECHO.test(line) || ARROW.test(line))) {
      found.push(`${index + 1}: ${line.trim()}`);
    }
  });
  return found;
}

Deno.test("the echo checker flags results stated in comments, not declarations or asserts", () => {
  const source = [
    "/**",
    " * ```ts",
    " * AF_INET; // → 2",
    ' * isEventType("usb"); // false',
    " * const fd = open(); // 3, a new descriptor",
    " * now = 16_000; // 14 s left",
    ' * assert.equal(parse("1"), 1); // parsed',
    " * assert.match(error, /not public/); // 10.0.0.8 not told",
    " * store.record(events);",
    " * // → { counted: 1 }",
    " * ```",
    " * Outside an example: f(); // 1",
    " */",
  ].join("\n");
  assert.deepEqual(echoes(source), [
    "3: * AF_INET; // → 2",
    '4: * isEventType("usb"); // false',
    "10: * // → { counted: 1 }",
  ]);
});

Deno.test("examples under src/ assert their results instead of echoing them", async () => {
  const files = await sourceFiles();
  const found = [...files]
    .flatMap(([path, source]) => echoes(source).map((line) => `${path}:${line}`));
  assert.deepEqual(found, []);
});

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

Deno.test("deno task test runs the tests in tests/ and the examples under src/", async () => {
  const { tasks } = JSON.parse(await Deno.readTextFile("deno.json"));
  const steps = String(tasks.test).split("&&").map((step) => step.trim());
  assert.ok(steps.includes("deno test --allow-all --doc src/"), tasks.test);
  assert.ok(steps.includes("deno test --allow-all tests/"), tasks.test);
});

Deno.test("every export under src/ has JSDoc, and every function and class an example", async () => {
  const files = await sourceFiles();
  assert.ok(files.size > 50, `read ${files.size} files`);
  const broken = [...files].flatMap(([path, source]) =>
    undocumented(source).map((finding) => `${path}:${finding}`)
  );
  assert.deepEqual(broken, []);
});
