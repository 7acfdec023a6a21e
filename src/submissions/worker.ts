/**
 * A worker: one receive loop. It long-polls the queue, and hands each message to its own task
 * — decode and validate, publish every event in order, then delete — without waiting for it, so
 * one worker keeps hundreds of submissions in the shared publisher (up to the capacity).
 *
 * Every way a message can end is named here: published and deleted; rejected (counted, copied to
 * the invalid queue when configured and SQS accepts the copy) and deleted; deferred (handed back
 * to the queue unpublished, for a while, when its device already has more waiting than its shard
 * takes in `KINESIS_KEY_BACKLOG_SECONDS`: see {@linkcode deferralSeconds}); released for redelivery (shutdown or
 * publish timeout); or left to time out when even that fails.
 *
 * @module
 */
import { backoffDelay, sleep } from "../app/backoff.ts";
import type { Capacity } from "./capacity.ts";
import { decodeMessage, type PartitionKeyField } from "./codec.ts";
import type { Logger } from "../app/logging.ts";
import type { Metrics } from "./metrics.ts";
import type { OrderedPublisher } from "./ordered_publisher.ts";
import type { Rejection } from "./reject_reason.ts";
import { SQS_RETRY } from "./retry_policy.ts";
import type { ReceivedMessage, SqsSource } from "./sqs_source.ts";
import { SubmissionSpan } from "./submission_span.ts";
import type { VisibilityHeartbeat } from "./visibility_heartbeat.ts";
import { errorMessage } from "../app/error_message.ts";

/** What a worker works with, shared by all workers. */
export interface WorkerOptions {
  /** The worker's number, for logs. */
  readonly id: number;
  readonly source: SqsSource;
  readonly publisher: OrderedPublisher;
  readonly heartbeat: VisibilityHeartbeat;
  readonly capacity: Capacity;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** The partition key field of the records. */
  readonly partitionKey: PartitionKeyField;
  /** Messages per receive; a receive waits until this many fit in the capacity. */
  readonly maxMessages: number;
  /** After this long (plus the per-event part) a message still not published is released, ms. */
  readonly publishTimeoutMs: number;
  /** What each event adds to the publish deadline, ms. Default 0. See {@linkcode publishDeadlineMs}. */
  readonly publishTimeoutMsPerEvent?: number;
  /** Events one submission may hold (beyond: rejected, `too_many_events`). Default the codec's. */
  readonly maxEvents?: number;
  /** How long a failing delete is retried, in milliseconds (one visibility timeout). */
  readonly deleteRetryMs: number;
  /** Aborted to stop receiving (SIGTERM): aborts the long poll at once. */
  readonly stopReceiving: AbortSignal;
  /** Aborted to give up on messages in progress (shutdown timeout): they are released. */
  readonly giveUp: AbortSignal;
  /**
   * The receive count a deferred message must stay below: the queue's redrive
   * `maxReceiveCount` (so deferring never sends a valid submission to the dead-letter queue),
   * `Infinity` without a redrive policy, 0 (never defer) while it is not known. Default 0.
   */
  readonly deferralLimit?: () => number;
  /** Called after each receive: `true` when it succeeded (readiness). */
  readonly onReceive?: (ok: boolean) => void;
}

