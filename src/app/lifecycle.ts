/**
 * The one lifecycle guard every component uses for its `start()` and `stop(deadline)`
 * (src/app/component.ts): states `idle → starting → running → stopping → stopped`.
 *
 * - `start` runs its work once, from `idle` only: a second start, or a start after stop, throws.
 *   A start that rejects leaves the state at `starting`; `stop` still frees everything.
 * - `stop` runs its work once, whatever the state (before start too: what `create` opened is
 *   freed); later calls share the first call's promise. A stop during a start waits for the
 *   start to settle first, so nothing the start opens is left open.
 *
 * @module
 */

/** Where a component is in its life, in order. */
export type LifecycleState = "idle" | "starting" | "running" | "stopping" | "stopped";

/**
 * Guards a component's start and stop (see the module doc for the rules).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lifecycle } from "./lifecycle.ts";
 *
 * const log: string[] = [];
 * const lifecycle = new Lifecycle("greeter");
 * assert.equal(lifecycle.state, "idle");
 * await lifecycle.start(() => Promise.resolve(log.push("started")).then(() => {}));
 * assert.equal(lifecycle.state, "running");
 * await assert.rejects(lifecycle.start(() => Promise.resolve()), /cannot start greeter: it is running/);
 * const stop = () => Promise.resolve(log.push("stopped")).then(() => {});
 * await Promise.all([lifecycle.stop(stop), lifecycle.stop(stop)]);
 * assert.equal(lifecycle.state, "stopped");
 * assert.deepEqual(log, ["started", "stopped"]); // the stop work ran once
 * ```
 */
export class Lifecycle {
  readonly #name: string;
  #state: LifecycleState = "idle";
  #starting: Promise<void> = Promise.resolve();
  #stopped: Promise<void> | undefined;

  /** A guard in state `idle`; `name` is said in the error of a misplaced start. */
  constructor(name: string) {
    this.#name = name;
  }

  /** The current state. */
  get state(): LifecycleState {
    return this.#state;
  }

  /** Runs `work` (the component's start) once, from `idle` only; rejects otherwise. */
  start(work: () => Promise<void>): Promise<void> {
    if (this.#state !== "idle") {
      return Promise.reject(new Error(`cannot start ${this.#name}: it is ${this.#state}`));
    }
    this.#state = "starting";
    const starting = work().then(() => {
      if (this.#state === "starting") this.#state = "running";
    });
    this.#starting = starting.catch(() => {}); // the caller of start() sees the failure
    return starting;
  }

  /** Runs `work` (the component's stop) once, after any start under way has settled. */
  stop(work: () => Promise<void>): Promise<void> {
    this.#stopped ??= this.#stop(work);
    return this.#stopped;
  }

  async #stop(work: () => Promise<void>): Promise<void> {
    // Without a start under way, `stopping` is set before stop() returns: background work
    // that checks for `running` sees it at once.
    if (this.#state === "starting") await this.#starting;
    this.#state = "stopping";
    try {
      await work();
    } finally {
      this.#state = "stopped";
    }
  }
}
