/**
 * End to end with two service subprocesses consuming one queue: SQS hands each message to one
 * of them, each publishes its submissions in order, and together they publish everything.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertReconciled,
  createLoad,
  preload,
  printSummary,
  secondsSince,
  type ServiceProcess,
  startE2eStack,
  startServiceProcess,
  verify,
  waitDrained,
} from "./e2e_harness.ts";
import type { MetricsSnapshot } from "../../tools/common/metrics_text.ts";

Deno.test("two instances on one queue: together nothing missing, order kept", async () => {
  const started = performance.now();
  await using e2e = await startE2eStack();
  const load = createLoad({ seed: 801, count: 3_000 });
  await preload(e2e, load.messages);
  const services: ServiceProcess[] = [];
  const metrics: MetricsSnapshot[] = [];
  try {
    // Started together, so that both find the queue full.
    services.push(
      ...await Promise.all(
        ["instance A", "instance B"].map((name) => startServiceProcess(e2e, {}, { name })),
      ),
    );
    await waitDrained(e2e, services);
    for (const service of services) metrics.push(await service.metrics());
    for (const service of services) {
      const exit = await service.signal("SIGTERM");
      assert.equal(exit.status.code, 0, service.tail());
    }
  } finally {
    for (const service of services) await service.close();
  }
  const { report } = await verify(e2e, load.manifest);

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
    seconds: secondsSince(started),
  });
});
