/**
 * The publisher's shard limiter, like the KPL's `RateLimit`: it knows the stream's shard map,
 * puts each ready record in its shard's queue, and fills each `PutRecords` only with records
 * whose shard has budget left (see shard_budget.ts: records and bytes, adaptive). A shard out
 * of budget holds back its own records only; the call goes with the other shards' records.
 *
 * When calls go:
 * - A shard with budget for what it has waiting is *eligible*; once it has had more waiting
 *   than budget, it becomes eligible again only with a *quantum* (50 ms) of budget, so a busy
 *   shard sends calls of many records, not a call per token.
 * - While one partition key dominates a shard's queue (a device far above the shard's limit),
 *   the records of light keys (devices at a normal pace, at most two records waiting) do not
 *   wait for quanta: they go as soon as one fits.
 * - A call goes when eligible records fill it, or when the oldest eligible record has waited
 *   `lingerMs` (as without the limiter); otherwise {@linkcode ShardLimiter.poll} says when to
 *   look again.
 *
 * Budgets shrink only on throttles whose message names the shard, as Kinesis's do ("Rate
 * exceeded for shard shardId-… in stream …"): the emulators' injected ones come at random,
 * whatever the rate, and are only retried.
 *
 * The map (shard_directory.ts) comes from `ListShards` on first use, and is listed again after
 * `refreshMs`, when a call shows it wrong (a record written to another shard than mapped, a
 * throttle naming an unknown shard: a reshard) and when a record's key falls in no open shard.
 * Until the first listing answers (at most 2 s) records wait; while listing fails, they go
 * unlimited.
 *
 * @module
 */
import type { SinkRecord } from "./kinesis_sink.ts";
import {
  recordBytes,
  SHARD_BYTES_PER_SECOND,
  SHARD_RECORDS_PER_SECOND,
  THROTTLED,
  throttledShard,
} from "./kinesis_limits.ts";
import type { ListedShard, ShardMap } from "./shard_map.ts";
import { ShardBudget } from "./shard_budget.ts";
import { ShardDirectory } from "./shard_directory.ts";
import { SHARD_POLICY, type ShardState, shardState } from "./shard_policy.ts";
import { type QueuedRecord, ShardQueue } from "./shard_queue.ts";

/** What the limiter reports (for metrics). */
export interface ShardLimiterObserver {
  /** A shard's budget is now this (it appeared, shrank or grew). */
  onBudget?(shardId: string, recordsPerSecond: number, bytesPerSecond: number): void;
  /** A shard left the map (closed by a reshard). */
  onShardClosed?(shardId: string): void;
  /** A record goes after waiting `seconds` for its shard's budget (0: it did not wait). */
  onBudgetWait?(seconds: number): void;
  /** `ListShards` failed; records go unlimited until it answers. */
  onListError?(error: unknown): void;
}

/** Options of {@linkcode ShardLimiter}. */
export interface ShardLimiterOptions<T> {
  /** Every shard of the stream (`ListShards`, all pages). */
  readonly listShards: () => Promise<readonly ListedShard[]>;
  /** Percent of Kinesis's per-shard limits to budget (> 0), as the KPL's `RateLimit`. */
  readonly ratePercent: number;
  /** How long a ready record may wait for others to share its call (ms). */
  readonly lingerMs: number;
  /** Whether a queued item still wants to be sent (settled ones are dropped lazily). */
  readonly live: (item: T) => boolean;
  /** Called when records may go that could not before (the shard map arrived). */
  readonly onChange: () => void;
  /** The clock (ms). Default `performance.now`. */
  readonly now?: () => number;
  /** Budget a busy shard gathers before its next call, in ms of its rate. Default 50. */
  readonly quantumMs?: number;
  /** The map is listed again after this long (ms). Default 60 000. */
  readonly refreshMs?: number;
  /** Reports for metrics. */
  readonly observer?: ShardLimiterObserver;
}

