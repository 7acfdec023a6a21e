/**
 * The publisher's ready records and what decides when they go, like the KPL's `RateLimit`: it
 * knows the stream's shard map, puts each ready record in its shard's queue, and fills each
 * `PutRecords` only with records whose shard has budget left (shard_budget.ts: records and
 * bytes, adaptive). A shard out of budget holds back its own records only; the call goes with
 * the other shards' records. With `ratePercent` 0 there is no map and no budget: every record
 * waits in one queue, and goes as soon as a call does.
 *
 * When calls go ({@linkcode ShardLimiter.poll}): each shard is *ready*, *light-only*,
 * *waiting until* a time or *idle*, by the rule of shard_policy.ts (a backlogged shard waits for
 * a 50 ms quantum; the light keys of a shard one key floods go as soon as one fits). A call goes
 * when the ready records fill it, or when the oldest has waited `lingerMs`; shards short of a
 * quantum ride along with what budget they have.
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
  /** Every shard of the stream (`ListShards`, all pages); needed with a `ratePercent` above 0. */
  readonly listShards?: (() => Promise<readonly ListedShard[]>) | undefined;
  /**
   * Percent of Kinesis's per-shard limits to budget, as the KPL's `RateLimit`; 0: no limit (no
   * map, no budget: records go as soon as their call does).
   */
  readonly ratePercent: number;
  /** How long a ready record may wait for others to share its call (ms). */
  readonly lingerMs: number;
  /** Whether a queued item still wants to be sent (settled ones are dropped lazily). */
  readonly live: (item: T) => boolean;
  /** Called when records may go that could not before (the shard map arrived). */
  readonly onChange: () => void;
  /** The clock (ms). Default `performance.now`. */
  readonly now?: () => number;
  /** Budget a backlogged shard gathers before its next call, in ms of its rate. Default 50. */
  readonly quantumMs?: number;
  /** The map is listed again after this long (ms). Default 60 000. */
  readonly refreshMs?: number | undefined;
  /** Reports for metrics. */
  readonly observer?: ShardLimiterObserver | undefined;
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

/** What {@linkcode ShardLimiter.poll} decided. */
export type Poll<T> =
  /** Send these records now (their budget is taken). */
  | { readonly kind: "send"; readonly batch: Taken<T>[]; readonly bytes: number }
  /** Nothing goes before `at` (ms): poll again then, or when a record is added. */
  | { readonly kind: "wait-until"; readonly at: number }
  /** Nothing waits: poll again when a record is added or `onChange` says so. */
  | { readonly kind: "idle" };

