/**
 * End to end with partial `PutRecords` failures: random records of a call fail
 * (`ProvisionedThroughputExceededException` or `InternalFailure`) while the others are written.
 * Kinesis gives no order between the records of one call, so the service never has two events
 * of one submission in a call; a failed event blocks only its own submission until it is in.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  assertReconciled,
  createLoad,
  printSummary,
  runInProcessUntilDrained,
  secondsSince,
  startE2eStack,
} from "./e2e_harness.ts";

/** Seeds which records the proxy fails. */
const FAULT_SEED = 202;

Deno.test("partialFailureProbability 0.2: order kept, nothing missing", async () => {
  const started = performance.now();
  await using e2e = await startE2eStack({
    faults: { kinesis: { partialFailureProbability: 0.2 } },
    faultSeed: FAULT_SEED,
  });
  const load = createLoad({ seed: 201, count: 2_500 });
  const { metrics, kinesisStats: stats, report } = await runInProcessUntilDrained(e2e, load);

  assertReconciled(report);
  assert.ok(stats.injected.partialFailure > 0, "calls must have been partially failed");
  // Failed and written records really were mixed in the same calls.
  assert.ok(stats.recordsPassed > report.expectedEvents * 0.5);
  const retries = metrics.value("edr_submissions_record_retries_total");
  const byCode = metrics.byLabel("edr_submissions_record_retries_total", "error_code");
  assert.ok((byCode.ProvisionedThroughputExceededException ?? 0) > 0);
  assert.ok((byCode.InternalFailure ?? 0) > 0);
  if (metrics.value("edr_submissions_kinesis_request_errors_total") === 0) {
    assert.equal(retries, stats.recordsFailed);
  }
  assert.equal(metrics.value("edr_submissions_events_published_total"), report.expectedEvents);
  assert.equal(metrics.value("edr_submissions_messages_received_total"), load.messages.length);
  assert.equal(metrics.value("edr_submissions_worker_errors_total"), 0);

  printSummary("partial-failures p=0.2", {
    seed: load.seed,
    fault_seed: FAULT_SEED,
    submissions: load.messages.length,
    invalid: load.invalid,
    events: report.expectedEvents,
    records: report.records,
    put_records_calls: stats.putRecordsCalls,
    partially_failed_calls: stats.injected.partialFailure,
    retries,
    duplicates: report.duplicates,
    seconds: secondsSince(started),
  });
});
