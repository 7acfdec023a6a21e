/**
 * Per-shard write limits like real Kinesis, for the fault proxy: each shard takes at most
 * `recordsPerSecond` records and `bytesPerSecond` bytes (data plus partition key) per second —
 * 1 000 and 1 MiB on Kinesis — and a record beyond that is refused with
 * `ProvisionedThroughputExceededException` while the other records of its call are written.
 *
 * Records are mapped to shards as Kinesis maps them (MD5 of the partition key, or the
 * `ExplicitHashKey`, into the hash-key ranges of the emulator's own `ListShards`; see
 * src/submissions/shard_map.ts). Each shard is a token bucket holding one second of its budget,
 * full at the start: a burst up to one second's worth passes, a sustained rate above the limit
 * does not. Refused records take nothing from the budget.
 *
 * The shard map is read again after a second (resharding in the emulator becomes visible
 * within about that) or at once after {@linkcode ShardThrottle.invalidate}.
 *
 * @example
 * ```ts
 * import { ShardThrottle } from "./shard_throttle.ts";
 *
 * const throttle = new ShardThrottle({
 *   listShards: () => Promise.resolve([{ ShardId: "shardId-000000000000", HashKeyRange: { StartingHashKey: "0", EndingHashKey: "340282366920938463463374607431768211455" } }]),
 *   recordsPerSecond: 2,
 *   bytesPerSecond: 1_048_576,
 * });
 * const entries = ["a", "b", "c"].map((key) => ({ PartitionKey: key, Data: "eA==" }));
 * await throttle.admit("events", entries); // [undefined, undefined, "shardId-000000000000"]
 * ```
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { type ListedShard, ShardMap } from "../../src/submissions/shard_map.ts";
import { TokenBucket } from "../../src/submissions/token_bucket.ts";

/** The account id of the local stack, as in its error messages. */
const ACCOUNT_ID = "000000000000";

/** One record of a `PutRecords` (or a `PutRecord` request), as it is on the wire. */
export interface WireRecord {
  /** The partition key. */
  readonly PartitionKey?: unknown;
  /** The data, base64. */
  readonly Data?: unknown;
  /** A decimal hash key that replaces the partition key's MD5. */
  readonly ExplicitHashKey?: unknown;
}

/** Options of {@linkcode ShardThrottle}. */
export interface ShardThrottleOptions {
  /** Lists a stream's shards (every page), from the emulator itself. */
  readonly listShards: (streamName: string) => Promise<readonly ListedShard[]>;
  /** Records per second per shard. */
  readonly recordsPerSecond: number;
  /** Bytes per second per shard, data plus partition key. */
  readonly bytesPerSecond: number;
  /** The clock in milliseconds. Default `performance.now`. */
  readonly now?: () => number;
  /** How long a shard map is used before it is listed again, in ms. Default 1 000. */
  readonly mapTtlMs?: number;
}

/** A shard's two buckets. */
interface Budget {
  readonly records: TokenBucket;
  readonly bytes: TokenBucket;
}

/** A stream's map, when it was listed, and a listing under way. */
interface StreamState {
  map: ShardMap | undefined;
  listedAt: number;
  listing: Promise<void> | undefined;
}

/** The per-shard budgets of every stream behind one proxy. */
export class ShardThrottle {
  readonly #listShards: (streamName: string) => Promise<readonly ListedShard[]>;
  readonly #now: () => number;
  readonly #mapTtlMs: number;
  readonly #streams = new Map<string, StreamState>();
  readonly #budgets = new Map<string, Budget>();
  #recordsPerSecond: number;
  #bytesPerSecond: number;

  /** Makes a throttle; budgets are made per shard on its first record. */
  constructor(options: ShardThrottleOptions) {
    this.#listShards = options.listShards;
    this.#now = options.now ?? (() => performance.now());
    this.#mapTtlMs = options.mapTtlMs ?? 1_000;
    this.#recordsPerSecond = options.recordsPerSecond;
    this.#bytesPerSecond = options.bytesPerSecond;
  }