/**
 * One receive loop and the tasks of the messages it received.
 *
 * ```ts
 * import { getLogger } from "../app/logging.ts";
 * import { createRegistry } from "../app/metrics.ts";
 * import { createKinesisClient, createSqsClient } from "./aws_clients.ts";
 * import { Capacity } from "./capacity.ts";
 * import { createKinesisSink } from "./kinesis_sink.ts";
 * import { createMetrics } from "./metrics.ts";
 * import { OrderedPublisher } from "./ordered_publisher.ts";
 * import { SqsSource } from "./sqs_source.ts";
 * import { VisibilityHeartbeat } from "./visibility_heartbeat.ts";
 * import { SubmissionWorker } from "./worker.ts";
 *
 * const credentials = { accessKeyId: "test", secretAccessKey: "test" };
 * const aws = { region: "eu-west-1", endpoint: "http://localhost:4566", credentials };
 * const source = new SqsSource({
 *   client: createSqsClient(aws),
 *   queueUrl: "http://localhost:4566/000000000000/submissions",
 *   maxMessages: 10,
 *   visibilityTimeoutSeconds: 30,
 *   waitTimeSeconds: 20,
 * });
 * const sink = createKinesisSink(createKinesisClient(aws), "events");
 * const stop = new AbortController();
 * const worker = new SubmissionWorker({
 *   id: 1,
 *   source,
 *   publisher: new OrderedPublisher({ sink }),
 *   heartbeat: new VisibilityHeartbeat({
 *     visibilityTimeoutSeconds: 30,
 *     changeVisibility: (handle, seconds) => source.changeVisibility(handle, seconds),
 *   }),
 *   capacity: new Capacity(1_000),
 *   metrics: createMetrics(createRegistry().registry),
 *   logger: getLogger("submissions", "worker"),
 *   partitionKey: "device_id",
 *   maxMessages: 10,
 *   publishTimeoutMs: 900_000,
 *   deleteRetryMs: 30_000,
 *   stopReceiving: stop.signal,
 *   giveUp: new AbortController().signal,
 * });
 * const running = worker.run(); // receive, publish, delete, until `stop` aborts
 * stop.abort(); // on SIGTERM: the long poll ends at once
 * await running;
 * await worker.settled(); // every message it received has ended
 * ```
 */
export class SubmissionWorker {
  readonly #o: WorkerOptions;
  readonly #tasks = new Set<Promise<void>>();

  /** Makes a worker; {@linkcode SubmissionWorker.run} starts it. */
  constructor(options: WorkerOptions) {
    this.#o = options;
  }

  /** Messages of this worker in progress. */
  get inProgress(): number {
    return this.#tasks.size;
  }

  /** Receives until `stopReceiving` aborts. Never rejects. */
  async run(): Promise<void> {
    const { source, capacity, stopReceiving, maxMessages, logger, metrics } = this.#o;
    let failures = 0;
    while (!stopReceiving.aborted) {
      // Reserved before the receive: workers that only waited for room would all see the same
      // room free after one release, and together receive past the limit.
      if (!await capacity.reserve(maxMessages, stopReceiving)) break;
      let messages: ReceivedMessage[];
      try {
        messages = await source.receive(stopReceiving);
        failures = 0;
        this.#o.onReceive?.(true);
      } catch (error) {
        capacity.release(maxMessages);
        if (stopReceiving.aborted) break;
        failures++;
        metrics.sqsErrors.inc({ operation: "ReceiveMessage" });
        this.#o.onReceive?.(false);
        const delay = backoffDelay(failures, SQS_RETRY.receive);
        logger.warn("receive failed ({failures} in a row), retrying in {delay} ms: {error}", {
          worker: this.#o.id,
          failures,
          delay,
          error: describe(error),
        });
        await sleep(delay, stopReceiving);
        continue;
      }
      // Each message keeps its unit until it ends; what the receive did not fill goes back.
      capacity.release(maxMessages - messages.length);
      for (const message of messages) this.#start(message);
    }
  }

