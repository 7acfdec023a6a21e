/**
 * The ordering publisher's test fakes: a fake Kinesis that fails chosen records and checks the
 * publisher's ordering contract on every call, and the checks of what it received.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { PUT_RECORDS_MAX_BYTES } from "../../src/submissions/kinesis_limits.ts";
import type { OrderedPublisher } from "../../src/submissions/ordered_publisher.ts";
import type { RecordSink, SinkRecord, SinkResult } from "../../src/submissions/kinesis_sink.ts";
import { type ListedShard, MAX_HASH_KEY, ShardMap } from "../../src/submissions/shard_map.ts";
import { rateExceededMessage, ShardThrottle } from "../../tools/submissions/shard_throttle.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A deterministic PRNG (mulberry32) so a failing run can be replayed. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A submission `id` of `events` records, partition key `key` (default: the id). */
export function submission(id: string, events: number, pad = 0, key = id): SinkRecord[] {
  return Array.from({ length: events }, (_, seq) => ({
    data: encoder.encode(JSON.stringify({ id, seq, pad: "x".repeat(pad) })),
    partitionKey: key,
  }));
}

/** `count` shards of equal hash-key ranges, as `ListShards` answers them. */
export function evenShards(count: number, firstId = 0): ListedShard[] {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    ShardId: `shardId-${String(firstId + i).padStart(12, "0")}`,
    HashKeyRange: {
      StartingHashKey: (width * BigInt(i)).toString(),
      EndingHashKey: (i === count - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n).toString(),
    },
  }));
}

export function parse(record: SinkRecord): { id: string; seq: number } {
  return JSON.parse(decoder.decode(record.data));
}

export interface FakeOptions {
  /** Probability that a whole call fails LocalStack-style (every record throttled). */
  readonly allFail?: number;
  /** Probability that one record fails. */
  readonly recordFail?: number;
  /** Probability that the call throws after nothing was written. */
  readonly throwBefore?: number;
  /** Probability that the call writes everything, then throws (a timed-out success). */
  readonly throwAfter?: number;
  /** Max latency of a call in ms. */
  readonly latencyMs?: number;
  readonly random: () => number;
  /** The stream's shards: `listShards` answers them, and written records carry their shard. */
  readonly shards?: readonly ListedShard[];
  /** Refuses records over this many per second per shard, as Kinesis does (with `shards`). */
  readonly throttleRecordsPerSecond?: number;
}

/**
 * A fake Kinesis that fails chosen records and checks the publisher's ordering contract on every
 * call: never two records of one submission in one call, nor in two concurrent calls.
 */
export class FakeSink implements RecordSink {
  readonly stream: { id: string; seq: number }[] = [];
  readonly calls: { records: number; bytes: number }[] = [];
  readonly violations: string[] = [];
  /** Records refused by the throttle. */
  throttled = 0;
  /** The shards now (a test may reshard). */
  shards: readonly ListedShard[] | undefined;
  readonly listShards?: () => Promise<readonly ListedShard[]>;
  readonly #inFlight = new Set<string>();
  readonly #throttle: ShardThrottle | undefined;
  constructor(readonly options: FakeOptions) {
    this.shards = options.shards;
    if (this.shards === undefined) return;
    this.listShards = () => Promise.resolve(this.shards ?? []);
    const recordsPerSecond = options.throttleRecordsPerSecond;
    if (recordsPerSecond !== undefined) {
      this.#throttle = new ShardThrottle({
        listShards: this.listShards,
        recordsPerSecond,
        bytesPerSecond: 1024 * 1024,
        mapTtlMs: 0,
      });
    }
  }

  async putRecords(records: readonly SinkRecord[]): Promise<SinkResult[]> {
    const { random } = this.options;
    const ids = records.map((r) => parse(r).id);
    if (new Set(ids).size !== ids.length) this.violations.push("two records of one submission");
    for (const id of ids) {
      if (this.#inFlight.has(id)) this.violations.push(`${id} in flight twice`);
      this.#inFlight.add(id);
    }
    if (records.length > 500) this.violations.push(`${records.length} records in one call`);
    const bytes = records.reduce((s, r) => s + r.data.byteLength + r.partitionKey.length, 0);
    if (bytes > PUT_RECORDS_MAX_BYTES) this.violations.push(`${bytes} bytes in one call`);
    this.calls.push({ records: records.length, bytes });
    try {
      await new Promise((r) => setTimeout(r, Math.floor(random() * (this.options.latencyMs ?? 2))));
      if (random() < (this.options.throwBefore ?? 0)) throw new Error("socket hang up");
      if (random() < (this.options.allFail ?? 0)) {
        return records.map(() => ({ errorCode: "ProvisionedThroughputExceededException" }));
      }
      const map = this.shards === undefined ? undefined : ShardMap.fromListShards(this.shards);
      const refused = await this.#throttle?.admit(
        "events",
        records.map((r) => ({
          PartitionKey: r.partitionKey,
          Data: Buffer.from(r.data).toString("base64"),
        })),
      ) ?? [];
      const results = records.map((record, i): SinkResult => {
        if (random() < (this.options.recordFail ?? 0)) {
          return {
            errorCode: i % 2 ? "InternalFailure" : "ProvisionedThroughputExceededException",
          };
        }
        const refusedBy = refused[i];
        if (refusedBy !== undefined) {
          this.throttled++;
          return {
            errorCode: "ProvisionedThroughputExceededException",
            errorMessage: rateExceededMessage(refusedBy, "events"),
          };
        }
        this.stream.push(parse(record));
        return {
          sequenceNumber: String(this.stream.length),
          shardId: map?.shardOf(record.partitionKey),
        };
      });
      if (random() < (this.options.throwAfter ?? 0)) {
        const error = new Error("timed out");
        error.name = "TimeoutError";
        throw error;
      }
      return results;
    } finally {
      for (const id of ids) this.#inFlight.delete(id);
    }
  }
}

/**
 * Checks completeness and order the way a consumer sees them: dropping later copies of an event,
 * each submission's first occurrences must be 0, 1, …, n-1 in stream order.
 */
export function assertInOrderAndComplete(
  stream: readonly { id: string; seq: number }[],
  expected: Map<string, number>,
): { duplicates: number } {
  const seen = new Map<string, Set<number>>();
  const firsts = new Map<string, number[]>();
  let duplicates = 0;
  for (const { id, seq } of stream) {
    const set = seen.get(id) ?? new Set();
    seen.set(id, set);
    if (set.has(seq)) {
      duplicates++;
      continue;
    }
    set.add(seq);
    const list = firsts.get(id) ?? [];
    firsts.set(id, list);
    list.push(seq);
  }
  for (const [id, n] of expected) {
    assert.deepEqual(firsts.get(id), Array.from({ length: n }, (_, i) => i), `submission ${id}`);
  }
  assert.equal(firsts.size, expected.size);
  return { duplicates };
}

export async function publishAll(
  publisher: OrderedPublisher,
  count: number,
  eventsOf: (i: number) => number,
): Promise<Map<string, number>> {
  const expected = new Map<string, number>();
  const outcomes = await Promise.all(
    Array.from({ length: count }, (_, i) => {
      const id = `s${i}`;
      expected.set(id, eventsOf(i));
      return publisher.publish(submission(id, eventsOf(i)));
    }),
  );
  for (const outcome of outcomes) assert.equal(outcome.complete, true);
  return expected;
}
