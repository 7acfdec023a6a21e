/**
 * Tests of the fault proxy, through the real AWS SDK clients of a local stack: each fault
 * must answer exactly as specified and really (not) write to kinesalite.
 */

import assert from "node:assert/strict";
import http from "node:http";
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  ListShardsCommand,
  ListStreamsCommand,
  PutRecordCommand,
  PutRecordsCommand,
  type PutRecordsRequestEntry,
} from "@aws-sdk/client-kinesis";
import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from "../../tools/submissions/local_stack.ts";
import { startFaultProxy } from "../../tools/submissions/fault_proxy.ts";
import { mergeFaultSettings, NO_FAULTS } from "../../tools/submissions/fault_settings.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A stack and its SDK clients, all freed by `close()`. */
interface Harness {
  stack: LocalStack;
  sqs: SQSClient;
  kinesis: KinesisClient;
  close(): Promise<void>;
}

async function harness(options: LocalStackOptions = {}, maxAttempts?: number): Promise<Harness> {
  const stack = await startLocalStack(options);
  const { sqs, kinesis } = stack.createClients({ maxAttempts });
  return {
    stack,
    sqs,
    kinesis,
    async close() {
      sqs.destroy();
      kinesis.destroy();
      await stack.stop();
    },
  };
}

/** A `random()` replaying `values`; past the end it answers 0.99 (no fault) and counts. */
function scripted(values: number[]): { random: () => number; calls: () => number } {
  let calls = 0;
  return { random: () => values[calls++] ?? 0.99, calls: () => calls };
}

function records(count: number, prefix = "r"): PutRecordsRequestEntry[] {
  return Array.from({ length: count }, (_, i) => ({
    Data: encoder.encode(`${prefix}${i}`),
    PartitionKey: `key-${prefix}-${i}`,
  }));
}

/** Everything in the stream, as data string → sequence number, read from every shard. */
async function readStream(
  kinesis: KinesisClient,
  streamName: string,
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards) {
    const { ShardIterator } = await kinesis.send(
      new GetShardIteratorCommand({
        StreamName: streamName,
        ShardId: shard.ShardId,
        ShardIteratorType: "TRIM_HORIZON",
      }),
    );
    const { Records = [] } = await kinesis.send(
      new GetRecordsCommand({ ShardIterator, Limit: 10_000 }),
    );
    for (const record of Records) {
      found.set(decoder.decode(record.Data), record.SequenceNumber ?? "");
    }
  }
  return found;
}

/** Asserts that `promise` rejects the way the SDK reports a broken connection. */
async function assertNetworkError(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: Error & { code?: string; $metadata?: object }) => {
    assert.ok(
      ["ECONNRESET", "EPIPE", "ECONNREFUSED"].includes(error.code ?? ""),
      `expected a network error, got ${error.name} ${error.code}: ${error.message}`,
    );
    return true;
  });
}

Deno.test("errorProbability=1: PutRecords answers 200, every record failed, FailedRecordCount 1, nothing written", async () => {
  const h = await harness({ faults: { kinesis: { errorProbability: 1 } } });
  try {
    const streamName = h.stack.streamName;
    const response = await h.kinesis.send(
      new PutRecordsCommand({ StreamName: streamName, Records: records(7) }),
    );
    assert.equal(response.$metadata.httpStatusCode, 200);
    assert.equal(response.FailedRecordCount, 1);
    assert.equal(response.Records?.length, 7);
    for (const entry of response.Records ?? []) {
      assert.equal(entry.ErrorCode, "ProvisionedThroughputExceededException");
      assert.equal(entry.ErrorMessage, "Rate exceeded for shard X in stream Y under account Z.");
      assert.equal(entry.SequenceNumber, undefined);
    }
    assert.equal((await readStream(h.kinesis, streamName)).size, 0);
    const stats = h.stack.faults.stats().kinesis;
    assert.equal(stats.injected.errorProbability, 1);
    assert.equal(stats.putRecordsCalls, 1);
    assert.equal(stats.putRecordsForwarded, 0);
    assert.equal(stats.recordsReceived, 7);
    assert.equal(stats.recordsFailed, 7);
    assert.equal(stats.recordsPassed, 0);
  } finally {
    await h.close();
  }
});

