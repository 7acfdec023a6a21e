/**
 * One shard's write budget in the publisher: a token bucket of records and one of bytes (data
 * plus partition key), as the KPL keeps per shard, scaled by an adaptive factor.
 *
 * The budget is `limit × factor`, where `limit` is Kinesis's per-shard limit times
 * `KINESIS_SHARD_RATE_LIMIT` and `factor` starts at 1. Other producers may write to the same
 * shard, so the factor follows what the shard really takes, by the AIMD rule of TCP's
 * congestion control:
 *
 * - **Shrink** (multiplicative): a call that comes back with a record of this shard throttled
 *   multiplies the factor by {@linkcode ADAPTIVE.decrease} (0.8, never below
 *   {@linkcode ADAPTIVE.minFactor}, 0.1) and empties both buckets, since Kinesis just said the
 *   shard has nothing left. Once per round: throttles of calls sent before the last shrink
 *   report the old rate and are not counted again.
 * - **Grow** (additive): a call that wrote records to this shard with none throttled adds
 *   {@linkcode ADAPTIVE.increasePerSecond} (0.1) per second since the last change, up to 1: from
 *   half the budget back to all of it in 5 s of calls without a throttle.
 *
 * Each bucket holds {@linkcode BURST_SECONDS} (half a second) of budget, less than Kinesis's own
 * one second, so that calls arriving closer together than they were sent (network jitter,
 * several calls in flight) still fit in what the shard has.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardBudget } from "./shard_budget.ts";
 *
 * const budget = new ShardBudget({ recordsPerSecond: 1_000, bytesPerSecond: 1_048_576, now: 0 });
 * // one record of 400 bytes
 * assert.ok(budget.take(400, 0));
 * // shrunk to 800 records/s
 * assert.ok(budget.onThrottled(0, 10));
 * assert.equal(budget.recordsPerSecond, 800);
 * ```
 *
 * @module
 */
import { TokenBucket } from "./token_bucket.ts";

/** The constants of the adaptive rule (see the module documentation). */
export const ADAPTIVE = {
  /** The factor is multiplied by this on a throttle. */
  decrease: 0.8,
  /** The factor grows by this much per second of calls without a throttle. */
  increasePerSecond: 0.1,
  /** The factor never goes below this. */
  minFactor: 0.1,
} as const;

/** Seconds of budget each bucket holds. */
export const BURST_SECONDS = 0.5;

/** Options of {@linkcode ShardBudget}. */
export interface ShardBudgetOptions {
  /** The full record budget per second (the limit times the rate-limit setting). */
  readonly recordsPerSecond: number;
  /** The full byte budget per second. */
  readonly bytesPerSecond: number;
  /** The clock reading (ms) the budget starts at; the buckets start full. */
  readonly now: number;
}

/**
 * One shard's two buckets and adaptive factor.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardBudget } from "./shard_budget.ts";
 * const budget = new ShardBudget({ recordsPerSecond: 1_000, bytesPerSecond: 1_048_576, now: 0 });
 * // the buckets hold half a second
 * assert.equal(budget.records(0), 500);
 * // one record of 400 bytes
 * assert.ok(budget.take(400, 0));
 * // one more record's worth of refill
 * assert.equal(budget.msUntil(500, 400, 0), 1);
 * ```
 */
export class ShardBudget {
  readonly #fullRecords: number;
  readonly #fullBytes: number;
  readonly #records: TokenBucket;
  readonly #bytes: TokenBucket;
  #factor = 1;
  /** When the factor last changed (ms): the start of the current round. */
  #changedAt: number;

  /** Makes a full budget. */
  constructor(options: ShardBudgetOptions) {
    this.#fullRecords = options.recordsPerSecond;
    this.#fullBytes = options.bytesPerSecond;
    this.#changedAt = options.now;
    this.#records = bucket(options.recordsPerSecond, options.now);
    this.#bytes = bucket(options.bytesPerSecond, options.now);
  }

  /** The adaptive factor, in [0.1, 1]. */
  get factor(): number {
    return this.#factor;
  }

  /** The current record budget per second. */
  get recordsPerSecond(): number {
    return this.#records.ratePerSecond;
  }

  /** The current byte budget per second. */
  get bytesPerSecond(): number {
    return this.#bytes.ratePerSecond;
  }

  /** Whole records the record bucket holds at `now`. */
  records(now: number): number {
    return Math.max(0, Math.floor(this.#records.available(now)));
  }

  /** Bytes the byte bucket holds at `now` (negative while in debt). */
  bytes(now: number): number {
    return this.#bytes.available(now);
  }

  /** Whether one record of `bytes` fits at `now`. */
  canTake(bytes: number, now: number): boolean {
    return this.#records.canTake(1, now) && this.#bytes.canTake(bytes, now);
  }

  /** Takes one record of `bytes` if it fits at `now`. */
  take(bytes: number, now: number): boolean {
    if (!this.canTake(bytes, now)) return false;
    this.#records.take(1, now);
    this.#bytes.take(bytes, now);
    return true;
  }

  /** Milliseconds from `now` until `records` records and `bytes` bytes fit. */
  msUntil(records: number, bytes: number, now: number): number {
    return Math.max(this.#records.msUntil(records, now), this.#bytes.msUntil(bytes, now));
  }

  /**
   * A call sent at `sentAt` came back at `now` with a record of this shard throttled. Shrinks
   * the budget and empties the buckets, unless the call was sent before the last change.
   * Returns whether it shrank.
   */
  onThrottled(sentAt: number, now: number): boolean {
    if (sentAt < this.#changedAt) return false;
    this.#setFactor(Math.max(ADAPTIVE.minFactor, this.#factor * ADAPTIVE.decrease), now);
    this.#records.drain(now);
    this.#bytes.drain(now);
    return true;
  }

  /**
   * A call came back at `now` having written records to this shard, none throttled: grows the
   * budget by the time since the last change. Returns whether it grew.
   */
  onWritten(now: number): boolean {
    if (this.#factor >= 1 || now <= this.#changedAt) return false;
    const grown = this.#factor + (ADAPTIVE.increasePerSecond * (now - this.#changedAt)) / 1000;
    this.#setFactor(Math.min(1, grown), now);
    return true;
  }

  #setFactor(factor: number, now: number): void {
    this.#factor = factor;
    this.#changedAt = now;
    const records = this.#fullRecords * factor;
    const bytes = this.#fullBytes * factor;
    this.#records.reconfigure(records, records * BURST_SECONDS, now);
    this.#bytes.reconfigure(bytes, bytes * BURST_SECONDS, now);
  }
}

function bucket(ratePerSecond: number, now: number): TokenBucket {
  return new TokenBucket({ ratePerSecond, capacity: ratePerSecond * BURST_SECONDS, now });
}
