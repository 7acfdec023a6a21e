/**
 * End to end with the largest submissions (issue 20): against the local stack, a submission of
 * 10 000 events (raw JSON, under the 256 KiB SQS body) is rejected as `too_many_events` and
 * copied to the invalid queue with that reason; a valid one of 4 000 events (under the default
 * cap of 5 000) is published exactly once, in order, although it takes several times the base
 * `PUBLISH_TIMEOUT_SECONDS` (1 s here): its deadline grows by `PUBLISH_TIMEOUT_MS_PER_EVENT`
 * per event. With a fixed deadline the same message was released and published again from
 * event 0, again and again.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { FleetMessage } from "../../tools/submissions/fleet/mod.ts";
import { readStream } from "../../tools/submissions/read_stream.ts";
import { preload, printSummary, receiveAll } from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";
import { networkConnection, newProcess, validSubmission } from "./hostile_corpus.ts";

const VALID_EVENTS = 4_000;
const TOO_MANY = 10_000;

function message(body: string, name: string, events: number, valid: boolean): FleetMessage {
  return {
    body,
    manifestEntry: { submission_id: name, device_id: name, valid, events, kind: name },
  };
}

Deno.test("10 000 events: rejected as too_many_events to the invalid queue; 4 000: published once", async () => {
  await using run = await startScenario({
    mode: "in-process",
    env: (e2e) => ({
      SQS_INVALID_QUEUE_URL: e2e.stack.invalidQueueUrl!,
      // A base deadline far shorter than the 4 000 round trips take (even with no linger).
      PUBLISH_TIMEOUT_SECONDS: "1",
      PUBLISH_LINGER_MS: "0",
    }),
  });
  const { e2e } = run;
  const invalidQueueUrl = e2e.stack.invalidQueueUrl;
  assert.ok(invalidQueueUrl !== undefined);
  const tooMany = JSON.stringify(validSubmission({
    submission_id: crypto.randomUUID(),
    events: { new_process: Array.from({ length: TOO_MANY }, () => ({ cmdl: "", user: "" })) },
  }));
  assert.ok(new TextEncoder().encode(tooMany).byteLength <= 256 * 1024);
  const submissionId = crypto.randomUUID();
  const large = JSON.stringify(validSubmission({
    submission_id: submissionId,
    events: {
      new_process: Array.from(
        { length: VALID_EVENTS / 2 },
        (_, i) => newProcess({ user: `u${i}` }),
      ),
      network_connection: Array.from(
        { length: VALID_EVENTS / 2 },
        (_, i) => networkConnection({ destination_port: i }),
      ),
    },
  }));
  await preload(e2e, [
    message(tooMany, "too many", TOO_MANY, false),
    message(large, "large", VALID_EVENTS, true),
  ]);
  const { metrics } = await run.drain({ timeoutMs: 300_000 });
  const dead = await receiveAll(e2e.sqs, invalidQueueUrl, { expected: 1 });
  assert.equal(dead.length, 1);
  assert.equal(dead[0]!.MessageAttributes?.reason?.StringValue, "too_many_events");
  assert.equal(dead[0]!.Body, tooMany);
  assert.equal(
    metrics.value("edr_submissions_messages_invalid_total", { reason: "too_many_events" }),
    1,
  );
  // Exactly once: received once, never released, each event once and in order.
  assert.equal(metrics.value("edr_submissions_messages_received_total"), 2);
  assert.equal(
    metrics.value("edr_submissions_messages_released_total", { cause: "publish_timeout" }),
    0,
  );
  assert.equal(
    metrics.value("edr_submissions_messages_deleted_total", { outcome: "published" }),
    1,
  );
  const records = (await readStream(e2e.kinesis, e2e.stack.streamName))
    .map((r) => JSON.parse(new TextDecoder().decode(r.data)));
  assert.equal(records.length, VALID_EVENTS);
  assert.ok(records.every((r) => r.submission_id === submissionId));
  assert.deepEqual(records.map((r) => r.sequence), records.map((_, i) => i));
  printSummary("large submissions", {
    rejected_events: TOO_MANY,
    published_events: records.length,
    released: 0,
    seconds: run.seconds(),
  });
});