Deno.test("errorProbability=1: PutRecord makes the SDK throw ProvisionedThroughputExceededException (HTTP 400)", async () => {
  const h = await harness({ faults: { kinesis: { errorProbability: 1 } } }, 1);
  try {
    const put = new PutRecordCommand({
      StreamName: h.stack.streamName,
      Data: encoder.encode("x"),
      PartitionKey: "k",
    });
    await assert.rejects(
      h.kinesis.send(put),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => {
        assert.equal(error.name, "ProvisionedThroughputExceededException");
        assert.equal(error.message, "Rate exceeded for shard X in stream Y under account Z.");
        assert.equal(error.$metadata?.httpStatusCode, 400);
        return true;
      },
    );
    assert.equal(h.stack.faults.stats().kinesis.requests.PutRecord, 1);
    // Other operations are untouched by errorProbability.
    assert.deepEqual((await h.kinesis.send(new ListStreamsCommand({}))).StreamNames, ["events"]);
    assert.equal((await readStream(h.kinesis, h.stack.streamName)).size, 0);
  } finally {
    await h.close();
  }
});

Deno.test("errorProbability: one draw per request, compared with the probability", async () => {
  const script = scripted([0.5, 0.49]);
  const h = await harness({
    random: script.random,
    faults: { kinesis: { errorProbability: 0.5 } },
  });
  try {
    const send = (prefix: string) =>
      h.kinesis.send(
        new PutRecordsCommand({ StreamName: h.stack.streamName, Records: records(3, prefix) }),
      );
    assert.equal((await send("a")).FailedRecordCount, 0);
    assert.equal((await send("b")).FailedRecordCount, 1);
    assert.equal(script.calls(), 2);
    assert.deepEqual([...(await readStream(h.kinesis, h.stack.streamName)).keys()].sort(), [
      "a0",
      "a1",
      "a2",
    ]);
  } finally {
    await h.close();
  }
});

Deno.test("partialFailureProbability: the drawn records fail, the others are written, response in request order", async () => {
  // p = 0.5: records 0, 2 and 5 draw below it and fail.
  const script = scripted([0.1, 0.9, 0.2, 0.6, 0.7, 0.3]);
  const h = await harness({
    random: script.random,
    faults: { kinesis: { partialFailureProbability: 0.5 } },
  });
  try {
    const streamName = h.stack.streamName;
    const response = await h.kinesis.send(
      new PutRecordsCommand({ StreamName: streamName, Records: records(6) }),
    );
    assert.equal(script.calls(), 6);
    assert.equal(response.$metadata.httpStatusCode, 200);
    assert.equal(response.FailedRecordCount, 3);
    const entries = response.Records ?? [];
    assert.equal(entries.length, 6);
    assert.deepEqual(entries.map((entry) => entry.ErrorCode), [
      "ProvisionedThroughputExceededException",
      undefined,
      "InternalFailure",
      undefined,
      undefined,
      "ProvisionedThroughputExceededException",
    ]);
    const stream = await readStream(h.kinesis, streamName);
    assert.deepEqual([...stream.keys()].sort(), ["r1", "r3", "r4"]);
    // Each successful entry is the one of its own record: same sequence number as in the stream.
    for (const i of [1, 3, 4]) {
      assert.ok(entries[i]?.ShardId?.startsWith("shardId-"));
      assert.equal(entries[i]?.SequenceNumber, stream.get(`r${i}`));
    }
    const stats = h.stack.faults.stats().kinesis;
    assert.equal(stats.injected.partialFailure, 1);
    assert.equal(stats.putRecordsForwarded, 1);
    assert.equal(stats.recordsFailed, 3);
    assert.equal(stats.recordsPassed, 3);
  } finally {
    await h.close();
  }
});

Deno.test("partialFailureProbability: when every record fails, nothing is forwarded", async () => {
  const h = await harness({ faults: { kinesis: { partialFailureProbability: 1 } } });
  try {
    const response = await h.kinesis.send(
      new PutRecordsCommand({ StreamName: h.stack.streamName, Records: records(4) }),
    );
    assert.equal(response.FailedRecordCount, 4);
    assert.ok(response.Records?.every((entry) => entry.ErrorCode && !entry.SequenceNumber));
    assert.equal(h.stack.faults.stats().kinesis.putRecordsForwarded, 0);
    assert.equal((await readStream(h.kinesis, h.stack.streamName)).size, 0);
  } finally {
    await h.close();
  }
});

