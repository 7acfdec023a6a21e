/**
 * A tool's (or a benchmark's) process from its main function to its exit code: the code
 * `main` returns (0 when it returns nothing), or, when it throws, the tool's name and the
 * error on stderr and a failure code. It exits even if a keep-alive socket or a timer is still
 * open.
 *
 * ```ts
 * import { runMain } from "./run_main.ts";
 *
 * async function main(args: string[]): Promise<number> {
 *   if (args.length === 0) throw new Error("usage: tool FILE"); // "tool: usage: tool FILE", exit 2
 *   return 0;
 * }
 * if (import.meta.main) await runMain("tool", () => main(Deno.args));
 * ```
 *
 * @module
 */

/** Options of {@linkcode runMain}. */
export interface RunMainOptions {
  /** The exit code when `main` throws. Default 2 (a usage or setup error, not a failed check). */
  readonly failureCode?: number;
  /** Print the error's stack trace, not only its message. Default false. */
  readonly stack?: boolean;
}

/**
 * Runs `main` and exits with its code; on an error, prints `name: message` (or the stack) and
 * exits with `options.failureCode`.
 *
 * @example
 * ```ts
 * import { runMain } from "./run_main.ts";
 *
 * // A benchmark: exit 1 and the stack trace when it fails.
 * if (import.meta.main) {
 *   await runMain("bench:x", () => Promise.resolve(), { failureCode: 1, stack: true }); // exit 0
 * }
 * ```
 */
export async function runMain(
  name: string,
  main: () => Promise<number | void>,
  options: RunMainOptions = {},
): Promise<never> {
  let code: number;
  try {
    code = (await main()) ?? 0;
  } catch (error) {
    const text = error instanceof Error ? (options.stack ? error.stack : error.message) : undefined;
    console.error(`${name}: ${text ?? String(error)}`);
    Deno.exit(options.failureCode ?? 2);
  }
  Deno.exit(code);
}
