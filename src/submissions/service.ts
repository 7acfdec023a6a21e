/**
 * The submissions pipeline as a component: `WORKERS` receive loops, one shared ordering
 * publisher and the visibility heartbeat, with an explicit lifecycle.
 *
 * - `start()` resolves the queue in the background (retrying while SQS is unreachable, not ready
 *   meanwhile) and starts the workers.
 * - `stop(deadline)` is the graceful shutdown: stop receiving at once (the long polls are
 *   aborted), let messages in flight finish until 80 % of the time left, give up on the rest
 *   (they are released, visibility 0, never deleted partly published), then destroy the clients.
 *
 * How to build one: the example of {@linkcode SubmissionsService}; the component does it in
 * mod.ts (`createSubmissions`).
 *
 * @module
 */
import { DescribeStreamSummaryCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Registry } from "prom-client";
import { backoffDelay, sleep } from "../app/backoff.ts";
import type { Component } from "../app/component.ts";
import { remaining, within } from "../app/deadline.ts";
import { Lifecycle, type LifecycleState } from "../app/lifecycle.ts";
import { getLogger } from "../app/logging.ts";
import type { Probe } from "../app/readiness.ts";
import { Capacity } from "./capacity.ts";
import type { SubmissionsConfig } from "./settings.ts";
import { createKinesisSink, type RecordSink } from "./kinesis_sink.ts";
import { createMetrics, limiterObserver, type Metrics, publisherObserver } from "./metrics.ts";
import { OrderedPublisher } from "./ordered_publisher.ts";
import { resolveQueueUrl, SqsSource } from "./sqs_source.ts";
import { VisibilityHeartbeat } from "./visibility_heartbeat.ts";
import { SQS_RETRY } from "./retry_policy.ts";
import { SubmissionWorker } from "./worker.ts";
import { errorMessage } from "../app/error_message.ts";

/** Options of {@linkcode SubmissionsService}. */
export interface ServiceOptions {
  /** The validated configuration. */
  readonly config: SubmissionsConfig;
  /** The SQS client (made by aws_clients.ts); the service destroys it when stopped. */
  readonly sqs: SQSClient;
  /** The Kinesis client (made by aws_clients.ts); the service destroys it when stopped. */
  readonly kinesis: KinesisClient;
  /** The registry its metrics are registered on (the app's). */
  readonly registry: Registry;
  /** Replaces the Kinesis sink (tests inject faults here). */
  readonly sink?: RecordSink;
}

const logger = getLogger("submissions", "service");

/**
 * The EDR submissions pipeline: SQS submissions → validated events → Kinesis.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { readSettings } from "../app/settings.ts";
 * import { createKinesisClient, createSqsClient } from "./aws_clients.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * import { SubmissionsService } from "./service.ts";
 *
 * const config = configure(readSettings(SETTINGS, {}), {});
 * const service = new SubmissionsService({
 *   config,
 *   sqs: createSqsClient({ region: config.region, endpoint: config.sqsEndpoint }),
 *   kinesis: createKinesisClient({ region: config.region, endpoint: config.kinesisEndpoint }),
 *   registry: createRegistry().registry,
 * });
 * assert.equal(service.describe(), "8 workers, queue submissions, stream events");
 * // nothing runs before start()
 * assert.equal(service.state, "idle");
 * ```
 */
export class SubmissionsService implements Component {
  /** The pipeline's metrics. */
  readonly metrics: Metrics;
  /** No routes: the pipeline is driven by the queue. */
  readonly routes = [];
  /** Ready when SQS and Kinesis answer. */
  readonly checks: Readonly<Record<string, Probe>>;
  readonly #o: ServiceOptions;
  readonly #stopReceiving = new AbortController();
  readonly #giveUp = new AbortController();
  readonly #publisher: OrderedPublisher;
  readonly #heartbeat: VisibilityHeartbeat;
  readonly #lifecycle = new Lifecycle("the submissions service");
  #source: SqsSource | undefined;
  #workers: SubmissionWorker[] = [];
  #main: Promise<void> = Promise.resolve();

