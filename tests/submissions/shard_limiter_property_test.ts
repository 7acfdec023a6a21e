/**
 * The shard limiter's invariants under random sequences of adds, polls, clock steps, throttles
 * and aborted records (fast-check), on a hand-moved clock:
 *
 * - a shard never gets more records or bytes than its buckets hold, nor more in any window than
 *   a full bucket plus the window's refill at the full rate;
 * - each partition key's records go in the order they were added;
 * - nothing is lost, duplicated or sent after it died;
 * - no stall: while live records wait, a poll never answers "idle", and following its wake-ups
 *   drains everything;
 * - the light keys of a shard one key floods are not starved: they go within a few quanta while
 *   the flooding key waits seconds.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  SHARD_BYTES_PER_SECOND,
  SHARD_RECORDS_PER_SECOND,
  THROTTLED,
} from "../../src/submissions/kinesis_limits.ts";
import { type Poll, ShardLimiter } from "../../src/submissions/shard_limiter.ts";
import { hashKeyOf, type ListedShard, MAX_HASH_KEY } from "../../src/submissions/shard_map.ts";
import { SHARD_POLICY } from "../../src/submissions/shard_policy.ts";

const HALF = MAX_HASH_KEY / 2n;
const SHARDS = ["shardId-000000000000", "shardId-000000000001"] as const;
const LISTED: ListedShard[] = [
  { ShardId: SHARDS[0], HashKeyRange: { StartingHashKey: "0", EndingHashKey: `${HALF}` } },
  {
    ShardId: SHARDS[1],
    HashKeyRange: { StartingHashKey: `${HALF + 1n}`, EndingHashKey: `${MAX_HASH_KEY}` },
  },
];
const LINGER_MS = 10;
const QUANTUM_MS = 50;

/** The shard (0 or 1) a partition key maps to. */
function shardOf(key: string): 0 | 1 {
  return hashKeyOf(key) > HALF ? 1 : 0;
}

/** `count` partition keys of shard `shard`. */
function keysOf(shard: 0 | 1, count: number, prefix: string): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    if (shardOf(`${prefix}-${i}`) === shard) keys.push(`${prefix}-${i}`);
  }
  return keys;
}

/** Key 0 floods shard 0; keys 1–4 are shard 0's others, 5–9 shard 1's. */
const KEYS = [...keysOf(0, 5, "device"), ...keysOf(1, 5, "device")];

interface Item {
  readonly id: number;
  readonly key: string;
  readonly bytes: number;
  dead: boolean;
}

/** A limiter on a hand-moved clock, with a model of what was added and sent. */
async function harness(percent: number) {
  const clock = { now: 0 };
  const limiter = new ShardLimiter<Item>({
    listShards: () => Promise.resolve(LISTED),
    ratePercent: percent,
    lingerMs: LINGER_MS,
    quantumMs: QUANTUM_MS,
    live: (item) => !item.dead,
    onChange: () => {},
    now: () => clock.now,
  });
  const rate = { records: (SHARD_RECORDS_PER_SECOND * percent) / 100, bytes: 0 };
  rate.bytes = (SHARD_BYTES_PER_SECOND * percent) / 100;
  const added: Item[] = [];
  const sent = new Set<number>();
  /** Per shard, every send: when, how many records, how many bytes. */
  const sends: { at: number; records: number; bytes: number }[][] = [[], []];
  let nextId = 0;

  const add = (key: string, bytes: number): Item => {
    const item = { id: nextId++, key, bytes, dead: false };
    added.push(item);
    limiter.add(item, { data: new Uint8Array(bytes - key.length), partitionKey: key });
    return item;
  };
  // The first add lists the shards (its record dies); wait for the map, as the publisher would.
  add(KEYS[5]!, 100).dead = true;
  await limiter.settled();
  const waiting = () => added.filter((item) => !item.dead && !sent.has(item.id));

  /** Polls once and checks the invariants of what it decided. */
  const poll = (maxRecords: number, maxBytes: number): Poll<Item> => {
    const before = SHARDS.map((id) => {
      const budget = limiter.budgetOf(id)!;
      return { records: budget.records(clock.now), bytes: budget.bytes(clock.now) };
    });
    const d = limiter.poll(maxRecords, maxBytes);
    if (d.kind === "idle") {
      assert.deepEqual(waiting().map((i) => i.id), [], "idle while live records wait: a stall");
    }
    if (d.kind === "wait-until") assert.ok(d.at >= clock.now, `a wake-up in the past: ${d.at}`);
    if (d.kind !== "send") return d;
    assert.ok(d.batch.length > 0 && d.batch.length <= maxRecords);
    const bytes = d.batch.reduce((sum, t) => sum + t.item.bytes, 0);
    assert.equal(d.bytes, bytes);
    assert.ok(bytes <= maxBytes || d.batch.length === 1, "over the call's bytes");
    const perShard = [{ records: 0, bytes: 0 }, { records: 0, bytes: 0 }];
    for (const { item, shardId } of d.batch) {
      assert.equal(item.dead, false, `${item.id} sent after it died`);
      assert.equal(sent.has(item.id), false, `${item.id} sent twice`);
      const shard = shardOf(item.key);
      assert.equal(shardId, SHARDS[shard], `${item.id} budgeted on the wrong shard`);
      // Its key's earlier live records went before it (this call counts in order).
      const earlier = added.find((other) =>
        other.key === item.key && other.id < item.id && !other.dead && !sent.has(other.id)
      );
      assert.equal(earlier, undefined, `${item.id} of ${item.key} overtook ${earlier?.id}`);
      sent.add(item.id);
      perShard[shard]!.records++;
      perShard[shard]!.bytes += item.bytes;
    }
    for (const shard of [0, 1] as const) {
      const { records, bytes } = perShard[shard]!;
      if (records === 0) continue;
      assert.ok(records <= before[shard]!.records, `shard ${shard}: ${records} records sent`);
      assert.ok(bytes <= before[shard]!.bytes + 1e-6, `shard ${shard}: ${bytes} bytes sent`);
      sends[shard]!.push({ at: clock.now, records, bytes });
      // In any window ending now: at most a full bucket plus the window's refill.
      let windowRecords = 0;
      let windowBytes = 0;
      for (const s of sends[shard]!.toReversed()) {
        windowRecords += s.records;
        windowBytes += s.bytes;
        const seconds = (clock.now - s.at) / 1000;
        assert.ok(windowRecords <= rate.records * (SHARD_POLICY.burstSeconds + seconds) + 1e-6);
        assert.ok(windowBytes <= rate.bytes * (SHARD_POLICY.burstSeconds + seconds) + 1e-6);
      }
    }
    return d;
  };

  /** Follows the wake-ups until the limiter is idle; every live record must have gone. */
  const drain = () => {
    for (let steps = 0;; steps++) {
      assert.ok(steps < 100_000, "the queues never drained");
      const d = poll(500, 5 * 1024 * 1024);
      if (d.kind === "idle") break;
      if (d.kind === "wait-until") clock.now = Math.max(clock.now, d.at);
    }
    for (const item of added) {
      assert.equal(sent.has(item.id), !item.dead, `${item.id} (dead: ${item.dead})`);
    }
    assert.equal(limiter.size, 0);
  };
  return { limiter, clock, add, poll, drain, added, sent, waiting };
}

