/**
 * End to end with two service subprocesses consuming one queue: SQS hands each message to one
 * of them, each publishes its submissions in order, and together they publish everything.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertReconciled, printSummary } from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";

Deno.test("two instances on one queue: together nothing missing, order kept", async () => {
  await using run = await startScenario({ load: { seed: 801, count: 3_000 }, services: 0 });
  const { load } = run;
  // Started together, so that both find the queue full.
  await Promise.all(["instance A", "instance B"].map((name) => run.start(name)));
  const { all: metrics } = await run.drain();
  const { report } = await run.verify();

  assertReconciled(report);
  const received = metrics.map((m) => m.value("edr_submissions_messages_received_total"));
  for (const count of received) assert.ok(count > 0, "both instances must have taken messages");
  // Each message went to exactly one instance.
  assert.equal(received[0]! + received[1]!, load.messages.length);
  for (const m of metrics) assert.equal(m.value("edr_submissions_worker_errors_total"), 0);

  printSummary("multi-instance (2 subprocesses)", {
    seed: load.seed,
    submissions: load.messages.length,
    invalid: load.invalid,
    events: report.expectedEvents,
    records: report.records,
    received: received.join("+"),
    duplicates: report.duplicates,
    seconds: run.seconds(),
  });
});
