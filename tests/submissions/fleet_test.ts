/**
 * The fleet simulator: faithful shape, fault rates, the adversarial kinds, the manifest, and
 * sending through a real local SQS.
 *
 * The generator's manifest is checked against an oracle written here from the contract
 * (original-environment.md), not against the service's codec, except in one test that asserts
 * the two agree.
 */
import assert from "node:assert/strict";
import {
  ReceiveMessageCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequest,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import {
  ADVERSARIAL_KINDS,
  createFleet,
  createManifestWriter,
  type FleetMessage,
  generateMessages,
  type ManifestEntry,
  MESSAGE_KINDS,
  naiveLocalTime,
  nextRound,
  nextSubmission,
  parseManifest,
  runFleet,
  sendMessages,
} from "../../tools/submissions/fleet/mod.ts";
import { startLocalStack } from "../../tools/submissions/local_stack.ts";
import {
  createToolClients,
  readToolEnv,
  type ToolClients,
} from "../../tools/submissions/tool_env.ts";
import { decodeMessage } from "../../src/submissions/codec.ts";
import { eventId } from "../../src/submissions/event_record.ts";

const PADDED_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NAIVE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const FIXED_CLOCK = () => new Date(2021, 2, 28, 15, 44, 18, 592);

type Obj = Record<string, unknown>;

/** The submission a body carries, decoded the way the contract says (padded base64 or raw JSON). */
function decodeBody(body: string): unknown {
  if (body.startsWith("{")) return JSON.parse(body);
  // Uint8Array.fromBase64 forgives whitespace and missing padding; the contract does not.
  if (!PADDED_BASE64.test(body)) throw new SyntaxError("not padded standard base64");
  return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(body)));
}

function isObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * An oracle from the contract: the known events a submission must publish, or `undefined` when
 * the service must reject it. Independent of src/: written from original-environment.md.
 */
function contractEvents(value: unknown): number | undefined {
  if (!isObject(value)) return undefined;
  const guid = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
  if (typeof value.submission_id !== "string" || !guid.test(value.submission_id)) return undefined;
  if (typeof value.device_id !== "string" || !guid.test(value.device_id)) return undefined;
  if (typeof value.time_created !== "string" || !NAIVE_TIME.test(value.time_created)) {
    return undefined;
  }
  const events = value.events;
  if (!isObject(events)) return undefined;
  let count = 0;
  for (const [type, list] of Object.entries(events)) {
    if (type !== "new_process" && type !== "network_connection") continue;
    if (!Array.isArray(list)) return undefined;
    for (const event of list) {
      if (!isObject(event)) return undefined;
      if (type === "new_process") {
        if (typeof event.cmdl !== "string" || typeof event.user !== "string") return undefined;
      } else {
        const port = event.destination_port;
        if (typeof event.source_ip !== "string" || !IPV4.test(event.source_ip)) return undefined;
        if (typeof event.destination_ip !== "string" || !IPV4.test(event.destination_ip)) {
          return undefined;
        }
        if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
          return undefined;
        }
      }
      count++;
    }
  }
  return count;
}

