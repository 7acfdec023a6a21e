/**
 * The ordering publisher, shared by all workers.
 *
 * Order within a submission holds by construction: each submission is a *chain* that has at most
 * one record outside the publisher's hands at any time. Event `i + 1` becomes ready only after
 * event `i` came back with its own `SequenceNumber`, so two events of one submission are never in
 * one request or in flight together, and a retried record can never land after a later event of
 * its submission (Kinesis's `PutRecords` gives no order between the records of one call).
 *
 * Throughput comes from breadth instead: each `PutRecords` is filled (≤ 500 records, ≤ 5 MiB)
 * with the next record of *many* submissions, across messages and workers.
 *
 * Ready records wait in the shard limiter (shard_limiter.ts), which decides what each call takes
 * and when: with a shard rate limit (`KINESIS_SHARD_RATE_LIMIT`) only records whose shard has
 * budget, without one every ready record, its partition keys taking turns. The chains, and so the
 * order, are the same either way.
 *
 * @module
 */
import { backoffDelay, type BackoffOptions } from "../app/backoff.ts";
import type { RecordSink, SinkRecord, SinkResult } from "./kinesis_sink.ts";
import { KeyBacklog } from "./key_backlog.ts";
import { KINESIS_RETRY } from "./retry_policy.ts";
import {
  PUT_RECORDS_MAX_BYTES,
  PUT_RECORDS_MAX_RECORDS,
  THROTTLED,
  throttledShard,
} from "./kinesis_limits.ts";
import { ShardLimiter, type ShardLimiterObserver } from "./shard_limiter.ts";

/** Hooks through which the publisher reports what it does (metrics live elsewhere). */
export interface PublisherObserver {
  /** A `PutRecords` call returned (`failed` records carried an error code). */
  onRequest?(info: { records: number; bytes: number; seconds: number; failed: number }): void;
  /** A `PutRecords` call failed as a whole; all its records will be retried. */
  onRequestError?(error: unknown, records: number): void;
  /** One record failed with `errorCode` and will be retried after `delayMs` (unless aborted). */
  onRecordRetry?(errorCode: string, delayMs: number): void;
  /**
   * One record was throttled on `shardId` (from Kinesis's message, else the limiter's map;
   * `undefined` when neither tells).
   */
  onThrottled?(shardId: string | undefined): void;
}

/** Options of {@linkcode OrderedPublisher}. */
export interface OrderedPublisherOptions {
  /** Where records go. */
  readonly sink: RecordSink;
  /** Records per call at most. Default 500 (the Kinesis limit). */
  readonly maxBatchRecords?: number;
  /** Bytes per call at most. Default 5 MiB (the Kinesis limit). */
  readonly maxBatchBytes?: number;
  /**
   * How long a ready record may wait for others to share its call, in milliseconds (the KPL's
   * `RecordMaxBufferedTime`). A full batch goes at once. Default 10.
   */
  readonly lingerMs?: number;
  /** `PutRecords` calls in flight at most. Default 4. */
  readonly maxConcurrentRequests?: number;
  /** Backoff of a failed record. Default {@linkcode KINESIS_RETRY}`.record`. */
  readonly backoff?: BackoffOptions;
  /** Reports for metrics and logs. */
  readonly observer?: PublisherObserver;
  /**
   * Percent of Kinesis's per-shard write limits a call may use per shard (the KPL's
   * `RateLimit`); 0, the default, publishes without a shard limiter. Needs `sink.listShards`.
   */
  readonly shardRateLimitPercent?: number;
  /** Reports of the shard limiter. */
  readonly limiterObserver?: ShardLimiterObserver;
  /**
   * With the shard limiter: a partition key with more records waiting than this many seconds
   * of its shard's budget is {@linkcode OrderedPublisher.overloaded}. 0 (the default): never.
   */
  readonly keyBacklogSeconds?: number;
}

/** Options of one {@linkcode OrderedPublisher.publish} call. */
export interface PublishOptions {
  /** Aborting gives up on the rest of the submission (shutdown, timeout). */
  readonly signal?: AbortSignal;
  /** After each round trip of one of its records; `errorCode` when it failed (for traces). */
  readonly onSent?: (errorCode: string | undefined) => void;
}

/** How a submission's publishing ended. */
export interface PublishOutcome {
  /** `true` when every record is in the stream, in order; only then may the message go. */
  readonly complete: boolean;
  /** How many leading records are in the stream. */
  readonly published: number;
}

