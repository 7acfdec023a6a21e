/**
 * End to end against a stream that throttles like Kinesis (the local stack's `throttle`: per
 * shard, MD5 of the partition key into the emulator's hash-key ranges, a record over budget
 * refused while the rest of its call is written), at a lower budget than the real 1 000
 * records/s so the scenario stays short. The service's shard limiter (`KINESIS_SHARD_RATE_LIMIT`)
 * keeps each shard within it; when the stream takes less than the limiter's budget (another
 * producer on the same shards), the budget shrinks. Either way every event arrives, in order,
 * without a duplicate.
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

/** The stream's budget per shard in these scenarios: 30 % of Kinesis's. */
const RECORDS_PER_SECOND = 300;
const BYTES_PER_SECOND = 300 * 1024;

Deno.test("throttling stream: the limiter keeps every shard within its budget; all events, in order, no duplicates", async () => {
  const started = performance.now();
  await using e2e = await startE2eStack({
    faults: {
      kinesis: {
        throttle: true,
        shardRecordsPerSecond: RECORDS_PER_SECOND,
        shardBytesPerSecond: BYTES_PER_SECOND,
      },
    },
  });
  const load = createLoad({ seed: 1_001, count: 500 });
  const { metrics, kinesisStats: stats, report } = await runInProcessUntilDrained(e2e, load, {
    KINESIS_SHARD_RATE_LIMIT: "30",
  });

  assertReconciled(report);
  const share = stats.recordsThrottled / stats.recordsReceived;
  assert.ok(share <= 0.05, `${stats.recordsThrottled} of ${stats.recordsReceived} throttled`);
  assert.equal(metrics.value("edr_records_throttled_total"), stats.recordsThrottled);
  assert.equal(metrics.value("edr_events_published_total"), report.expectedEvents);
  const budgets = metrics.byLabel("edr_shard_budget_records_per_second", "shard_id");
  assert.deepEqual(Object.keys(budgets).sort(), ["shardId-000000000000", "shardId-000000000001"]);
  for (const value of Object.values(budgets)) assert.ok(value > 0 && value <= RECORDS_PER_SECOND);
  // Every record sent went through the limiter and said how long it waited for budget.
  assert.equal(
    metrics.value("edr_shard_budget_wait_seconds_count"),
    stats.recordsReceived,
  );
  assert.ok(metrics.value("edr_shard_budget_wait_seconds_sum") > 0, "records waited for budget");
  assert.equal(metrics.value("edr_worker_errors_total"), 0);

  printSummary("throttling stream, limiter at its budget", {
    seed: load.seed,
    submissions: load.messages.length,
    events: report.expectedEvents,
    records_sent: stats.recordsReceived,
    throttled: stats.recordsThrottled,
    put_records_calls: stats.putRecordsCalls,
    duplicates: report.duplicates,
    seconds: secondsSince(started),
  });
});

Deno.test("throttling stream shared with another producer: the budget shrinks to what the stream takes; all events, in order", async () => {
  const started = performance.now();
  // The stream takes two thirds of the limiter's budget: 200 of 300 records/s per shard.
  await using e2e = await startE2eStack({
    faults: {
      kinesis: {
        throttle: true,
        shardRecordsPerSecond: (RECORDS_PER_SECOND * 2) / 3,
        shardBytesPerSecond: BYTES_PER_SECOND,
      },
    },
  });
  const load = createLoad({ seed: 1_002, count: 400 });
  const { metrics, kinesisStats: stats, report } = await runInProcessUntilDrained(e2e, load, {
    KINESIS_SHARD_RATE_LIMIT: "30",
  });

  assertReconciled(report);
  // At a fixed 300 records/s into 200, a third of the records would be refused.
  const share = stats.recordsThrottled / stats.recordsReceived;
  assert.ok(share < 0.2, `${stats.recordsThrottled} of ${stats.recordsReceived} throttled`);
  assert.ok(stats.recordsThrottled > 0, "the stream did throttle");
  assert.equal(metrics.value("edr_records_throttled_total"), stats.recordsThrottled);
  const byShard = metrics.byLabel("edr_records_throttled_total", "shard_id");
  assert.deepEqual(byShard, stats.throttledByShard, "throttles counted on their shard");
  assert.equal(metrics.value("edr_worker_errors_total"), 0);

  printSummary("throttling stream shared with another producer", {
    seed: load.seed,
    submissions: load.messages.length,
    events: report.expectedEvents,
    records_sent: stats.recordsReceived,
    throttled: stats.recordsThrottled,
    put_records_calls: stats.putRecordsCalls,
    duplicates: report.duplicates,
    seconds: secondsSince(started),
  });
});
