/**
 * When the benchmarks' submissions complete in the stream (their last event's arrival), read
 * back after a run (e2e.ts) or followed live while the fleet sends (sustained.ts, hot_device.ts),
 * and the end-to-end latencies that follow from their send times.
 *
 * ```ts
 * import { completionTimes, latencies } from "./completions.ts";
 *
 * const data = new TextEncoder().encode('{"submission_id":"S-1"}');
 * const record = { shardId: "shardId-000000000000", sequenceNumber: "1", data };
 * const done = completionTimes([{ ...record, arrivalTime: new Date(1_250) }]);
 * latencies(new Map([["s-1", 1_000]]), done); // [250]
 * ```
 *
 * @module
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { StreamRecord } from "../../tools/submissions/read_stream.ts";
import { followStream } from "../../tools/submissions/tail.ts";

const utf8 = new TextDecoder();

/** The submission id of a record of the stream, lower-cased (the key of the send times). */
function submissionOf(record: { readonly data: Uint8Array }): string {
  const { submission_id: id } = JSON.parse(utf8.decode(record.data)) as { submission_id: string };
  return String(id).toLowerCase();
}

/**
 * Per submission, the epoch ms its last event arrived: a submission is done only when all its
 * events are in, so that is its end-to-end completion time.
 *
 * @example
 * ```ts
 * import { completionTimes } from "./completions.ts";
 *
 * const data = new TextEncoder().encode('{"submission_id":"S-1"}');
 * const records = [1_000, 1_250].map((ms, i) => ({
 *   shardId: "shardId-000000000000",
 *   sequenceNumber: String(i),
 *   data,
 *   arrivalTime: new Date(ms),
 * }));
 * completionTimes(records); // Map { "s-1" => 1250 }
 * ```
 */
export function completionTimes(records: Iterable<StreamRecord>): Map<string, number> {
  const done = new Map<string, number>();
  for (const record of records) {
    const key = submissionOf(record);
    done.set(key, Math.max(done.get(key) ?? 0, record.arrivalTime?.getTime() ?? NaN));
  }
  return done;
}

/** A submission sent and not yet complete in the stream. */
export interface PendingSubmission {
  /** Epoch ms just before it was sent. */
  readonly sentAt: number;
  /** Its events not yet seen in the stream. */
  remaining: number;
}

/** Options of {@linkcode followCompletions}. */
export interface FollowCompletionsOptions<T extends PendingSubmission> {
  /** The stream to follow from TRIM_HORIZON. */
  readonly streamName: string;
  /** The submissions waited for, by lower-cased id; each leaves it once complete. */
  readonly pending: Map<string, T>;
  /** Stops following. */
  readonly signal: AbortSignal;
  /** Called once per submission, when its last event arrives (epoch ms). */
  readonly onComplete: (submission: T, arrivedAt: number) => void;
  /** Called for every record, copies included. */
  readonly onRecord?: () => void;
}

/**
 * Follows the stream while a benchmark sends and calls `onComplete` when a pending submission's
 * last event arrives: its end-to-end latency, live. Resolves when stopped; a failure is printed
 * (the run goes on and its figures show what was missed).
 *
 * @example
 * ```ts
 * import { PutRecordCommand } from "@aws-sdk/client-kinesis";
 * import { startLocalStack } from "../../tools/submissions/local_stack.ts";
 * import { followCompletions, type PendingSubmission } from "./completions.ts";
 *
 * await using stack = await startLocalStack();
 * const clients = stack.createClients();
 * const pending = new Map<string, PendingSubmission>([["s-1", { sentAt: Date.now(), remaining: 1 }]]);
 * const stop = new AbortController();
 * const latencies: number[] = [];
 * const following = followCompletions(clients.kinesis, {
 *   streamName: stack.streamName,
 *   pending,
 *   signal: stop.signal,
 *   onComplete: (submission, at) => latencies.push(at - submission.sentAt),
 * });
 * const data = new TextEncoder().encode('{"submission_id":"S-1"}');
 * await clients.kinesis.send(
 *   new PutRecordCommand({ StreamName: stack.streamName, Data: data, PartitionKey: "d" }),
 * );
 * while (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 50));
 * latencies.length; // 1: S-1's one event arrived
 * stop.abort();
 * await following;
 * clients.destroy();
 * ```
 */
export function followCompletions<T extends PendingSubmission>(
  kinesis: KinesisClient,
  options: FollowCompletionsOptions<T>,
): Promise<void> {
  return followStream(kinesis, {
    streamName: options.streamName,
    from: "TRIM_HORIZON",
    idleMs: 50,
    signal: options.signal,
    onRecords(records) {
      for (const record of records) {
        options.onRecord?.();
        const key = submissionOf(record);
        const submission = options.pending.get(key);
        // Copies (at-least-once) of an already complete submission are not latencies.
        if (submission === undefined || --submission.remaining > 0) continue;
        options.pending.delete(key);
        options.onComplete(submission, record.arrivalTime?.getTime() ?? Date.now());
      }
    },
  }).catch((error) => {
    if (!options.signal.aborted) console.error(`following the stream failed: ${error}`);
  });
}

/**
 * End-to-end latencies in ms, ascending: completion minus send time, for submissions with both.
 *
 * @example
 * ```ts
 * import { latencies } from "./completions.ts";
 *
 * const sentAt = new Map([["a", 1_000], ["b", 1_100], ["c", 1_200]]);
 * latencies(sentAt, new Map([["a", 1_900], ["b", 1_300]])); // [200, 900]
 * ```
 */
export function latencies(
  sentAt: ReadonlyMap<string, number>,
  completed: ReadonlyMap<string, number>,
): number[] {
  const out: number[] = [];
  for (const [id, at] of completed) {
    const sent = sentAt.get(id);
    if (sent !== undefined) out.push(Math.max(0, at - sent));
  }
  return out.sort((a, b) => a - b);
}
