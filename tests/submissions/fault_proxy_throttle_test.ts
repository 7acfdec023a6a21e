/**
 * The fault proxy's `throttle`: per-shard write limits like real Kinesis, through the real SDK
 * against kinesalite, on a clock the test moves by hand.
 */
import assert from "node:assert/strict";
import {
  type KinesisClient,
  PutRecordCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
  SplitShardCommand,
} from "@aws-sdk/client-kinesis";
import { MAX_HASH_KEY, ShardMap } from "../../src/submissions/shard_map.ts";
import { listShards } from "../../src/submissions/list_shards.ts";
import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from "../../tools/submissions/local_stack.ts";
import { mergeFaultSettings, NO_FAULTS } from "../../tools/submissions/fault_settings.ts";
import { readStream } from "../../tools/submissions/read_stream.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const THROTTLED = "ProvisionedThroughputExceededException";

/** A stack on a hand-moved clock, with its clients and its shard map. */
interface Harness {
  stack: LocalStack;
  kinesis: KinesisClient;
  map: ShardMap;
  clock: { now: number };
  [Symbol.asyncDispose](): Promise<void>;
}

async function harness(options: LocalStackOptions = {}): Promise<Harness> {
  const clock = { now: 0 };
  const stack = await startLocalStack({ ...options, now: () => clock.now });
  const { sqs, kinesis } = stack.createClients({ maxAttempts: 1 });
  sqs.destroy();
  const map = ShardMap.fromListShards(await listShards(kinesis, stack.streamName));
  return {
    stack,
    kinesis,
    map,
    clock,
    async [Symbol.asyncDispose]() {
      kinesis.destroy();
      await stack.stop();
    },
  };
}

function records(count: number, prefix: string, dataBytes = 10): PutRecordsRequestEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    Data: encoder.encode(`${prefix}${i}`.padEnd(dataBytes, ".")),
    PartitionKey: `${prefix}-key-${i}`,
  }));
}

/** What the stream holds, as data → shard. */
async function written(h: Harness): Promise<Map<string, string>> {
  const all = await readStream(h.kinesis, h.stack.streamName);
  return new Map(all.map((r) => [decoder.decode(r.data).replace(/\.+$/, ""), r.shardId]));
}

Deno.test("throttle: records over their shard's budget fail with the real code and message; the rest of the call is written", async () => {
  await using h = await harness({
    faults: { kinesis: { throttle: true, shardRecordsPerSecond: 10 } },
  });
  const batch = records(60, "r");
  const response = await h.kinesis.send(
    new PutRecordsCommand({ StreamName: h.stack.streamName, Records: batch }),
  );
  assert.equal(response.$metadata.httpStatusCode, 200);
  // The first 10 records of each shard, in request order, pass; every later one is refused.
  const admitted = new Map<string, number>();
  const expected = new Set<string>();
  let refused = 0;
  for (const [i, entry] of (response.Records ?? []).entries()) {
    const shardId = h.map.shardOf(batch[i]!.PartitionKey!)!;
    const count = admitted.get(shardId) ?? 0;
    if (count < 10) {
      admitted.set(shardId, count + 1);
      expected.add(`r${i}`);
      assert.equal(entry.ShardId, shardId, `record ${i} written on its shard`);
      assert.ok(entry.SequenceNumber);
      assert.equal(entry.ErrorCode, undefined);
    } else {
      refused++;
      assert.equal(entry.ErrorCode, THROTTLED, `record ${i}`);
      assert.equal(
        entry.ErrorMessage,
        `Rate exceeded for shard ${shardId} in stream events under account 000000000000.`,
      );
      assert.equal(entry.SequenceNumber, undefined);
    }
  }
  assert.equal(refused, 40);
  assert.equal(response.FailedRecordCount, 40);
  const stream = await written(h);
  assert.deepEqual(new Set(stream.keys()), expected, "exactly the admitted records are written");
  const stats = h.stack.faults.stats().kinesis;
  assert.equal(stats.recordsThrottled, 40);
  assert.equal(stats.recordsFailed, 40);
  assert.equal(stats.recordsPassed, 20);
  assert.equal(stats.injected.throttled, 1);
  assert.equal(Object.values(stats.throttledByShard).reduce((a, b) => a + b, 0), 40);
  assert.deepEqual(Object.keys(stats.throttledByShard).sort(), h.map.ranges.map((r) => r.shardId));
});

Deno.test("throttle: the budget refills with time, up to one second's worth; refused records take none", async () => {
  await using h = await harness({
    faults: { kinesis: { throttle: true, shardRecordsPerSecond: 100 } },
  });
  const put = async (batch: PutRecordsRequestEntry[]) =>
    (await h.kinesis.send(
      new PutRecordsCommand({ StreamName: h.stack.streamName, Records: batch }),
    )).Records!.filter((e) => e.ErrorCode === undefined).length;
  // One partition key: one shard.
  const oneShard = (count: number, prefix: string) =>
    records(count, prefix).map((r) => ({ ...r, PartitionKey: "device-1" }));
  assert.equal(await put(oneShard(150, "a")), 100, "a full second's budget at the start");
  assert.equal(await put(oneShard(50, "b")), 0, "none left; the 50 refused took nothing");
  h.clock.now = 250;
  assert.equal(await put(oneShard(50, "c")), 25, "a quarter of a second refills 25");
  h.clock.now = 60_000;
  assert.equal(await put(oneShard(300, "d")), 100, "never more than one second's worth");
  assert.equal((await written(h)).size, 225);
});