  /** Resolves when every message this worker received has ended. */
  async settled(): Promise<void> {
    while (this.#tasks.size > 0) await Promise.all(this.#tasks);
  }

  #start(message: ReceivedMessage): void {
    const { capacity, heartbeat, metrics } = this.#o;
    metrics.messagesReceived.inc();
    metrics.messagesInFlight.inc();
    heartbeat.track(message.messageId, message.receiptHandle);
    const span = SubmissionSpan.start(message);
    const task = this.#process(message, span)
      .then(() => span.end())
      .catch((error) => {
        // A defect, not an input problem: keep the message (it comes back) and the worker.
        span.end(error);
        metrics.workerErrors.inc();
        this.#o.logger.error("unexpected failure processing {messageId}: {error}", {
          messageId: message.messageId,
          error: describe(error),
        });
      })
      .finally(() => {
        heartbeat.untrack(message.messageId);
        metrics.messagesInFlight.dec();
        capacity.release();
        this.#tasks.delete(task);
      });
    this.#tasks.add(task);
  }

  async #process(message: ReceivedMessage, span: SubmissionSpan): Promise<void> {
    const { metrics, publisher, partitionKey, giveUp, maxEvents } = this.#o;
    const started = performance.now();
    const decoded = decodeMessage(message.body, {
      processedAt: new Date(),
      partitionKey,
      maxEvents,
    });
    if (!decoded.ok) {
      span.outcome("rejected", decoded.reason);
      return await this.#reject(message, decoded);
    }
    span.decoded({ events: decoded.records.length, submissionId: decoded.submissionId });
    if (decoded.unknownEventTypes.length > 0) {
      metrics.unknownEventTypes.inc(decoded.unknownEventTypes.length);
      this.#o.logger.debug("ignored unknown event types {types} in {submissionId}", {
        messageId: message.messageId,
        submissionId: decoded.submissionId,
        types: decoded.unknownEventTypes.slice(0, 10).map((t) => t.slice(0, 64)),
      });
    }
    const key = decoded.records[0]?.partitionKey;
    if (key !== undefined && this.#mayDefer(message) && publisher.overloaded(key)) {
      span.outcome("deferred");
      return await this.#defer(message);
    }
    // Give up on shutdown, or when publishing takes longer than the publish deadline, which
    // grows with the events: a large valid submission is never released and looped from event 0.
    const timeout = new AbortController();
    const deadlineMs = publishDeadlineMs(decoded.records.length, {
      baseMs: this.#o.publishTimeoutMs,
      perEventMs: this.#o.publishTimeoutMsPerEvent ?? 0,
    });
    const timer = setTimeout(() => timeout.abort(), deadlineMs);
    const signal = AbortSignal.any([giveUp, timeout.signal]);
    const outcome = await span.publish(
      decoded.records.length,
      (onSent) => publisher.publish(decoded.records, { signal, onSent }),
    ).finally(() => clearTimeout(timer));
    if (!outcome.complete) {
      const cause = giveUp.aborted ? "shutdown" : "publish_timeout";
      span.outcome("released", cause);
      return await this.#release(message, cause, {
        published: outcome.published,
        events: decoded.records.length,
      });
    }
    if (message.sentTimestamp !== undefined) {
      metrics.endToEndSeconds.observe(Math.max(0, Date.now() - message.sentTimestamp) / 1000);
    }
    span.outcome("published");
    if (await span.delete(() => this.#delete(message, "published"))) {
      metrics.messageSeconds.observe((performance.now() - started) / 1000);
      metrics.lastSuccess.set(Date.now() / 1000);
    }
  }

  async #reject(message: ReceivedMessage, rejection: Rejection): Promise<void> {
    const { metrics, source, logger } = this.#o;
    metrics.messagesInvalid.inc({ reason: rejection.reason });
    // The detail never holds the payload; the payload itself is never logged.
    logger.warn("dropping invalid message {messageId}: {reason}: {detail}", {
      messageId: message.messageId,
      reason: rejection.reason,
      detail: rejection.detail,
      receiveCount: message.receiveCount,
    });
    const copy = await source.sendInvalid(message, rejection);
    if (copy === "failed") {
      // Not deleted: the message becomes visible again after its timeout and is retried then.
      logger.warn("could not copy {messageId} to the invalid queue; it will come back", {
        messageId: message.messageId,
      });
      return;
    }
    if (copy === "refused") {
      // Kept, it would come back and be refused again forever. It is invalid: deleting it loses
      // no valid data.
      logger.error("SQS refuses a copy of {messageId} in the invalid queue; deleting it", {
        messageId: message.messageId,
      });
    } else if (copy === "copied") metrics.messagesDeadLettered.inc();
    await this.#delete(message, "rejected");
  }

  #mayDefer(message: ReceivedMessage): boolean {
    return message.receiveCount + 1 < (this.#o.deferralLimit?.() ?? 0);
  }

  /** Hands the message back to the queue, unpublished, for {@linkcode deferralSeconds}. */
  async #defer(message: ReceivedMessage): Promise<void> {
    const seconds = deferralSeconds(message.receiveCount);
    this.#o.heartbeat.untrack(message.messageId);
    if (await this.#o.source.changeVisibility(message.receiptHandle, seconds)) {
      this.#o.metrics.messagesDeferred.inc();
    }
    this.#o.logger.debug("deferring {messageId} for {seconds} s: its device is over its share", {
      messageId: message.messageId,
      seconds,
      receiveCount: message.receiveCount,
    });
  }

  async #release(
    message: ReceivedMessage,
    cause: "shutdown" | "publish_timeout",
    progress: { published: number; events: number },
  ): Promise<void> {
    this.#o.logger.warn("releasing {messageId} ({cause}) after {published}/{events} events", {
      messageId: message.messageId,
      cause,
      ...progress,
    });
    this.#o.heartbeat.untrack(message.messageId);
    if (await this.#o.source.changeVisibility(message.receiptHandle, 0)) {
      this.#o.metrics.messagesReleased.inc({ cause });
    }
  }

  /**
   * Deletes, retrying for up to one visibility timeout (SQS briefly unreachable): the heartbeat
   * keeps the message ours meanwhile, and a delete that gives up means a redelivery.
   */
  async #delete(message: ReceivedMessage, outcome: "published" | "rejected"): Promise<boolean> {
    const giveUpAt = performance.now() + this.#o.deleteRetryMs;
    for (let attempt = 1;; attempt++) {
      if (await this.#o.source.delete(message.receiptHandle)) {
        this.#o.metrics.messagesDeleted.inc({ outcome });
        return true;
      }
      if (performance.now() >= giveUpAt || this.#o.giveUp.aborted) break;
      await sleep(backoffDelay(attempt, SQS_RETRY.delete), this.#o.giveUp);
    }
    // Its events are in the stream; when it comes back they are published again with the same
    // event ids, which consumers drop.
    this.#o.logger.error("could not delete {messageId}; it will be redelivered", {
      messageId: message.messageId,
    });
    return false;
  }
}