/** The submission inside a message body, or `undefined` when the body is not a JSON object. */
function submissionOf(message: FleetMessage): Obj | undefined {
  try {
    const value = decodeBody(message.body);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function eventsOf(submission: Obj): { processes: Obj[]; connections: Obj[] } {
  const events = isObject(submission.events) ? submission.events : {};
  const list = (value: unknown) => Array.isArray(value) ? value.filter(isObject) : [];
  return { processes: list(events.new_process), connections: list(events.network_connection) };
}

/** Asserts `observed` is within `sigmas` standard deviations of a binomial(n, p) mean. */
function assertBinomial(observed: number, n: number, p: number, what: string, sigmas = 5) {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(
    Math.abs(observed - mean) <= sigmas * sd,
    `${what}: ${observed} is not within ${sigmas} sd (${sd.toFixed(1)}) of ${mean.toFixed(1)}`,
  );
}

Deno.test("createFleet: device ids are fixed for the life of the fleet and come from the seed", () => {
  const fleet = createFleet({ seed: 42 });
  assert.equal(fleet.devices.length, 10);
  const ids = fleet.devices.map((device) => device.deviceId);
  assert.equal(new Set(ids).size, 10);
  for (const id of ids) assert.match(id, UUID);
  for (let round = 0; round < 5; round++) {
    const sent = nextRound(fleet).map((message) => message.manifestEntry.device_id);
    // A faithful fault may replace an id in one submission; the device keeps its own.
    for (const [i, id] of sent.entries()) assert.ok(id === ids[i] || id === "not-an-uuid");
  }
  assert.deepEqual(fleet.devices.map((device) => device.deviceId), ids);
  assert.deepEqual(createFleet({ seed: 42 }).devices, fleet.devices);
  assert.notDeepEqual(createFleet({ seed: 43 }).devices, fleet.devices);
  assert.equal(createFleet({ fleetSize: 3 }).devices.length, 3);
  assert.throws(() => createFleet({ fleetSize: 0 }), RangeError);
  assert.throws(() => createFleet({ invalidRatio: 0.7, adversarialRatio: 0.5 }), RangeError);
});

Deno.test("generateMessage: the same seed and clock yield the same messages", () => {
  const a = createFleet({ seed: 7, clock: FIXED_CLOCK, adversarialRatio: 0.3, rawJsonRatio: 0.3 });
  const b = createFleet({ seed: 7, clock: FIXED_CLOCK, adversarialRatio: 0.3, rawJsonRatio: 0.3 });
  assert.deepEqual([...generateMessages(a, 200)], [...generateMessages(b, 200)]);
});

Deno.test("generateMessage: faithful shape of every submission", () => {
  const fleet = createFleet({ seed: 1, clock: FIXED_CLOCK, faultProbability: 0 });
  const submissionIds = new Set<string>();
  for (let round = 0; round < 20; round++) {
    const messages = nextRound(fleet);
    assert.equal(messages.length, 10);
    for (const [i, message] of messages.entries()) {
      const { body, manifestEntry } = message;
      // Standard base64 with padding, of the UTF-8 JSON.
      assert.match(body, PADDED_BASE64);
      assert.equal(body.length % 4, 0);
      const json = new TextDecoder().decode(Uint8Array.fromBase64(body));
      assert.equal(new TextEncoder().encode(json).toBase64(), body);
      const submission = JSON.parse(json) as Obj;
      assert.deepEqual(Object.keys(submission), [
        "submission_id",
        "device_id",
        "time_created",
        "events",
      ]);
      assert.match(submission.submission_id as string, UUID);
      assert.equal(submission.device_id, fleet.devices[i]!.deviceId);
      assert.ok(!submissionIds.has(submission.submission_id as string));
      submissionIds.add(submission.submission_id as string);
      // Naive local time with microseconds, from the device's clock.
      assert.match(submission.time_created as string, NAIVE_TIME);
      assert.ok((submission.time_created as string).startsWith("2021-03-28T15:44:18.592"));
      // new_process first, 3-5 of each.
      assert.deepEqual(Object.keys(submission.events as Obj), [
        "new_process",
        "network_connection",
      ]);
      const { processes, connections } = eventsOf(submission);
      assert.ok(processes.length >= 3 && processes.length <= 5, `${processes.length} processes`);
      assert.ok(connections.length >= 3 && connections.length <= 5);
      for (const process of processes) {
        assert.deepEqual(Object.keys(process), ["cmdl", "user"]);
        assert.equal(typeof process.cmdl, "string");
        assert.equal(typeof process.user, "string");
      }
      for (const connection of connections) {
        assert.match(connection.source_ip as string, IPV4);
        assert.match(connection.destination_ip as string, IPV4);
        assert.ok(Number.isInteger(connection.destination_port));
      }
      assert.deepEqual(manifestEntry, {
        submission_id: submission.submission_id,
        device_id: submission.device_id,
        valid: true,
        events: processes.length + connections.length,
        kind: "ok",
      });
    }
  }
});

Deno.test("naiveLocalTime: local wall clock, no zone, six fraction digits", () => {
  const date = new Date(2021, 2, 28, 15, 44, 18, 592);
  assert.equal(naiveLocalTime(date, 840), "2021-03-28T15:44:18.592840");
  assert.equal(naiveLocalTime(new Date(2021, 0, 2, 3, 4, 5, 0), 7), "2021-01-02T03:04:05.000007");
});

Deno.test("generateMessage: the four faults, counts and ports at the original rates over 20 000 submissions", () => {
  const fleet = createFleet({ seed: 2021, clock: FIXED_CLOCK });
  const n = 20_000;
  let badSubmissionIds = 0;
  let badDeviceIds = 0;
  let processEvents = 0;
  let nullCmdls = 0;
  let connectionEvents = 0;
  let badIps = 0;
  let valid = 0;
  let portsBelowQuarter = 0;
  let portSum = 0;
  const eventCounts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const message = nextSubmission(fleet);
    const submission = submissionOf(message);
    assert.ok(submission !== undefined, "faithful bodies always carry a JSON object");
    const { processes, connections } = eventsOf(submission);
    if (submission.submission_id === "not-an-uuid") badSubmissionIds++;
    if (submission.device_id === "not-an-uuid") badDeviceIds++;
    processEvents += processes.length;
    connectionEvents += connections.length;
    for (const list of [processes, connections]) {
      eventCounts.set(list.length, (eventCounts.get(list.length) ?? 0) + 1);
    }
    nullCmdls += processes.filter((process) => process.cmdl === null).length;
    badIps += connections.filter((connection) => connection.destination_ip === "not-an-ip").length;
    for (const { destination_port: port } of connections) {
      assert.ok(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535);
      portSum += port as number;
      if ((port as number) < 16384) portsBelowQuarter++;
    }
    // The manifest says valid exactly when the body carries none of the faults.
    const expected = contractEvents(submission);
    assert.equal(message.manifestEntry.valid, expected !== undefined, message.manifestEntry.kind);
    assert.equal(message.manifestEntry.events, processes.length + connections.length);
    if (message.manifestEntry.valid) valid++;
  }
  assertBinomial(badSubmissionIds, n, 0.01, "submission_id faults");
  assertBinomial(badDeviceIds, n, 0.01, "device_id faults");
  assertBinomial(nullCmdls, processEvents, 0.01, "cmdl faults");
  assertBinomial(badIps, connectionEvents, 0.01, "destination_ip faults");
  // About one submission in ten carries a fault: 1 - 0.99^2 * E[0.99^N]^2, N uniform in 3..5.
  const clean = (0.99 ** 3 + 0.99 ** 4 + 0.99 ** 5) / 3;
  assertBinomial(valid, n, 0.99 ** 2 * clean ** 2, "valid submissions");
  for (const count of [3, 4, 5]) {
    assertBinomial(eventCounts.get(count) ?? 0, 2 * n, 1 / 3, `${count}`);
  }
  assert.deepEqual([...eventCounts.keys()].sort(), [3, 4, 5]);
  assertBinomial(portsBelowQuarter, connectionEvents, 0.25, "ports below 16384");
  const mean = portSum / connectionEvents;
  assert.ok(Math.abs(mean - 32767.5) < 500, `mean port ${mean}`);
});

/** What each adversarial kind must look like, checked on the body itself. */
const KIND_CHECKS: Record<string, (message: FleetMessage) => boolean> = {
  not_base64: ({ body }) => !PADDED_BASE64.test(body) && !body.trimStart().startsWith("{"),
  base64_not_json: ({ body }) => {
    if (!PADDED_BASE64.test(body)) return false;
    try {
      JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(body)));
      return false;
    } catch (error) {
      return error instanceof SyntaxError;
    }
  },
  invalid_utf8: ({ body }) => {
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(body));
      return false;
    } catch {
      return PADDED_BASE64.test(body);
    }
  },
  json_not_object: ({ body }) => PADDED_BASE64.test(body) && !isObject(decodeBody(body)),
  missing_field: (message) => {
    const submission = submissionOf(message)!;
    const { processes, connections } = eventsOf(submission);
    return ["submission_id", "device_id", "time_created", "events"].some((key) =>
      !(key in submission)
    ) || processes.some((p) => !("cmdl" in p && "user" in p)) ||
      connections.some((c) =>
        !("source_ip" in c && "destination_ip" in c && "destination_port" in c)
      );
  },
  wrong_type: (message) => contractEvents(submissionOf(message)) === undefined,
  port_out_of_range: (message) =>
    eventsOf(submissionOf(message)!).connections.some((c) =>
      (c.destination_port as number) < 0 || (c.destination_port as number) > 65535
    ),
  ipv6: (message) =>
    eventsOf(submissionOf(message)!).connections.some((c) =>
      String(c.source_ip).includes(":") || String(c.destination_ip).includes(":")
    ),
  huge_cmdl: (message) =>
    eventsOf(submissionOf(message)!).processes.some((p) => String(p.cmdl).length >= 100_000),
  // Beyond printable ASCII: non-Latin scripts, emoji, RTL overrides, tabs and newlines.
  unicode_cmdl: (message) =>
    eventsOf(submissionOf(message)!).processes.some((p) =>
      /[^\x20-\x7e]/.test(String(p.cmdl)) && /[^\x20-\x7e]/.test(String(p.user))
    ),
  unknown_fields: (message) =>
    Object.keys(submissionOf(message)!).some((key) =>
      !["submission_id", "device_id", "time_created", "events"].includes(key)
    ),
  unknown_event_type: (message) =>
    Object.keys(submissionOf(message)!.events as Obj).some((key) =>
      key !== "new_process" && key !== "network_connection"
    ),
};