Deno.test("throttle: bytes count data plus partition key; settings change the budget at run time", async () => {
  await using h = await harness({
    faults: { kinesis: { throttle: true, shardBytesPerSecond: 1_000 } },
  });
  // 300 data bytes + an 8-byte key ("device-1") = 308 bytes: three fit in 1 000, a fourth not.
  const batch = records(5, "x", 300).map((r) => ({ ...r, PartitionKey: "device-1" }));
  const send = () =>
    h.kinesis.send(new PutRecordsCommand({ StreamName: h.stack.streamName, Records: batch }));
  const first = await send();
  assert.deepEqual(first.Records!.map((e) => e.ErrorCode ?? "ok"), [
    "ok",
    "ok",
    "ok",
    THROTTLED,
    THROTTLED,
  ]);
  h.stack.faults.set({ kinesis: { shardBytesPerSecond: 10_000 } });
  h.clock.now = 1_000;
  assert.equal((await send()).FailedRecordCount, 0, "the new, larger budget");
  h.stack.faults.set({ kinesis: { throttle: false } });
  assert.equal((await send()).FailedRecordCount, 0, "throttle off: never refused");
  assert.equal(h.stack.faults.stats().kinesis.recordsThrottled, 2);
});

Deno.test("throttle: PutRecord over budget is HTTP 400 ProvisionedThroughputExceededException with the real message", async () => {
  await using h = await harness({
    faults: { kinesis: { throttle: true, shardRecordsPerSecond: 1 } },
  });
  const put = new PutRecordCommand({
    StreamName: h.stack.streamName,
    Data: encoder.encode("x"),
    PartitionKey: "k",
  });
  const first = await h.kinesis.send(put);
  assert.ok(first.SequenceNumber);
  await assert.rejects(
    h.kinesis.send(put),
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
      assert.equal(error.name, THROTTLED);
      assert.equal(
        error.message,
        `Rate exceeded for shard ${
          h.map.shardOf("k")
        } in stream events under account 000000000000.`,
      );
      assert.equal(error.$metadata?.httpStatusCode, 400);
      return true;
    },
  );
  assert.equal((await written(h)).size, 1);
});

Deno.test("throttle: after SplitShard each child shard has a budget of its own", async () => {
  await using h = await harness({
    shardCount: 1,
    faults: { kinesis: { throttle: true, shardRecordsPerSecond: 10 } },
  });
  const batch = records(40, "s");
  const put = async () =>
    (await h.kinesis.send(
      new PutRecordsCommand({ StreamName: h.stack.streamName, Records: batch }),
    )).Records!.filter((e) => e.ErrorCode === undefined).length;
  assert.equal(await put(), 10, "one shard: 10 records");
  await h.kinesis.send(
    new SplitShardCommand({
      StreamName: h.stack.streamName,
      ShardToSplit: "shardId-000000000000",
      NewStartingHashKey: ((MAX_HASH_KEY + 1n) / 2n).toString(),
    }),
  );
  // The clock stands still, so every record passed below was admitted on a new shard's budget.
  let passed = 0;
  for (let i = 0; i < 100 && passed < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const open = ShardMap.fromListShards(await listShards(h.kinesis, h.stack.streamName));
    if (open.size === 2) passed = await put();
  }
  assert.equal(passed, 20, "two child shards: 10 records each");
  assert.deepEqual(Object.keys(h.stack.faults.stats().kinesis.throttledByShard).sort(), [
    "shardId-000000000000",
    "shardId-000000000001",
    "shardId-000000000002",
  ]);
});

Deno.test("throttle with partial failures: records failed by another fault take no budget", async () => {
  // The first record of the call draws a partial failure; every later draw is 0.99 (no fault).
  const draws = [0];
  await using h = await harness({
    random: () => draws.shift() ?? 0.99,
    faults: {
      kinesis: { throttle: true, shardRecordsPerSecond: 2, partialFailureProbability: 0.5 },
    },
  });
  const batch = records(4, "p").map((r) => ({ ...r, PartitionKey: "device-1" }));
  const response = await h.kinesis.send(
    new PutRecordsCommand({ StreamName: h.stack.streamName, Records: batch }),
  );
  assert.deepEqual(response.Records!.map((e) => e.ErrorCode ?? "ok"), [
    THROTTLED, // the injected partial failure (alternating codes start with this one)
    "ok",
    "ok",
    THROTTLED, // the budget of 2
  ]);
  assert.match(response.Records![0]!.ErrorMessage!, /^Rate exceeded for shard in stream/);
  assert.match(response.Records![3]!.ErrorMessage!, /^Rate exceeded for shard shardId-/);
  const stats = h.stack.faults.stats().kinesis;
  assert.equal(stats.recordsThrottled, 1);
  assert.equal(stats.recordsFailed, 2);
  assert.equal(stats.injected.partialFailure, 1);
  assert.equal(stats.injected.throttled, 1);
  assert.deepEqual([...(await written(h)).keys()].sort(), ["p1", "p2"]);
});

Deno.test("mergeFaultSettings: throttle settings are validated; Kinesis only", () => {
  const none = NO_FAULTS;
  const on = mergeFaultSettings("kinesis", none, { throttle: true, shardRecordsPerSecond: 5 });
  assert.equal(on.throttle, true);
  assert.equal(on.shardRecordsPerSecond, 5);
  assert.equal(on.shardBytesPerSecond, 1_048_576);
  assert.throws(() => mergeFaultSettings("sqs", none, { throttle: true }), /Kinesis only/);
  assert.throws(
    () => mergeFaultSettings("kinesis", none, { throttle: "yes" as unknown as boolean }),
    /throttle must be true or false/,
  );
  assert.throws(() => mergeFaultSettings("kinesis", none, { shardRecordsPerSecond: 0 }), /\[1,/);
  assert.throws(() => mergeFaultSettings("kinesis", none, { shardBytesPerSecond: -1 }), /\[1,/);
  assert.equal(mergeFaultSettings("sqs", none, { throttle: false }).throttle, false);
});
