/**
 * The ordering publisher with its shard limiter, against a fake Kinesis that throttles per shard
 * as Kinesis does (tools/submissions/shard_throttle.ts, on the real clock): the ordering
 * contract holds, the throttles nearly vanish, a full shard holds back only its own records,
 * and the budget follows a stream that takes less.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { OrderedPublisher } from "../../src/submissions/ordered_publisher.ts";
import { hashKeyOf, MAX_HASH_KEY } from "../../src/submissions/shard_map.ts";
import {
  assertInOrderAndComplete,
  evenShards,
  FakeSink,
  prng,
  publishAll,
  submission,
} from "./publisher_fakes.ts";

const TWO_SHARDS = evenShards(2);

/** Partition keys of `count` devices whose records go to shard `shard` of 2. */
function devicesOn(shard: 0 | 1, count: number, prefix = "device"): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `${prefix}-${i}`;
    if ((hashKeyOf(key) > MAX_HASH_KEY / 2n ? 1 : 0) === shard) keys.push(key);
  }
  return keys;
}

Deno.test("limiter on: order and completeness hold, and a stream at the real limits refuses almost nothing (off: many)", async () => {
  const run = async (percent: number) => {
    const sink = new FakeSink({
      random: prng(21),
      latencyMs: 3,
      shards: TWO_SHARDS,
      throttleRecordsPerSecond: 1_000,
    });
    const publisher = new OrderedPublisher({
      sink,
      lingerMs: 5,
      backoff: { baseMs: 5, capMs: 100, random: prng(22) },
      shardRateLimitPercent: percent,
    });
    // 4 000 records: twice what the two shards take in their first second.
    const expected = await publishAll(publisher, 800, (i) => 3 + (i % 5));
    assertInOrderAndComplete(sink.stream, expected);
    assert.deepEqual(sink.violations, []);
    await publisher.idle();
    const sent = sink.calls.reduce((sum, c) => sum + c.records, 0);
    return { throttledShare: sink.throttled / sent, calls: sink.calls.length };
  };
  const on = await run(100);
  const off = await run(0);
  assert.ok(on.throttledShare <= 0.02, `limiter on: ${on.throttledShare} of records throttled`);
  assert.ok(off.throttledShare > 0.2, `limiter off: only ${off.throttledShare} throttled`);
  assert.ok(on.calls < off.calls, `calls: ${on.calls} with the limiter, ${off.calls} without`);
});

Deno.test("limiter on: a shard out of budget holds back neither the other shard nor the light devices of its own", async () => {
  // 200 records/s per shard; one device floods shard 0 with 100 submissions of 5 events (2.5 s
  // of its budget); then light devices, one submission each, on both shards.
  const sink = new FakeSink({
    random: prng(31),
    latencyMs: 2,
    shards: TWO_SHARDS,
    throttleRecordsPerSecond: 200,
  });
  const publisher = new OrderedPublisher({ sink, lingerMs: 5, shardRateLimitPercent: 20 });
  const [hot] = devicesOn(0, 1, "hot");
  const hotDone = Array.from(
    { length: 100 },
    (_, i) => publisher.publish(submission(`hot${i}`, 5, 0, hot)),
  );
  await new Promise((resolve) => setTimeout(resolve, 200)); // the flood is under way
  const writtenBefore = sink.stream.length;
  const light = [...devicesOn(0, 4, "light0"), ...devicesOn(1, 4, "light1")];
  const lightDone = await Promise.all(
    light.map((key, i) => publisher.publish(submission(`light${i}`, 5, 0, key))),
  );
  const hotWrittenMeanwhile = sink.stream.filter((r) => r.id.startsWith("hot")).length -
    writtenBefore;
  for (const outcome of lightDone) assert.equal(outcome.complete, true);
  // The light submissions needed 5 rounds each; in that time the flooding device wrote a small
  // part of its 500 records: they did not wait behind it.
  assert.ok(hotWrittenMeanwhile < 150, `the hot device wrote ${hotWrittenMeanwhile} meanwhile`);
  await Promise.all(hotDone);
  const expected = new Map<string, number>([
    ...Array.from({ length: 100 }, (_, i): [string, number] => [`hot${i}`, 5]),
    ...light.map((_, i): [string, number] => [`light${i}`, 5]),
  ]);
  assertInOrderAndComplete(sink.stream, expected);
  assert.deepEqual(sink.violations, []);
  assert.ok(sink.throttled <= 0.02 * sink.stream.length, `${sink.throttled} throttled`);
});

