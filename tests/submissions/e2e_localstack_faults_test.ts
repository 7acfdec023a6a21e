/**
 * End to end under LocalStack's own fault injection (`KINESIS_ERROR_PROBABILITY`): a `PutRecords`
 * answers HTTP 200 with every record throttled and `FailedRecordCount` fixed at 1. A producer
 * trusting the status or the count loses whole batches; the service reads each record's own
 * outcome and retries exactly the failed ones, so nothing is lost and order holds.
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

for (const [errorProbability, seed] of [[0.1, 101], [0.3, 103]] as const) {
  Deno.test(`errorProbability ${errorProbability}: nothing missing, order kept, every failed record retried`, async () => {
    const started = performance.now();
    await using e2e = await startE2eStack({
      faults: { kinesis: { errorProbability } },
      faultSeed: seed,
    });
    const load = createLoad({ seed, count: 2_500 });
    const { metrics, kinesisStats: stats, report } = await runInProcessUntilDrained(e2e, load);

    assertReconciled(report);
    const retries = metrics.value("edr_submissions_record_retries_total");
    assert.ok(stats.injected.errorProbability > 0, "the fault must have been injected");
    assert.ok(retries > 0, "edr_submissions_record_retries_total must count the retries");
    // Every record the proxy failed was retried, each once per failure; a whole call that threw
    // (none expected here) would add its records too.
    const requestErrors = metrics.value("edr_submissions_kinesis_request_errors_total");
    if (requestErrors === 0) assert.equal(retries, stats.recordsFailed);
    else assert.ok(retries >= stats.recordsFailed);
    // No redelivery: each message was received once and deleted once.
    assert.equal(metrics.value("edr_submissions_messages_received_total"), load.messages.length);
    assert.equal(metrics.value("edr_submissions_messages_deleted_total"), load.messages.length);
    assert.equal(metrics.value("edr_submissions_messages_invalid_total"), load.invalid);
    assert.equal(metrics.value("edr_submissions_worker_errors_total"), 0);

    printSummary(`localstack-faults p=${errorProbability}`, {
      seed: load.seed,
      fault_seed: seed,
      submissions: load.messages.length,
      invalid: load.invalid,
      events: report.expectedEvents,
      records: report.records,
      put_records_calls: stats.putRecordsCalls,
      faulted_calls: stats.injected.errorProbability,
      retries,
      duplicates: report.duplicates,
      seconds: secondsSince(started),
    });
  });
}
