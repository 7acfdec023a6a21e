/**
 * bench:e2e's tables (e2e.ts): the runs of the service, the throttled-stream comparison and
 * each run's SQS calls.
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runOurs } from "./e2e_run.ts";
 * import { oursRows, sqsBreakdown } from "./e2e_tables.ts";
 *
 * const results = [await runOurs(generateData(1_000, 7), { label: "ours", errorProbability: 0, env: {} })];
 * console.log(oursRows(results));
 * for (const r of results) console.log(`SQS calls, ${r.label}: ${sqsBreakdown(r)}`);
 * ```
 *
 * @module
 */
import { fixed, int, mb, ms, table } from "../common/figures.ts";
import type { OursResult } from "./e2e_run.ts";

/**
 * The runs of the service, one row each: throughput, drain time, latencies, PutRecords, SQS
 * calls, RSS, CPU and the stream's check.
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runOurs } from "./e2e_run.ts";
 * import { oursRows } from "./e2e_tables.ts";
 *
 * const data = generateData(1_000, 7);
 * const ours = await runOurs(data, { label: "ours", errorProbability: 0, env: {} });
 * oursRows([ours]).split("\n")[2]?.startsWith("| ours "); // true: one row per run
 * ```
 */
export function oursRows(results: readonly OursResult[]): string {
  const rows = results.map((r) => [
    r.label,
    r.repetitions === undefined
      ? int(r.eventsPerSecond)
      : `${int(r.eventsPerSecond)} (${r.repetitions.map(int).join(", ")})`,
    int(r.messagesPerSecond),
    fixed(r.seconds, 1),
    `${ms(r.processingMs.p50)} / ${ms(r.processingMs.p95)} / ${ms(r.processingMs.p99)}`,
    `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p95)} / ${ms(r.latencyMs.p99)}`,
    int(r.putRecordsCalls),
    fixed(r.recordsPerCall, 1),
    int(r.recordRetries),
    fixed(r.sqsCallsPerMessage, 3),
    mb(r.peakRssBytes),
    `${fixed(r.cpuSeconds, 1)} (${fixed(r.cpuSecondsTotal, 1)})`,
    fixed(r.stackCpuSeconds, 1),
    `${fixed(100 * r.othersCpuShare, 0)} %`,
    !r.finished
      ? `TIMED OUT: ${r.problems.join("; ")}`
      : r.verified
      ? "ok"
      : `NOT OK: ${r.problems.join("; ")}`,
  ]);
  return table([
    "run",
    "events/s",
    "msgs/s",
    "drain s",
    "processing p50/p95/p99",
    "e2e latency p50/p95/p99",
    "PutRecords",
    "rec/call",
    "retries",
    "SQS calls/msg",
    "peak RSS",
    "CPU s (total)",
    "stack CPU s",
    "others' CPU",
    "stream check",
  ], rows);
}

/**
 * The throttled-stream comparison: what the shard limiter changes.
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runOurs } from "./e2e_run.ts";
 * import { throttleRows } from "./e2e_tables.ts";
 *
 * const data = generateData(1_000, 7);
 * const base = { errorProbability: 0, throttle: true };
 * const off = await runOurs(data, { ...base, label: "limiter off", env: { KINESIS_SHARD_RATE_LIMIT: "0" } });
 * const on = await runOurs(data, { ...base, label: "limiter on", env: {} });
 * console.log(throttleRows([off, on]));
 * ```
 */
export function throttleRows(results: readonly OursResult[]): string {
  const allowed = 2_000; // records/s: 2 shards at Kinesis's 1 000
  return table(
    [
      "run",
      "events/s",
      "of the 2 000/s allowed",
      "drain s",
      "busiest shard's own minimum",
      "records sent",
      "throttled",
      "PutRecords",
      "calls per 1 000 events",
      "e2e latency p50 / p99",
      "stream check",
    ],
    results.map((r) => [
      r.label,
      int(r.eventsPerSecond),
      `${fixed((100 * r.eventsPerSecond) / allowed, 1)} %`,
      fixed(r.seconds, 1),
      `${fixed(r.busiestShardEvents / 1_000, 1)} s (${int(r.busiestShardEvents)} events)`,
      int(r.recordsSent),
      `${int(r.recordsThrottled)} (${fixed((100 * r.recordsThrottled) / r.recordsSent, 1)} %)`,
      int(r.putRecordsCalls),
      fixed((1_000 * r.putRecordsCalls) / r.expectedEvents, 1),
      `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)}`,
      !r.finished ? "TIMED OUT" : r.verified ? "ok" : `NOT OK: ${r.problems.join("; ")}`,
    ]),
  );
}

/**
 * A run's SQS calls by operation, most first, with their count per message.
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runOurs } from "./e2e_run.ts";
 * import { sqsBreakdown } from "./e2e_tables.ts";
 *
 * const result = await runOurs(generateData(2_000, 7), { label: "ours", errorProbability: 0, env: {} });
 * sqsBreakdown(result); // "DeleteMessageBatch 239 (0.119/msg), ReceiveMessage 208 (0.104/msg), ..."
 * ```
 */
export function sqsBreakdown(r: OursResult): string {
  return Object.entries(r.sqsCalls)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `${op} ${int(n)} (${fixed(n / r.messages, 3)}/msg)`)
    .join(", ");
}
