/**
 * A token bucket over an explicit clock: `ratePerSecond` tokens flow in continuously up to
 * `capacity`; taking needs the tokens to be there. Time is always passed in (milliseconds, e.g.
 * `performance.now()`), so the bucket is pure and tests need no timers.
 *
 * A take larger than the whole capacity succeeds when the bucket is full and leaves it in debt,
 * so an item bigger than one burst (a 1 MiB record against a half-second byte bucket) is slowed
 * down, never stuck forever.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenBucket } from "./token_bucket.ts";
 *
 * const bucket = new TokenBucket({ ratePerSecond: 1_000, capacity: 1_000, now: 0 });
 * // it starts full
 * assert.ok(bucket.take(1_000, 0));
 * assert.equal(bucket.take(1, 0), false);
 * assert.equal(bucket.msUntil(100, 0), 100);
 * assert.ok(bucket.take(100, 100));
 * ```
 *
 * @module
 */

/** Options of {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens added per second (> 0). */
  readonly ratePerSecond: number;
  /** Most tokens the bucket holds (> 0). */
  readonly capacity: number;
  /** The clock reading (ms) the bucket starts at. */
  readonly now: number;
  /** Tokens at the start. Default: full. */
  readonly tokens?: number;
}

/**
 * A continuously refilled token bucket.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenBucket } from "./token_bucket.ts";
 * const bucket = new TokenBucket({ ratePerSecond: 10, capacity: 5, now: 0 });
 * assert.ok(bucket.take(5, 0));
 * // 100 ms at 10 per second
 * assert.equal(bucket.available(100), 1);
 * assert.equal(bucket.msUntil(5, 100), 400);
 * ```
 */
export class TokenBucket {
  #rate: number;
  #capacity: number;
  #tokens: number;
  #at: number;

  /**
   * Makes a bucket.
   *
   * @throws {RangeError} when the rate or capacity is not a positive finite number.
   */
  constructor(options: TokenBucketOptions) {
    this.#rate = positive("ratePerSecond", options.ratePerSecond);
    this.#capacity = positive("capacity", options.capacity);
    this.#tokens = Math.min(options.tokens ?? this.#capacity, this.#capacity);
    this.#at = options.now;
  }

  /** Tokens added per second. */
  get ratePerSecond(): number {
    return this.#rate;
  }

  /** Most tokens held. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Tokens there at `now` (negative while in debt). */
  available(now: number): number {
    this.#refill(now);
    return this.#tokens;
  }

  /** Whether `amount` could be taken at `now`. */
  canTake(amount: number, now: number): boolean {
    return this.available(now) >= Math.min(amount, this.#capacity);
  }

  /** Takes `amount` if it can be taken at `now`; `false` (nothing taken) otherwise. */
  take(amount: number, now: number): boolean {
    if (!this.canTake(amount, now)) return false;
    this.#tokens -= amount;
    return true;
  }

  /** Milliseconds from `now` until `amount` can be taken (0 when it can be now). */
  msUntil(amount: number, now: number): number {
    const missing = Math.min(amount, this.#capacity) - this.available(now);
    return missing <= 0 ? 0 : (missing * 1000) / this.#rate;
  }

  /** Empties the bucket at `now` (debt is kept). */
  drain(now: number): void {
    this.#refill(now);
    this.#tokens = Math.min(this.#tokens, 0);
  }

  /**
   * Changes the rate and the capacity from `now` on; the tokens there stay, capped at the new
   * capacity.
   *
   * @throws {RangeError} when the rate or capacity is not a positive finite number.
   */
  reconfigure(ratePerSecond: number, capacity: number, now: number): void {
    this.#refill(now);
    this.#rate = positive("ratePerSecond", ratePerSecond);
    this.#capacity = positive("capacity", capacity);
    this.#tokens = Math.min(this.#tokens, this.#capacity);
  }

  #refill(now: number): void {
    if (now <= this.#at) return; // a clock read earlier by a caller: nothing to add
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#at) * this.#rate) / 1000);
    this.#at = now;
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number, got ${value}`);
  }
  return value;
}
