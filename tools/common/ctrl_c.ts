/**
 * Ctrl-C in phases, for the demos: each press ends the current phase (run, drain, stop).
 *
 * ```ts
 * import { CtrlC } from "./ctrl_c.ts";
 * using ctrlC = new CtrlC();
 * ctrlC.signal.aborted; // false until Ctrl-C
 * ```
 *
 * @module
 */

/**
 * Ctrl-C ends the current phase, whatever it is: the run (the fleet stops and the service
 * drains), then the drain (stop waiting for it), then the service's graceful stop (kill it).
 */
export class CtrlC implements Disposable {
  #phase = new AbortController();
  #lastPress = -Infinity;
  readonly #onSigint = () => {
    // Under `deno task` one Ctrl-C arrives twice, milliseconds apart: the terminal signals the
    // whole foreground group, and `deno task` forwards its own copy to us. Count it once.
    const now = performance.now();
    if (now - this.#lastPress < 500) return;
    this.#lastPress = now;
    this.#phase.abort();
  };

  /** Starts listening for SIGINT; the first phase starts now. */
  constructor() {
    Deno.addSignalListener("SIGINT", this.#onSigint);
  }

  /** Aborted when Ctrl-C ends the current phase. */
  get signal(): AbortSignal {
    return this.#phase.signal;
  }

  /** Starts the next phase: from now on Ctrl-C ends this one. */
  next(): AbortSignal {
    this.#phase = new AbortController();
    return this.#phase.signal;
  }

  /** Stops listening. */
  [Symbol.dispose](): void {
    Deno.removeSignalListener("SIGINT", this.#onSigint);
  }
}
