/**
 * Reconciliation (pure), reading the whole stream and following it (against a real local
 * Kinesis), record formatting and the tools' environment.
 */
import assert from "node:assert/strict";
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  PutRecordsCommand,
} from "@aws-sdk/client-kinesis";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import {
  EVENT_SCHEMA_VERSION,
  eventId,
  type EventRecord,
} from "../../src/submissions/event_record.ts";
import { type ManifestEntry, parseManifest } from "../../tools/submissions/fleet/mod.ts";
import { formatReport } from "../../tools/submissions/format_report.ts";
import { getQueueDepth } from "../../tools/submissions/queue_depth.ts";
import { readStream, type StreamRecord } from "../../tools/submissions/read_stream.ts";
import { reconcile } from "../../tools/submissions/reconcile.ts";
import {
  followStream,
  formatRecord,
  formatRecordJson,
  readShard,
  type ShardRecord,
} from "../../tools/submissions/tail.ts";
import { startLocalStack } from "../../tools/submissions/local_stack.ts";
import {
  createToolClients,
  DEFAULT_ENDPOINT,
  readToolEnv,
  resolveQueueUrl,
  type ToolClients,
} from "../../tools/submissions/tool_env.ts";

const encoder = new TextEncoder();
const DEVICE_A = "6f1c1a2e-0d7b-4a8e-9c3f-1b2d3e4f5a6b";
const DEVICE_B = "0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d";
const SUB_1 = "11111111-1111-4111-8111-111111111111";
const SUB_2 = "22222222-2222-4222-8222-222222222222";
const SUB_BAD = "33333333-3333-4333-8333-333333333333";

/** A well-formed event record, as the service publishes it. */
function event(device: string, submission: string, sequence: number, count: number): EventRecord {
  const common = {
    schema_version: EVENT_SCHEMA_VERSION,
    event_id: eventId(device, submission, sequence),
    device_id: device,
    submission_id: submission,
    sequence,
    event_count: count,
    time_created: "2021-03-28T15:44:18.592840",
    time_processed: "2021-03-28T13:44:19.000Z",
  } as const;
  return sequence % 2 === 0
    ? { ...common, event_type: "new_process", data: { cmdl: "cmd.exe /c dir", user: "alice" } }
    : {
      ...common,
      event_type: "network_connection",
      data: { source_ip: "10.0.0.1", destination_ip: "8.8.8.8", destination_port: 53 },
    };
}

let nextSequenceNumber = 1;

/** A stream record holding `value` (an event record, or any bytes for malformed ones). */
function streamRecord(value: EventRecord | Uint8Array | string, shardId = "shardId-000000000000") {
  const data = value instanceof Uint8Array
    ? value
    : encoder.encode(typeof value === "string" ? value : JSON.stringify(value));
  return { shardId, sequenceNumber: String(nextSequenceNumber++), data } satisfies StreamRecord;
}

/** All events of a submission, in order. */
function submissionRecords(device: string, submission: string, count: number, shardId?: string) {
  return Array.from(
    { length: count },
    (_, sequence) => streamRecord(event(device, submission, sequence, count), shardId),
  );
}

const MANIFEST: ManifestEntry[] = [
  { submission_id: SUB_1, device_id: DEVICE_A, valid: true, events: 4, kind: "ok" },
  { submission_id: SUB_2, device_id: DEVICE_B, valid: true, events: 3, kind: "raw_json" },
  { submission_id: SUB_BAD, device_id: DEVICE_A, valid: false, events: 6, kind: "null_cmdl" },
  {
    submission_id: "not-an-uuid",
    device_id: DEVICE_B,
    valid: false,
    events: 7,
    kind: "bad_submission_id",
  },
];

function completeStream(): StreamRecord[] {
  return [
    ...submissionRecords(DEVICE_A, SUB_1, 4, "shardId-000000000000"),
    ...submissionRecords(DEVICE_B, SUB_2, 3, "shardId-000000000001"),
  ];
}