/** One shard's queue and budget (none for the records no shard budgets). */
interface Shard<T> {
  readonly id: string | undefined;
  readonly queue: ShardQueue<T>;
  readonly budget: ShardBudget | undefined;
  /** Its last take stopped for lack of budget, records left (see shard_policy.ts). */
  backlogged: boolean;
}

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
 * const call = limiter.poll(500, 5_242_880);
 * assert.equal(call.kind === "send" && call.batch.length, 500);
 * // when a quantum (50 records) has refilled
 * assert.deepEqual(limiter.poll(500, 5_242_880), { kind: "wait-until", at: 50 });
 * ```
 */
export class ShardLimiter<T> {
  readonly #o: ShardLimiterOptions<T>;
  readonly #now: () => number;
  readonly #quantumMs: number;
  /** The shard map; `undefined` without a limit. */
  readonly #directory: ShardDirectory | undefined;
  readonly #shards = new Map<string, Shard<T>>();
  /** Records with no shard to be budgeted on: no limit, no map yet, listing failed, or a gap. */
  readonly #unmapped: Shard<T> = {
    id: undefined,
    queue: new ShardQueue<T>(),
    budget: undefined,
    backlogged: false,
  };
  #turn = 0;

  /** Makes a limiter; with a limit, the first record lists the shards. */
  constructor(options: ShardLimiterOptions<T>) {
    const { listShards, ratePercent } = options;
    if (!(ratePercent >= 0)) throw new RangeError("ratePercent must be 0 or above");
    if (ratePercent > 0 && listShards === undefined) {
      throw new RangeError("a ratePercent above 0 needs listShards");
    }
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#quantumMs = options.quantumMs ?? SHARD_POLICY.quantumMs;
    this.#directory = ratePercent > 0 && listShards !== undefined
      ? new ShardDirectory({
        listShards,
        onMap: (map) => this.#apply(map),
        onError: (error) => options.observer?.onListError?.(error),
        onSettled: () => options.onChange(),
        now: this.#now,
        refreshMs: options.refreshMs,
      })
      : undefined;
  }

  /** Records queued (settled ones not yet dropped included). */
  get size(): number {
    let size = this.#unmapped.queue.size;
    for (const shard of this.#shards.values()) size += shard.queue.size;
    return size;
  }

  /** The budget of an open shard. */
  budgetOf(shardId: string): ShardBudget | undefined {
    return this.#shards.get(shardId)?.budget;
  }

  /** Resolves when no listing is under way (for a clean stop). */
  settled(): Promise<void> {
    return this.#directory?.settled() ?? Promise.resolve();
  }

  /** The current record budget of `partitionKey`'s shard; `undefined` while it has none. */
  recordsPerSecondOf(partitionKey: string): number | undefined {
    const shardId = this.#directory?.map?.shardOf(partitionKey);
    return shardId === undefined ? undefined : this.budgetOf(shardId)?.recordsPerSecond;
  }

  /** Queues `item`, whose next record is `record`, ready from now. */
  add(item: T, record: SinkRecord): void {
    const now = this.#now();
    this.#directory?.refreshIfDue(now);
    this.#queue(item, record.partitionKey, recordBytes(record), now, 0);
  }

  /**
   * Decides at the clock's now: a batch to send (≤ `maxRecords`, ≤ `maxBytes`; the budget of
   * each of its records is taken), when to look again, or that nothing waits.
   */
  poll(maxRecords: number, maxBytes: number): Poll<T> {
    const now = this.#now();
    this.#directory?.refreshIfDue(now);
    const listingUntil = this.#directory?.firstListingUntil ?? -Infinity;
    if (now < listingUntil && this.size > 0) return { kind: "wait-until", at: listingUntil };
    // Each shard's state, and when the call is due: at once when the ready records fill it,
    // else once the oldest of them has lingered (a waiting shard's, once it may go).
    const ready: { shard: Shard<T>; lightOnly: boolean }[] = [];
    const waiting: Shard<T>[] = [];
    let records = 0;
    let due = Infinity;
    for (const shard of [...this.#shards.values(), this.#unmapped]) {
      const state = this.#stateOf(shard, now);
      if (state.kind === "idle") continue;
      const lingered = shard.queue.oldestReadyAt + this.#o.lingerMs;
      if (state.kind === "wait-until") {
        shard.queue.block(now);
        waiting.push(shard);
        due = Math.min(due, Math.max(state.at, lingered));
      } else {
        shard.queue.unblock(now);
        ready.push({ shard, lightOnly: state.kind === "light-only" });
        records += state.kind === "ready" ? state.records : 1;
        due = Math.min(due, lingered);
      }
    }
    if (records < maxRecords && due > now) {
      return due === Infinity ? { kind: "idle" } : { kind: "wait-until", at: due };
    }
    const call = this.#fill(ready, waiting, maxRecords, maxBytes, now);
    if (call.batch.length > 0) return { kind: "send", ...call };
    // Only dead records were met: look again at once (the queues are now smaller).
    return this.size > 0 ? { kind: "wait-until", at: now } : { kind: "idle" };
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
    if (results === undefined || this.#directory === undefined) return;
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
        if (!this.#shards.has(named)) stale = true;
        else throttled.add(named);
      } else if (result.errorCode === undefined && result.shardId !== undefined) {
        if (result.shardId !== mapped) stale = true;
        else written.add(result.shardId);
      }
    }
    for (const shardId of throttled) {
      const budget = this.budgetOf(shardId)!;
      if (budget.onThrottled(sentAt, now)) this.#reportBudget(shardId, budget);
    }
    for (const shardId of written) {
      const budget = this.budgetOf(shardId);
      if (!throttled.has(shardId) && budget?.onWritten(now)) this.#reportBudget(shardId, budget);
    }
    if (stale) this.#directory.list(now);
  }

  /** `shard`'s state at `now` (shard_policy.ts decides). */
  #stateOf({ queue, budget, backlogged }: Shard<T>, now: number): ShardState {
    const head = queue.next(this.#o.live);
    const light = budget !== undefined && head !== undefined && queue.dominant() !== undefined
      ? queue.next(this.#o.live, true)
      : undefined;
    const view = {
      records: queue.size,
      bytes: queue.bytes,
      headBytes: head?.bytes,
      lightHeadBytes: light?.bytes,
      backlogged,
    };
    return shardState(view, budget, now, this.#quantumMs);
  }

  /**
   * Fills a call: the ready shards first, starting with another one each time so that a full
   * call does not always favour the first, then the waiting ones with what budget they have.
   * The call goes anyway, and their buckets, emptied with the others', then fill up in step
   * with them: one call per quantum for all the busy shards, not one each.
   */
  #fill(
    ready: readonly { shard: Shard<T>; lightOnly: boolean }[],
    waiting: readonly Shard<T>[],
    maxRecords: number,
    maxBytes: number,
    now: number,
  ): { batch: Taken<T>[]; bytes: number } {
    const start = this.#turn++ % Math.max(1, ready.length);
    const order = [
      ...ready.slice(start),
      ...ready.slice(0, start),
      ...waiting.map((shard) => ({ shard, lightOnly: false })),
    ];
    const batch: Taken<T>[] = [];
    let bytes = 0;
    for (const { shard, lightOnly } of order) {
      if (batch.length >= maxRecords) break;
      const { records, stoppedBy } = shard.queue.take({
        maxRecords: maxRecords - batch.length,
        maxBytes: maxBytes - bytes,
        anySizeFirst: batch.length === 0,
        live: this.#o.live,
        fits: (size) => shard.budget?.take(size, now) ?? true,
        lightOnly,
      });
      // A light-only take tells nothing of the heavy keys' backlog.
      if (stoppedBy === "out-of-budget") shard.backlogged = shard.queue.size > 0;
      else if (!lightOnly || shard.queue.size === 0) shard.backlogged = false;
      for (const record of records) {
        batch.push({ item: record.item, shardId: shard.id });
        bytes += record.bytes;
        this.#o.observer?.onBudgetWait?.(shard.queue.waitedMs(record, now) / 1000);
      }
    }
    return { batch, bytes };
  }

  #queue(item: T, key: string, bytes: number, readyAt: number, waitedBefore: number): void {
    const map = this.#directory?.map;
    const shardId = map?.shardOf(key);
    const shard = shardId === undefined ? undefined : this.#shards.get(shardId);
    if (shard === undefined) {
      // A key in no open shard: resharding.
      if (map !== undefined) this.#directory?.list(readyAt);
      return this.#unmapped.queue.push(item, key, bytes, readyAt, waitedBefore);
    }
    shard.queue.push(item, key, bytes, readyAt, waitedBefore);
  }

  /** Takes a new map: budgets for new shards, closed shards' records queued again. */
  #apply(map: ShardMap): void {
    const now = this.#now();
    const percent = this.#o.ratePercent / 100;
    for (const { shardId } of map.ranges) {
      if (this.#shards.has(shardId)) continue;
      const budget = new ShardBudget({
        recordsPerSecond: SHARD_RECORDS_PER_SECOND * percent,
        bytesPerSecond: SHARD_BYTES_PER_SECOND * percent,
        now,
      });
      this.#shards.set(shardId, {
        id: shardId,
        queue: new ShardQueue<T>(),
        budget,
        backlogged: false,
      });
      this.#reportBudget(shardId, budget);
    }
    const requeue: QueuedRecord<T>[] = this.#unmapped.queue.drain(now);
    for (const [shardId, shard] of this.#shards) {
      if (map.has(shardId)) continue;
      this.#shards.delete(shardId);
      requeue.push(...shard.queue.drain(now));
      this.#o.observer?.onShardClosed?.(shardId);
    }
    for (const r of requeue) this.#queue(r.item, r.key, r.bytes, r.readyAt, r.waitedBefore);
  }

  #reportBudget(shardId: string, budget: ShardBudget): void {
    this.#o.observer?.onBudget?.(shardId, budget.recordsPerSecond, budget.bytesPerSecond);
  }
}
