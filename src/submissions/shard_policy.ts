/**
 * The shard limiter's policy: every number and rule that decides how much one shard may take
 * and when, in one place (shard_budget.ts keeps the buckets, shard_queue.ts the records,
 * shard_limiter.ts puts them together).
 *
 * - **Budget**: a token bucket of records and one of bytes per shard, each holding
 *   {@linkcode SHARD_POLICY}`.burstSeconds` (half a second) of its rate, less than Kinesis's own
 *   second, so calls that arrive closer together than they left still fit.
 * - **AIMD** (TCP's congestion rule), since other producers may write to the same shard: a
 *   throttle naming the shard multiplies the budget by `decrease` (0.8, never below
 *   `minFactor`), once per round ({@linkcode shrunk}); calls without one add
 *   `increasePerSecond` (10 %) of the full budget per second, up to all of it
 *   ({@linkcode grown}).
 * - **Quantum**: a shard that had more waiting than budget (*backlogged*) goes again only once
 *   it has `quantumMs` (50 ms) of budget, so a busy shard sends calls of many records, not a
 *   call per token ({@linkcode shardState}).
 * - **Light keys**: while one partition key dominates a shard's queue (at least
 *   `dominantKeyRecords` records and `dominantKeyShare` of the queue), the records of light keys
 *   (at most `lightKeyRecords` waiting: a device at a normal pace) go as soon as one fits,
 *   without waiting for a quantum.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grown, SHARD_POLICY, shrunk } from "./shard_policy.ts";
 *
 * // Two throttles, then two seconds of calls without one.
 * const afterThrottles = shrunk(shrunk(1));
 * assert.ok(Math.abs(afterThrottles - 0.64) < 1e-9);
 * assert.ok(Math.abs(grown(afterThrottles, 2_000) - 0.84) < 1e-9);
 * assert.equal(SHARD_POLICY.quantumMs, 50);
 * ```
 *
 * @module
 */

/** The policy's numbers (see the module documentation). */
export const SHARD_POLICY = {
  /** Seconds of budget each bucket holds. */
  burstSeconds: 0.5,
  /** Budget a backlogged shard gathers before its next call, in ms of its rate. */
  quantumMs: 50,
  /** The adaptive factor is multiplied by this on a throttle. */
  decrease: 0.8,
  /** The factor grows by this much per second of calls without a throttle. */
  increasePerSecond: 0.1,
  /** The factor never goes below this. */
  minFactor: 0.1,
  /** A key with at most this many records waiting is light. */
  lightKeyRecords: 2,
  /** A key dominates a queue with at least this many records … */
  dominantKeyRecords: 8,
  /** … and at least this share of the queue. */
  dominantKeyShare: 0.25,
} as const;

/**
 * The adaptive factor after a throttle: multiplicative decrease, with a floor.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shrunk } from "./shard_policy.ts";
 * assert.equal(shrunk(1), 0.8);
 * assert.equal(shrunk(0.11), 0.1); // never below the floor
 * ```
 */
export function shrunk(factor: number): number {
  return Math.max(SHARD_POLICY.minFactor, factor * SHARD_POLICY.decrease);
}

/**
 * The adaptive factor after `elapsedMs` of calls without a throttle: additive increase, up to 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grown } from "./shard_policy.ts";
 * // Half the budget back to all of it in 5 s.
 * assert.equal(grown(0.5, 5_000), 1);
 * assert.ok(Math.abs(grown(0.5, 1_000) - 0.6) < 1e-9);
 * ```
 */
export function grown(factor: number, elapsedMs: number): number {
  return Math.min(1, factor + (SHARD_POLICY.increasePerSecond * elapsedMs) / 1000);
}

/**
 * Whether a key with `waiting` records is light.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLightKey } from "./shard_policy.ts";
 * assert.ok(isLightKey(2));
 * assert.equal(isLightKey(3), false);
 * ```
 */
export function isLightKey(waiting: number): boolean {
  return waiting <= SHARD_POLICY.lightKeyRecords;
}

/**
 * Whether a key with `waiting` records dominates a queue of `queued`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isDominantKey } from "./shard_policy.ts";
 * assert.ok(isDominantKey(10, 16));
 * assert.equal(isDominantKey(8, 40), false, "less than a quarter");
 * assert.equal(isDominantKey(7, 7), false, "too few to matter");
 * ```
 */