Deno.test("generateMessage: every adversarial kind is what it says, and its validity follows the contract", () => {
  const fleet = createFleet({ seed: 99, clock: FIXED_CLOCK, adversarialRatio: 1 });
  const seen = new Map<string, number>();
  for (let i = 0; i < 3_000; i++) {
    const message = nextSubmission(fleet);
    const { kind, valid, events } = message.manifestEntry;
    seen.set(kind, (seen.get(kind) ?? 0) + 1);
    assert.ok(KIND_CHECKS[kind]?.(message), `${kind} does not look like one`);
    assert.equal(valid, MESSAGE_KINDS[kind as keyof typeof MESSAGE_KINDS], kind);
    // Independent oracle: valid exactly when the contract accepts the decoded body, with the
    // manifest's number of events (unknown event types are not counted).
    const submission = submissionOf(message);
    if (submission !== undefined) {
      assert.equal(contractEvents(submission), valid ? events : undefined);
    } else assert.equal(valid, false);
    // Every body fits one classic SQS message (256 KiB).
    assert.ok(new TextEncoder().encode(message.body).length < 256 * 1024);
  }
  assert.deepEqual([...seen.keys()].sort(), [...ADVERSARIAL_KINDS].sort());
  for (const [kind, count] of seen) assert.ok(count > 150, `${kind}: only ${count}`);
});

