/**
 * End to end with hostile input: every body of the hostile corpus, a few hundred adversarial
 * fleet messages and fast-check's random bodies go through SQS to the running service (with an
 * invalid-message queue). Every input must end as a publish (valid) or as a counted rejection
 * with its reason, copied to the invalid queue with that reason; never as an exception out of a
 * worker, never as a publish of anything invalid; and the service stays ready throughout.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { decodeMessage } from "../../src/submissions/codec.ts";
import {
  SUBMISSION_REJECT_REASONS,
  type SubmissionRejectReason,
} from "../../src/submissions/reject_reason.ts";
import type { FleetMessage, ManifestEntry } from "../../tools/submissions/fleet/mod.ts";
import { readStream } from "../../tools/submissions/read_stream.ts";
import { reconcile } from "../../tools/submissions/reconcile.ts";
import {
  assertReconciled,
  createLoad,
  type E2eStack,
  type InProcessService,
  preload,
  printSummary,
  receiveAll,
  waitDrained,
} from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";
import type { MetricsSnapshot } from "../../tools/common/metrics_text.ts";
import {
  base64Body,
  HOSTILE_BODIES,
  isValidSqsBody,
  networkConnection,
  newProcess,
  validSubmission,
} from "./hostile_corpus.ts";

const decoder = new TextDecoder();
const INVALID_METRIC = "edr_submissions_messages_invalid_total";

/** A body sent through the queue as a fleet message (the manifest line is not used). */
function asMessage(body: string, name: string): FleetMessage {
  const manifestEntry: ManifestEntry = {
    submission_id: name,
    device_id: name,
    valid: false,
    events: 0,
    kind: name,
  };
  return { body, manifestEntry };
}

/**
 * fauxqs refuses characters outside the Basic Multilingual Plane (U+10000 and up), which SQS
 * accepts: a raw JSON body carrying some travels with them as JSON `\u` escapes instead, the
 * same JSON value (as the fleet does for its raw JSON bodies).
 */
function fauxqsSafe(body: string): string {
  return body.replace(
    /[\u{10000}-\u{10FFFF}]/gu,
    (char) => char.split("").map((unit) => `\\u${unit.charCodeAt(0).toString(16)}`).join(""),
  );
}

/** A stream record without `time_processed` (the only field that depends on when it ran). */
function comparable(data: Uint8Array): string {
  const { time_processed: _, ...rest } = JSON.parse(decoder.decode(data));
  return JSON.stringify(rest);
}

