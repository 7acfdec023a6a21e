/**
 * An instance's chunks on their way to Redis: the pending tally is cut into chunks numbered
 * 1, 2, … (its sequence), sent as calls of the flush script in one pipelined round trip, and
 * kept until Redis has applied each (or recognised it as a duplicate). A chunk not
 * acknowledged is sent again with the same number: the flush script (redis_scripts.ts) applies
 * each number once, in order.
 *
 * @module
 */
import { type RedisLink, script, type ScriptCall } from "./redis_link.ts";
import { type AppDelta, chunkArguments, FLUSH_SCRIPT, parseFlushReply } from "./redis_scripts.ts";

const FLUSH = script(FLUSH_SCRIPT);
/** Chunks sent in one round trip at most (a backlog after an outage goes in several). */
const CHUNKS_PER_TRIP = 64;

/** Options of {@linkcode FlushQueue}. */
export interface FlushQueueOptions {
  readonly link: RedisLink;
  /** The key prefix (the flush script's first argument). */
  readonly prefix: string;
  /** The generation key and this instance's sequence key. */
  readonly keys: readonly [string, string];
  /** (app, IP) pairs per chunk at most (an app's IPs and its total; an app is never split). */
  readonly chunkPairs: number;
  /** How long Redis keeps this instance's sequence after its last flush, in seconds. */
  readonly sequenceTtlSeconds: number;
}

/** One chunk: its number, its apps' deltas, its events. */
export interface Chunk {
  readonly seq: number;
  readonly apps: ReadonlyMap<string, AppDelta>;
  readonly events: number;
}

/** What one round trip did. */
export interface TripOutcome {
  /** The chunks it carried. */
  readonly carried: readonly Chunk[];
  /** Chunks Redis applied now. */
  readonly applied: number;
  /** Chunks Redis had applied before (their reply was lost). */
  readonly duplicates: number;
  /** The first failure (a chunk refused, a reply error, the connection, the deadline). */
  readonly error: Error | undefined;
  /** The generation the replies named, if any came. */
  readonly generation: number | undefined;
}

/**
 * The outstanding chunks and the sequence.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { FlushQueue } from "./flush_queue.ts";
 * import { openRedisLink } from "./redis_link.ts";
 * import { generationKey, sequenceKey } from "./redis_scripts.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * const queue = new FlushQueue({
 *   link,
 *   prefix: "edr:ip-events",
 *   keys: [generationKey("edr:ip-events"), sequenceKey("edr:ip-events", "i1")],
 *   chunkPairs: 2000,
 *   sequenceTtlSeconds: 604800,
 * });
 * queue.cut(new Map([["ab", { count: 3, ips: new Map([[1, 2], [2, 1]]) }]]));
 * assert.deepEqual(queue.chunks.map((chunk) => chunk.seq), [1]);
 * const trip = await queue.sendTrip(2000);
 * assert.equal(trip.applied, 1);
 * // A chunk not acknowledged would stay in queue.chunks for the next trip.
 * assert.equal(queue.chunks.length, 0);
 * await link.close();
 * ```
 */
export class FlushQueue {
  readonly #o: FlushQueueOptions;
  #unacked: Chunk[] = [];
  #nextSeq = 1;
  /** Every number up to it is applied or dropped. */
  #settled = 0;

  /** Starts with nothing outstanding, numbering from 1. */
  constructor(options: FlushQueueOptions) {
    this.#o = options;
  }

  /** No chunk outstanding. */
  get isEmpty(): boolean {
    return this.#unacked.length === 0;
  }

  /** Events in outstanding chunks. */
  get events(): number {
    return this.#unacked.reduce((sum, chunk) => sum + chunk.events, 0);
  }

  /** The outstanding chunks, in order. */
  get chunks(): readonly Chunk[] {
    return this.#unacked;
  }

  /** Cuts `deltas` into numbered chunks behind the outstanding ones. */
  cut(deltas: ReadonlyMap<string, AppDelta>): void {
    let apps = new Map<string, AppDelta>();
    let pairs = 0;
    let events = 0;
    const close = () => {
      this.#unacked.push({ seq: this.#nextSeq++, apps, events });
      apps = new Map();
      pairs = 0;
      events = 0;
    };
    for (const [sha, delta] of deltas) {
      if (pairs > 0 && pairs + delta.ips.size + 1 > this.#o.chunkPairs) close();
      apps.set(sha, delta);
      pairs += delta.ips.size + 1;
      events += delta.count;
    }
    if (apps.size > 0) close();
  }

  /**
   * Drops every outstanding chunk (a DELETE from this instance) and returns the highest number
   * given so far: Redis must treat all up to it as done.
   */
  dropAll(): number {
    this.#unacked = [];
    this.#settled = this.#nextSeq - 1;
    return this.#settled;
  }

  /** Sends the first outstanding chunks in one round trip; keeps those not acknowledged. */
  async sendTrip(timeoutMs: number): Promise<TripOutcome> {
    const trip = this.#unacked.slice(0, CHUNKS_PER_TRIP);
    const settled = String(this.#settled);
    const calls: ScriptCall[] = trip.map((chunk) => ({
      script: FLUSH,
      keys: this.#o.keys,
      args: [
        this.#o.prefix,
        String(chunk.seq),
        settled,
        String(this.#o.sequenceTtlSeconds),
        ...chunkArguments(chunk.apps),
      ],
    }));
    const results = await this.#o.link.runScripts(calls, timeoutMs);
    let applied = 0;
    let duplicates = 0;
    let error: Error | undefined;
    let generation: number | undefined;
    const done = new Set<Chunk>();
    results.forEach((result, i) => {
      if (result.status === "rejected") {
        error ??= asError(result.reason);
        return;
      }
      let reply;
      try {
        reply = parseFlushReply(result.value);
      } catch (e) {
        error ??= asError(e);
        return;
      }
      generation = reply.generation;
      if (reply.status === "gap") {
        error ??= new Error(`chunk ${trip[i]!.seq} refused: an earlier chunk is missing`);
        return;
      }
      if (reply.status === "applied") applied++;
      else duplicates++;
      done.add(trip[i]!);
    });
    this.#unacked = this.#unacked.filter((chunk) => !done.has(chunk));
    this.#settled = this.#unacked.length > 0 ? this.#unacked[0]!.seq - 1 : this.#nextSeq - 1;
    return { carried: trip, applied, duplicates, error, generation };
  }
}

/**
 * `value` as an Error: itself when it is one, else an Error with its text.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { asError } from "./flush_queue.ts";
 * assert.equal(asError("ECONNRESET").message, "ECONNRESET");
 * ```
 */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
