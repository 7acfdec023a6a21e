/**
 * A benchmark's process from start to exit: what it started is cleaned up on Ctrl-C too (the
 * service subprocess before the stack it talks to), and it exits when its main function is
 * done, with 1 and the stack trace when that failed.
 *
 * ```ts
 * import { onInterrupt, runBench } from "./lifecycle.ts";
 *
 * async function main(): Promise<void> {
 *   const server = Deno.serve({ port: 0, onListen: () => {} }, () => new Response("ok"));
 *   const forget = onInterrupt(() => server.shutdown()); // Ctrl-C: the server stops too
 *   try {
 *     // ... the run ...
 *   } finally {
 *     forget();
 *     await server.shutdown();
 *   }
 * }
 * if (import.meta.main) await runBench("bench:x", main);
 * ```
 *
 * @module
 */
import { runMain } from "../../tools/common/run_main.ts";

const cleanups: (() => Promise<void>)[] = [];
const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const handlers = SIGNALS.map((signal) => ({
  signal,
  async handler() {
    console.error(`\n${signal}: cleaning up`);
    // Last registered first: the service goes before the stack it talks to.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    Deno.exit(130);
  },
}));

/**
 * Registers `fn` to run if the process is interrupted (SIGINT/SIGTERM); returns the function that
 * unregisters it. Normal paths clean up with `try/finally`; this covers Ctrl-C, when `finally`
 * blocks never run because the signal ends the process. The signals are listened to only while
 * something is registered (nothing else keeps a listener, and a test's sanitizers find none).
 *
 * @example
 * ```ts
 * import { onInterrupt } from "./lifecycle.ts";
 *
 * const child = new Deno.Command("sleep", { args: ["60"] }).spawn();
 * const forget = onInterrupt(async () => {
 *   child.kill("SIGKILL");
 *   await child.status;
 * });
 * try {
 *   // ... the run ...
 * } finally {
 *   forget();
 *   child.kill("SIGKILL");
 *   await child.status;
 * }
 * ```
 */
export function onInterrupt(fn: () => Promise<void>): () => void {
  if (cleanups.length === 0) {
    for (const { signal, handler } of handlers) Deno.addSignalListener(signal, handler);
  }
  cleanups.push(fn);
  return () => {
    const index = cleanups.indexOf(fn);
    // Gone already: the interruption is running it.
    if (index < 0) return;
    cleanups.splice(index, 1);
    if (cleanups.length > 0) return;
    for (const { signal, handler } of handlers) Deno.removeSignalListener(signal, handler);
  };
}

/**
 * Runs a benchmark's `main`, then exits: 0 when it is done (the SDK clients' keep-alive sockets
 * and the stack's timers must not keep the process alive), 1 with `name` and the stack trace
 * when it threw.
 *
 * @example
 * ```ts
 * import { runBench } from "./lifecycle.ts";
 *
 * async function main(): Promise<void> {
 *   console.log("figures");
 * }
 * if (import.meta.main) await runBench("bench:x", main); // exit 0 once the figures are printed
 * ```
 */
export function runBench(name: string, main: () => Promise<void>): Promise<never> {
  return runMain(name, main, { failureCode: 1, stack: true });
}
