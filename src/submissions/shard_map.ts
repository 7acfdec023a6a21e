/**
 * The stream's shard map: which shard a record goes to, decided the way Kinesis decides it. The
 * MD5 of the partition key (its UTF-8 bytes), read as an unsigned 128-bit big-endian integer, is
 * the record's hash key (an `ExplicitHashKey` replaces it); the record goes to the one open shard
 * whose hash-key range holds it.
 *
 * Built from `ListShards`. Closed shards (parents after a split or merge, listed until they
 * expire) are left out. A lookup is a binary search over the open ranges sorted by their start:
 * about 12 comparisons for the 4 000 shards of a large on-demand stream, never a scan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardMap } from "./shard_map.ts";
 *
 * const map = ShardMap.fromListShards([
 *   { ShardId: "shardId-000000000000", HashKeyRange: { StartingHashKey: "0", EndingHashKey: "170141183460469231731687303715884105727" } },
 *   { ShardId: "shardId-000000000001", HashKeyRange: { StartingHashKey: "170141183460469231731687303715884105728", EndingHashKey: "340282366920938463463374607431768211455" } },
 * ]);
 * assert.equal(map.shardOf("3d951732-72d5-49ed-b6fd-38b85afb6cfc"), "shardId-000000000000");
 * ```
 *
 * @module
 */
import { createHash } from "node:crypto";

/** The largest hash key: 2^128 − 1. */
export const MAX_HASH_KEY: bigint = (1n << 128n) - 1n;

/** One open shard and the hash keys it takes, both ends included. */
export interface ShardRange {
  /** The shard's id, e.g. `shardId-000000000001`. */
  readonly shardId: string;
  /** The lowest hash key of the shard. */
  readonly startingHashKey: bigint;
  /** The highest hash key of the shard. */
  readonly endingHashKey: bigint;
}

/** The fields of a `ListShards` shard the map reads (the SDK's `Shard` fits). */
export interface ListedShard {
  /** The shard's id. */
  readonly ShardId?: string | undefined;
  /** Its hash keys, as decimal strings. */
  readonly HashKeyRange?: {
    readonly StartingHashKey?: string | undefined;
    readonly EndingHashKey?: string | undefined;
  } | undefined;
  /** A closed shard has an `EndingSequenceNumber`. */
  readonly SequenceNumberRange?: { readonly EndingSequenceNumber?: string | undefined } | undefined;
}

/**
 * The hash key Kinesis computes for `partitionKey`: MD5 of its UTF-8 bytes as an unsigned
 * 128-bit integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashKeyOf } from "./shard_map.ts";
 *
 * assert.equal(hashKeyOf("a"), 0x0cc175b9c0f1b6a831c399e269772661n);
 * ```
 */
export function hashKeyOf(partitionKey: string): bigint {
  return BigInt(`0x${createHash("md5").update(partitionKey, "utf8").digest("hex")}`);
}

/**
 * An immutable, sorted map of hash-key ranges to shard ids.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_HASH_KEY, ShardMap } from "./shard_map.ts";
 * const half = MAX_HASH_KEY / 2n;
 * const map = new ShardMap([
 *   { shardId: "shardId-000000000001", startingHashKey: half + 1n, endingHashKey: MAX_HASH_KEY },
 *   { shardId: "shardId-000000000000", startingHashKey: 0n, endingHashKey: half },
 * ]);
 * assert.equal(map.shardOf("device-1"), "shardId-000000000001");
 * assert.equal(map.shardOfHashKey(0n), "shardId-000000000000");
 * ```
 */
export class ShardMap {
  readonly #ranges: readonly ShardRange[];
  readonly #starts: readonly bigint[];
  readonly #ids: ReadonlySet<string>;

