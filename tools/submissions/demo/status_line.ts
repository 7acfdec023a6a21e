/**
 * The demo's status line, from the service's `/metrics` and the queue's depth:
 * `[  8s]  sent 40  received 40  published 301  invalid 0  retries 21  38.3 events/s  queue 0`.
 *
 * ```ts
 * import { formatStatus } from "./status_line.ts";
 * formatStatus({ elapsedSeconds: 1, phase: "running", sent: 5, counters: undefined,
 *   eventsPerSecond: undefined, queue: undefined }); // "[  1s]  sent 5  metrics unavailable  queue ?"
 * ```
 *
 * @module
 */
import { metricTotals } from "../../common/metrics_text.ts";
import { serviceGet } from "../../common/service_process.ts";
import type { QueueDepth } from "../queue_depth.ts";

/** The service's counters the demo shows, read from /metrics. */
export interface ServiceCounters {
  /** SQS messages received, redeliveries included. */
  readonly received: number;
  /** Events acknowledged by Kinesis. */
  readonly published: number;
  /** Invalid messages dropped, every reason. */
  readonly invalid: number;
  /** Records retried after a failure, every error code. */
  readonly retries: number;
  /** Messages held by the service right now. */
  readonly inFlight: number;
}

/** The counters from a /metrics scrape (see {@linkcode metricTotals}). */
export function serviceCounters(totals: ReadonlyMap<string, number>): ServiceCounters {
  const get = (name: string) => totals.get(name) ?? 0;
  return {
    received: get("edr_submissions_messages_received_total"),
    published: get("edr_submissions_events_published_total"),
    invalid: get("edr_submissions_messages_invalid_total"),
    retries: get("edr_submissions_record_retries_total"),
    inFlight: get("edr_submissions_messages_in_flight"),
  };
}

/** One refresh of the status line. */
export interface DemoStatus {
  /** Seconds since the fleet started. */
  readonly elapsedSeconds: number;
  /** What the status is about: `running` or `draining`. */
  readonly phase: string;
  /** Submissions the fleet got confirmed by SQS. */
  readonly sent: number;
  /** The service's counters; `undefined` when /metrics did not answer. */
  readonly counters: ServiceCounters | undefined;
  /** Events published per second since the previous refresh. */
  readonly eventsPerSecond: number | undefined;
  /** The queue's depth; `undefined` when SQS did not answer. */
  readonly queue: QueueDepth | undefined;
}

/** The status line: `[  8s] sent 40  received 40  published 301  invalid 0  retries 21 …`. */
export function formatStatus(status: DemoStatus): string {
  const parts = [`[${String(Math.floor(status.elapsedSeconds)).padStart(3)}s]`];
  if (status.phase !== "running") parts.push(status.phase);
  parts.push(`sent ${status.sent}`);
  const c = status.counters;
  parts.push(
    c === undefined ? "metrics unavailable" : `received ${c.received}  published ${c.published}  ` +
      `invalid ${c.invalid}  retries ${c.retries}`,
  );
  if (status.eventsPerSecond !== undefined) {
    parts.push(`${status.eventsPerSecond.toFixed(1)} events/s`);
  }
  const q = status.queue;
  parts.push(q === undefined ? "queue ?" : `queue ${q.visible} (${q.inFlight} in flight)`);
  return parts.join("  ");
}

/** The service's counters, or `undefined` when /metrics does not answer. */
export async function scrapeCounters(port: number): Promise<ServiceCounters | undefined> {
  const response = await serviceGet(port, "/metrics");
  if (response?.status !== 200) return undefined;
  return serviceCounters(metricTotals(response.text));
}
