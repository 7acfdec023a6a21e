/**
 * The service: `WORKERS` receive loops, one shared ordering publisher, the visibility heartbeat
 * and the operations endpoint, with an explicit lifecycle.
 *
 * - `start()` listens on `HTTP_PORT` at once, then resolves the queue (retrying while SQS is
 *   unreachable, not ready meanwhile) and starts the workers.
 * - `stop()` is the graceful shutdown: stop receiving at once (the long polls are aborted), let
 *   messages in flight finish, give up on the rest before the shutdown timeout (they are
 *   released, visibility 0, never deleted partly published), then close everything.
 *
 * @module
 */
import { DescribeStreamSummaryCommand, type KinesisClient } from "@aws-sdk/client-kinesis";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { backoffDelay, sleep } from "../app/backoff.ts";
import { Capacity } from "./capacity.ts";
import type { Config } from "./config.ts";
import { type HttpServer, startHttpServer } from "../app/http_server.ts";
import { createKinesisSink, type RecordSink } from "./kinesis_sink.ts";
import { getLogger } from "../app/logging.ts";
import { createMetrics, type Metrics, publisherObserver } from "./metrics.ts";
import { OrderedPublisher } from "./ordered_publisher.ts";
import { Readiness, type ReadinessReport } from "../app/readiness.ts";
import { resolveQueueUrl, SqsSource } from "./sqs_source.ts";
import { VisibilityHeartbeat } from "./visibility_heartbeat.ts";
import { Worker } from "./worker.ts";

/** Options of {@linkcode PreprocessorService}. */
export interface ServiceOptions {
  /** The validated configuration. */
  readonly config: Config;
  /** The SQS client (made by aws_clients.ts); the caller destroys it after `stop()`. */
  readonly sqs: SQSClient;
  /** The Kinesis client (made by aws_clients.ts); the caller destroys it after `stop()`. */
  readonly kinesis: KinesisClient;
  /** Replaces the Kinesis sink (tests inject faults here). */
  readonly sink?: RecordSink;
}

/** The lifecycle states, in order. */
export type ServiceState = "new" | "running" | "stopping" | "stopped";

/** How often readiness is probed in the background (for the metric and the logs). */
const READINESS_INTERVAL_MS = 5_000;

const logger = getLogger("service");

/** The EDR submission preprocessor. */
export class PreprocessorService {
  /** The service's metrics. */
  readonly metrics: Metrics;
  readonly #o: ServiceOptions;
  readonly #stopReceiving = new AbortController();
  readonly #giveUp = new AbortController();
  readonly #publisher: OrderedPublisher;
  readonly #heartbeat: VisibilityHeartbeat;
  readonly #readiness: Readiness;
  #state: ServiceState = "new";
  #source: SqsSource | undefined;
  #http: HttpServer | undefined;
  #workers: Worker[] = [];
  #main: Promise<void> = Promise.resolve();
  #readinessTimer: ReturnType<typeof setInterval> | undefined;
  #stopped: Promise<void> | undefined;