Deno.test("limiter on: sharing the stream with another producer, the budget shrinks to what it takes", async () => {
  // The stream takes 500 records/s per shard, half of what the limiter starts with.
  const sink = new FakeSink({
    random: prng(41),
    latencyMs: 3,
    shards: TWO_SHARDS,
    throttleRecordsPerSecond: 500,
  });
  const budgets = new Map<string, number[]>();
  const publisher = new OrderedPublisher({
    sink,
    lingerMs: 5,
    backoff: { baseMs: 5, capMs: 100, random: prng(42) },
    shardRateLimitPercent: 100,
    limiterObserver: {
      onBudget: (shardId, records) =>
        budgets.set(shardId, [...budgets.get(shardId) ?? [], records]),
    },
  });
  const expected = await publishAll(publisher, 500, () => 6);
  assertInOrderAndComplete(sink.stream, expected);
  await publisher.idle();
  for (const [shardId, history] of budgets) {
    assert.equal(history[0], 1_000, `${shardId} starts at the full budget`);
    assert.ok(Math.min(...history) <= 600, `${shardId}: ${history.join(", ")}`);
  }
  assert.equal(budgets.size, 2);
  const sent = sink.calls.reduce((sum, c) => sum + c.records, 0);
  // Without adapting, sending 1 000/s into 500/s would see about half refused.
  assert.ok(sink.throttled < 0.25 * sent, `${sink.throttled} of ${sent} throttled`);
});

Deno.test("limiter on: a reshard mid-way (a split) is noticed and nothing is lost or reordered", async () => {
  const sink = new FakeSink({ random: prng(51), latencyMs: 20, shards: TWO_SHARDS });
  const closed: string[] = [];
  const opened: string[] = [];
  const publisher = new OrderedPublisher({
    sink,
    lingerMs: 2,
    // Small calls one at a time: the run outlasts the limiter's one listing a second.
    maxBatchRecords: 20,
    maxConcurrentRequests: 1,
    shardRateLimitPercent: 100,
    limiterObserver: {
      onShardClosed: (shardId) => closed.push(shardId),
      onBudget: (shardId) => opened.push(shardId),
    },
  });
  const published = publishAll(publisher, 600, () => 5);
  while (sink.calls.length < 10) await new Promise((resolve) => setTimeout(resolve, 1));
  // Shard 0 splits into shards 2 and 3 (shard 1 stays): written records now name them.
  const [first, second] = evenShards(4, 2);
  sink.shards = [
    { ...first!, ShardId: "shardId-000000000002" },
    { ...second!, ShardId: "shardId-000000000003" },
    TWO_SHARDS[1]!,
  ];
  const expected = await published;
  await publisher.idle();
  assertInOrderAndComplete(sink.stream, expected);
  assert.deepEqual(sink.violations, []);
  assert.deepEqual(closed, ["shardId-000000000000"]);
  assert.deepEqual(opened.sort(), [
    "shardId-000000000000",
    "shardId-000000000001",
    "shardId-000000000002",
    "shardId-000000000003",
  ]);
});

Deno.test("limiter on: when ListShards fails, everything is published without it, and the failure reported", async () => {
  const sink = new FakeSink({ random: prng(61), shards: TWO_SHARDS });
  const failing = Object.assign(sink, {
    listShards: () => Promise.reject(new Error("AccessDeniedException")),
  });
  const errors: unknown[] = [];
  const publisher = new OrderedPublisher({
    sink: failing,
    lingerMs: 1,
    shardRateLimitPercent: 100,
    limiterObserver: { onListError: (error) => errors.push(error) },
  });
  const expected = await publishAll(publisher, 100, () => 4);
  assertInOrderAndComplete(sink.stream, expected);
  await publisher.idle();
  assert.equal(errors.length, 1);
});