const step = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("add" as const), key: fc.nat(30) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant("poll" as const),
      maxRecords: fc.oneof(fc.constant(500), fc.integer({ min: 1, max: 40 })),
      maxBytes: fc.oneof(fc.constant(5 * 1024 * 1024), fc.integer({ min: 100, max: 20_000 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("tick" as const), ms: fc.nat(120) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("kill" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("throttle" as const), shard: fc.nat(1) }) },
);

Deno.test("limiter (property): within budget, in key order, nothing lost or duplicated, never stalled", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(10, 20, 100),
      fc.array(step, { minLength: 1, maxLength: 300 }),
      fc.array(fc.integer({ min: 20, max: 4_000 }), { minLength: 1, maxLength: 20 }),
      async (percent, steps, sizes) => {
        const t = await harness(percent);
        let lastSentAt = 0;
        for (const [i, s] of steps.entries()) {
          if (s.op === "add") {
            // Half of the adds go to key 0, which floods shard 0.
            const key = KEYS[s.key < 15 ? 0 : s.key % KEYS.length]!;
            t.add(key, key.length + sizes[i % sizes.length]!);
          } else if (s.op === "poll") {
            if (t.poll(s.maxRecords, s.maxBytes).kind === "send") lastSentAt = t.clock.now;
          } else if (s.op === "tick") t.clock.now += s.ms;
          else if (s.op === "kill") {
            const waiting = t.waiting();
            if (waiting.length > 0) waiting[s.pick % waiting.length]!.dead = true;
          } else {
            // Kinesis answers a call with a throttle naming the shard: the budget shrinks.
            const shardId = SHARDS[s.shard]!;
            t.limiter.onResults([shardId], [{
              errorCode: THROTTLED,
              errorMessage: `Rate exceeded for shard ${shardId} in stream s under account 1.`,
            }], lastSentAt);
          }
        }
        t.drain();
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("limiter (property): a flooding key does not starve the light keys of its shard", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 200, max: 1_500 }),
      fc.array(
        fc.record({ at: fc.integer({ min: 0, max: 3_000 }), key: fc.integer({ min: 1, max: 4 }) }),
        {
          minLength: 1,
          maxLength: 60,
        },
      ),
      async (flood, lightAdds) => {
        // 20 %: 200 records/s, 10-record quanta; the flood is 1 to 7.5 s of the shard's budget.
        const t = await harness(20);
        const hot: Item[] = [];
        for (let i = 0; i < flood; i++) hot.push(t.add(KEYS[0]!, 400));
        const addedAt = new Map<number, number>();
        const waited: number[] = [];
        const pending = lightAdds.toSorted((a, b) => a.at - b.at);
        let wakeAt = 0;
        while (t.waiting().length > 0 || pending.length > 0) {
          // The next thing that happens: a light device's record, or the limiter's wake-up.
          const next = pending[0];
          if (next !== undefined && next.at <= wakeAt) {
            pending.shift();
            t.clock.now = Math.max(t.clock.now, next.at);
            const key = KEYS[next.key]!;
            // A light device sends at a normal pace: at most two records waiting.
            const waiting = t.added.filter((i) => i.key === key && !t.sent.has(i.id)).length;
            if (waiting < 2) addedAt.set(t.add(key, 400).id, t.clock.now);
          } else t.clock.now = Math.max(t.clock.now, wakeAt);
          const d = t.poll(500, 5 * 1024 * 1024);
          if (d.kind === "send") {
            for (const { item } of d.batch) {
              const at = addedAt.get(item.id);
              if (at !== undefined) waited.push(t.clock.now - at);
            }
            wakeAt = t.clock.now;
          } else wakeAt = d.kind === "wait-until" ? d.at : next?.at ?? Infinity;
        }
        // Each light record waits at most for the light records ahead of it to fit (a record
        // of budget each) and a linger, far less than the flood's seconds.
        const bound = LINGER_MS + 2 * QUANTUM_MS + 8 * (1000 / 200);
        assert.ok(Math.max(...waited) <= bound, `a light record waited ${Math.max(...waited)} ms`);
        assert.equal(waited.length, addedAt.size);
      },
    ),
    { numRuns: 60 },
  );
});