  /** Makes a service; nothing runs until {@linkcode PreprocessorService.start}. */
  constructor(options: ServiceOptions) {
    this.#o = options;
    const { config } = options;
    this.metrics = createMetrics();
    this.#publisher = new OrderedPublisher({
      sink: options.sink ?? createKinesisSink(options.kinesis, config.streamName),
      lingerMs: config.publishLingerMs,
      maxConcurrentRequests: config.publishMaxConcurrency,
      observer: publisherObserver(this.metrics),
    });
    this.#heartbeat = new VisibilityHeartbeat({
      visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
      changeVisibility: (handle, seconds) =>
        this.#source?.changeVisibility(handle, seconds) ?? Promise.resolve(false),
      onExtended: () => this.metrics.visibilityExtensions.inc(),
    });
    this.#readiness = new Readiness({
      probes: {
        sqs: (signal) =>
          this.#source?.probe(signal) ??
            resolveQueueUrl(options.sqs, config.queueName, signal),
        kinesis: (signal) =>
          options.kinesis.send(
            new DescribeStreamSummaryCommand({ StreamName: config.streamName }),
            { abortSignal: signal },
          ),
      },
      onReport: (report, previous) => this.#onReadiness(report, previous),
    });
  }

  /** The lifecycle state. */
  get state(): ServiceState {
    return this.#state;
  }

  /** The port of the operations endpoint (after start). */
  get httpPort(): number {
    if (this.#http === undefined) throw new Error("the service has not started");
    return this.#http.port;
  }

  /** Messages in progress over all workers. */
  get inFlight(): number {
    return this.#workers.reduce((sum, w) => sum + w.inProgress, 0);
  }

  /** The readiness verdict (what `/readyz` answers). */
  readiness(): Promise<ReadinessReport> {
    return this.#readiness.check();
  }

  /** Starts listening, then (in the background) resolves the queue and starts the workers. */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error(`cannot start a service that is ${this.#state}`);
    this.#state = "running";
    const { config } = this.#o;
    this.#http = await startHttpServer({
      port: config.httpPort,
      registry: this.metrics.registry,
      readiness: () => this.readiness(),
    });
    this.#readinessTimer = setInterval(() => this.readiness(), READINESS_INTERVAL_MS);
    logger.info("listening on :{port}; {workers} workers, queue {queue}, stream {stream}", {
      port: this.#http.port,
      workers: config.workers,
      queue: config.queueUrl ?? config.queueName,
      stream: config.streamName,
    });
    this.#main = this.#run();
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
    const capacity = new Capacity(config.maxInFlightMessages);
    for (let id = 0; id < config.workers; id++) {
      this.#workers.push(
        new Worker({
          id,
          source: this.#source,
          publisher: this.#publisher,
          heartbeat: this.#heartbeat,
          capacity,
          metrics: this.metrics,
          logger: getLogger("worker"),
          partitionKey: config.partitionKey,
          maxMessages: config.maxMessages,
          publishTimeoutMs: config.publishTimeoutSeconds * 1000,
          deleteRetryMs: config.visibilityTimeoutSeconds * 1000,
          stopReceiving: this.#stopReceiving.signal,
          giveUp: this.#giveUp.signal,
        }),
      );
    }
    logger.info("consuming {queueUrl}", { queueUrl });
    await Promise.all(this.#workers.map((w) => w.run()));
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
        const delay = backoffDelay(failures, { baseMs: 500, capMs: 10_000 });
        logger.warn("cannot resolve queue {queue} ({error}); retrying in {delay} ms", {
          queue: config.queueName,
          error: error instanceof Error ? error.message : String(error),
          delay,
        });
        await sleep(delay, signal);
      }
    }
    return undefined;
  }

  /**
   * Graceful shutdown; idempotent. Stops receiving at once, lets messages in flight finish until
   * 80 % of `timeoutMs` (default: the configured shutdown timeout), then releases the rest;
   * every wait is bounded by `timeoutMs`, so a dead dependency cannot hold the exit.
   */
  stop(timeoutMs = this.#o.config.shutdownTimeoutSeconds * 1000): Promise<void> {
    this.#stopped ??= this.#stop(timeoutMs);
    return this.#stopped;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    this.#state = "stopping";
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
    clearInterval(this.#readinessTimer);
    await this.#http?.shutdown();
    this.#state = "stopped";
    logger.info("stopped");
  }

  #onReadiness(report: ReadinessReport, previous: ReadinessReport | undefined): void {
    for (const [dependency, up] of Object.entries(report.dependencies)) {
      this.metrics.dependencyUp.set({ dependency }, up ? 1 : 0);
    }
    if (previous?.ready !== report.ready) {
      const fields = { ready: report.ready, dependencies: report.dependencies };
      if (report.ready) logger.info("ready: {dependencies}", fields);
      else logger.warn("not ready: {dependencies}", fields);
    }
  }
}

/** Whether `promise` settles within `ms` milliseconds (it is not cancelled otherwise). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timer = new AbortController();
  const done = await Promise.race([
    promise.then(() => true),
    sleep(Math.max(0, ms), timer.signal).then(() => false),
  ]);
  timer.abort();
  return done;
}