  /** Makes a service; nothing runs until {@linkcode SubmissionsService.start}. */
  constructor(options: ServiceOptions) {
    this.#o = options;
    const { config } = options;
    this.metrics = createMetrics(options.registry);
    this.#publisher = new OrderedPublisher({
      sink: options.sink ?? createKinesisSink(options.kinesis, config.streamName),
      lingerMs: config.publishLingerMs,
      maxConcurrentRequests: config.publishMaxConcurrency,
      observer: publisherObserver(this.metrics),
      shardRateLimitPercent: config.shardRateLimitPercent,
      keyBacklogSeconds: config.keyBacklogSeconds,
      limiterObserver: limiterObserver(this.metrics, getLogger("submissions", "publisher")),
    });
    this.#heartbeat = new VisibilityHeartbeat({
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      changeVisibility: (handle, seconds) =>
        this.#source?.changeVisibility(handle, seconds) ?? Promise.resolve(false),
      onExtended: () => this.metrics.visibilityExtensions.inc(),
    });
    this.checks = {
      sqs: (signal) =>
        this.#source?.probe(signal) ?? resolveQueueUrl(options.sqs, config.queueName, signal),
      kinesis: (signal) =>
        options.kinesis.send(
          new DescribeStreamSummaryCommand({ StreamName: config.streamName }),
          { abortSignal: signal },
        ),
    };
  }

  /** The lifecycle state. */
  get state(): LifecycleState {
    return this.#lifecycle.state;
  }

  /** Messages in progress over all workers. */
  get inFlight(): number {
    return this.#workers.reduce((sum, w) => sum + w.inProgress, 0);
  }

  /** `8 workers, queue submissions, stream events`: for the start-up log line. */
  describe(): string {
    const { config } = this.#o;
    const queue = config.queueUrl ?? config.queueName;
    return `${config.workers} workers, queue ${queue}, stream ${config.streamName}`;
  }

  /** Resolves the queue and starts the workers, in the background. */
  start(): Promise<void> {
    return this.#lifecycle.start(() => {
      this.#main = this.#run();
      return Promise.resolve();
    });
  }

  async #run(): Promise<void> {
    const { config, sqs } = this.#o;
    const queueUrl = config.queueUrl ?? await this.#resolveQueue();
    if (queueUrl === undefined) return; // stopped before the queue could be resolved
    this.#source = new SqsSource({
      client: sqs,
      queueUrl,
      invalidQueueUrl: config.invalidQueueUrl,
      maxMessages: config.maxMessages,
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      waitTimeSeconds: config.waitTimeSeconds,
      onError: (operation) => this.metrics.sqsErrors.inc({ operation }),
    });
    this.#heartbeat.start();
    const deferral = this.#deferralLimit(this.#source);
    const capacity = new Capacity(config.maxInFlightMessages);
    for (let id = 0; id < config.workers; id++) {
      this.#workers.push(
        new SubmissionWorker({
          id,
          source: this.#source,
          publisher: this.#publisher,
          heartbeat: this.#heartbeat,
          capacity,
          metrics: this.metrics,
          logger: getLogger("submissions", "worker"),
          partitionKey: config.partitionKey,
          maxMessages: config.maxMessages,
          publishTimeoutMs: config.publishTimeoutSeconds * 1000,
          publishTimeoutMsPerEvent: config.publishTimeoutMsPerEvent,
          maxEvents: config.maxEventsPerSubmission,
          deleteRetryMs: config.visibilityTimeoutSeconds * 1000,
          stopReceiving: this.#stopReceiving.signal,
          giveUp: this.#giveUp.signal,
          deferralLimit: deferral.limit,
        }),
      );
    }
    logger.info("consuming {queueUrl}", { queueUrl });
    await Promise.all([...this.#workers.map((w) => w.run()), deferral.loaded]);
  }

  /**
   * The receive count deferred messages must stay below (see SubmissionWorker): 0 (never defer) without
   * the shard limiter or `KINESIS_KEY_BACKLOG_SECONDS`, and until the queue's redrive policy is
   * read (in the background, retried while SQS does not answer).
   */
  #deferralLimit(source: SqsSource): { limit: () => number; loaded: Promise<void> } {
    const { config } = this.#o;
    let limit = 0;
    const result = { limit: () => limit, loaded: Promise.resolve() };
    if (config.shardRateLimitPercent === 0 || config.keyBacklogSeconds === 0) return result;
    const signal = this.#stopReceiving.signal;
    result.loaded = (async () => {
      for (let failures = 1; !signal.aborted; failures++) {
        try {
          limit = await source.maxReceiveCount(signal) ?? Infinity;
          return;
        } catch (error) {
          if (signal.aborted) return;
          this.metrics.sqsErrors.inc({ operation: "GetQueueAttributes" });
          logger.warn("cannot read the queue's redrive policy ({error}); not deferring yet", {
            error: errorMessage(error),
          });
          await sleep(backoffDelay(failures, SQS_RETRY.redrivePolicy), signal);
        }
      }
    })();
    return result;
  }

  /** GetQueueUrl until it answers, backing off; `undefined` when stopped first. */
  async #resolveQueue(): Promise<string | undefined> {
    const { sqs, config } = this.#o;
    const signal = this.#stopReceiving.signal;
    for (let failures = 1; !signal.aborted; failures++) {
      try {
        return await resolveQueueUrl(sqs, config.queueName, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.metrics.sqsErrors.inc({ operation: "GetQueueUrl" });
        const delay = backoffDelay(failures, SQS_RETRY.resolveQueue);
        logger.warn("cannot resolve queue {queue} ({error}); retrying in {delay} ms", {
          queue: config.queueName,
          error: errorMessage(error),
          delay,
        });
        await sleep(delay, signal);
      }
    }
    return undefined;
  }

  /**
   * Graceful shutdown; idempotent. Stops receiving at once, lets messages in flight finish until
   * 80 % of the time left before `deadline` (a `performance.now()` time), then releases the
   * rest; every wait is bounded by the deadline, so a dead dependency cannot hold the exit.
   * The clients are destroyed last.
   */
  stop(deadline: number): Promise<void> {
    return this.#lifecycle.stop(() => this.#stop(deadline));
  }

  async #stop(deadline: number): Promise<void> {
    const timeoutMs = remaining(deadline);
    logger.info("stopping: no more receives; {inFlight} messages in flight", {
      inFlight: this.inFlight,
    });
    this.#stopReceiving.abort();
    await this.#main; // the receive loops end at once: their long polls are aborted
    const settled = Promise.all(this.#workers.map((w) => w.settled()));
    if (!await within(settled, deadline - performance.now() - timeoutMs * 0.2)) {
      logger.warn("shutdown timeout: releasing {count} messages still in flight", {
        count: this.inFlight,
      });
      this.#giveUp.abort();
    }
    // Releases, deletes and a Kinesis call of an aborted submission may still be under way.
    const drained = Promise.all([settled, this.#publisher.idle(), this.#source?.drain()]);
    if (!await within(drained, deadline - performance.now())) {
      logger.error("shutdown timeout: {count} messages not released; they come back by timeout", {
        count: this.inFlight,
      });
    }
    this.#heartbeat.stop();
    this.#o.sqs.destroy();
    this.#o.kinesis.destroy();
    logger.info("stopped");
  }
}
