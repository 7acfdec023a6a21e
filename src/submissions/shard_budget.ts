/**
 * One shard's write budget in the publisher: a token bucket of records and one of bytes (data
 * plus partition key), as the KPL keeps per shard, scaled by an adaptive factor.
 *
 * The budget is `limit × factor`, where `limit` is Kinesis's per-shard limit times
 * `KINESIS_SHARD_RATE_LIMIT` and `factor` starts at 1 and follows what the shard really takes by
 * the AIMD rule of shard_policy.ts: a throttle shrinks it (once per round: throttles of calls
 * sent before the last change report the old rate) and empties both buckets, since Kinesis just
 * said the shard has nothing left; calls without one grow it back.
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
import { grown, SHARD_POLICY, shrunk } from "./shard_policy.ts";
import { TokenBucket } from "./token_bucket.ts";

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
    this.#setFactor(shrunk(this.#factor), now);
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
    this.#setFactor(grown(this.#factor, now - this.#changedAt), now);
    return true;
  }

  #setFactor(factor: number, now: number): void {
    this.#factor = factor;
    this.#changedAt = now;
    const records = this.#fullRecords * factor;
    const bytes = this.#fullBytes * factor;
    this.#records.reconfigure(records, records * SHARD_POLICY.burstSeconds, now);
    this.#bytes.reconfigure(bytes, bytes * SHARD_POLICY.burstSeconds, now);
  }
}

function bucket(ratePerSecond: number, now: number): TokenBucket {
  return new TokenBucket({
    ratePerSecond,
    capacity: ratePerSecond * SHARD_POLICY.burstSeconds,
    now,
  });
}