/** What the limiter reads of one record's outcome (a sink result). */
export interface PutRecordResult {
  /** Set when the record failed. */
  readonly errorCode?: string | undefined;
  /** The error's message; a throttle's names its shard. */
  readonly errorMessage?: string | undefined;
  /** The shard Kinesis wrote the record to. */
  readonly shardId?: string | undefined;
}

/** A record taken for a call, and the shard it was budgeted on (`undefined`: unmapped). */
export interface Taken<T> {
  readonly item: T;
  readonly shardId: string | undefined;
}

/** What {@linkcode ShardLimiter.poll} decided: a batch to send, or when to look again. */
export type Poll<T> =
  | { readonly batch: Taken<T>[]; readonly bytes: number; readonly wakeAt?: undefined }
  | { readonly batch?: undefined; readonly bytes?: undefined; readonly wakeAt: number | undefined };

/**
 * Per-shard queues and budgets over the stream's shard map.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardLimiter } from "./shard_limiter.ts";
 * import { MAX_HASH_KEY } from "./shard_map.ts";
 * const whole = { StartingHashKey: "0", EndingHashKey: `${MAX_HASH_KEY}` };
 * let now = 0; // a fake clock (ms)
 * const limiter = new ShardLimiter<number>({
 *   listShards: () => Promise.resolve([{ ShardId: "shardId-000000000000", HashKeyRange: whole }]),
 *   ratePercent: 100,
 *   lingerMs: 10,
 *   live: () => true,
 *   onChange: () => {},
 *   now: () => now,
 * });
 * const record = { data: new Uint8Array(100), partitionKey: "device-1" };
 * for (let i = 0; i < 600; i++) limiter.add(i, record); // the first one lists the shards
 * await limiter.settled();
 * // the shard's half second of budget
 * assert.equal(limiter.poll(500, 5_242_880).batch?.length, 500);
 * // when a quantum (50 records) has refilled
 * assert.deepEqual(limiter.poll(500, 5_242_880), { wakeAt: 50 });
 * ```
 */
export class ShardLimiter<T> {
  readonly #o: ShardLimiterOptions<T>;
  readonly #now: () => number;
  readonly #quantumMs: number;
  readonly #directory: ShardDirectory;
  readonly #queues = new Map<string, ShardQueue<T>>();
  readonly #budgets = new Map<string, ShardBudget>();
  /** Records with no shard to be budgeted on: before a map, or listing failed, or in a gap. */
  readonly #unmapped = new ShardQueue<T>();
  #turn = 0;