/**
 * How long a deferred message stays away: 1 s the first time it is received, then twice as
 * long each time (its `ApproximateReceiveCount`), at most 60 s. A device far above its shard's
 * limit has a backlog that grows in the queue; its messages come back ever more rarely instead
 * of being received again and again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deferralSeconds } from "./worker.ts";
 * assert.equal(deferralSeconds(1), 1);
 * assert.equal(deferralSeconds(3), 4);
 * assert.equal(deferralSeconds(20), 60);
 * ```
 */
export function deferralSeconds(receiveCount: number): number {
  return Math.min(60, 2 ** (Math.max(1, receiveCount) - 1));
}

/** SQS's ceiling on a message's visibility, counted from its first receive: 12 h. */
const MAX_VISIBILITY_MS = 43_200_000;

/**
 * How long a message of `events` events may take to publish: `baseMs + events × perEventMs`
 * (each event is one `PutRecords` round trip after the other, for order), at most SQS's 12 h
 * visibility ceiling less a minute (the heartbeat cannot hold a message past it anyway).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { publishDeadlineMs } from "./worker.ts";
 * // The defaults: 900 s, and 200 ms per event.
 * assert.equal(publishDeadlineMs(10, { baseMs: 900_000, perEventMs: 200 }), 902_000);
 * assert.equal(publishDeadlineMs(5_000, { baseMs: 900_000, perEventMs: 200 }), 1_900_000);
 * assert.equal(publishDeadlineMs(1e6, { baseMs: 900_000, perEventMs: 60_000 }), 43_140_000);
 * ```
 */
export function publishDeadlineMs(
  events: number,
  options: { readonly baseMs: number; readonly perEventMs: number },
): number {
  return Math.min(options.baseMs + events * options.perEventMs, MAX_VISIBILITY_MS - 60_000);
}

function describe(error: unknown): string {
  return errorMessage(error, { withName: true, maxLength: 300 });
}