Deno.test("generateMessage: raw JSON bodies are SQS-safe text that decodes to the submission", () => {
  const fleet = createFleet({ seed: 5, rawJsonRatio: 1, adversarialRatio: 1 });
  let raw = 0;
  for (let i = 0; i < 2_000; i++) {
    const message = nextSubmission(fleet);
    if (!message.manifestEntry.kind.includes("raw_json")) continue;
    raw++;
    // The characters SQS accepts in a message body (the BMP subset every emulator accepts).
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(message.body, /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD]/);
    assert.ok(isObject(JSON.parse(message.body)));
  }
  assert.ok(raw > 1_000, `${raw} raw JSON bodies`);
});

Deno.test("generateMessage: --invalid-ratio adds that fraction of invalid submissions", () => {
  const n = 10_000;
  const fleet = createFleet({ seed: 3, invalidRatio: 0.3, faultProbability: 0 });
  let invalid = 0;
  for (let i = 0; i < n; i++) if (!nextSubmission(fleet).manifestEntry.valid) invalid++;
  assertBinomial(invalid, n, 0.3, "invalid submissions");
});

Deno.test("manifest validity agrees with the service's codec on every kind of message", () => {
  const fleet = createFleet({
    seed: 11,
    adversarialRatio: 0.5,
    invalidRatio: 0.1,
    rawJsonRatio: 0.3,
  });
  const processedAt = new Date();
  for (let i = 0; i < 4_000; i++) {
    const { body, manifestEntry } = nextSubmission(fleet);
    const decoded = decodeMessage(body, { processedAt });
    assert.equal(
      decoded.ok,
      manifestEntry.valid,
      `${manifestEntry.kind}: ${JSON.stringify(decoded)}`,
    );
    if (!decoded.ok) continue;
    assert.equal(decoded.records.length, manifestEntry.events);
    assert.deepEqual(
      decoded.records.map((record) => record.eventId),
      decoded.records.map((_, sequence) =>
        eventId(manifestEntry.device_id, manifestEntry.submission_id, sequence)
      ),
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Through a real local SQS

interface Harness {
  readonly clients: ToolClients;
  readonly queueUrl: string;
}

async function withQueue(fn: (harness: Harness) => Promise<void>): Promise<void> {
  const stack = await startLocalStack({ invalidQueue: false });
  const clients = createToolClients(readToolEnv((name) => stack.env()[name]));
  try {
    await fn({ clients, queueUrl: stack.queueUrl });
  } finally {
    clients.destroy();
    await stack.stop();
  }
}

/** Receives every message in the queue (without deleting: the long visibility timeout holds them). */
async function receiveAll(sqs: SQSClient, queueUrl: string, expected: number): Promise<string[]> {
  const bodies: string[] = [];
  for (let emptyPolls = 0; bodies.length < expected && emptyPolls < 3;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 300,
        WaitTimeSeconds: 1,
      }),
    );
    emptyPolls = Messages.length === 0 ? emptyPolls + 1 : 0;
    for (const message of Messages) bodies.push(message.Body ?? "");
  }
  // One more short poll: nothing beyond what was expected.
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  for (const message of Messages) bodies.push(message.Body ?? "");
  return bodies;
}

/** Counts the SDK commands a client sends, by name. */
function countCommands(client: SQSClient) {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = String((context as { commandName?: string }).commandName);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: "initialize", name: "countCommands" },
  );
  return counts;
}