Deno.test("reconcile: a complete stream in order is ok", () => {
  const report = reconcile(MANIFEST, completeStream(), { queueDepth: { visible: 0, inFlight: 0 } });
  assert.equal(report.ok, true, report.problems.join("; "));
  assert.deepEqual(report.problems, []);
  assert.equal(report.messages, 4);
  assert.equal(report.validSubmissions, 2);
  assert.equal(report.invalidSubmissions, 2);
  assert.equal(report.expectedEvents, 7);
  assert.equal(report.records, 7);
  assert.equal(report.presentEvents, 7);
  assert.equal(report.missingEvents, 0);
  assert.equal(report.duplicates, 0);
  assert.equal(report.orderViolations, 0);
  assert.equal(report.splitSubmissions, 0);
  assert.match(formatReport(report), /^verify: OK/);
});

Deno.test("reconcile: catches a missing event and names it", () => {
  const records = completeStream().filter((_, index) => index !== 2); // SUB_1 #2
  const report = reconcile(MANIFEST, records);
  assert.equal(report.ok, false);
  assert.equal(report.missingEvents, 1);
  assert.equal(report.presentEvents, 6);
  assert.deepEqual(report.missing, [{
    submission_id: SUB_1,
    device_id: DEVICE_A,
    sequence: 2,
    event_id: eventId(DEVICE_A, SUB_1, 2),
  }]);
  // A gap is missing, not out of order: 0, 1, 3 is still increasing.
  assert.equal(report.orderViolations, 0);
  assert.match(formatReport(report), /NOT OK[\s\S]*#2 \(event_id/);
});

Deno.test("reconcile: catches a reordered pair", () => {
  const records = completeStream();
  [records[1], records[2]] = [records[2]!, records[1]!]; // SUB_1: 0, 2, 1, 3
  const report = reconcile(MANIFEST, records);
  assert.equal(report.ok, false);
  assert.equal(report.orderViolations, 1);
  assert.equal(report.missingEvents, 0);
  assert.equal(report.orderViolationSamples[0]?.submission_id, SUB_1);
  assert.equal(report.orderViolationSamples[0]?.sequence, 1);
  assert.equal(report.orderViolationSamples[0]?.after, 2);
});

Deno.test("reconcile: counts at-least-once copies without failing", () => {
  const records = [
    ...completeStream(),
    // A redelivered submission republished whole, after the first copy.
    ...submissionRecords(DEVICE_A, SUB_1, 4),
    // A retried record: its copy comes after later events, which is fine for a copy.
    streamRecord(event(DEVICE_B, SUB_2, 0, 3), "shardId-000000000001"),
  ];
  const report = reconcile(MANIFEST, records);
  assert.equal(report.ok, true, report.problems.join("; "));
  assert.equal(report.duplicates, 5);
  assert.equal(report.presentEvents, 7);
  assert.equal(report.orderViolations, 0);
});

Deno.test("reconcile: a copy does not hide a reorder of the first copies", () => {
  // SUB_2: 0, 2, 0 (copy), 1: the first copies are 0, 2, 1.
  const s = (sequence: number) => streamRecord(event(DEVICE_B, SUB_2, sequence, 3));
  const report = reconcile(MANIFEST, [
    ...submissionRecords(DEVICE_A, SUB_1, 4),
    s(0),
    s(2),
    s(0),
    s(1),
  ]);
  assert.equal(report.orderViolations, 1);
  assert.equal(report.duplicates, 1);
});

Deno.test("reconcile: catches events of invalid submissions", () => {
  const report = reconcile(MANIFEST, [
    ...completeStream(),
    streamRecord(event(DEVICE_A, SUB_BAD, 0, 6)),
    // The faithful `not-an-uuid` submission id, published by a service that failed to reject it.
    streamRecord(event(DEVICE_B, "not-an-uuid", 0, 7)),
  ]);
  assert.equal(report.ok, false);
  assert.equal(report.invalidSubmissionRecords, 2);
  assert.match(report.problems.join(" "), /2 records come from invalid submissions/);
});

Deno.test("reconcile: catches malformed records", () => {
  const wrongId = { ...event(DEVICE_A, SUB_1, 1, 4), event_id: eventId(DEVICE_A, SUB_1, 2) };
  const noType = { ...event(DEVICE_A, SUB_1, 1, 4), event_type: "file_write" };
  const report = reconcile(MANIFEST, [
    ...completeStream(),
    streamRecord("not json at all"),
    streamRecord(new Uint8Array([0xff, 0xfe, 0x7b])),
    streamRecord(JSON.stringify(noType)),
    streamRecord(wrongId),
  ]);
  assert.equal(report.ok, false);
  assert.equal(report.malformedRecords, 4);
  const reasons = report.malformedSamples.map((sample) => sample.reason);
  assert.equal(reasons[0], "data is not JSON");
  assert.equal(reasons[1], "data is not UTF-8");
  assert.match(reasons[2]!, /^not an event record: event_type/);
  assert.match(reasons[3]!, /^event_id .* is not eventId\(device_id, submission_id, sequence\)/);
  // Malformed records are not counted as present or as copies.
  assert.equal(report.duplicates, 0);
  assert.equal(report.presentEvents, 7);
});

Deno.test("reconcile: catches records of no manifest submission, unless allowed", () => {
  const stranger = streamRecord(event(DEVICE_B, "44444444-4444-4444-8444-444444444444", 0, 1));
  const strict = reconcile(MANIFEST, [...completeStream(), stranger]);
  assert.equal(strict.ok, false);
  assert.equal(strict.unknownRecords, 1);
  const lenient = reconcile(MANIFEST, [...completeStream(), stranger], { allowUnknown: true });
  assert.equal(lenient.ok, true);
  assert.equal(lenient.unknownRecords, 1);
});

Deno.test("reconcile: catches a wrong event_count and a sequence beyond the events", () => {
  const records = completeStream();
  records[0] = streamRecord(event(DEVICE_A, SUB_1, 0, 5));
  records.push(streamRecord(event(DEVICE_B, SUB_2, 3, 4), "shardId-000000000001"));
  const report = reconcile(MANIFEST, records);
  assert.equal(report.ok, false);
  assert.equal(report.eventCountMismatches, 2);
  assert.equal(report.unexpectedSequences, 1);
  assert.equal(report.missingEvents, 0);
});

Deno.test("reconcile: messages left in the queue are not ok", () => {
  const report = reconcile(MANIFEST, completeStream(), { queueDepth: { visible: 2, inFlight: 1 } });
  assert.equal(report.ok, false);
  assert.deepEqual(report.queueDepth, { visible: 2, inFlight: 1 });
  assert.match(formatReport(report), /2 visible \+ 1 in flight/);
});

Deno.test("reconcile: lists are capped, counts are not", () => {
  const manifest: ManifestEntry[] = Array.from({ length: 30 }, (_, i) => ({
    submission_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    device_id: DEVICE_A,
    valid: true,
    events: 5,
    kind: "ok",
  }));
  const report = reconcile(manifest, [], { maxListed: 7 });
  assert.equal(report.missingEvents, 150);
  assert.equal(report.missing.length, 7);
  assert.match(formatReport(report), /\.\.\. and 143 more/);
});

Deno.test("parseManifest: reads JSON lines, names a bad line", () => {
  const text = MANIFEST.map((entry) => JSON.stringify(entry)).join("\n") + "\n\n";
  assert.deepEqual(parseManifest(text), MANIFEST);
  assert.throws(() => parseManifest(`${text}{"submission_id": 1}\n`), /line 6/);
  assert.throws(() => parseManifest("{oops\n"), /line 1 is not JSON/);
});

// ---------------------------------------------------------------------------------------------
// Against a real local Kinesis

async function withStack(
  fn: (clients: ToolClients, streamName: string, queueUrl: string) => Promise<void>,
) {
  const stack = await startLocalStack({ invalidQueue: false });
  const clients = createToolClients(readToolEnv((name) => stack.env()[name]));
  try {
    await fn(clients, stack.streamName, stack.queueUrl);
  } finally {
    clients.destroy();
    await stack.stop();
  }
}

/** Puts records one PutRecords per submission (order within a submission kept), all checked. */
async function putSubmissions(
  kinesis: KinesisClient,
  streamName: string,
  submissions: readonly { device: string; submission: string; events: number }[],
) {
  for (const { device, submission, events } of submissions) {
    const out = await kinesis.send(
      new PutRecordsCommand({
        StreamName: streamName,
        Records: Array.from({ length: events }, (_, sequence) => ({
          PartitionKey: device,
          Data: encoder.encode(JSON.stringify(event(device, submission, sequence, events))),
        })),
      }),
    );
    assert.equal(out.FailedRecordCount, 0);
  }
}

Deno.test("readStream: reads every shard to the end, each in order; reconcile then agrees", async () => {
  await withStack(async ({ kinesis }, streamName) => {
    assert.deepEqual(await readStream(kinesis, streamName), []);
    const devices = Array.from(
      { length: 12 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
    );
    const submissions = Array.from({ length: 300 }, (_, i) => ({
      device: devices[i % devices.length]!,
      submission: `11111111-0000-4000-8000-${String(i).padStart(12, "0")}`,
      events: 3 + (i % 8),
    }));
    await putSubmissions(kinesis, streamName, submissions);
    const total = submissions.reduce((sum, s) => sum + s.events, 0);

    const records = await readStream(kinesis, streamName);
    assert.equal(records.length, total);
    const shards = new Set(records.map((record) => record.shardId));
    assert.equal(shards.size, 2, "12 devices spread over both shards");
    for (const shard of shards) {
      const numbers = records.filter((r) => r.shardId === shard).map((r) =>
        BigInt(r.sequenceNumber)
      );
      for (let i = 1; i < numbers.length; i++) assert.ok(numbers[i - 1]! < numbers[i]!);
    }
    const manifest = submissions.map((s): ManifestEntry => ({
      submission_id: s.submission,
      device_id: s.device,
      valid: true,
      events: s.events,
      kind: "ok",
    }));
    const report = reconcile(manifest, records);
    assert.equal(report.ok, true, formatReport(report));
    assert.equal(report.presentEvents, total);
    assert.equal(report.splitSubmissions, 0);

    // Without the last submission's records, reconcile sees the loss.
    const lost = submissions.at(-1)!;
    const partial = records.filter((r) =>
      !new TextDecoder().decode(r.data).includes(lost.submission)
    );
    assert.equal(reconcile(manifest, partial).missingEvents, lost.events);
  });
});

Deno.test("followStream: from LATEST sees only new records of every shard, stops on abort", async () => {
  await withStack(async ({ kinesis }, streamName) => {
    await putSubmissions(kinesis, streamName, [{ device: DEVICE_A, submission: SUB_1, events: 4 }]);
    // Know when both shard iterators exist: only then is "new" well defined.
    let iterators = 0;
    kinesis.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if ((context as { commandName?: string }).commandName === "GetShardIteratorCommand") {
          iterators++;
        }
        return result;
      },
      { step: "initialize", name: "countIterators" },
    );
    const controller = new AbortController();
    const seen: ShardRecord[] = [];
    const following = followStream(kinesis, {
      streamName,
      signal: controller.signal,
      idleMs: 20,
      onRecords: (records) => void seen.push(...records),
    });
    const deadline = Date.now() + 10_000;
    const until = async (condition: () => boolean) => {
      while (!condition() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    };
    await until(() => iterators >= 2);
    await new Promise((r) => setTimeout(r, 20));
    const devices = [DEVICE_A, DEVICE_B, "5a5a5a5a-5a5a-4a5a-8a5a-5a5a5a5a5a5a"];
    await putSubmissions(
      kinesis,
      streamName,
      devices.map((device, i) => ({
        device,
        submission: SUB_2.replace("2222", `${i}22`),
        events: 3,
      })),
    );
    await until(() => seen.length >= 9);
    controller.abort();
    await following;
    assert.equal(seen.length, 9);
    assert.ok(seen.every((record) => !new TextDecoder().decode(record.data).includes(SUB_1)));
    assert.equal(new Set(seen.map((record) => record.shardId)).size, 2);
  });
});

Deno.test("readShard: renews an expired iterator after the last record read, backs off when throttled", async () => {
  // A scripted Kinesis: expiry and throttling cannot be provoked on the emulator in test time.
  const iteratorRequests: GetShardIteratorCommandInput[] = [];
  const pages: (Partial<GetRecordsCommandOutput> | Error)[] = [
    { Records: [kinesisRecord("1"), kinesisRecord("2")], NextShardIterator: "i2" },
    Object.assign(new Error("expired"), { name: "ExpiredIteratorException" }),
    Object.assign(new Error("slow down"), { name: "ProvisionedThroughputExceededException" }),
    { Records: [kinesisRecord("3")], NextShardIterator: "i4", MillisBehindLatest: 0 },
    { Records: [], NextShardIterator: "i5", MillisBehindLatest: 0 },
  ];
  const fake = {
    send(command: unknown) {
      if (command instanceof GetShardIteratorCommand) {
        iteratorRequests.push(command.input);
        return Promise.resolve({ ShardIterator: `iterator-${iteratorRequests.length}` });
      }
      assert.ok(command instanceof GetRecordsCommand);
      const page = pages.shift();
      assert.ok(page !== undefined, "read past the end of the script");
      return page instanceof Error ? Promise.reject(page) : Promise.resolve(page);
    },
  } as unknown as KinesisClient;
  const read: string[] = [];
  const end = await readShard(fake, {
    streamName: "events",
    shardId: "shardId-000000000000",
    from: "TRIM_HORIZON",
    untilCaughtUp: true,
    onRecords: (records) => void read.push(...records.map((r) => r.sequenceNumber)),
  });
  assert.equal(end, "caught_up");
  assert.deepEqual(read, ["1", "2", "3"]);
  assert.equal(pages.length, 0);
  assert.deepEqual(iteratorRequests.map((input) => input.ShardIteratorType), [
    "TRIM_HORIZON",
    "AFTER_SEQUENCE_NUMBER",
  ]);
  assert.equal(iteratorRequests[1]?.StartingSequenceNumber, "2");

  // A closed shard (no next iterator) ends the read.
  pages.push({ Records: [kinesisRecord("9")], NextShardIterator: undefined });
  assert.equal(
    await readShard(fake, { streamName: "events", shardId: "s", onRecords: () => {} }),
    "closed",
  );
});

function kinesisRecord(sequenceNumber: string) {
  return { SequenceNumber: sequenceNumber, PartitionKey: DEVICE_A, Data: encoder.encode("{}") };
}

Deno.test("getQueueDepth: counts visible messages", async () => {
  await withStack(async ({ sqs }, _streamName, queueUrl) => {
    assert.deepEqual(await getQueueDepth(sqs, queueUrl), { visible: 0, inFlight: 0 });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "x" }));
    assert.deepEqual(await getQueueDepth(sqs, queueUrl), { visible: 1, inFlight: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// Formatting and environment

Deno.test("formatRecord: one readable line per record, malformed ones included", () => {
  const base = {
    shardId: "shardId-000000000001",
    sequenceNumber: "1",
    partitionKey: DEVICE_A,
    arrivalTime: new Date("2021-03-28T13:44:19.123Z"),
  };
  const process = formatRecord({
    ...base,
    data: encoder.encode(JSON.stringify(event(DEVICE_A, SUB_1, 0, 4))),
  });
  assert.equal(
    process,
    "13:44:19.123 shard-1 dev=6f1c1a2e sub=11111111 0/4 new_process alice: cmd.exe /c dir",
  );
  const connection = formatRecord({
    ...base,
    data: encoder.encode(JSON.stringify(event(DEVICE_A, SUB_1, 1, 4))),
  });
  assert.match(connection, /1\/4 network_connection 10\.0\.0\.1 -> 8\.8\.8\.8:53$/);
  const hostile = formatRecord({
    ...base,
    data: encoder.encode(JSON.stringify({
      ...event(DEVICE_A, SUB_1, 0, 4),
      data: { cmdl: `evil\n\u001b[2J${"x".repeat(500)}`, user: "eve" },
    })),
  });
  assert.ok(!hostile.includes("\n") && !hostile.includes("\u001b") && hostile.length < 250);
  assert.match(formatRecord({ ...base, data: new Uint8Array([1, 2, 3]) }), /MALFORMED 3 bytes/);

  const json = JSON.parse(formatRecordJson({ ...base, data: new Uint8Array([0xff]) }));
  assert.deepEqual(json, {
    shard_id: base.shardId,
    sequence_number: "1",
    partition_key: DEVICE_A,
    arrival_time: "2021-03-28T13:44:19.123Z",
    data_base64: "/w==",
  });
  const parsed = JSON.parse(formatRecordJson({ ...base, data: encoder.encode('{"a":1}') }));
  assert.deepEqual(parsed.data, { a: 1 });
});

Deno.test("readToolEnv: LocalStack defaults, overrides, and the real AWS endpoints", async () => {
  const env = (vars: Record<string, string>) => readToolEnv((name) => vars[name]);
  assert.deepEqual(env({}), {
    region: "eu-west-1",
    sqsEndpoint: DEFAULT_ENDPOINT,
    kinesisEndpoint: DEFAULT_ENDPOINT,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    queueUrl: undefined,
    queueName: "submissions",
    streamName: "events",
  });
  const custom = env({
    AWS_REGION: "us-east-2",
    AWS_ENDPOINT_URL: "http://shared:1",
    AWS_ENDPOINT_URL_KINESIS: "http://kinesis:2",
    AWS_ACCESS_KEY_ID: "AKIA",
    AWS_SECRET_ACCESS_KEY: "secret",
    SQS_QUEUE_NAME: "q",
    KINESIS_STREAM_NAME: "s",
  });
  assert.equal(custom.region, "us-east-2");
  assert.equal(custom.sqsEndpoint, "http://shared:1");
  assert.equal(custom.kinesisEndpoint, "http://kinesis:2");
  assert.deepEqual(custom.credentials, { accessKeyId: "AKIA", secretAccessKey: "secret" });
  assert.equal(custom.queueName, "q");
  // An endpoint that is not loopback (a VPC endpoint, another host) never means dummy keys.
  assert.equal(env({ AWS_ENDPOINT_URL: "http://localstack:4566" }).credentials, undefined);
  assert.equal(env({ AWS_PROFILE: "dev" }).credentials, undefined, "a profile is configured");
  assert.equal(custom.streamName, "s");
  // An empty endpoint means real AWS, where the SDK's own credential chain must be used.
  const aws = env({ AWS_ENDPOINT_URL: "" });
  assert.equal(aws.sqsEndpoint, undefined);
  assert.equal(aws.kinesisEndpoint, undefined);
  assert.equal(aws.credentials, undefined);

  // A given queue URL is used as is; otherwise GetQueueUrl resolves the name.
  await withStack(async ({ sqs }, _streamName, queueUrl) => {
    assert.equal(
      await resolveQueueUrl(sqs, env({ SQS_QUEUE_URL: "http://x/1/q" })),
      "http://x/1/q",
    );
    const resolved = await resolveQueueUrl(sqs, env({}));
    assert.equal(new URL(resolved).pathname, new URL(queueUrl).pathname);
    assert.deepEqual(await getQueueDepth(sqs, resolved), { visible: 0, inFlight: 0 });
  });
});