  /** Makes a limiter; the first record lists the shards. */
  constructor(options: ShardLimiterOptions<T>) {
    if (!(options.ratePercent > 0)) throw new RangeError("ratePercent must be above 0");
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#quantumMs = options.quantumMs ?? SHARD_POLICY.quantumMs;
    this.#directory = new ShardDirectory({
      listShards: options.listShards,
      onMap: (map) => this.#apply(map),
      onError: (error) => options.observer?.onListError?.(error),
      onSettled: () => options.onChange(),
      now: this.#now,
      ...(options.refreshMs === undefined ? {} : { refreshMs: options.refreshMs }),
    });
  }

  /** Records queued (settled ones not yet dropped included). */
  get size(): number {
    let size = this.#unmapped.size;
    for (const queue of this.#queues.values()) size += queue.size;
    return size;
  }

  /** The open shards' budgets, by shard id. */
  get budgets(): ReadonlyMap<string, ShardBudget> {
    return this.#budgets;
  }

  /** Resolves when no listing is under way (for a clean stop). */
  settled(): Promise<void> {
    return this.#directory.settled();
  }

  /** The current record budget of `partitionKey`'s shard; `undefined` while it has none. */
  recordsPerSecondOf(partitionKey: string): number | undefined {
    const shardId = this.#directory.map?.shardOf(partitionKey);
    return shardId === undefined ? undefined : this.#budgets.get(shardId)?.recordsPerSecond;
  }

  /** Queues `item`, whose next record is `record`, ready from now. */
  add(item: T, record: SinkRecord): void {
    const now = this.#now();
    this.#directory.refreshIfDue(now);
    this.#queue(item, record.partitionKey, recordBytes(record), now, 0);
  }

  /**
   * Decides at the clock's now: a batch (≤ `maxRecords`, ≤ `maxBytes`; the budget of each of
   * its records is taken), or when to look again (`undefined`: when {@linkcode add} or
   * `onChange` says so).
   */
  poll(maxRecords: number, maxBytes: number): Poll<T> {
    const now = this.#now();
    this.#directory.refreshIfDue(now);
    const firstListingUntil = this.#directory.firstListingUntil;
    if (now < firstListingUntil && this.size > 0) return { wakeAt: firstListingUntil };
    type Candidate = {
      queue: ShardQueue<T>;
      shardId: string | undefined;
      lightOnly?: boolean | undefined;
    };
    const eligible: Candidate[] = [];
    const blocked: Candidate[] = [];
    let ready = 0;
    let due = Infinity;
    for (const [shardId, queue] of this.#queues) {
      if (queue.size === 0) continue;
      const state = this.#stateOf(shardId, queue, now);
      if (state.kind === "idle") continue;
      if (state.kind === "wait-until") {
        queue.block(now);
        blocked.push({ queue, shardId });
        due = Math.min(due, Math.max(state.at, queue.oldestReadyAt + this.#o.lingerMs));
        continue;
      }
      queue.unblock(now);
      const lightOnly = state.kind === "light-only";
      eligible.push({ queue, shardId, lightOnly });
      ready += lightOnly ? 1 : state.records;
      due = Math.min(due, queue.oldestReadyAt + this.#o.lingerMs);
    }
    if (this.#unmapped.size > 0) {
      eligible.push({ queue: this.#unmapped, shardId: undefined });
      ready += this.#unmapped.size;
      due = Math.min(due, this.#unmapped.oldestReadyAt + this.#o.lingerMs);
    }
    if (ready < maxRecords && due > now) {
      return { wakeAt: Number.isFinite(due) ? due : undefined };
    }
    const batch: Taken<T>[] = [];
    let bytes = 0;
    // Start with another shard each time, so a full call does not always favour the first.
    // Shards short of a quantum ride along with what budget they have: the call goes anyway,
    // and their buckets, emptied with the others', then fill up in step with them (one call
    // per quantum for all the busy shards, not one each).
    const start = this.#turn++ % Math.max(1, eligible.length);
    const order = [
      ...eligible.map((_, i) => eligible[(start + i) % eligible.length]!),
      ...blocked,
    ];
    for (const { queue, shardId, lightOnly } of order) {
      if (batch.length >= maxRecords) break;
      const budget = shardId === undefined ? undefined : this.#budgets.get(shardId);
      const taken = queue.take({
        maxRecords: maxRecords - batch.length,
        maxBytes: maxBytes - bytes,
        anySizeFirst: batch.length === 0,
        live: this.#o.live,
        fits: (size) => budget?.take(size, now) ?? true,
        lightOnly: lightOnly ?? false,
      });
      for (const record of taken) {
        batch.push({ item: record.item, shardId });
        bytes += record.bytes;
        this.#o.observer?.onBudgetWait?.(queue.waitedMs(record, now) / 1000);
      }
    }
    // Only dead records were met: look again at once (the queues are now smaller).
    return batch.length > 0 ? { batch, bytes } : { wakeAt: this.size > 0 ? now : undefined };
  }

  /**
   * A call of `taken` (in order), sent at `sentAt`, came back with `results` (`undefined`: it
   * failed as a whole). Adapts the budgets and lists the shards again when the map was wrong.
   */
  onResults(
    taken: readonly (string | undefined)[],
    results: readonly PutRecordResult[] | undefined,
    sentAt: number,
  ): void {
    if (results === undefined) return;
    const now = this.#now();
    const throttled = new Set<string>();
    const written = new Set<string>();
    let stale = false;
    for (const [i, result] of results.entries()) {
      const mapped = taken[i];
      if (result.errorCode === THROTTLED) {
        // Only Kinesis's own message, which names the shard, is a sign of a full shard. The
        // emulators' injected throttles (LocalStack's KINESIS_ERROR_PROBABILITY: "Rate exceeded
        // for shard X in stream Y ...") come at random whatever the rate: no reason to slow down.
        const named = throttledShard(result.errorMessage);
        if (named === undefined) continue;
        if (!this.#budgets.has(named)) stale = true;
        else throttled.add(named);
      } else if (result.errorCode === undefined && result.shardId !== undefined) {
        if (result.shardId !== mapped) stale = true;
        else written.add(result.shardId);
      }
    }
    for (const shardId of throttled) {
      const budget = this.#budgets.get(shardId)!;
      if (budget.onThrottled(sentAt, now)) this.#reportBudget(shardId, budget);
    }
    for (const shardId of written) {
      const budget = this.#budgets.get(shardId);
      if (!throttled.has(shardId) && budget?.onWritten(now)) this.#reportBudget(shardId, budget);
    }
    if (stale) this.#directory.list(now);
  }

  /** `queue`'s shard's state at `now` (shard_policy.ts decides). */
  #stateOf(shardId: string, queue: ShardQueue<T>, now: number): ShardState {
    const head = queue.next(this.#o.live);
    const light = head !== undefined && queue.dominant() !== undefined
      ? queue.next(this.#o.live, true)
      : undefined;
    const view = {
      records: queue.size,
      bytes: queue.bytes,
      headBytes: head?.bytes,
      lightHeadBytes: light?.bytes,
      backlogged: queue.budgetBound,
    };
    return shardState(view, this.#budgets.get(shardId), now, this.#quantumMs);
  }

  #queue(item: T, key: string, bytes: number, readyAt: number, waitedBefore: number): void {
    const map = this.#directory.map;
    const shardId = map?.shardOf(key);
    if (shardId === undefined) {
      if (map !== undefined) this.#directory.list(readyAt); // a key in no open shard: resharding
      return this.#unmapped.push(item, key, bytes, readyAt, waitedBefore);
    }
    let queue = this.#queues.get(shardId);
    if (queue === undefined) {
      queue = new ShardQueue<T>();
      this.#queues.set(shardId, queue);
    }
    queue.push(item, key, bytes, readyAt, waitedBefore);
  }

  /** Takes a new map: budgets for new shards, closed shards' records queued again. */
  #apply(map: ShardMap): void {
    const now = this.#now();
    for (const { shardId } of map.ranges) {
      if (this.#budgets.has(shardId)) continue;
      const percent = this.#o.ratePercent / 100;
      const budget = new ShardBudget({
        recordsPerSecond: SHARD_RECORDS_PER_SECOND * percent,
        bytesPerSecond: SHARD_BYTES_PER_SECOND * percent,
        now,
      });
      this.#budgets.set(shardId, budget);
      this.#reportBudget(shardId, budget);
    }
    const requeue: QueuedRecord<T>[] = this.#unmapped.drain(now);
    for (const shardId of [...this.#budgets.keys()]) {
      if (map.has(shardId)) continue;
      this.#budgets.delete(shardId);
      requeue.push(...(this.#queues.get(shardId)?.drain(now) ?? []));
      this.#queues.delete(shardId);
      this.#o.observer?.onShardClosed?.(shardId);
    }
    for (const r of requeue) this.#queue(r.item, r.key, r.bytes, r.readyAt, r.waitedBefore);
  }

  #reportBudget(shardId: string, budget: ShardBudget): void {
    this.#o.observer?.onBudget?.(shardId, budget.recordsPerSecond, budget.bytesPerSecond);
  }
}