Deno.test("runFleet --count: the manifest file matches exactly what the queue received", async () => {
  await withQueue(async ({ clients, queueUrl }) => {
    const options = {
      seed: 77,
      clock: FIXED_CLOCK,
      adversarialRatio: 0.3,
      rawJsonRatio: 0.2,
      invalidRatio: 0.05,
    };
    const count = 400;
    const path = await Deno.makeTempFile({ suffix: ".jsonl" });
    try {
      const writer = createManifestWriter(path);
      const stats = await runFleet({
        ...options,
        sqs: clients.sqs,
        queueUrl,
        count,
        onSent: (message) => writer.write(message.manifestEntry),
      });
      writer.close();
      assert.equal(stats.sent, count);
      assert.equal(stats.seed, 77);

      // The same seed regenerates the same messages: the expected bodies and manifest lines.
      const expected = [...generateMessages(createFleet(options), count)];
      const received = await receiveAll(clients.sqs, queueUrl, count);
      assert.equal(received.length, count);
      assert.deepEqual(received.toSorted(), expected.map((message) => message.body).toSorted());

      const manifest = parseManifest(await Deno.readTextFile(path));
      const key = (entry: ManifestEntry) => JSON.stringify(entry);
      assert.deepEqual(
        manifest.map(key).toSorted(),
        expected.map((message) => key(message.manifestEntry)).toSorted(),
      );
      assert.equal(stats.valid, manifest.filter((entry) => entry.valid).length);
      assert.equal(
        stats.events,
        manifest.filter((entry) => entry.valid).reduce((sum, entry) => sum + entry.events, 0),
      );
      // Each manifest line names the ids its body carries (when it carries them as strings).
      const byBody = new Map(expected.map((message) => [message.body, message.manifestEntry]));
      for (const body of received) {
        const entry = byBody.get(body)!;
        const submission = submissionOf({ body, manifestEntry: entry });
        if (typeof submission?.submission_id === "string") {
          assert.equal(entry.submission_id, submission.submission_id);
        }
        if (typeof submission?.device_id === "string") {
          assert.equal(entry.device_id, submission.device_id);
        }
      }
    } finally {
      await Deno.remove(path);
    }
  });
});

