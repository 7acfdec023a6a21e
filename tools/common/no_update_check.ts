/**
 * Deno's update check, and the one place tools and tests turn it off for a child.
 *
 * Only `deno run` checks (Deno's `run_script`; not `test`, `bench`, `eval`, `check`, `fmt`,
 * `lint`, `task` itself, nor a compiled binary), and only when `DENO_NO_UPDATE_CHECK` is unset
 * (any value turns it off): 0.5 s after start a background task asks Deno's release server for
 * the latest version and caches the answer in `$DENO_DIR/latest.txt` for 24 h; a failure is
 * ignored, so offline every run asks again. It never delays nor fails the run (measured: a
 * `deno run` of an empty file takes 0.06 s either way; a 2 s run makes one DNS lookup without
 * the variable, none with it). On a terminal the next run may print one line, "A new release of
 * Deno is available". So the variable is not needed for any command to work: it keeps the tests
 * from resolving a public name (`deno task test` exports it for the whole run; every child
 * inherits it) and a child started outside that run quiet.
 *
 * @module
 */

/**
 * `env` with `DENO_NO_UPDATE_CHECK=1`: for a `deno run` child whose environment does not come
 * from the test run (a service the demos or benchmarks start from a plain shell, a test that
 * clears the environment).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noUpdateCheck } from "./no_update_check.ts";
 *
 * assert.deepEqual(noUpdateCheck({ HTTP_PORT: "0" }), {
 *   DENO_NO_UPDATE_CHECK: "1",
 *   HTTP_PORT: "0",
 * });
 * ```
 */
export function noUpdateCheck(env: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { DENO_NO_UPDATE_CHECK: "1", ...env };
}
