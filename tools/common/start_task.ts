/**
 * The start task's permission flags, written once (deno.json `start`) and read here by everything
 * else that needs them: `deno task compile` (tools/compile.ts: the binary carries exactly these),
 * the demos and the tests that run the service as users do, and the tests that run it with one
 * flag narrowed. Deno's `"permissions"` sets in deno.json (`-P`) would be another single place,
 * but Deno 2.9 marks them experimental (a warning at every start) and resolves their relative
 * paths against the config file's folder, not the working directory (measured), so `data` in a
 * set would not be the binary's `data/` where it runs.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };

/**
 * The command of a deno.json task as an argument list: the task's text split on spaces, without
 * its leading `NAME=value` environment assignments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { taskCommand } from "./start_task.ts";
 *
 * assert.deepEqual(taskCommand("start").slice(0, 2), ["deno", "run"]);
 * assert.throws(() => taskCommand("no-such-task"), /no task no-such-task in deno.json/);
 * ```
 */
export function taskCommand(task: string): string[] {
  const text = (denoJson.tasks as Record<string, string>)[task];
  if (text === undefined) throw new Error(`no task ${task} in deno.json`);
  const words = text.trim().split(/\s+/);
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) words.shift();
  return words;
}

/**
 * Exactly the command of `deno task start`, permissions included: the demos and tests run the
 * service as users do (and as the compiled binary, which bakes the same flags in, does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SERVICE_COMMAND } from "./start_task.ts";
 *
 * assert.deepEqual(SERVICE_COMMAND.slice(0, 2), ["deno", "run"]);
 * assert.equal(SERVICE_COMMAND.at(-1), "main.ts");
 * ```
 */
export const SERVICE_COMMAND: readonly string[] = taskCommand("start");

/**
 * The permission flags of a command (`--allow-*`, `--deny-*` and `--no-prompt`), in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { permissionFlags } from "./start_task.ts";
 *
 * const command = ["deno", "run", "--no-prompt", "--allow-net", "--check", "main.ts"];
 * assert.deepEqual(permissionFlags(command), ["--no-prompt", "--allow-net"]);
 * ```
 */
export function permissionFlags(command: readonly string[]): string[] {
  return command.filter((arg) => /^--(allow|deny)-|^--no-prompt$/.test(arg));
}

/**
 * `command` with the flag `flag` replaced by `replacement`, or dropped when there is none: a run
 * with one permission narrowed. Throws when `command` has no such flag, so a test of a narrowed
 * permission cannot silently run with the full set once the start task changes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { replaceFlag, SERVICE_COMMAND } from "./start_task.ts";
 *
 * const noFfi = replaceFlag(SERVICE_COMMAND, "--allow-ffi");
 * assert.equal(noFfi.length, SERVICE_COMMAND.length - 1);
 * assert.ok(!noFfi.includes("--allow-ffi"));
 * const narrow = replaceFlag(SERVICE_COMMAND, "--allow-read", "--allow-read=data,/tmp");
 * assert.ok(narrow.includes("--allow-read=data,/tmp"));
 * assert.throws(() => replaceFlag(SERVICE_COMMAND, "--allow-hrtime"), /has no --allow-hrtime/);
 * ```
 */
export function replaceFlag(
  command: readonly string[],
  flag: string,
  replacement?: string,
): string[] {
  const at = command.indexOf(flag);
  if (at < 0) throw new Error(`the command has no ${flag}: ${command.join(" ")}`);
  return [...command.slice(0, at), ...(replacement ? [replacement] : []), ...command.slice(at + 1)];
}

/** Where `deno task compile` writes the executable (the Dockerfile copies it from here). */
export const COMPILE_OUTPUT = "dist/edr-preprocessor";

/**
 * The `deno compile` command of `deno task compile`: the start task's flags and entry point,
 * `--output` {@linkcode COMPILE_OUTPUT}, and `extra` (say `--target aarch64-unknown-linux-gnu`)
 * before the entry point.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileCommand, permissionFlags, SERVICE_COMMAND } from "./start_task.ts";
 *
 * const compile = compileCommand(["--target", "aarch64-unknown-linux-gnu"]);
 * assert.deepEqual(compile.slice(0, 2), ["deno", "compile"]);
 * assert.deepEqual(permissionFlags(compile), permissionFlags(SERVICE_COMMAND));
 * assert.deepEqual(compile.slice(-5), [
 *   "--output",
 *   "dist/edr-preprocessor",
 *   "--target",
 *   "aarch64-unknown-linux-gnu",
 *   "main.ts",
 * ]);
 * ```
 */
export function compileCommand(extra: readonly string[] = []): string[] {
  const [deno, run, ...flags] = SERVICE_COMMAND;
  const entry = flags.pop();
  if (deno !== "deno" || run !== "run" || !entry?.endsWith(".ts")) {
    throw new Error(`the start task is not "deno run <flags> <entry>.ts": ${SERVICE_COMMAND}`);
  }
  return ["deno", "compile", ...flags, "--output", COMPILE_OUTPUT, ...extra, entry];
}