Deno.test("sendMessages: entries SQS reports as Failed are resent until confirmed", async () => {
  await withQueue(async ({ clients, queueUrl }) => {
    // Before the request leaves, drop the last entry of the first five batches and report it as
    // an SQS-side failure: exactly what a partial SendMessageBatch failure looks like.
    let sabotaged = 0;
    clients.sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as SendMessageBatchRequest;
        if ((context as { commandName?: string }).commandName !== "SendMessageBatchCommand") {
          return next(args);
        }
        if (sabotaged >= 5 || (input.Entries?.length ?? 0) < 2) return next(args);
        sabotaged++;
        const dropped = input.Entries!.at(-1)!;
        const result = await next({
          ...args,
          input: { ...input, Entries: input.Entries!.slice(0, -1) },
        });
        const output = result.output as SendMessageBatchCommandOutput;
        output.Failed = [
          ...(output.Failed ?? []),
          { Id: dropped.Id, SenderFault: false, Code: "InternalError", Message: "injected" },
        ];
        return result;
      },
      { step: "initialize", name: "sabotageBatch" },
    );
    const messages = [...generateMessages(createFleet({ seed: 8 }), 95)];
    const confirmed: FleetMessage[] = [];
    const stats = await sendMessages(clients.sqs, queueUrl, messages, {
      concurrency: 3,
      onSent: (message) => confirmed.push(message),
    });
    assert.equal(sabotaged, 5);
    assert.equal(stats.sent, 95);
    assert.equal(stats.resent, 5);
    assert.equal(confirmed.length, 95);
    assert.equal(new Set(confirmed).size, 95);
    const received = await receiveAll(clients.sqs, queueUrl, 95);
    assert.deepEqual(received.toSorted(), messages.map((message) => message.body).toSorted());
  });
});

Deno.test("sendMessages: a sender fault rejects instead of retrying forever", async () => {
  await withQueue(async ({ clients, queueUrl }) => {
    // U+FFFF is never valid in an SQS body: SQS answers with a per-entry sender fault.
    const bad: FleetMessage = {
      body: "\uFFFF",
      manifestEntry: { submission_id: "x", device_id: "y", valid: false, events: 0, kind: "ok" },
    };
    await assert.rejects(
      sendMessages(clients.sqs, queueUrl, [bad], { maxAttempts: 3 }),
      /refused/,
    );
  });
});

Deno.test("runFleet faithful mode: rounds of one SendMessage per device", async () => {
  await withQueue(async ({ clients, queueUrl }) => {
    const commands = countCommands(clients.sqs);
    const lines: string[] = [];
    const stats = await runFleet({
      sqs: clients.sqs,
      queueUrl,
      fleetSize: 4,
      seed: 4,
      faultProbability: 0,
      rounds: 3,
      roundIntervalMs: [20, 40],
      log: (line) => lines.push(line),
    });
    assert.equal(stats.sent, 12);
    assert.equal(commands.get("SendMessageCommand"), 12);
    assert.equal(commands.get("SendMessageBatchCommand"), undefined);
    assert.equal(lines.length, 3);
    const received = await receiveAll(clients.sqs, queueUrl, 12);
    const devices = received.map((body) => (decodeBody(body) as Obj).device_id);
    assert.equal(devices.length, 12);
    assert.deepEqual(
      new Set(devices),
      new Set(createFleet({ fleetSize: 4, seed: 4 }).devices.map((d) => d.deviceId)),
    );
  });
});

Deno.test("runFleet --rate: paced, not faster than asked", async () => {
  await withQueue(async ({ clients, queueUrl }) => {
    const stats = await runFleet({ sqs: clients.sqs, queueUrl, seed: 6, rate: 100, count: 31 });
    assert.equal(stats.sent, 31);
    // The 31st message is due 300 ms after the first.
    assert.ok(stats.elapsedMs >= 290, `${stats.elapsedMs} ms`);
    assert.ok(stats.elapsedMs < 5_000, `${stats.elapsedMs} ms`);
  });
});

Deno.test("runFleet: an abort stops a faithful run during its pause and resolves", async () => {
  await withQueue(async ({ clients, queueUrl }) => {
    const controller = new AbortController();
    const started = performance.now();
    const run = runFleet({
      sqs: clients.sqs,
      queueUrl,
      fleetSize: 3,
      seed: 9,
      signal: controller.signal,
      // The first round is logged just before the 30-45 s pause: abort 50 ms into it.
      log: () => void setTimeout(() => controller.abort(), 50),
    });
    const stats = await run;
    assert.equal(stats.sent, 3);
    assert.ok(performance.now() - started < 10_000, "did not wait out the 30-45 s pause");
  });
});
