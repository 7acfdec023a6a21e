/**
 * End to end through crashes: the service subprocess is killed with SIGKILL twice while it is
 * publishing, and started again each time. Whatever it held comes back once its (short)
 * visibility timeout runs out and is published again from its first event, with the same
 * deterministic `event_id`s: copies, never gaps, never disorder.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertReconciled, pollUntil, printSummary } from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";

/** Short, so that what a killed process held is redelivered within seconds. */
const VISIBILITY_TIMEOUT_SECONDS = 4;

Deno.test("SIGKILL twice mid-run: nothing missing, order kept, redelivered copies share their event_id", async () => {
  await using run = await startScenario({
    load: { seed: 301, count: 3_000 },
    env: { SQS_VISIBILITY_TIMEOUT: String(VISIBILITY_TIMEOUT_SECONDS) },
    services: 0,
  });
  const { load } = run;
  const publishedBeforeKill: number[] = [];
  for (const round of [1, 2]) {
    const service = await run.start(`run ${round}`);
    // Killed in the middle of its work: after a fifth of all events, while it holds hundreds
    // of messages whose submissions are partly published.
    const published = await pollUntil(
      `run ${round} to publish a fifth of the events`,
      async () => {
        const metrics = await service.metrics();
        const events = metrics.value("edr_submissions_events_published_total");
        return events >= load.events / 5 &&
          metrics.value("edr_submissions_messages_in_flight") > 0 && events;
      },
    );
    const exit = await service.signal("SIGKILL");
    assert.equal(exit.status.signal, "SIGKILL");
    publishedBeforeKill.push(published);
  }
  await run.start("run 3");
  const { metrics: lastRun } = await run.drain(); // the killed runs are not waited for
  const { report } = await run.verify();

  assertReconciled(report, { allowDuplicates: true });
  // The kills cut submissions in the middle: their first events were published twice. Every
  // copy carries the event_id of its event (assertReconciled: records = expected + duplicates,
  // no malformed record, every event_id the deterministic one), so consumers can drop it.
  assert.ok(report.duplicates > 0, "a kill mid-publish must lead to redelivered copies");
  assert.equal(lastRun.value("edr_submissions_worker_errors_total"), 0);

  printSummary("crash (2× SIGKILL)", {
    seed: load.seed,
    submissions: load.messages.length,
    invalid: load.invalid,
    events: report.expectedEvents,
    records: report.records,
    published_before_kills: publishedBeforeKill.join("+"),
    received_by_last_run: lastRun.value("edr_submissions_messages_received_total"),
    duplicates: report.duplicates,
    seconds: run.seconds(),
  });
});
