/**
 * The in-flight limit shared by all workers: a worker receives only when a whole batch fits, so
 * the service holds at most `limit` messages however slow Kinesis gets (backpressure instead of
 * unbounded memory and visibility heartbeats).
 *
 * @module
 */

/**
 * A counting limit with waiters.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Capacity } from "./capacity.ts";
 * const capacity = new Capacity(10);
 * assert.ok(await capacity.reserve(8));
 * const waiting = capacity.reserve(5); // pending: 8 + 5 > 10
 * capacity.release(8);
 * assert.ok(await waiting);
 * assert.equal(capacity.used, 5);
 * ```
 */
export class Capacity {
  readonly #limit: number;
  #used = 0;
  #waiters: (() => void)[] = [];

  /** Makes a limit of `limit` units. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Units in use. */
  get used(): number {
    return this.#used;
  }

  /**
   * Waits until `units` more fit (at most the limit), then takes them in the same step: every
   * waiter woken by one release sees the same room free, and only one may take it. Resolves
   * `false`, having taken nothing, when `signal` aborts.
   */
  async reserve(units: number, signal?: AbortSignal): Promise<boolean> {
    const need = Math.min(units, this.#limit);
    while (this.#used + need > this.#limit && !signal?.aborted) await this.#nextRelease(signal);
    if (signal?.aborted) return false;
    this.acquire(units);
    return true;
  }

  /** Resolves at the next release, or when `signal` aborts. */
  #nextRelease(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        signal?.removeEventListener("abort", wake);
        this.#waiters = this.#waiters.filter((w) => w !== wake);
        resolve();
      };
      this.#waiters.push(wake);
      signal?.addEventListener("abort", wake, { once: true });
    });
  }

  /** Takes `units`. */
  acquire(units = 1): void {
    this.#used += units;
  }

  /** Gives back `units` and wakes the waiters to re-check. */
  release(units = 1): void {
    this.#used -= units;
    for (const wake of [...this.#waiters]) wake();
  }
}