/** A submission being published: its records and how far it got. */
interface Chain {
  readonly records: readonly SinkRecord[];
  readonly resolve: (outcome: PublishOutcome) => void;
  readonly signal: AbortSignal | undefined;
  readonly onSent: ((errorCode: string | undefined) => void) | undefined;
  readonly onAbort: () => void;
  /** Index of the record to send next; `records.length` when complete. */
  next: number;
  /** Consecutive failures of the record at `next`. */
  failures: number;
  state: "ready" | "in_flight" | "backoff" | "settled";
  /** When the chain last became ready (for the linger deadline). */
  readyAt: number;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Publishes submissions' records in order, batching across submissions.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RecordSink } from "./kinesis_sink.ts";
 * import { OrderedPublisher } from "./ordered_publisher.ts";
 * const calls: number[] = [];
 * const sink: RecordSink = {
 *   putRecords: (records) => {
 *     calls.push(records.length);
 *     return Promise.resolve(records.map(() => ({ sequenceNumber: "1" })));
 *   },
 * };
 * const publisher = new OrderedPublisher({ sink });
 * const record = { data: new TextEncoder().encode("{}"), partitionKey: "device-1" };
 * const outcome = await publisher.publish([record, record]);
 * assert.deepEqual(outcome, { complete: true, published: 2 });
 * // two calls of one record each: the second event left only after the first came back
 * assert.deepEqual(calls, [1, 1]);
 * ```
 */
export class OrderedPublisher {
  readonly #sink: RecordSink;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #lingerMs: number;
  readonly #maxConcurrent: number;
  readonly #backoff: BackoffOptions;
  readonly #observer: PublisherObserver;
  /** The ready chains, and what goes when (with or without a shard rate limit). */
  readonly #limiter: ShardLimiter<Chain>;
  #inFlight = 0;
  /** The one timer of the pump (linger, or a shard's budget), and when it fires. */
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  /** Set while a call's results are handled: one pump after all of them, not one each. */
  #advancing = false;
  readonly #backlog = new KeyBacklog();
  readonly #keyBacklogSeconds: number;
  #chains = 0;
  #idleWaiters: (() => void)[] = [];

  /** Makes a publisher writing to `options.sink`. */
  constructor(options: OrderedPublisherOptions) {
    this.#sink = options.sink;
    this.#maxRecords = Math.min(options.maxBatchRecords ?? 500, PUT_RECORDS_MAX_RECORDS);
    this.#maxBytes = Math.min(
      options.maxBatchBytes ?? PUT_RECORDS_MAX_BYTES,
      PUT_RECORDS_MAX_BYTES,
    );
    this.#lingerMs = options.lingerMs ?? 10;
    this.#maxConcurrent = options.maxConcurrentRequests ?? 4;
    this.#backoff = options.backoff ?? KINESIS_RETRY.record;
    this.#observer = options.observer ?? {};
    this.#keyBacklogSeconds = options.keyBacklogSeconds ?? 0;
    const listShards = options.sink.listShards?.bind(options.sink);
    // Without listShards there is no map to budget on: no limit.
    const limited = listShards !== undefined && (options.shardRateLimitPercent ?? 0) > 0;
    this.#limiter = new ShardLimiter<Chain>({
      listShards,
      ratePercent: limited ? options.shardRateLimitPercent! : 0,
      lingerMs: this.#lingerMs,
      live: (chain) => chain.state === "ready",
      onChange: () => this.#pump(),
      observer: limited ? options.limiterObserver : undefined,
    });
  }

  /** Submissions being published now. */
  get activeSubmissions(): number {
    return this.#chains;
  }

  /** `PutRecords` calls in flight now. */
  get requestsInFlight(): number {
    return this.#inFlight;
  }

  /**
   * Whether a submission of `partitionKey` should wait elsewhere: the key already has more
   * records waiting here than `keyBacklogSeconds` of its shard's whole budget, more than the
   * shard can take in that time even if it took nothing else. Always `false` without the shard
   * limiter (and while its shard is not known).
   */
  overloaded(partitionKey: string): boolean {
    if (this.#keyBacklogSeconds <= 0) return false;
    const recordsPerSecond = this.#limiter.recordsPerSecondOf(partitionKey);
    if (recordsPerSecond === undefined) return false;
    return this.#backlog.records(partitionKey) > recordsPerSecond * this.#keyBacklogSeconds;
  }

  /**
   * Publishes one submission's records in order. Never rejects: faults are retried until every
   * record is in (`complete: true`) or `signal` aborts (`complete: false`, at once).
   *
   * After an abort a record already in flight may still land; nothing after it is sent. That is
   * safe for order: when the message comes back, its copies start again from event 0, and the
   * first copy of every event still comes after the first copy of the one before it.
   */
  publish(records: readonly SinkRecord[], options: PublishOptions = {}): Promise<PublishOutcome> {
    if (records.length === 0) return Promise.resolve({ complete: true, published: 0 });
    const { signal } = options;
    if (signal?.aborted) return Promise.resolve({ complete: false, published: 0 });
    return new Promise((resolve) => {
      const chain: Chain = {
        records,
        resolve,
        signal,
        onSent: options.onSent,
        onAbort: () => this.#abort(chain),
        next: 0,
        failures: 0,
        state: "ready",
        readyAt: 0,
        retryTimer: undefined,
      };
      signal?.addEventListener("abort", chain.onAbort, { once: true });
      this.#chains++;
      this.#backlog.add(records[0]!.partitionKey, records.length);
      this.#makeReady(chain);
    });
  }

  /**
   * Resolves once no submission is being published and no call (nor the limiter's
   * `ListShards`) is in flight (a call of an aborted submission may still be in flight: wait
   * for it, bounded, before exiting).
   */
  async idle(): Promise<void> {
    if (this.#chains !== 0 || this.#inFlight !== 0) {
      await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    }
    await this.#limiter.settled();
  }

  #makeReady(chain: Chain): void {
    chain.state = "ready";
    chain.readyAt = performance.now();
    this.#limiter.add(chain, chain.records[chain.next]!);
    if (!this.#advancing) this.#pump();
  }

  #abort(chain: Chain): void {
    if (chain.state === "backoff") clearTimeout(chain.retryTimer);
    // A ready chain left in the queue is skipped there; an in-flight one is ignored when its
    // call returns (#advance).
    this.#settle(chain);
  }

  #settle(chain: Chain): void {
    if (chain.state === "settled") return;
    chain.state = "settled";
    chain.signal?.removeEventListener("abort", chain.onAbort);
    this.#backlog.remove(chain.records[0]!.partitionKey, chain.records.length - chain.next);
    this.#chains--;
    chain.resolve({ complete: chain.next === chain.records.length, published: chain.next });
    this.#notifyIfIdle();
  }

  #notifyIfIdle(): void {
    if (this.#chains !== 0 || this.#inFlight !== 0) return;
    this.#disarm();
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Sends what the limiter gives, while calls may start; else waits until it says. */
  #pump(): void {
    while (this.#inFlight < this.#maxConcurrent) {
      const poll = this.#limiter.poll(this.#maxRecords, this.#maxBytes);
      if (poll.kind === "wait-until") this.#arm(poll.at);
      if (poll.kind !== "send") return;
      const batch = poll.batch.map((taken) => taken.item);
      for (const chain of batch) chain.state = "in_flight";
      this.#send(batch, poll.bytes, poll.batch.map((taken) => taken.shardId));
    }
  }

  /** Pumps again at `at` (a `performance.now()` reading), unless the timer fires before. */
  #arm(at: number): void {
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    this.#disarm();
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#pump();
    }, Math.max(0, Math.ceil(at - performance.now())));
  }

  #disarm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  async #send(batch: Chain[], bytes: number, shardIds: (string | undefined)[]): Promise<void> {
    this.#inFlight++;
    const records = batch.map((chain) => chain.records[chain.next]!);
    const started = performance.now();
    let results: SinkResult[] | undefined;
    let requestError = "";
    try {
      results = await this.#sink.putRecords(records);
    } catch (error) {
      requestError = errorName(error);
      this.#observer.onRequestError?.(error, records.length);
    }
    this.#inFlight--;
    let failed = 0;
    this.#advancing = true;
    for (let i = 0; i < batch.length; i++) {
      const result = results?.[i];
      const ok = result !== undefined && result.errorCode === undefined;
      if (!ok) failed++;
      if (result?.errorCode === THROTTLED) {
        this.#observer.onThrottled?.(throttledShard(result.errorMessage) ?? shardIds[i]);
      }
      this.#advance(batch[i]!, ok ? undefined : result?.errorCode ?? requestError);
    }
    this.#advancing = false;
    this.#limiter.onResults(shardIds, results, started);
    if (results !== undefined) {
      this.#observer.onRequest?.({
        records: records.length,
        bytes,
        seconds: (performance.now() - started) / 1000,
        failed,
      });
    }
    this.#pump();
    this.#notifyIfIdle();
  }

  /** Moves a chain on after its record's call: next record, retry, or done. */
  #advance(chain: Chain, errorCode: string | undefined): void {
    if (chain.state === "settled") return; // aborted while its record was in flight
    chain.onSent?.(errorCode);
    if (errorCode === undefined) {
      chain.next++;
      this.#backlog.remove(chain.records[0]!.partitionKey, 1);
      chain.failures = 0;
      if (chain.next === chain.records.length) return this.#settle(chain);
      return this.#makeReady(chain);
    }
    chain.failures++;
    const delay = backoffDelay(chain.failures, this.#backoff);
    this.#observer.onRecordRetry?.(errorCode, delay);
    chain.state = "backoff";
    chain.retryTimer = setTimeout(() => {
      chain.retryTimer = undefined;
      this.#makeReady(chain);
    }, delay);
  }
}

/** A bounded label for a failed call: the SDK error's name, e.g. `TimeoutError`. */
function errorName(error: unknown): string {
  if (error instanceof Error && /^[A-Za-z]{1,64}$/.test(error.name)) return error.name;
  return "RequestError";
}