  /** Changes the budget of every shard from now on (their tokens stay, capped). */
  configure(recordsPerSecond: number, bytesPerSecond: number): void {
    if (recordsPerSecond === this.#recordsPerSecond && bytesPerSecond === this.#bytesPerSecond) {
      return;
    }
    this.#recordsPerSecond = recordsPerSecond;
    this.#bytesPerSecond = bytesPerSecond;
    const now = this.#now();
    for (const budget of this.#budgets.values()) {
      budget.records.reconfigure(recordsPerSecond, recordsPerSecond, now);
      budget.bytes.reconfigure(bytesPerSecond, bytesPerSecond, now);
    }
  }

  /** Forgets the shard maps: the next records list the shards again (after a reshard). */
  invalidate(): void {
    for (const state of this.#streams.values()) state.listedAt = -Infinity;
  }

  /** Forgets every map and refills every budget. */
  reset(): void {
    this.#streams.clear();
    this.#budgets.clear();
  }

  /**
   * Takes each record's share of its shard's budget, in request order. Answers, per record, the
   * id of the shard that refused it, or `undefined` when it may be written. Records that are
   * `skip`ped (failed by another fault) take nothing. A record whose shard cannot be told (the
   * stream does not exist, a malformed record) is let through: the emulator answers for it.
   */
  async admit(
    streamName: string,
    records: readonly WireRecord[],
    skip: readonly boolean[] = [],
  ): Promise<(string | undefined)[]> {
    const map = await this.#map(streamName);
    const now = this.#now();
    return records.map((record, i) => {
      if (skip[i] || map === undefined) return undefined;
      const shardId = shardOf(map, record);
      if (shardId === undefined) return undefined;
      const budget = this.#budget(`${streamName}/${shardId}`, now);
      const bytes = recordBytes(record);
      if (!budget.records.canTake(1, now) || !budget.bytes.canTake(bytes, now)) return shardId;
      budget.records.take(1, now);
      budget.bytes.take(bytes, now);
      return undefined;
    });
  }

  #budget(key: string, now: number): Budget {
    let budget = this.#budgets.get(key);
    if (budget === undefined) {
      const records = this.#recordsPerSecond;
      const bytes = this.#bytesPerSecond;
      budget = {
        records: new TokenBucket({ ratePerSecond: records, capacity: records, now }),
        bytes: new TokenBucket({ ratePerSecond: bytes, capacity: bytes, now }),
      };
      this.#budgets.set(key, budget);
    }
    return budget;
  }

  async #map(streamName: string): Promise<ShardMap | undefined> {
    let state = this.#streams.get(streamName);
    if (state === undefined) {
      state = { map: undefined, listedAt: -Infinity, listing: undefined };
      this.#streams.set(streamName, state);
    }
    if (this.#now() - state.listedAt >= this.#mapTtlMs) {
      state.listing ??= this.#list(streamName, state);
      // The first listing is waited for; later ones refresh behind the stale map.
      if (state.map === undefined) await state.listing;
    }
    return state.map;
  }

  async #list(streamName: string, state: StreamState): Promise<void> {
    try {
      state.map = ShardMap.fromListShards(await this.#listShards(streamName));
    } catch {
      // No such stream (yet), or the emulator is unreachable: let records through meanwhile.
      state.map = undefined;
    } finally {
      state.listedAt = this.#now();
      state.listing = undefined;
    }
  }
}

/** The real message of a throttled record. */
export function rateExceededMessage(shardId: string, streamName: string): string {
  return `Rate exceeded for shard ${shardId} in stream ${streamName} under account ${ACCOUNT_ID}.`;
}

function shardOf(map: ShardMap, record: WireRecord): string | undefined {
  if (typeof record.PartitionKey !== "string") return undefined;
  const explicit = record.ExplicitHashKey;
  try {
    return map.shardOf(record.PartitionKey, typeof explicit === "string" ? explicit : undefined);
  } catch {
    return undefined; // a malformed ExplicitHashKey: the emulator rejects the call itself
  }
}

/** Data bytes (decoded from base64, without decoding) plus the partition key's UTF-8 bytes. */
function recordBytes(record: WireRecord): number {
  const data = typeof record.Data === "string" ? record.Data : "";
  const padding = data.endsWith("==") ? 2 : data.endsWith("=") ? 1 : 0;
  const dataBytes = Math.max(0, Math.floor((data.length * 3) / 4) - padding);
  const key = typeof record.PartitionKey === "string" ? record.PartitionKey : "";
  return dataBytes + Buffer.byteLength(key, "utf8");
}
