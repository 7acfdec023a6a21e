/**
 * Tests of the local stack: the resources LocalStack's init creates, the service environment,
 * the fault controller and its HTTP endpoint, the CLI, and a clean stop.
 */

import assert from "node:assert/strict";
import {
  GetQueueAttributesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from "@aws-sdk/client-sqs";
import {
  DescribeStreamSummaryCommand,
  ListShardsCommand,
  ListStreamsCommand,
} from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../src/submissions/aws_clients.ts";
import { startLocalStack } from "../../tools/submissions/local_stack.ts";
import { startKinesalite } from "../../tools/submissions/kinesalite_server.ts";
import { dieWithParent } from "../../tools/common/parent_death.ts";
import { taskCommand } from "../../tools/common/start_task.ts";

Deno.test("defaults: the Compose environment's resources, on 127.0.0.1, and the service's env", async () => {
  const stack = await startLocalStack();
  const { sqs, kinesis } = stack.createClients();
  try {
    assert.equal(stack.region, "eu-west-1");
    for (const endpoint of Object.values(stack.endpoints)) {
      assert.match(endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    }
    assert.equal(stack.queueUrl, `${stack.endpoints.sqs}/000000000000/submissions`);
    assert.equal(stack.invalidQueueUrl, `${stack.endpoints.sqs}/000000000000/submissions-invalid`);
    assert.equal(stack.deadLetterQueueUrl, undefined);
    assert.equal(stack.streamName, "events");
    assert.deepEqual(stack.env(), {
      AWS_REGION: "eu-west-1",
      AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
      AWS_ENDPOINT_URL_KINESIS: stack.endpoints.kinesis,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      SQS_QUEUE_URL: stack.queueUrl,
      KINESIS_STREAM_NAME: "events",
      SQS_INVALID_QUEUE_URL: stack.invalidQueueUrl,
    });

    const queues = await sqs.send(new ListQueuesCommand({}));
    assert.deepEqual(queues.QueueUrls?.map((url) => url.split("/").at(-1)).sort(), [
      "submissions",
      "submissions-invalid",
    ]);
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ["All"] }),
    );
    assert.equal(Attributes.VisibilityTimeout, "30");
    assert.equal(Attributes.RedrivePolicy, undefined);
    assert.equal(Attributes.QueueArn, "arn:aws:sqs:eu-west-1:000000000000:submissions");

    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: "hello" }));
    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl: stack.queueUrl }));
    assert.equal(received.Messages?.[0]?.Body, "hello");

    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: "events" }));
    assert.equal(summary.StreamDescriptionSummary?.StreamStatus, "ACTIVE");
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: "events" }));
    assert.equal(Shards.length, 2);
    assert.deepEqual(stack.faults.get().kinesis, {
      errorProbability: 0,
      partialFailureProbability: 0,
      throttle: false,
      shardRecordsPerSecond: 1_000,
      shardBytesPerSecond: 1_048_576,
      latencyMs: 0,
      outageUntil: 0,
    });
  } finally {
    sqs.destroy();
    kinesis.destroy();
    await stack.stop();
  }
});

Deno.test("options: names, shard count, no invalid queue, a dead-letter queue that really redrives", async () => {
  await using stack = await startLocalStack({
    queueName: "subs",
    invalidQueue: false,
    deadLetterQueue: { maxReceiveCount: 1 },
    streamName: "evts",
    shardCount: 3,
  });
  const { sqs, kinesis } = stack.createClients();
  try {
    assert.equal(stack.invalidQueueUrl, undefined);
    assert.equal(stack.deadLetterQueueUrl, `${stack.endpoints.sqs}/000000000000/subs-dlq`);
    assert.equal(stack.env().SQS_INVALID_QUEUE_URL, undefined);
    assert.equal(stack.env().SQS_QUEUE_URL, `${stack.endpoints.sqs}/000000000000/subs`);
    assert.equal(stack.env().KINESIS_STREAM_NAME, "evts");
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: stack.queueUrl, AttributeNames: ["All"] }),
    );
    assert.deepEqual(JSON.parse(Attributes.RedrivePolicy ?? "{}"), {
      deadLetterTargetArn: "arn:aws:sqs:eu-west-1:000000000000:subs-dlq",
      maxReceiveCount: 1,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: "poison" }));
    const receive = (QueueUrl: string) =>
      sqs.send(new ReceiveMessageCommand({ QueueUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0 }));
    assert.equal((await receive(stack.queueUrl)).Messages?.length, 1);
    assert.equal((await receive(stack.queueUrl)).Messages, undefined);
    assert.equal((await receive(stack.deadLetterQueueUrl!)).Messages?.[0]?.Body, "poison");
    const { Shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: "evts" }));
    assert.equal(Shards.length, 3);
  } finally {
    sqs.destroy();
    kinesis.destroy();
  }
});

