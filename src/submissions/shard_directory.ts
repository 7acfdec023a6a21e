/**
 * The shard limiter's knowledge of the stream's shards: the {@linkcode ShardMap} from
 * `ListShards`, listed in the background on first use, again after `refreshMs`, and whenever
 * the limiter asks (a call's answer showed the map wrong: a reshard). One listing at a time, at
 * most one a second (an ask within the second is remembered and made when allowed), and 10 s
 * after a failed one, so a denied `ListShards` never becomes a call a second.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardDirectory } from "./shard_directory.ts";
 *
 * let listings = 0;
 * const directory = new ShardDirectory({
 *   listShards: () => (listings++, Promise.resolve([])),
 *   onMap: (map) => assert.equal(map.size, 0),
 *   onError: (error) => assert.fail(String(error)),
 *   onSettled: () => {},
 * });
 * directory.refreshIfDue(performance.now()); // the first use lists the shards
 * await directory.settled();
 * directory.refreshIfDue(performance.now()); // within the second: no second listing
 * await directory.settled();
 * assert.equal(listings, 1);
 * ```
 *
 * @module
 */
import { KINESIS_RETRY } from "./retry_policy.ts";
import { type ListedShard, ShardMap } from "./shard_map.ts";

/** Options of {@linkcode ShardDirectory}. */
export interface ShardDirectoryOptions {
  /** Every shard of the stream (`ListShards`, all pages). */
  readonly listShards: () => Promise<readonly ListedShard[]>;
  /** A listing answered: the new map. */
  readonly onMap: (map: ShardMap) => void;
  /** A listing failed. */
  readonly onError: (error: unknown) => void;
  /** A listing ended, either way. */
  readonly onSettled: () => void;
  /** The map is listed again after this long (ms). Default 60 000. */
  readonly refreshMs?: number | undefined;
  /** The clock (ms). Default `performance.now`. */
  readonly now?: () => number;
}

/** The longest records wait for the first listing before going unlimited (ms). */
const FIRST_LISTING_WAIT_MS = 2_000;
/** At most one listing a second, whatever keeps asking for one. */
const MIN_LISTING_INTERVAL_MS = 1_000;

/**
 * The current shard map and its listings.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardDirectory } from "./shard_directory.ts";
 * import { MAX_HASH_KEY } from "./shard_map.ts";
 * const whole = { StartingHashKey: "0", EndingHashKey: `${MAX_HASH_KEY}` };
 * const directory = new ShardDirectory({
 *   listShards: () => Promise.resolve([{ ShardId: "shardId-000000000000", HashKeyRange: whole }]),
 *   onMap: () => {},
 *   onError: () => {},
 *   onSettled: () => {},
 * });
 * directory.refreshIfDue(performance.now());
 * await directory.settled();
 * assert.equal(directory.map?.shardOf("device-1"), "shardId-000000000000");
 * ```
 */
export class ShardDirectory {
  readonly #o: ShardDirectoryOptions;
  readonly #refreshMs: number;
  readonly #now: () => number;
  #map: ShardMap | undefined;
  #listing: Promise<void> | undefined;
  #firstListingUntil = Infinity;
  #listedAt = -Infinity;
  #nextListingAt = -Infinity;
  #wanted = false;

  /** Makes a directory; nothing is listed until {@linkcode ShardDirectory.refreshIfDue}. */
  constructor(options: ShardDirectoryOptions) {
    this.#o = options;
    this.#refreshMs = options.refreshMs ?? 60_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The last map listed, if any. */
  get map(): ShardMap | undefined {
    return this.#map;
  }

  /**
   * Until when records should wait for the first listing (ms): `Infinity` before any, 2 s
   * after it started, `-Infinity` (never) once a map came or a listing failed.
   */
  get firstListingUntil(): number {
    return this.#map === undefined ? this.#firstListingUntil : -Infinity;
  }

  /** Resolves when no listing is under way. */
  async settled(): Promise<void> {
    while (this.#listing !== undefined) await this.#listing;
  }

  /** Lists if the map is due (or was asked for): call on every use. */
  refreshIfDue(now: number): void {
    if (this.#wanted || now - this.#listedAt >= this.#refreshMs) this.list(now);
  }

  /** Lists now if allowed, else as soon as it is. */
  list(now: number): void {
    if (this.#listing !== undefined || now < this.#nextListingAt) {
      this.#wanted = true;
      return;
    }
    this.#wanted = false;
    if (this.#map === undefined && this.#firstListingUntil === Infinity) {
      this.#firstListingUntil = now + FIRST_LISTING_WAIT_MS;
    }
    this.#listedAt = now;
    this.#nextListingAt = now + MIN_LISTING_INTERVAL_MS;
    this.#listing = this.#o.listShards()
      .then((shards) => {
        this.#map = ShardMap.fromListShards(shards);
        this.#o.onMap(this.#map);
      })
      .catch((error) => {
        this.#firstListingUntil = -Infinity; // records go unlimited meanwhile
        this.#nextListingAt = this.#now() + KINESIS_RETRY.listShardsAfterMs;
        this.#o.onError(error);
      })
      .finally(() => {
        this.#listing = undefined;
        this.#o.onSettled();
      });
  }
}