export function isDominantKey(waiting: number, queued: number): boolean {
  return waiting >= SHARD_POLICY.dominantKeyRecords &&
    waiting >= SHARD_POLICY.dominantKeyShare * queued;
}

/** What {@linkcode shardState} reads of a shard's buckets (a `ShardBudget`). */
export interface BudgetView {
  /** The current record budget per second. */
  readonly recordsPerSecond: number;
  /** The current byte budget per second. */
  readonly bytesPerSecond: number;
  /** Whole records the record bucket holds at `now`. */
  records(now: number): number;
  /** Milliseconds from `now` until `records` records and `bytes` bytes fit. */
  msUntil(records: number, bytes: number, now: number): number;
  /** Whether one record of `bytes` fits at `now`. */
  canTake(bytes: number, now: number): boolean;
}

/** What {@linkcode shardState} reads of a shard's queue. */
export interface QueueView {
  /** Records waiting. */
  readonly records: number;
  /** Bytes waiting. */
  readonly bytes: number;
  /** The size of the record a take would try first; `undefined`: nothing live waits. */
  readonly headBytes: number | undefined;
  /** While a key dominates the queue: the size of the first light key's next record. */
  readonly lightHeadBytes: number | undefined;
  /** Whether the shard's last take stopped for lack of budget, records left. */
  readonly backlogged: boolean;
}

/** A shard's state at one instant. */
export type ShardState =
  /** Nothing live waits. */
  | { readonly kind: "idle" }
  /** Its records may go now; `records` of them fit. */
  | { readonly kind: "ready"; readonly records: number }
  /** Only its light keys' records may go now (between a backlogged shard's quanta). */
  | { readonly kind: "light-only" }
  /** Nothing may go before `at` (ms). */
  | { readonly kind: "wait-until"; readonly at: number };

/**
 * Whether a shard's records may go at `now`: all it has when the budget covers them (or a
 * quantum of them), its light keys' when only they fit, else when to look again. Without a
 * budget (an unmapped queue, or no limit at all) everything is ready.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardBudget } from "./shard_budget.ts";
 * import { shardState } from "./shard_policy.ts";
 *
 * const budget = new ShardBudget({ recordsPerSecond: 1_000, bytesPerSecond: 1_048_576, now: 0 });
 * while (budget.take(100, 0)); // emptied
 * const queue = { records: 80, bytes: 8_000, headBytes: 100, backlogged: true };
 * // A backlogged shard waits for its 50-record quantum: 50 ms at 1 000 records/s.
 * assert.deepEqual(shardState({ ...queue, lightHeadBytes: undefined }, budget, 0), {
 *   kind: "wait-until",
 *   at: 50,
 * });
 * // A light key's record goes as soon as one record fits.
 * assert.deepEqual(shardState({ ...queue, lightHeadBytes: 100 }, budget, 1), {
 *   kind: "light-only",
 * });
 * assert.deepEqual(shardState({ ...queue, lightHeadBytes: 100 }, budget, 50), {
 *   kind: "ready",
 *   records: 50,
 * });
 * ```
 */
export function shardState(
  queue: QueueView,
  budget: BudgetView | undefined,
  now: number,
  quantumMs: number = SHARD_POLICY.quantumMs,
): ShardState {
  if (queue.headBytes === undefined) return { kind: "idle" };
  if (budget === undefined) return { kind: "ready", records: queue.records };
  const quantumRecords = Math.max(1, Math.floor((budget.recordsPerSecond * quantumMs) / 1000));
  const quantumBytes = (budget.bytesPerSecond * quantumMs) / 1000;
  // A backlogged shard waits for a whole quantum; else for what it has, up to a quantum.
  const needRecords = queue.backlogged ? quantumRecords : Math.min(queue.records, quantumRecords);
  const needBytes = Math.max(
    queue.headBytes,
    queue.backlogged ? quantumBytes : Math.min(queue.bytes, quantumBytes),
  );
  const untilQuantum = budget.msUntil(needRecords, needBytes, now);
  if (untilQuantum === 0) {
    return { kind: "ready", records: Math.min(queue.records, budget.records(now)) };
  }
  const light = queue.lightHeadBytes;
  if (light !== undefined && budget.canTake(light, now)) return { kind: "light-only" };
  const untilLight = light === undefined ? Infinity : budget.msUntil(1, light, now);
  return { kind: "wait-until", at: now + Math.max(1, Math.min(untilQuantum, untilLight)) };
}