  /**
   * Makes a map of `ranges` (any order).
   *
   * @throws {RangeError} when a range is empty or out of [0, 2^128 − 1], or two ranges overlap
   * (gaps are allowed: a lookup there answers `undefined`).
   */
  constructor(ranges: readonly ShardRange[]) {
    const sorted = [...ranges].sort((a, b) =>
      a.startingHashKey < b.startingHashKey ? -1 : a.startingHashKey > b.startingHashKey ? 1 : 0
    );
    for (const [i, range] of sorted.entries()) {
      const { startingHashKey: start, endingHashKey: end } = range;
      if (start < 0n || end > MAX_HASH_KEY || start > end) {
        throw new RangeError(`shard ${range.shardId}: bad hash-key range ${start}..${end}`);
      }
      const previous = sorted[i - 1];
      if (previous !== undefined && previous.endingHashKey >= start) {
        throw new RangeError(`shards ${previous.shardId} and ${range.shardId} overlap`);
      }
    }
    this.#ranges = sorted;
    this.#starts = sorted.map((r) => r.startingHashKey);
    this.#ids = new Set(sorted.map((r) => r.shardId));
  }

  /**
   * Makes the map of the open shards among `shards` (the `Shards` of `ListShards` pages).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ShardMap } from "./shard_map.ts";
   *
   * const map = ShardMap.fromListShards([
   *   { ShardId: "shardId-000000000000", HashKeyRange: { StartingHashKey: "0", EndingHashKey: "340282366920938463463374607431768211455" } },
   * ]);
   * assert.equal(map.size, 1);
   * ```
   *
   * @throws {RangeError} when an open shard lacks its id or range, or ranges overlap.
   */
  static fromListShards(shards: readonly ListedShard[]): ShardMap {
    const ranges: ShardRange[] = [];
    for (const shard of shards) {
      if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue; // closed
      const { ShardId, HashKeyRange } = shard;
      if (!ShardId || !HashKeyRange?.StartingHashKey || !HashKeyRange.EndingHashKey) {
        throw new RangeError(`ListShards: a shard without id or hash-key range`);
      }
      ranges.push({
        shardId: ShardId,
        startingHashKey: parseHashKey(HashKeyRange.StartingHashKey),
        endingHashKey: parseHashKey(HashKeyRange.EndingHashKey),
      });
    }
    return new ShardMap(ranges);
  }

  /** The open shards, sorted by their first hash key. */
  get ranges(): readonly ShardRange[] {
    return this.#ranges;
  }

  /** Number of open shards. */
  get size(): number {
    return this.#ranges.length;
  }

  /** Whether `shardId` is one of the open shards. */
  has(shardId: string): boolean {
    return this.#ids.has(shardId);
  }

  /**
   * The shard of a record with `partitionKey` (or `explicitHashKey`, a decimal string, when
   * given); `undefined` when no open shard holds its hash key (mid-resharding).
   */
  shardOf(partitionKey: string, explicitHashKey?: string): string | undefined {
    const key = explicitHashKey === undefined
      ? hashKeyOf(partitionKey)
      : parseHashKey(explicitHashKey);
    return this.shardOfHashKey(key);
  }

  /** The shard holding `hashKey`, by binary search; `undefined` in a gap. */
  shardOfHashKey(hashKey: bigint): string | undefined {
    const starts = this.#starts;
    // The last range starting at or below the key.
    let low = 0;
    let high = starts.length - 1;
    let found = -1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      if (starts[middle]! <= hashKey) {
        found = middle;
        low = middle + 1;
      } else {
        high = middle - 1;
      }
    }
    const range = this.#ranges[found];
    return range !== undefined && hashKey <= range.endingHashKey ? range.shardId : undefined;
  }
}

/**
 * Parses a decimal hash key.
 *
 * @throws {RangeError} when it is not a decimal integer in [0, 2^128 − 1].
 */
function parseHashKey(text: string): bigint {
  if (!/^\d{1,39}$/.test(text)) throw new RangeError(`bad hash key "${text.slice(0, 50)}"`);
  const key = BigInt(text);
  if (key > MAX_HASH_KEY) throw new RangeError(`hash key ${text} is above 2^128 - 1`);
  return key;
}
