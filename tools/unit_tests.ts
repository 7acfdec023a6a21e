/**
 * `deno task test:unit`: the unit tests alone, in seconds rather than the whole suite's minutes.
 * A test file is a unit test when its source neither starts a process nor opens a socket or a
 * server (the patterns below); every other file (the `e2e_*` tests, the local stack, Redis,
 * openssl, the HTTP and UDP tests) runs only under `deno task test`, and so do the JSDoc examples
 * under src/ (`deno test --doc src/`: an isolate per example, minutes in all, and several start
 * the local stack or Redis). Classified by reading the files, so a new test lands on the right
 * side without a list to keep.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnitTest } from "./unit_tests.ts";
 * assert.ok(isUnitTest('Deno.test("sums", () => assert.equal(1 + 1, 2));'));
 * assert.ok(!isUnitTest('const child = new Deno.Command("redis-server").spawn();'));
 * ```
 *
 * @module
 */
import { runMain } from "./common/run_main.ts";

/** What makes a test file not a unit test: a process, a socket, a server, a helper that starts one. */
const IO = new RegExp(
  [
    String.raw`Deno\.Command`,
    String.raw`Deno\.serve`,
    String.raw`Deno\.listen`,
    String.raw`Deno\.connect`,
    String.raw`createServer`,
    String.raw`listenDatagram`,
    String.raw`\bfetch\(`,
    String.raw`\bspawn`,
    "local_stack",
    "redis-server",
    "openssl",
    "e2e_harness",
    "collector_app",
    "hostile_service",
    "service_process",
  ].join("|"),
);

/**
 * Whether a test file's source is a unit test (see the module comment).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnitTest } from "./unit_tests.ts";
 * assert.ok(!isUnitTest('const server = Deno.serve({ port: 0 }, () => new Response("ok"));'));
 * ```
 */
export function isUnitTest(source: string): boolean {
  return !IO.test(source);
}

async function* testFiles(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* testFiles(path);
    else if (entry.name.endsWith("_test.ts")) yield path;
  }
}

async function main(args: string[]): Promise<number> {
  const units: string[] = [];
  for await (const path of testFiles("tests")) {
    if (isUnitTest(await Deno.readTextFile(path))) units.push(path);
  }
  units.sort();
  console.error(`test:unit: ${units.length} unit test files`);
  const { code } = await new Deno.Command("deno", {
    args: ["test", "--allow-all", ...args, ...units],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code;
}

if (import.meta.main) await runMain("test:unit", () => main(Deno.args));
