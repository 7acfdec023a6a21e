/**
 * Children that die with their parent, so a failed or killed test run leaves nothing behind.
 *
 * - {@linkcode dieWithParent}: runs a child through util-linux's `setpriv --pdeathsig KILL`,
 *   which sets the kernel's parent-death signal (`prctl(PR_SET_PDEATHSIG)`) and then execs the
 *   command: when this process dies, however it dies (SIGKILL included), the kernel kills the
 *   child. Deno cannot run code between fork and exec, so the prctl has to come from a helper
 *   that execs; setpriv is that helper on every Debian. Deno spawns from its main thread, the
 *   thread the signal is tied to, which lives as long as the process.
 * - {@linkcode exitWhenOrphaned}: for a Deno program started through an intermediate it does not
 *   control (`deno task` does not pass the signal on to what it runs): polls `Deno.ppid`, which
 *   becomes another process (init or a subreaper) once the parent is gone.
 *
 * @module
 */

const SETPRIV = "setpriv";

/** Whether setpriv can be run here (installed, and permitted). Asked once. */
let usable: boolean | undefined;

function setprivUsable(): boolean {
  if (usable !== undefined) return usable;
  usable = false;
  if (Deno.build.os !== "linux") return usable;
  if (Deno.permissions.querySync({ name: "run", command: SETPRIV }).state !== "granted") {
    return usable;
  }
  try {
    usable = new Deno.Command(SETPRIV, { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    usable = false; // not installed: the child runs without the watch
  }
  return usable;
}

/**
 * The command and arguments that run `command args` with SIGKILL as its parent-death signal,
 * or the same command unchanged where setpriv is missing or not permitted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dieWithParent } from "./parent_death.ts";
 * const { command, args } = dieWithParent("sleep", ["1"]);
 * // With setpriv (every Debian, run permitted): setpriv --pdeathsig KILL -- sleep 1
 * assert.deepEqual([command, ...args].slice(-2), ["sleep", "1"]);
 * ```
 */
export function dieWithParent(
  command: string,
  args: readonly string[],
): { command: string; args: string[] } {
  if (!setprivUsable()) return { command, args: [...args] };
  return { command: SETPRIV, args: ["--pdeathsig", "KILL", "--", command, ...args] };
}

/**
 * Calls `onOrphaned` (default: exit with code 1) once this process's parent is gone; checks
 * every `intervalMs` without keeping the process alive. Returns a function that stops watching.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exitWhenOrphaned } from "./parent_death.ts";
 * let orphaned = false;
 * const stop = exitWhenOrphaned({ onOrphaned: () => orphaned = true });
 * assert.equal(orphaned, false); // the parent (the shell, the test runner) is still there
 * stop();
 * ```
 */
export function exitWhenOrphaned(
  options: { readonly intervalMs?: number; readonly onOrphaned?: () => void } = {},
): () => void {
  const parent = Deno.ppid;
  const timer = setInterval(() => {
    if (Deno.ppid === parent) return;
    clearInterval(timer);
    (options.onOrphaned ?? (() => Deno.exit(1)))();
  }, options.intervalMs ?? 500);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