Deno.test("no faults: 500-record PutRecords and other calls pass through untouched and are counted", async () => {
  const h = await harness();
  try {
    const batch = records(500);
    // Partition keys that look like the JSON around them pass intact and count once.
    batch[0]!.PartitionKey = '"PartitionKey":"x"';
    batch[1]!.PartitionKey = "PartitionKey";
    const response = await h.kinesis.send(
      new PutRecordsCommand({ StreamName: h.stack.streamName, Records: batch }),
    );
    assert.equal(response.FailedRecordCount, 0);
    assert.ok(response.Records?.every((entry) => entry.SequenceNumber));
    assert.equal((await readStream(h.kinesis, h.stack.streamName)).size, 500);
    const body = "ünïcödé ✓ " + "x".repeat(100_000);
    await h.sqs.send(new SendMessageCommand({ QueueUrl: h.stack.queueUrl, MessageBody: body }));
    const received = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: h.stack.queueUrl }));
    assert.equal(received.Messages?.[0]?.Body, body);
    const stats = h.stack.faults.stats();
    assert.equal(stats.kinesis.putRecordsCalls, 1);
    assert.equal(stats.kinesis.putRecordsForwarded, 1);
    assert.equal(stats.kinesis.recordsPassed, 500);
    assert.equal(stats.kinesis.requests.ListShards, 1);
    assert.equal(stats.sqs.requests.SendMessage, 1);
    assert.equal(stats.sqs.requests.ReceiveMessage, 1);
  } finally {
    await h.close();
  }
});

Deno.test("latencyMs delays each request by at least the setting", async () => {
  const h = await harness();
  try {
    const attributes = () =>
      h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: h.stack.queueUrl }));
    const timed = async (call: () => Promise<unknown>) => {
      const start = performance.now();
      await call();
      return performance.now() - start;
    };
    await attributes();
    h.stack.faults.set({ sqs: { latencyMs: 200 }, kinesis: { latencyMs: 150 } });
    assert.ok((await timed(attributes)) >= 200);
    const put = () =>
      h.kinesis.send(
        new PutRecordsCommand({ StreamName: h.stack.streamName, Records: records(2) }),
      );
    assert.ok((await timed(put)) >= 150);
    h.stack.faults.set({ sqs: { latencyMs: 0 } });
    assert.ok((await timed(attributes)) < 200);
  } finally {
    await h.close();
  }
});

Deno.test("outage: calls fail with a network error, then succeed once it ends", async () => {
  const h = await harness({}, 1);
  try {
    const list = () => h.kinesis.send(new ListStreamsCommand({}));
    const attributes = () =>
      h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: h.stack.queueUrl }));
    await list(); // leaves a keep-alive connection open: the outage must break it too
    const { kinesis } = h.stack.faults.set({
      kinesis: { outageSeconds: 0.4 },
      sqs: { outageUntil: Date.now() + 400 },
    });
    assert.ok(kinesis.outageUntil > Date.now());
    await assertNetworkError(list());
    await assertNetworkError(attributes());
    const stats = h.stack.faults.stats();
    assert.equal(stats.kinesis.injected.outage, 1);
    assert.equal(stats.sqs.injected.outage, 1);
    await new Promise((resolve) => setTimeout(resolve, 450));
    assert.deepEqual((await list()).StreamNames, ["events"]);
    await attributes();
  } finally {
    await h.close();
  }
});

Deno.test("outage: the SDK's own retries get through a short outage", async () => {
  const h = await harness({}, 10);
  try {
    h.stack.faults.set({ kinesis: { outageSeconds: 0.3 } });
    const response = await h.kinesis.send(new ListStreamsCommand({}));
    assert.deepEqual(response.StreamNames, ["events"]);
    assert.ok((response.$metadata.attempts ?? 0) > 1);
  } finally {
    await h.close();
  }
});

Deno.test("outage: starting one breaks a long poll already in flight", async () => {
  const h = await harness({}, 1);
  try {
    const start = performance.now();
    const poll = h.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: h.stack.queueUrl, WaitTimeSeconds: 10 }),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.stack.faults.set({ sqs: { outageSeconds: 5 } });
    await assertNetworkError(poll);
    assert.ok(performance.now() - start < 3_000);
    h.stack.faults.set({ sqs: { outageSeconds: 0 } });
    await h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: h.stack.queueUrl }));
  } finally {
    await h.close();
  }
});