/** The counts of each distinct value. */
function tally(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

/** What a service must have done with some inputs, by the codec's own verdict on each. */
interface Expectation {
  readonly byReason: Record<string, number>;
  readonly rejected: number;
  readonly published: number;
  readonly records: string[];
}

/**
 * The codec is the oracle here: the unit tests prove its verdicts on the same inputs against
 * independent expectations; these tests prove the service acts on exactly those verdicts.
 */
function expectationOf(bodies: readonly string[]): Expectation {
  const byReason: Record<string, number> = {};
  const records: string[] = [];
  let published = 0;
  for (const body of bodies) {
    const result = decodeMessage(body, { processedAt: new Date() });
    if (!result.ok) {
      byReason[result.reason] = (byReason[result.reason] ?? 0) + 1;
      continue;
    }
    published++;
    for (const record of result.records) records.push(comparable(record.data));
  }
  return { byReason, rejected: bodies.length - published, published, records };
}

/** The change of the counters relevant here between two scrapes. */
function delta(before: MetricsSnapshot, after: MetricsSnapshot) {
  const diff = (name: string, labels: Record<string, string> = {}) =>
    after.value(name, labels) - before.value(name, labels);
  const byReason: Record<string, number> = {};
  for (const reason of SUBMISSION_REJECT_REASONS) {
    const count = diff(INVALID_METRIC, { reason });
    if (count !== 0) byReason[reason] = count;
  }
  return {
    byReason,
    received: diff("edr_submissions_messages_received_total"),
    published: diff("edr_submissions_messages_deleted_total", { outcome: "published" }),
    rejected: diff("edr_submissions_messages_deleted_total", { outcome: "rejected" }),
    deadLettered: diff("edr_submissions_messages_dead_lettered_total"),
    events: diff("edr_submissions_events_published_total"),
    workerErrors: diff("edr_submissions_worker_errors_total"),
    sendErrors: diff("edr_submissions_sqs_errors_total", { operation: "SendMessage" }),
  };
}

/** Sends `bodies`, waits until the service has dealt with all of them, asserts it stayed ready. */
async function sendAndDrain(
  e2e: E2eStack,
  service: InProcessService,
  bodies: readonly string[],
): Promise<ReturnType<typeof delta>> {
  const before = await service.metrics();
  await preload(e2e, bodies.map((body, i) => asMessage(body, `body ${i}`)));
  await waitDrained(e2e, [service]);
  assert.equal(await service.readyz(), 200, "the service must stay ready");
  return delta(before, await service.metrics());
}

/** The reason a fleet message kind must be rejected with; `undefined` when it depends. */
const REASON_OF_KIND: Readonly<Record<string, SubmissionRejectReason | undefined>> = {
  bad_submission_id: "invalid_submission_id",
  bad_device_id: "invalid_device_id",
  null_cmdl: "invalid_new_process",
  bad_destination_ip: "invalid_network_connection",
  not_base64: "not_base64",
  base64_not_json: "invalid_json",
  invalid_utf8: "invalid_utf8",
  json_not_object: "not_an_object",
  port_out_of_range: "invalid_network_connection",
  ipv6: "invalid_network_connection",
  missing_field: undefined,
  wrong_type: undefined,
};

/** The reasons a fleet manifest `kind` (kinds joined by `+`) may be rejected with. */
function reasonsOfKind(kind: string): readonly SubmissionRejectReason[] {
  const reasons = kind.split("+").filter((k) => k in REASON_OF_KIND).map((k) => REASON_OF_KIND[k]);
  // A missing field or a wrong type is reported for whichever field it hit.
  if (reasons.includes(undefined)) {
    return SUBMISSION_REJECT_REASONS.filter((r) => r.startsWith("invalid_"));
  }
  // Several faults: the first field in schema order (the order of SUBMISSION_REJECT_REASONS) is reported.
  const first = SUBMISSION_REJECT_REASONS.find((r) => reasons.includes(r));
  return first === undefined ? [] : [first];
}

Deno.test("hostile corpus and adversarial fleet messages: published or rejected with their reason, never a worker error", async () => {
  await using run = await startScenario({
    mode: "in-process",
    env: (e2e) => ({
      SQS_INVALID_QUEUE_URL: e2e.stack.invalidQueueUrl!,
      // The corpus's 1 500-event submission publishes one event after the other, alone: with
      // the default 10 ms linger for company that never comes, it would take 20 s instead of 2.
      PUBLISH_LINGER_MS: "0",
    }),
  });
  const { e2e, service } = run;
  const invalidQueueUrl = e2e.stack.invalidQueueUrl;
  assert.ok(invalidQueueUrl !== undefined);
  const load = createLoad({ seed: 701, count: 300, invalidRatio: 0.3, adversarialRatio: 0.7 });
  // 1. The corpus: the codec's unit tests pin each body's outcome; here it goes through SQS.
  const bodies = HOSTILE_BODIES.map((entry) => fauxqsSafe(entry.body));
  const escaped = HOSTILE_BODIES.filter((entry) => fauxqsSafe(entry.body) !== entry.body);
  for (const { name, body } of escaped) {
    // Escaping must not change what the body means.
    assert.deepEqual(expectationOf([fauxqsSafe(body)]), expectationOf([body]), name);
  }
  const escapedCount = escaped.length;
  const corpus = await sendAndDrain(e2e, service, bodies);
  const expectedByReason: Record<string, number> = {};
  for (const { expect } of HOSTILE_BODIES) {
    if (expect !== "valid") expectedByReason[expect] = (expectedByReason[expect] ?? 0) + 1;
  }
  const invalid = HOSTILE_BODIES.filter((entry) => entry.expect !== "valid");
  // fauxqs takes an empty body in a SendMessageBatch (SQS would not) but refuses it in the
  // SendMessage of the copy: the service must delete it uncopied rather than let it come
  // back forever.
  const copyable = invalid.filter((entry) => entry.body !== "");
  assert.deepEqual(corpus.byReason, expectedByReason);
  assert.equal(corpus.received, HOSTILE_BODIES.length);
  assert.equal(corpus.published, HOSTILE_BODIES.length - invalid.length);
  assert.equal(corpus.rejected, invalid.length);
  assert.equal(corpus.deadLettered, copyable.length);
  assert.equal(corpus.sendErrors, invalid.length - copyable.length);
  assert.equal(corpus.workerErrors, 0);
  // Each rejected body is in the invalid queue, with its reason.
  const dead = await receiveAll(e2e.sqs, invalidQueueUrl, { expected: copyable.length });
  assert.equal(dead.length, copyable.length);
  assert.deepEqual(
    tally(dead.map((m) => `${m.MessageAttributes?.reason?.StringValue} ${m.Body}`)),
    tally(copyable.map((e) => `${e.expect} ${fauxqsSafe(e.body)}`)),
  );
  // The stream holds exactly the records of the valid bodies: each once, nothing else. (Many
  // corpus bodies share their ids, so the records are compared whole, not by event id.)
  const corpusRecords = await readStream(e2e.kinesis, e2e.stack.streamName);
  assert.deepEqual(
    corpusRecords.map((r) => comparable(r.data)).sort(),
    expectationOf(bodies).records.sort(),
  );
  assert.equal(corpus.events, corpusRecords.length);

  // 2. A few hundred adversarial fleet messages, reconciled with their manifest.
  const fleet = await sendAndDrain(e2e, service, load.messages.map((m) => m.body));
  assert.equal(fleet.received, load.messages.length);
  assert.equal(fleet.published, load.valid);
  assert.equal(fleet.rejected, load.invalid);
  assert.equal(fleet.deadLettered, load.invalid);
  assert.equal(fleet.workerErrors, 0);
  const kinds = new Map(load.messages.map((m) => [m.body, m.manifestEntry.kind]));
  const fleetDead = await receiveAll(e2e.sqs, invalidQueueUrl, { expected: load.invalid });
  assert.equal(fleetDead.length, load.invalid);
  for (const message of fleetDead) {
    const kind = kinds.get(message.Body ?? "");
    assert.ok(kind !== undefined, "only fleet messages may be added to the invalid queue");
    const reason = message.MessageAttributes?.reason?.StringValue as SubmissionRejectReason;
    assert.ok(reasonsOfKind(kind).includes(reason), `${kind} rejected as ${reason}`);
  }
  const allRecords = await readStream(e2e.kinesis, e2e.stack.streamName);
  // The records added after the corpus's are exactly the fleet's.
  const corpusPositions = new Set(corpusRecords.map((r) => `${r.shardId}/${r.sequenceNumber}`));
  const fleetRecords = allRecords.filter((r) =>
    !corpusPositions.has(`${r.shardId}/${r.sequenceNumber}`)
  );
  assert.equal(fleetRecords.length, allRecords.length - corpusRecords.length);
  const report = reconcile(load.manifest, fleetRecords);
  assertReconciled(report);

  printSummary("hostile input", {
    corpus_bodies: HOSTILE_BODIES.length,
    corpus_escaped_for_fauxqs: escapedCount,
    corpus_rejected: corpus.rejected,
    corpus_records: corpusRecords.length,
    fleet_seed: load.seed,
    fleet_messages: load.messages.length,
    fleet_rejected: fleet.rejected,
    fleet_events: report.expectedEvents,
    reasons: Object.keys({ ...corpus.byReason, ...fleet.byReason }).length,
    worker_errors: corpus.workerErrors + fleet.workerErrors,
    seconds: run.seconds(),
  });
});

/** Replaces every character SQS (or fauxqs: see {@linkcode fauxqsSafe}) refuses by `¿`. */
function sqsSafe(text: string): string {
  let out = "";
  for (const char of text) {
    out += isValidSqsBody(char) && char.codePointAt(0)! <= 0xffff ? char : "\u00bf";
  }
  return out;
}

/** A valid submission with fresh ids; half the time one top-level field replaced or removed. */
const mutatedSubmission = fc.record({
  submission_id: fc.uuid(),
  device_id: fc.uuid(),
  processes: fc.nat({ max: 3 }),
  connections: fc.nat({ max: 3 }),
  mutation: fc.option(
    fc.record({
      field: fc.constantFrom("submission_id", "device_id", "time_created", "events"),
      drop: fc.boolean(),
      replacement: fc.jsonValue({ maxDepth: 2 }),
    }),
    { freq: 2, nil: undefined },
  ),
  base64: fc.boolean(),
}).map((g) => {
  const submission = validSubmission({
    submission_id: g.submission_id,
    device_id: g.device_id,
    events: {
      new_process: Array.from({ length: g.processes }, () => newProcess()),
      network_connection: Array.from({ length: g.connections }, () => networkConnection()),
    },
  });
  const { mutation } = g;
  if (mutation) submission[mutation.field] = mutation.drop ? undefined : mutation.replacement;
  const json = JSON.stringify(submission);
  return g.base64 ? base64Body(json) : sqsSafe(json);
});

/** Random text, base64 of random JSON, and mutated valid submissions. */
const randomBody = fc.oneof(
  fc.string({ unit: "binary", minLength: 1, maxLength: 200 }).map(sqsSafe),
  fc.json({ maxDepth: 3 }).map((json) => base64Body(json)),
  fc.json({ maxDepth: 3 }).map(sqsSafe),
  { arbitrary: mutatedSubmission, weight: 3 },
);

Deno.test("fuzz through SQS: random bodies are published or rejected exactly as the codec decides", async () => {
  await using run = await startScenario({ mode: "in-process" });
  const { e2e, service } = run;
  let bodies = 0;
  let rejected = 0;
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(randomBody, { minLength: 1, maxLength: 12 }),
      async (batch) => {
        runs++;
        const expected = expectationOf(batch);
        const seen = await sendAndDrain(e2e, service, batch);
        assert.equal(seen.workerErrors, 0);
        assert.equal(seen.received, batch.length);
        assert.deepEqual(seen.byReason, expected.byReason);
        assert.equal(seen.published, expected.published);
        assert.equal(seen.rejected, expected.rejected);
        // Nothing of a rejected body was published: exactly the valid bodies' events.
        assert.equal(seen.events, expected.records.length);
        bodies += batch.length;
        rejected += seen.rejected;
      },
    ),
    { numRuns: 25, seed: 7_001, endOnFailure: true },
  );
  printSummary("hostile fuzz through SQS", {
    seed: 7_001,
    runs,
    bodies,
    rejected,
    published: bodies - rejected,
    seconds: run.seconds(),
  });
});
