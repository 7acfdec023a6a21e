/**
 * End to end through a publish timeout: when a message's events cannot all be published within
 * `PUBLISH_TIMEOUT_SECONDS`, the service gives up on it and releases it (visibility 0) rather than
 * leaving it to time out; it comes back at once and is published when Kinesis recovers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { assertReconciled, pollUntil, printSummary } from "./e2e_harness.ts";
import { startScenario } from "./e2e_scenario.ts";

/** Long: a message that was not released would stay invisible past the drain deadline below. */
const VISIBILITY_TIMEOUT_SECONDS = 60;
const PUBLISH_TIMEOUT_SECONDS = 1;
/**
 * Per event: a loaded machine publishes a message's few events in more than the 1 s base (with
 * 0 here, one core kept busy, messages were released again and again after the outage, 246
 * still in flight at the drain deadline), yet a message of up to 6 events stays under the outage.
 */
const PUBLISH_TIMEOUT_MS_PER_EVENT = 300;
const OUTAGE_SECONDS = 4;

Deno.test("publish timeout: messages are released at once, come back and are published, nothing lost", async () => {
  await using run = await startScenario({
    load: { seed: 901, count: 300 },
    // Kinesis is down before the service starts: no message can be published in time.
    beforeStart: (e2e) => e2e.stack.faults.set({ kinesis: { outageSeconds: OUTAGE_SECONDS } }),
    mode: "in-process",
    env: {
      SQS_VISIBILITY_TIMEOUT: String(VISIBILITY_TIMEOUT_SECONDS),
      PUBLISH_TIMEOUT_SECONDS: String(PUBLISH_TIMEOUT_SECONDS),
      PUBLISH_TIMEOUT_MS_PER_EVENT: String(PUBLISH_TIMEOUT_MS_PER_EVENT),
    },
  });
  const { load, service } = run;
  await pollUntil("a message released for its publish timeout", async () => {
    return (await service.metrics()).value("edr_submissions_messages_released_total", {
      cause: "publish_timeout",
    }) > 0;
  });
  // Drained well before the visibility timeout could have brought anything back by itself.
  const { metrics } = await run.drain({ timeoutMs: (VISIBILITY_TIMEOUT_SECONDS - 5) * 1000 });
  const { report } = await run.verify();

  // Records of calls cut by the outage may have landed before the release: copies allowed.
  assertReconciled(report, { allowDuplicates: true });
  const released = metrics.value("edr_submissions_messages_released_total", {
    cause: "publish_timeout",
  });
  assert.ok(released > 0);
  // Every release is a redelivery: received = sent + released.
  assert.equal(
    metrics.value("edr_submissions_messages_received_total"),
    load.messages.length + released,
  );
  assert.equal(metrics.value("edr_submissions_messages_deleted_total"), load.messages.length);
  assert.equal(metrics.value("edr_submissions_worker_errors_total"), 0);
  printSummary("publish timeout", {
    seed: 901,
    submissions: load.messages.length,
    events: report.expectedEvents,
    released,
    duplicates: report.duplicates,
    seconds: run.seconds(),
  });
});
