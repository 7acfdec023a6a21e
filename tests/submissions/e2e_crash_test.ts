/**
 * End to end through crashes: the service subprocess is killed with SIGKILL twice while it is
 * publishing, and started again each time. Whatever it held comes back once its (short)
 * visibility timeout runs out and is published again from its first event, with the same
 * deterministic `event_id`s: copies, never gaps, never disorder.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertReconciled,
  createLoad,
  pollUntil,
  preload,
  printSummary,
  secondsSince,
  type ServiceProcess,
  startE2eStack,
  startServiceProcess,
  verify,
  waitDrained,
} from "./e2e_harness.ts";

/** Short, so that what a killed process held is redelivered within seconds. */
const VISIBILITY_TIMEOUT_SECONDS = 4;

Deno.test("SIGKILL twice mid-run: nothing missing, order kept, redelivered copies share their event_id", async () => {
  const started = performance.now();
  await using e2e = await startE2eStack();
  const load = createLoad({ seed: 301, count: 3_000 });
  await preload(e2e, load.messages);
  const env = { SQS_VISIBILITY_TIMEOUT: String(VISIBILITY_TIMEOUT_SECONDS) };
  const processes: ServiceProcess[] = [];
  const publishedBeforeKill: number[] = [];
  let lastRun;
  try {
    for (const round of [1, 2]) {
      const service = await startServiceProcess(e2e, env, { name: `run ${round}` });
      processes.push(service);
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
    const service = await startServiceProcess(e2e, env, { name: "run 3" });
    processes.push(service);
    await waitDrained(e2e, [service]);
    lastRun = await service.metrics();
    const exit = await service.signal("SIGTERM");
    assert.equal(exit.status.code, 0, service.tail());
  } finally {
    for (const service of processes) await service.close();
  }
  const { report } = await verify(e2e, load.manifest);

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
    seconds: secondsSince(started),
  });
});
