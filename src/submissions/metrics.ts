/**
 * The submissions pipeline's Prometheus metrics (npm:prom-client), registered on the app's one
 * registry, under the component's prefix `edr_submissions_*` (README "Metrics migration" lists the
 * names they had before). Their names are the dashboards' and alert rules' contract. Every label
 * has a closed set of values.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { createMetrics } from "./metrics.ts";
 *
 * const metrics = createMetrics(createRegistry().registry);
 * metrics.messagesInvalid.inc({ reason: "not_base64" });
 * assert.deepEqual((await metrics.messagesInvalid.get()).values, [
 *   { value: 1, labels: { reason: "not_base64" } },
 * ]);
 * ```
 *
 * @module
 */
import client from "prom-client";
import { LATENCY_BUCKETS } from "../app/metrics.ts";
import type { Logger } from "../app/logging.ts";
import type { PublisherObserver } from "./ordered_publisher.ts";
import type { ShardLimiterObserver } from "./shard_limiter.ts";
import { errorMessage } from "../app/error_message.ts";

/** Kinesis error codes kept as label values; anything else is counted as `other`. */
const KNOWN_ERROR_CODES = new Set([
  "ProvisionedThroughputExceededException",
  "InternalFailure",
  "KMSThrottlingException",
  "MissingSequenceNumber",
  "TimeoutError",
  "RequestError",
  "ECONNREFUSED",
  "ECONNRESET",
  "ServiceUnavailable",
  "ThrottlingException",
  "ResourceNotFoundException",
  "ValidationException",
  "Error",
]);

/**
 * A bounded label value for an error code or error name.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorLabel } from "./metrics.ts";
 * assert.equal(errorLabel("InternalFailure"), "InternalFailure");
 * assert.equal(errorLabel("Whatever"), "other");
 * ```
 */
export function errorLabel(code: string): string {
  return KNOWN_ERROR_CODES.has(code) ? code : "other";
}

/**
 * Makes every metric of the pipeline on `registry`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { createMetrics } from "./metrics.ts";
 * const { registry } = createRegistry();
 * createMetrics(registry).eventsPublished.inc(3);
 * assert.ok((await registry.getSingleMetricAsString("edr_submissions_events_published_total")).endsWith(" 3"));
 * ```
 */