Deno.test("limiter on: a key with more than its backlog seconds of its shard's budget waiting is overloaded; others are not", async () => {
  // 100 records/s per shard; the hot key gets 60 submissions of 5 events (3 s of its shard).
  const sink = new FakeSink({
    random: prng(71),
    latencyMs: 2,
    shards: TWO_SHARDS,
    throttleRecordsPerSecond: 100,
  });
  const publisher = new OrderedPublisher({
    sink,
    lingerMs: 2,
    shardRateLimitPercent: 10,
    keyBacklogSeconds: 2,
  });
  const [hot, light] = devicesOn(0, 2, "key");
  const [elsewhere] = devicesOn(1, 1, "key");
  assert.equal(publisher.overloaded(hot!), false, "nothing waiting yet");
  const stop = new AbortController();
  const done = Array.from(
    { length: 60 },
    (_, i) => publisher.publish(submission(`hot${i}`, 5, 0, hot), { signal: stop.signal }),
  );
  const lightDone = publisher.publish(submission("light", 5, 0, light));
  // The shard's budget is known once the first listing answered: 300 records > 2 s × 100.
  while (!publisher.overloaded(hot!)) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(publisher.overloaded(light!), false, "a light key of the same shard");
  assert.equal(publisher.overloaded(elsewhere!), false, "a key of the other shard");
  assert.equal((await lightDone).complete, true);
  const without = new OrderedPublisher({ sink, shardRateLimitPercent: 10 });
  assert.equal(without.overloaded(hot!), false, "keyBacklogSeconds 0: never");
  // Once at most 2 s of its budget (200 records) waits, the hot key is not overloaded any more.
  while (publisher.overloaded(hot!)) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.ok(sink.stream.filter((r) => r.id.startsWith("hot")).length >= 100);
  // Re-fill to above 200 records waiting, then abort: what aborted submissions had waiting is
  // no longer counted.
  for (let i = 0; i < 60; i++) {
    done.push(publisher.publish(submission(`more${i}`, 5, 0, hot), { signal: stop.signal }));
  }
  assert.equal(publisher.overloaded(hot!), true);
  stop.abort();
  await Promise.all(done);
  await publisher.idle();
  assert.equal(publisher.overloaded(hot!), false, "nothing of the hot key waits any more");
});

Deno.test("limiter on or off (property): every submission complete, in order, whatever the faults", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        seed: fc.nat(),
        percent: fc.constantFrom(0, 10, 100),
        recordFail: fc.constantFrom(0, 0.1, 0.3),
        throwBefore: fc.constantFrom(0, 0.05),
        throwAfter: fc.constantFrom(0, 0.05),
        submissions: fc.array(
          fc.record({ events: fc.integer({ min: 1, max: 8 }), key: fc.nat(5) }),
          {
            minLength: 1,
            maxLength: 60,
          },
        ),
      }),
      async (run) => {
        const sink = new FakeSink({
          random: prng(run.seed),
          recordFail: run.recordFail,
          throwBefore: run.throwBefore,
          throwAfter: run.throwAfter,
          latencyMs: 2,
          shards: TWO_SHARDS,
          throttleRecordsPerSecond: 1_000,
        });
        const publisher = new OrderedPublisher({
          sink,
          lingerMs: 1,
          backoff: { baseMs: 1, capMs: 8, random: prng(run.seed + 1) },
          shardRateLimitPercent: run.percent,
        });
        const expected = new Map<string, number>();
        const outcomes = await Promise.all(run.submissions.map(({ events, key }, i) => {
          expected.set(`s${i}`, events);
          return publisher.publish(submission(`s${i}`, events, 0, `device-${key}`));
        }));
        for (const outcome of outcomes) assert.equal(outcome.complete, true);
        assertInOrderAndComplete(sink.stream, expected);
        assert.deepEqual(sink.violations, []);
        await publisher.idle();
        assert.equal(publisher.activeSubmissions, 0);
      },
    ),
    { numRuns: 15 },
  );
});