Deno.test("faults: initial settings from options; set() validates the whole update before applying", async () => {
  await using stack = await startLocalStack({
    faults: { kinesis: { errorProbability: 0.1, latencyMs: 2 }, sqs: { latencyMs: 3 } },
  });
  assert.equal(stack.faults.get().kinesis.errorProbability, 0.1);
  assert.equal(stack.faults.get().kinesis.latencyMs, 2);
  assert.equal(stack.faults.get().sqs.latencyMs, 3);
  // Creating the resources never went through a fault.
  assert.equal(stack.faults.stats().kinesis.injected.errorProbability, 0);

  assert.throws(
    () => stack.faults.set({ kinesis: { latencyMs: 50 }, sqs: { errorProbability: 0.5 } }),
    RangeError,
  );
  assert.equal(stack.faults.get().kinesis.latencyMs, 2);
  assert.throws(() => stack.faults.set({ dynamodb: {} } as never), /unknown service/);

  const settings = stack.faults.set({ kinesis: { partialFailureProbability: 0.2 } });
  assert.equal(settings.kinesis.partialFailureProbability, 0.2);
  assert.equal(settings.kinesis.errorProbability, 0.1);
  stack.faults.reset();
  assert.deepEqual(stack.faults.get().kinesis, stack.faults.get().sqs);
  assert.equal(stack.faults.get().sqs.latencyMs, 0);
});

Deno.test("control endpoint: GET, PUT and POST /faults/reset", async () => {
  await using stack = await startLocalStack();
  const url = `${stack.endpoints.control}/faults`;
  const call = async (method: string, path = "", body?: string) => {
    const response = await fetch(url + path, { method, body: body ?? null });
    return { status: response.status, json: await response.json() };
  };

  const initial = await call("GET");
  assert.equal(initial.status, 200);
  assert.deepEqual(initial.json.settings, stack.faults.get());
  assert.deepEqual(initial.json.stats, stack.faults.stats());

  const put = await call(
    "PUT",
    "",
    JSON.stringify({ kinesis: { errorProbability: 0.1 }, sqs: { latencyMs: 4 } }),
  );
  assert.equal(put.status, 200);
  assert.equal(put.json.settings.kinesis.errorProbability, 0.1);
  assert.equal(stack.faults.get().kinesis.errorProbability, 0.1);
  assert.equal(stack.faults.get().sqs.latencyMs, 4);

  const outage = await call("PUT", "", JSON.stringify({ sqs: { outageSeconds: 60 } }));
  assert.ok(outage.json.settings.sqs.outageUntil > Date.now() + 50_000);
  assert.equal(stack.faults.get().kinesis.errorProbability, 0.1, "PUT merges, never replaces");

  for (const bad of ["{", "[]", '{"kinesis":{"errorProbability":2}}', '{"s3":{}}']) {
    const answer = await call("PUT", "", bad);
    assert.equal(answer.status, 400, bad);
    assert.equal(typeof answer.json.error, "string");
  }
  assert.equal(stack.faults.get().kinesis.errorProbability, 0.1);

  const reset = await call("POST", "/reset");
  assert.equal(reset.status, 200);
  assert.equal(reset.json.settings.sqs.outageUntil, 0);
  assert.equal(stack.faults.get().kinesis.errorProbability, 0);

  assert.equal((await call("DELETE")).status, 405);
  assert.equal((await call("GET", "/nope")).status, 404);
});

Deno.test("stop(): closes every endpoint, frees everything (sanitizers on), and can be called twice", async () => {
  const stack = await startLocalStack();
  const { sqs, kinesis } = stack.createClients();
  // Leave keep-alive connections and a long poll in flight: stop() must still be clean.
  await kinesis.send(new ListShardsCommand({ StreamName: stack.streamName }));
  const poll = sqs.send(
    new ReceiveMessageCommand({ QueueUrl: stack.queueUrl, WaitTimeSeconds: 20 }),
  )
    .then(() => "answered", () => "failed");
  // And a request held back by a latency timer.
  stack.faults.set({ kinesis: { latencyMs: 10_000 } });
  const delayed = kinesis.send(new ListShardsCommand({ StreamName: stack.streamName }))
    .then(() => "answered", () => "failed");
  await new Promise((resolve) => setTimeout(resolve, 50));
  await stack.stop();
  await stack.stop();
  assert.equal(await poll, "failed");
  assert.equal(await delayed, "failed");
  sqs.destroy();
  kinesis.destroy();
  for (const endpoint of Object.values(stack.endpoints)) {
    await assert.rejects(fetch(endpoint), TypeError, `${endpoint} still answers`);
  }
});

