/**
 * Capped exponential backoff with full jitter (the AWS Architecture Blog's recommendation):
 * the delay before attempt `n + 1` is uniform in `[0, min(cap, base * 2^n))`. Full jitter spreads
 * the retries of many records that failed together, so they do not hit a throttled shard again
 * all at once.
 *
 * @module
 */

/** Options of {@linkcode backoffDelay}. */
export interface BackoffOptions {
  /** The first ceiling in milliseconds. Default 50. */
  readonly baseMs?: number;
  /** The largest ceiling in milliseconds. Default 5000. */
  readonly capMs?: number;
  /** A source of uniform numbers in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * The delay in milliseconds before retrying after `failures` consecutive failures (≥ 1).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffDelay } from "./backoff.ts";
 * // The third failure in a row: uniform in [0, 100 × 2²), "full jitter".
 * const delays = Array.from({ length: 100 }, () => backoffDelay(3, { baseMs: 100, capMs: 1_000 }));
 * assert.ok(delays.every((ms) => ms >= 0 && ms < 400));
 * assert.ok(backoffDelay(20, { baseMs: 100, capMs: 1_000 }) < 1_000); // capped
 * ```
 */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 50;
  const cap = options.capMs ?? 5_000;
  const random = options.random ?? Math.random;
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, failures - 1));
  return Math.floor(random() * ceiling);
}

/**
 * Resolves `true` after `ms` milliseconds, or `false` at once when `signal` aborts (never
 * rejecting), so a loop waiting out a backoff or a pause stops promptly on shutdown and leaves no
 * timer behind.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./backoff.ts";
 * const stop = new AbortController();
 * assert.equal(await sleep(10, stop.signal), true); // ran its time
 * setTimeout(() => stop.abort(), 10);
 * assert.equal(await sleep(60_000, stop.signal), false); // stopped first, its timer cleared
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const finish = (elapsed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(elapsed);
    };
    const onAbort = () => finish(false);
    const timer = setTimeout(() => finish(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
