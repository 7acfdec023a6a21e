/**
 * End to end through a graceful shutdown: SIGTERM reaches the service subprocess while Kinesis
 * is slow and hundreds of submissions are half published. It must exit 0 within
 * `SHUTDOWN_TIMEOUT_SECONDS`, must not have deleted any message whose events are not all in
 * the stream, must release the rest (visible again at once, not after their timeout), and a
 * restarted service must finish them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Message } from "@aws-sdk/client-sqs";
import { getQueueDepth } from "../../tools/submissions/queue_depth.ts";
import { readStream } from "../../tools/submissions/read_stream.ts";
import { reconcile } from "../../tools/submissions/reconcile.ts";
import {
  assertReconciled,
  pollUntil,
  printSummary,
  receiveAll,
  releaseMessages,
} from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";

const SHUTDOWN_TIMEOUT_SECONDS = 5;
/**
 * Each PutRecords takes this long, and one call at a time carries the next event of at most 500
 * of the ~1000 submissions in flight: a submission of 8 events needs about 8 × 2 × 400 ms, much
 * longer than the 80 % of the shutdown timeout the service waits for work in flight, while the
 * one call in flight when it gives up returns well within the rest of the timeout.
 */
const KINESIS_LATENCY_MS = 400;
/** Bounds the wait for messages caught in a receive that the shutdown cut (see below). */
const VISIBILITY_TIMEOUT_SECONDS = 5;
/** The default `MAX_IN_FLIGHT_MESSAGES`: slow Kinesis fills it. */
const MAX_IN_FLIGHT_MESSAGES = 1_000;

Deno.test("SIGTERM while busy: exit 0 in time, nothing deleted half-published, the rest released and finished by a restart", async () => {
  await using run = await startScenario({
    load: { seed: 501, count: 2_500 },
    beforeStart: (e2e) => e2e.stack.faults.set({ kinesis: { latencyMs: KINESIS_LATENCY_MS } }),
    env: {
      SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
      SQS_VISIBILITY_TIMEOUT: String(VISIBILITY_TIMEOUT_SECONDS),
      PUBLISH_MAX_CONCURRENCY: "1",
    },
    services: 0,
  });
  const { e2e, load } = run;
  const { queueUrl, streamName } = e2e.stack;

  const first = await run.start("first");
  let mostInFlight = 0;
  const inFlightAtSignal = await pollUntil("messages finished and many in flight", async () => {
    const metrics = await first.metrics();
    const inFlight = metrics.value("edr_submissions_messages_in_flight");
    mostInFlight = Math.max(mostInFlight, inFlight);
    const published = metrics.value("edr_submissions_messages_deleted_total", {
      outcome: "published",
    });
    return published >= 100 && inFlight >= 200 && inFlight;
  });
  const exit = await first.signal("SIGTERM");
  // Backpressure: however slow Kinesis is, the service holds no more than its limit.
  assert.ok(mostInFlight <= MAX_IN_FLIGHT_MESSAGES, `${mostInFlight} messages in flight`);
  assert.equal(exit.status.code, 0, first.tail());
  assert.ok(
    exit.elapsedMs <= SHUTDOWN_TIMEOUT_SECONDS * 1000,
    `exited after ${exit.elapsedMs.toFixed(0)} ms`,
  );

  // What the first run gave up on, by message id (logged before each release).
  const released = first.logs("releasing {messageId}").filter((log) => log.cause === "shutdown");
  assert.ok(released.length > 0, "the shutdown timeout must have released messages");
  // Released means visible again now, not after the visibility timeout.
  const depth = await getQueueDepth(e2e.sqs, queueUrl);
  const visible = await receiveAll(e2e.sqs, queueUrl, { expected: depth.visible });
  const visibleIds = new Set(visible.map((m) => m.MessageId));
  const notVisible = released.filter((log) => !visibleIds.has(log.messageId as string));
  assert.deepEqual(notVisible, [], "every released message must be visible at once");
  // A receive in flight when SIGTERM arrived is aborted; SQS may already have handed out its
  // messages, which then come back after their timeout (as on AWS). Wait for those too, so
  // that what is left of the queue is known exactly. Counted against the whole: the receives
  // above take up to ten at a time, so they may already hold some that came back meanwhile.
  const total = depth.visible + depth.inFlight;
  const late: Message[] = visible.length >= total ? [] : await receiveAll(e2e.sqs, queueUrl, {
    expected: total - visible.length,
    timeoutMs: (VISIBILITY_TIMEOUT_SECONDS + 10) * 1000,
  });
  const left = [...visible, ...late];
  assert.equal(left.length, total);

  // Every valid submission whose message is gone must be in the stream, whole and in order.
  const records = await readStream(e2e.kinesis, streamName);
  const leftBodies = new Set(left.map((m) => m.Body));
  const gone = load.manifest.filter((entry, i) =>
    entry.valid && !leftBodies.has(load.messages[i]!.body)
  );
  assert.ok(gone.length > 0, "the first run must have finished some submissions");
  const partial = reconcile(gone, records, { allowUnknown: true });
  assert.equal(
    partial.missingEvents,
    0,
    "a message was deleted before all its events were published",
  );
  assert.equal(partial.orderViolations, 0);
  // What a cut receive handed out never reached the service: nothing of it was published.
  const lateBodies = new Set(late.map((m) => m.Body));
  const neverStarted = load.manifest.filter((entry, i) =>
    entry.valid && lateBodies.has(load.messages[i]!.body)
  );
  assert.equal(reconcile(neverStarted, records, { allowUnknown: true }).presentEvents, 0);

  // Hand the messages back and let a restarted service (Kinesis fast again) finish them.
  await releaseMessages(e2e.sqs, queueUrl, left);
  e2e.stack.faults.set({ kinesis: { latencyMs: 0 } });
  await run.start("restart");
  await run.drain(); // the first run has exited: the restart alone is waited for
  const { report } = await run.verify();
  // Released submissions were partly published: the restart publishes them again from their
  // first event, so copies are expected.
  assertReconciled(report, { allowDuplicates: true });

  printSummary(`shutdown (SIGTERM, ${KINESIS_LATENCY_MS} ms Kinesis latency)`, {
    seed: load.seed,
    submissions: load.messages.length,
    invalid: load.invalid,
    events: report.expectedEvents,
    records: report.records,
    most_in_flight: mostInFlight,
    in_flight_at_sigterm: inFlightAtSignal,
    exit_ms: exit.elapsedMs.toFixed(0),
    released: released.length,
    caught_in_cut_receive: late.length,
    finished_before_exit: gone.length,
    duplicates: report.duplicates,
    seconds: run.seconds(),
  });
});