Deno.test("outages that cut Kinesis calls mid-flight never crash the process hosting kinesalite", async () => {
  // kinesalite rethrows from its request 'error' handler when its connection closes before it
  // has answered: an uncaught exception here. Before the proxy let such calls finish upstream,
  // this loop saw 20-30 of them in 15 s.
  let uncaught = 0;
  const onError = (event: ErrorEvent) => {
    uncaught++;
    event.preventDefault();
  };
  globalThis.addEventListener("error", onError);
  const h = await harness({}, 1);
  try {
    const data = new Uint8Array(4000);
    let completed = 0;
    let refused = 0;
    // Until both kinds of ending were seen 50 times (5 s here; a loaded machine takes longer),
    // at most 60 s.
    const giveUpAt = Date.now() + 60_000;
    const going = () => Date.now() < giveUpAt && (completed <= 50 || refused <= 50);
    const toggler = (async () => {
      for (let i = 0; going(); i++) {
        h.stack.faults.set({ kinesis: { outageSeconds: 0.02 + (i % 5) * 0.01 } });
        // Gaps grow while calls cannot complete between outages (a loaded machine is slower).
        const stretch = completed > 50 ? 1 : 1 + Math.floor(i / 10);
        await new Promise((r) => setTimeout(r, (150 + (i % 7) * 30) * stretch));
      }
    })();
    await Promise.all(Array.from({ length: 6 }, async (_, worker) => {
      while (going()) {
        try {
          if (worker % 2) await h.kinesis.send(new ListStreamsCommand({}));
          else {
            await h.kinesis.send(
              new PutRecordsCommand({
                StreamName: "events",
                Records: Array.from({ length: 200 }, () => ({ Data: data, PartitionKey: "k" })),
              }),
            );
          }
          completed++;
        } catch {
          refused++;
        }
      }
    }));
    await toggler;
    assert.ok(completed > 50 && refused > 50, `${completed} completed, ${refused} refused`);
    assert.equal(uncaught, 0);
  } finally {
    globalThis.removeEventListener("error", onError);
    await h.close();
  }
});

Deno.test("ReceiveMessage parameters are observed as distinct combinations with counts", async () => {
  const h = await harness();
  try {
    const receive = (params: { MaxNumberOfMessages?: number; VisibilityTimeout?: number }) =>
      h.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: h.stack.queueUrl, WaitTimeSeconds: 0, ...params }),
      );
    await receive({ MaxNumberOfMessages: 10, VisibilityTimeout: 30 });
    await receive({ MaxNumberOfMessages: 10, VisibilityTimeout: 30 });
    await receive({});
    assert.deepEqual(h.stack.faults.stats().sqs.receiveMessage, [
      { MaxNumberOfMessages: 10, VisibilityTimeout: 30, WaitTimeSeconds: 0, count: 2 },
      { MaxNumberOfMessages: null, VisibilityTimeout: null, WaitTimeSeconds: 0, count: 1 },
    ]);
    h.stack.faults.reset();
    assert.deepEqual(h.stack.faults.stats().sqs.receiveMessage, []);
    assert.deepEqual(h.stack.faults.stats().sqs.requests, {});
  } finally {
    await h.close();
  }
});

Deno.test("an unreachable emulator is a network error for the client and an upstream error in stats", async () => {
  // Grab a free port, then free it again, so nothing listens there.
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  const proxy = await startFaultProxy({ service: "sqs", upstream: `http://127.0.0.1:${port}` });
  try {
    const status = await new Promise<string>((resolve) => {
      const request = http.request(proxy.url, { method: "POST" }, (res) => {
        res.resume();
        resolve(`status ${res.statusCode}`);
      });
      request.on("error", (error: Error & { code?: string }) => resolve(error.code ?? "error"));
      request.end("{}");
    });
    assert.equal(status, "ECONNRESET");
    assert.equal(proxy.stats().upstreamErrors, 1);
  } finally {
    await proxy.close();
  }
});

Deno.test("mergeFaultSettings validates and merges", () => {
  const none = NO_FAULTS;
  assert.deepEqual(mergeFaultSettings("kinesis", none, { errorProbability: 0.1, latencyMs: 5 }), {
    ...none,
    errorProbability: 0.1,
    latencyMs: 5,
  });
  assert.equal(mergeFaultSettings("sqs", none, { outageSeconds: 2 }, 1_000).outageUntil, 3_000);
  assert.equal(
    mergeFaultSettings("sqs", { ...none, outageUntil: 9 }, { outageSeconds: 0 }).outageUntil,
    0,
  );
  assert.throws(() => mergeFaultSettings("kinesis", none, { errorProbability: 1.5 }), RangeError);
  assert.throws(() => mergeFaultSettings("kinesis", none, { latencyMs: -1 }), RangeError);
  assert.throws(() => mergeFaultSettings("kinesis", none, { latencyMs: NaN }), RangeError);
  assert.throws(
    () => mergeFaultSettings("sqs", none, { partialFailureProbability: 0.1 }),
    RangeError,
  );
  assert.throws(
    () => mergeFaultSettings("kinesis", none, { latency: 5 } as unknown as { latencyMs: number }),
    /unknown fault setting "latency"/,
  );
  assert.deepEqual(none.latencyMs, 0);
});
