/**
 * End to end through outages of either dependency, the service running as a subprocess:
 *
 * - Kinesis refuses every connection for longer than the visibility timeout. The process stays
 *   up, `/readyz` turns 503 and back to 200, and the heartbeat keeps extending the messages it
 *   holds, so none is handed out twice; afterwards everything is published.
 * - SQS refuses every connection. Receives fail and back off instead of spinning, `/readyz`
 *   turns 503 and back, and nothing is lost.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertReconciled, pollUntil, printSummary } from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";

// 10: the heartbeat extends with half the timeout left, counted by SQS from its answer to the
// receive; with its cores busy elsewhere the machine let 45 of 2 500 messages time out and come
// back during the outage at 4 s, 8 at 6 s (event-loop lag of seconds).
const VISIBILITY_TIMEOUT_SECONDS = 10;
/** Longer than the visibility timeout: only the heartbeat keeps the messages from coming back. */
const KINESIS_OUTAGE_SECONDS = 12;
const SQS_OUTAGE_SECONDS = 6;
/** PutRecords calls in flight at most (the default) and records per call at most. */
const MAX_CALLS_IN_FLIGHT = 4;
const MAX_RECORDS_PER_CALL = 500;

/** A service subprocess busy with a load of 2 500 (ready, a quarter of the events published). */
async function startBusy(seed: number) {
  const run = await startScenario({
    load: { seed, count: 2_500 },
    env: { SQS_VISIBILITY_TIMEOUT: String(VISIBILITY_TIMEOUT_SECONDS) },
  });
  try {
    const { load, service } = run;
    await pollUntil("/readyz 200", async () => await service.readyz() === 200);
    await pollUntil("a quarter of the events published", async () => {
      return (await service.metrics()).value("edr_submissions_events_published_total") >=
        load.events / 4;
    });
    return run;
  } catch (error) {
    await run[Symbol.asyncDispose]();
    throw error;
  }
}

Deno.test("Kinesis outage: stays up, /readyz 503 then 200, visibility extended, no message received twice, nothing lost", async () => {
  await using run = await startBusy(401);
  const { e2e, load, service } = run;
  const outageStart = performance.now();
  e2e.stack.faults.set({ kinesis: { outageSeconds: KINESIS_OUTAGE_SECONDS } });
  await pollUntil("/readyz 503", async () => await service.readyz() === 503, {
    timeoutMs: KINESIS_OUTAGE_SECONDS * 1000,
  });
  await pollUntil("/readyz 200 after the outage", async () => await service.readyz() === 200);
  const outageMs = performance.now() - outageStart;
  assert.ok(outageMs >= KINESIS_OUTAGE_SECONDS * 1000, "ready again only once Kinesis is back");
  assert.ok(!service.hasExited, "the process must stay up");
  const { metrics } = await run.drain();
  const { report } = await run.verify();

  // A PutRecords cut by the outage may have been written before its connection broke; its
  // retry then adds copies. Those are the only duplicates possible: at most the calls in flight.
  assertReconciled(report, { allowDuplicates: true });
  assert.ok(report.duplicates <= MAX_CALLS_IN_FLIGHT * MAX_RECORDS_PER_CALL);
  const extensions = metrics.value("edr_submissions_visibility_extensions_total");
  assert.ok(extensions > 0, "the heartbeat must extend visibility during the outage");
  // Not one message timed out and came back while held.
  assert.equal(metrics.value("edr_submissions_messages_received_total"), load.messages.length);
  assert.equal(metrics.value("edr_submissions_messages_deleted_total"), load.messages.length);
  assert.ok(metrics.value("edr_submissions_record_retries_total") > 0);
  assert.equal(metrics.value("edr_submissions_worker_errors_total"), 0);

  printSummary(`kinesis outage ${KINESIS_OUTAGE_SECONDS}s`, {
    seed: load.seed,
    submissions: load.messages.length,
    invalid: load.invalid,
    events: report.expectedEvents,
    records: report.records,
    not_ready_seconds: (outageMs / 1000).toFixed(1),
    visibility_extensions: extensions,
    retries: metrics.value("edr_submissions_record_retries_total"),
    received: metrics.value("edr_submissions_messages_received_total"),
    duplicates: report.duplicates,
    seconds: run.seconds(),
  });
});

Deno.test("SQS outage: receives fail and back off, /readyz 503 then 200, nothing lost", async () => {
  await using run = await startBusy(402);
  const { e2e, load, service } = run;
  const receivesBefore = e2e.stack.faults.stats().sqs.requests.ReceiveMessage ?? 0;
  const { sqs: { outageUntil } } = e2e.stack.faults.set({
    sqs: { outageSeconds: SQS_OUTAGE_SECONDS },
  });
  await pollUntil("/readyz 503", async () => await service.readyz() === 503, {
    timeoutMs: SQS_OUTAGE_SECONDS * 1000,
  });
  await pollUntil("the outage to end", () => Date.now() > outageUntil, { timeoutMs: 10_000 });
  const receivesDuringOutage = (e2e.stack.faults.stats().sqs.requests.ReceiveMessage ?? 0) -
    receivesBefore;
  await pollUntil("/readyz 200 after the outage", async () => await service.readyz() === 200);
  assert.ok(!service.hasExited, "the process must stay up");
  const { metrics } = await run.drain();
  const { report } = await run.verify();

  // Deletes and extensions fail during the outage too: those messages come back after their
  // visibility timeout and are published again. Copies are expected; gaps and disorder are not.
  assertReconciled(report, { allowDuplicates: true });
  const receiveErrors = metrics.value("edr_submissions_sqs_errors_total", {
    operation: "ReceiveMessage",
  });
  assert.ok(receiveErrors > 0, "receives must have failed");
  // Backing off: 4 workers, each retried by the SDK (3 attempts) after a capped exponential
  // backoff with full jitter: a few dozen calls in the outage, where a tight loop makes thousands.
  assert.ok(
    receivesDuringOutage <= 200,
    `${receivesDuringOutage} ReceiveMessage calls in a ${SQS_OUTAGE_SECONDS} s outage`,
  );
  assert.equal(metrics.value("edr_submissions_worker_errors_total"), 0);

  printSummary(`sqs outage ${SQS_OUTAGE_SECONDS}s`, {
    seed: load.seed,
    submissions: load.messages.length,
    invalid: load.invalid,
    events: report.expectedEvents,
    records: report.records,
    receives_during_outage: receivesDuringOutage,
    receive_errors: receiveErrors,
    sqs_errors: metrics.value("edr_submissions_sqs_errors_total"),
    received: metrics.value("edr_submissions_messages_received_total"),
    duplicates: report.duplicates,
    seconds: run.seconds(),
  });
});