export function createMetrics(registry: client.Registry) {
  const registers = [registry];
  return {
    messagesReceived: new client.Counter({
      name: "edr_submissions_messages_received_total",
      help: "SQS messages received (redeliveries included)",
      registers,
    }),
    messagesDeleted: new client.Counter({
      name: "edr_submissions_messages_deleted_total",
      help: "SQS messages deleted after every event was published, or after a rejection",
      labelNames: ["outcome"] as const,
      registers,
    }),
    messagesInvalid: new client.Counter({
      name: "edr_submissions_messages_invalid_total",
      help: "Messages rejected, by reason (dropped, never published)",
      labelNames: ["reason"] as const,
      registers,
    }),
    messagesDeadLettered: new client.Counter({
      name: "edr_submissions_messages_dead_lettered_total",
      help: "Invalid messages copied to SQS_INVALID_QUEUE_URL before deletion",
      registers,
    }),
    messagesReleased: new client.Counter({
      name: "edr_submissions_messages_released_total",
      help: "Messages given up on and made visible again (visibility 0), by cause",
      labelNames: ["cause"] as const,
      registers,
    }),
    messagesDeferred: new client.Counter({
      name: "edr_submissions_messages_deferred_total",
      help: "Valid messages handed back to the queue unpublished, for a while, because their " +
        "device had more than KINESIS_KEY_BACKLOG_SECONDS of its shard's budget waiting",
      registers,
    }),
    unknownEventTypes: new client.Counter({
      name: "edr_submissions_unknown_event_types_total",
      help: "Event lists of unknown type seen in valid submissions (not published)",
      registers,
    }),
    messagesInFlight: new client.Gauge({
      name: "edr_submissions_messages_in_flight",
      help: "Messages received and not yet deleted or released",
      registers,
    }),
    eventsPublished: new client.Counter({
      name: "edr_submissions_events_published_total",
      help: "Event records acknowledged by Kinesis with a sequence number",
      registers,
    }),
    putRecordsCalls: new client.Counter({
      name: "edr_submissions_put_records_calls_total",
      help: "PutRecords calls that returned a response",
      registers,
    }),
    putRecordsRecords: new client.Histogram({
      name: "edr_submissions_put_records_records",
      help: "Records per PutRecords call",
      buckets: [1, 5, 10, 25, 50, 100, 200, 300, 400, 500],
      registers,
    }),
    putRecordsSeconds: new client.Histogram({
      name: "edr_submissions_put_records_duration_seconds",
      help: "Duration of PutRecords calls",
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    recordRetries: new client.Counter({
      name: "edr_submissions_record_retries_total",
      help: "Records that failed and were scheduled for retry, by error code",
      labelNames: ["error_code"] as const,
      registers,
    }),
    kinesisRequestErrors: new client.Counter({
      name: "edr_submissions_kinesis_request_errors_total",
      help: "PutRecords calls that failed as a whole (after the SDK's own retries), by error",
      labelNames: ["error_code"] as const,
      registers,
    }),
    sqsErrors: new client.Counter({
      name: "edr_submissions_sqs_errors_total",
      help: "Failed SQS calls or batch entries, by operation",
      labelNames: ["operation"] as const,
      registers,
    }),
    workerErrors: new client.Counter({
      name: "edr_submissions_worker_errors_total",
      help: "Unexpected failures while processing a message (defects; the message comes back)",
      registers,
    }),
    visibilityExtensions: new client.Counter({
      name: "edr_submissions_visibility_extensions_total",
      help: "Visibility timeouts extended by the heartbeat",
      registers,
    }),
    messageSeconds: new client.Histogram({
      name: "edr_submissions_message_processing_seconds",
      help: "From receipt to deletion of a valid message (its batch latency)",
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    endToEndSeconds: new client.Histogram({
      name: "edr_submissions_end_to_end_latency_seconds",
      help: "From the message's SentTimestamp to its last event in Kinesis",
      buckets: [...LATENCY_BUCKETS],
      registers,
    }),
    recordsThrottled: new client.Counter({
      name: "edr_submissions_records_throttled_total",
      help: "Records Kinesis refused with ProvisionedThroughputExceededException, by shard " +
        "(unknown when neither its answer nor the shard map tells)",
      labelNames: ["shard_id"] as const,
      registers,
    }),
    shardBudgetWaitSeconds: new client.Histogram({
      name: "edr_submissions_shard_budget_wait_seconds",
      help: "Time each record sent with the shard limiter waited for its shard's budget " +
        "(0 when it did not wait)",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    shardBudgetRecords: new client.Gauge({
      name: "edr_submissions_shard_budget_records_per_second",
      help: "The shard limiter's current record budget of each open shard",
      labelNames: ["shard_id"] as const,
      registers,
    }),
    shardBudgetBytes: new client.Gauge({
      name: "edr_submissions_shard_budget_bytes_per_second",
      help: "The shard limiter's current byte budget (data plus partition keys) of each open shard",
      labelNames: ["shard_id"] as const,
      registers,
    }),
    shardListErrors: new client.Counter({
      name: "edr_submissions_shard_list_errors_total",
      help: "Failed ListShards calls of the shard limiter (records go unlimited meanwhile)",
      registers,
    }),
    lastSuccess: new client.Gauge({
      name: "edr_submissions_last_success_timestamp_seconds",
      help: "Unix time of the last message fully published and deleted",
      registers,
    }),
  };
}

/** The pipeline's metrics. */
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Feeds the publisher's reports into `metrics`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { createMetrics, publisherObserver } from "./metrics.ts";
 * const metrics = createMetrics(createRegistry().registry);
 * publisherObserver(metrics).onRecordRetry?.("InternalFailure", 50);
 * assert.deepEqual((await metrics.recordRetries.get()).values, [
 *   { value: 1, labels: { error_code: "InternalFailure" } },
 * ]);
 * ```
 */
export function publisherObserver(metrics: Metrics): PublisherObserver {
  return {
    onRequest({ records, seconds, failed }) {
      metrics.putRecordsCalls.inc();
      metrics.putRecordsRecords.observe(records);
      metrics.putRecordsSeconds.observe(seconds);
      metrics.eventsPublished.inc(records - failed);
    },
    onRequestError(error) {
      const name = error instanceof Error ? error.name : "RequestError";
      metrics.kinesisRequestErrors.inc({ error_code: errorLabel(name) });
    },
    onRecordRetry(code) {
      metrics.recordRetries.inc({ error_code: errorLabel(code) });
    },
    onThrottled(shardId) {
      metrics.recordsThrottled.inc({ shard_id: shardId ?? "unknown" });
    },
  };
}

/**
 * Feeds the shard limiter's reports into `metrics` (and a failed `ListShards` into the log).
 * Shard ids come from `ListShards` or from Kinesis's own messages (matched to
 * `shardId-<digits>`): a bounded label, as many values as the stream has shards.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { getLogger } from "../app/logging.ts";
 * import { createMetrics, limiterObserver } from "./metrics.ts";
 * const metrics = createMetrics(createRegistry().registry);
 * const observer = limiterObserver(metrics, getLogger("submissions", "publisher"));
 * observer.onBudget?.("shardId-000000000000", 1_000, 1_048_576);
 * assert.deepEqual((await metrics.shardBudgetRecords.get()).values, [
 *   { value: 1_000, labels: { shard_id: "shardId-000000000000" } },
 * ]);
 * ```
 */
export function limiterObserver(metrics: Metrics, logger: Logger): ShardLimiterObserver {
  return {
    onBudget(shardId, recordsPerSecond, bytesPerSecond) {
      metrics.shardBudgetRecords.set({ shard_id: shardId }, recordsPerSecond);
      metrics.shardBudgetBytes.set({ shard_id: shardId }, bytesPerSecond);
    },
    onShardClosed(shardId) {
      metrics.shardBudgetRecords.remove({ shard_id: shardId });
      metrics.shardBudgetBytes.remove({ shard_id: shardId });
    },
    onBudgetWait(seconds) {
      metrics.shardBudgetWaitSeconds.observe(seconds);
    },
    onListError(error) {
      metrics.shardListErrors.inc();
      logger.warn("ListShards failed ({error}); publishing without the shard limiter meanwhile", {
        error: errorMessage(error, { withName: true, maxLength: 300 }),
      });
    },
  };
}