/** Reads from `stream` until `done(text)` holds; returns the reader to drain later. */
async function readUntil(
  stream: ReadableStream<Uint8Array>,
  done: (text: string) => boolean,
): Promise<{ text: string; rest: () => Promise<string> }> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!done(text)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    text += value;
  }
  return {
    text,
    async rest() {
      for (;;) {
        const { value, done: ended } = await reader.read();
        if (ended) return text;
        text += value;
      }
    },
  };
}

Deno.test("CLI (deno task stack's own flags): env lines on stdout, faults from env and flags, exit 0 on SIGINT", async () => {
  const [deno, ...args] = taskCommand("stack");
  assert.equal(deno, "deno");
  const wrapped = dieWithParent(
    Deno.execPath(),
    [...args, "--sqs-port", "0", "--kinesis-port", "0", "--control-port", "0"]
      .concat(["--kinesis-latency-ms", "3", "--kinesis-shard-bytes-per-second", "4096"]),
  );
  const child = new Deno.Command(wrapped.command, {
    args: wrapped.args,
    cwd: new URL("../..", import.meta.url),
    env: {
      KINESIS_ERROR_PROBABILITY: "0.25",
      KINESIS_LATENCY_MS: "99",
      SQS_LATENCY_MS: "7",
      KINESIS_SHARD_RECORDS_PER_SECOND: "250",
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    const stdout = await readUntil(child.stdout, (text) => text.includes("SQS_INVALID_QUEUE_URL"));
    const stderr = await readUntil(child.stderr, (text) => /control\s+\S+\/faults/.test(text));
    const env = Object.fromEntries(
      stdout.text.trim().split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2)),
    );
    assert.deepEqual(Object.keys(env), [
      "AWS_REGION",
      "AWS_ENDPOINT_URL_SQS",
      "AWS_ENDPOINT_URL_KINESIS",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "SQS_QUEUE_URL",
      "KINESIS_STREAM_NAME",
      "SQS_INVALID_QUEUE_URL",
    ]);
    assert.equal(env.SQS_QUEUE_URL, `${env.AWS_ENDPOINT_URL_SQS}/000000000000/submissions`);
    const control = stderr.text.match(/control\s+(\S+\/faults)/)?.[1];
    assert.ok(control);
    const { settings } = await (await fetch(control)).json();
    assert.equal(settings.kinesis.errorProbability, 0.25);
    assert.equal(settings.kinesis.latencyMs, 3, "the flag wins over KINESIS_LATENCY_MS");
    assert.equal(settings.sqs.latencyMs, 7);
    assert.equal(settings.kinesis.throttle, true, "a shard budget turns the throttle on");
    assert.equal(settings.kinesis.shardRecordsPerSecond, 250);
    assert.equal(settings.kinesis.shardBytesPerSecond, 4096);
    assert.match(stderr.text, /throttled at 250 records\/s and 4096 bytes\/s per shard/);

    child.kill("SIGINT");
    const [status, , errText] = await Promise.all([child.status, stdout.rest(), stderr.rest()]);
    assert.equal(status.code, 0, errText);
    assert.match(errText, /stopped/);
  } finally {
    clearTimeout(guard);
  }
});

Deno.test("kinesalite: a client resetting its connection mid-request is counted, never thrown", async () => {
  const kinesis = await startKinesalite();
  try {
    // Headers promise 1 000 bytes; 10 come, then the connection is gone (the `Error: aborted`
    // kinesalite used to rethrow as an uncaught exception, killing the process hosting it).
    const connection = await Deno.connect({ hostname: "127.0.0.1", port: kinesis.port });
    await connection.write(new TextEncoder().encode(
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n" +
        'X-Amz-Target: Kinesis_20131202.ListStreams\r\nContent-Length: 1000\r\n\r\n{"Limit": 1',
    ));
    connection.close();
    for (let i = 0; i < 500 && kinesis.clientsGone === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(kinesis.clientsGone, 1);
    // Still serving.
    const client = createKinesisClient({
      region: "eu-west-1",
      endpoint: `http://127.0.0.1:${kinesis.port}`,
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    });
    try {
      assert.deepEqual((await client.send(new ListStreamsCommand({}))).StreamNames, []);
    } finally {
      client.destroy();
    }
  } finally {
    await kinesis.close();
  }
});
