/**
 * The shared {@linkcode IpEventStore}: several collector instances keep one state in Redis.
 *
 * - `record` never waits: events go to this instance's {@linkcode LocalTally} (per app: count
 *   and events per IP, under the caps), flushed every `flushMs` as chunks of the flush script
 *   in one pipelined round trip (well under one Redis command per datagram: one per chunk of
 *   up to `chunkPairs` (app, IP) pairs).
 * - Each chunk is idempotent (flush_queue.ts, redis_scripts.ts): a chunk Redis applied but whose
 *   reply was lost is recognised when it is sent again, so nothing is counted twice across a
 *   reconnect. A chunk not acknowledged is kept and sent again, with the same number; events
 *   arriving meanwhile gather in the tally (bounded by the caps), so an outage loses nothing
 *   this process holds. Failed flushes back off (src/app/backoff.ts) and make `check` reject.
 * - `answer` reads the app's hash and this instance's applied sequence in one script, then
 *   adds what Redis does not hold yet: the chunks after that sequence and the pending tally. So
 *   an instance reads its own events at once; other instances' unflushed events (at most one
 *   flush window) show once they flush.
 * - `reset` drops this instance's unflushed events and starts a new generation for every
 *   instance; the old generation's keys are swept in the background (sweep_generations.ts).
 *   An event another instance received before the DELETE but had not flushed lands in the new
 *   generation: a DELETE may miss up to one flush window of the other instances' events, never
 *   an event sent after it. (Dropping batches of an older generation at flush instead would
 *   lose, for up to a flush window, events another instance received after the DELETE: the
 *   client's own order, DELETE then send, would then miss events.)
 * - `close` flushes what is pending, retrying until its deadline (SIGTERM loses nothing when
 *   Redis answers).
 *
 * @module
 */
import { backoffDelay, sleep } from "../app/backoff.ts";
import { remaining, within } from "../app/deadline.ts";
import { answerFor, type AppAnswer, NO_EVENTS } from "./netblock.ts";
import type { IpEvent } from "./decode_ip_event.ts";
import { asError, FlushQueue } from "./flush_queue.ts";
import { LocalTally } from "./local_tally.ts";
import { type RedisLink, script } from "./redis_link.ts";
import {
  type AppDelta,
  generationKey,
  parseReadReply,
  READ_SCRIPT,
  RESET_SCRIPT,
  sequenceKey,
} from "./redis_scripts.ts";
import {
  type BatchTally,
  type IpEventStore,
  type StoreLimits,
  type StoreStats,
  StoreUnavailableError,
} from "./store.ts";
import { sweepGenerations } from "./sweep_generations.ts";

const READ = script(READ_SCRIPT);
const RESET = script(RESET_SCRIPT);
/** How long Redis remembers an instance's applied sequence after its last flush. */
const SEQUENCE_TTL_SECONDS = 7 * 24 * 3600;

/**
 * How the store retries Redis, every number in one place. A failed flush keeps its events
 * pending and the next flush waits `max(flushMs, backoff)` with the backoff's base twice the
 * flush interval; on close, flushes are retried until the stop deadline.
 */
const REDIS_RETRY = {
  /** One flush round trip's timeout, unless `flushTimeoutMs` says otherwise. */
  flushTimeoutMs: 2_000,
  /** The ceiling of the wait after failed flushes. */
  flushBackoffCapMs: 2_000,
  /** Between the flushes of `close`, until the deadline. */
  close: { baseMs: 50 },
} as const;

/** What the store reports (metrics, logs). */
export interface RedisStoreObserver {
  /** A flush round trip ended: ok when every chunk it sent is now applied. */
  flushed?(outcome: { ok: boolean; seconds: number; applied: number; duplicates: number }): void;
  /** An operation failed. */
  failed?(operation: "flush" | "read" | "reset" | "sweep", error: Error): void;
  /** `close` reached its deadline with events still not in Redis. */
  abandoned?(events: number): void;
}

/** Options of {@linkcode RedisStore}. */
export interface RedisStoreOptions {
  /** The connection (the store closes it). */
  readonly link: RedisLink;
  /** The caps, held locally per instance. */
  readonly limits: StoreLimits;
  /** Flush period in ms. */
  readonly flushMs: number;
  /** Prefix of every key (its hash tag). Default `edr:ip-events`. */
  readonly keyPrefix?: string;
  /** This instance's id in the sequence keys. Default a random UUID. */
  readonly instanceId?: string;
  /** (app, IP) pairs per flush chunk at most (an app is never split). Default 2000. */
  readonly chunkPairs?: number;
  /** Deadline of a flush round trip in ms. Default 2000. */
  readonly flushTimeoutMs?: number;
  /** Deadline of a read or a reset in ms. Default 1000. */
  readonly requestTimeoutMs?: number;
  /** Receives flush outcomes and failures. */
  readonly observer?: RedisStoreObserver;
}

/**
 * The Redis store; flushing starts at construction.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { openRedisLink } from "./redis_link.ts";
 * import { RedisStore } from "./redis_store.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * const store = new RedisStore({ link, limits: { maxApps: 10, maxIpsPerApp: 64 }, flushMs: 100 });
 * const sha = "ab".repeat(32);
 * store.record([{ appSha256: sha, ip: 17 }]);
 * // This instance's events count at once, other instances' once flushed.
 * assert.equal((await store.answer(sha)).count, 1);
 * await store.close(performance.now() + 5_000); // flushes what is pending, closes the link
 * ```
 */
export class RedisStore implements IpEventStore {
  readonly #link: RedisLink;
  readonly #tally: LocalTally;
  readonly #o: RedisStoreOptions;
  readonly #prefix: string;
  readonly #keys: readonly [string, string];
  readonly #stop = new AbortController();
  readonly #queue: FlushQueue;
  #generation: number | undefined;
  #failures = 0;
  #lastError: Error | undefined;
  #exclusive: Promise<unknown> = Promise.resolve();
  #sweeping: Promise<void> = Promise.resolve();
  readonly #loop: Promise<void>;
  #closed: Promise<void> | undefined;

  /** Makes the store and starts its flush loop. */
  constructor(options: RedisStoreOptions) {
    this.#o = options;
    this.#link = options.link;
    this.#tally = new LocalTally(options.limits);
    this.#prefix = options.keyPrefix ?? "edr:ip-events";
    this.#keys = [
      generationKey(this.#prefix),
      sequenceKey(this.#prefix, options.instanceId ?? crypto.randomUUID()),
    ];
    this.#queue = new FlushQueue({
      link: this.#link,
      prefix: this.#prefix,
      keys: this.#keys,
      chunkPairs: options.chunkPairs ?? 2_000,
      sequenceTtlSeconds: SEQUENCE_TTL_SECONDS,
    });
    this.#loop = this.#run();
  }

  /** Adds a batch of valid events to the local tally (never waits). */
  record(events: readonly IpEvent[]): BatchTally {
    return this.#tally.record(events);
  }

  /** What Redis holds for the app plus what this instance has not flushed yet. */
  async answer(appSha256: string): Promise<AppAnswer> {
    const call = { script: READ, keys: this.#keys, args: [this.#prefix, appSha256] };
    const [result] = await this.#link.runScripts([call], this.#requestTimeout);
    if (result!.status === "rejected") throw this.#unavailable("read", result!.reason);
    const reply = parseReadReply(result!.value);
    // Synchronously from here: the local part as of the reply.
    let count = reply.count;
    const ips = reply.ips;
    const add = (delta: AppDelta | undefined) => {
      if (!delta) return;
      count += delta.count;
      for (const [ip, n] of delta.ips) ips.set(ip, (ips.get(ip) ?? 0) + n);
    };
    for (const chunk of this.#queue.chunks) {
      if (chunk.seq > reply.applied) add(chunk.apps.get(appSha256));
    }
    add(this.#tally.pending(appSha256));
    return count === 0 && ips.size === 0 ? NO_EVENTS : answerFor(count, ips);
  }

  /**
   * Drops this instance's unflushed events and starts a new generation for every instance.
   * While Redis is known to be away it rejects at once and changes nothing.
   */
  reset(): Promise<void> {
    return this.#serially(async () => {
      if (this.#link.isDown) throw this.#unavailable("reset", new Error("Redis is not connected"));
      this.#tally.clear();
      const dropped = this.#queue.dropAll();
      const call = {
        script: RESET,
        keys: this.#keys,
        args: [String(dropped), String(SEQUENCE_TTL_SECONDS)],
      };
      const [result] = await this.#link.runScripts([call], this.#requestTimeout);
      if (result!.status === "rejected") throw this.#unavailable("reset", result!.reason);
      this.#generation = Number(result!.value);
      const generation = this.#generation;
      this.#sweeping = this.#sweeping.then(() => this.#sweep(generation));
    });
  }

  /** Apps and IPs this instance admitted in this generation (what bounds what it writes). */
  stats(): StoreStats {
    return this.#tally.stats();
  }

  /** Events recorded here and not yet applied in Redis. */
  get pendingEvents(): number {
    return this.#tally.pendingEvents + this.#queue.events;
  }

  /** Flushes now (tests, close); resolves `true` when everything taken is applied. */
  flush(): Promise<boolean> {
    return this.#serially(() =>
      this.#flushOnce(this.#o.flushTimeoutMs ?? REDIS_RETRY.flushTimeoutMs)
    );
  }

  /** Rejects while Redis is unreachable or the last flush failed; else a `PING`. */
  async check(_signal: AbortSignal): Promise<unknown> {
    if (!this.#link.isReady) throw new Error("Redis is not connected");
    if (this.#failures > 0) {
      throw new Error(`the last flush failed: ${this.#lastError?.message ?? "unknown"}`);
    }
    // The PING's own deadline is shorter than the readiness probe's.
    return await this.#link.command(["PING"], this.#requestTimeout);
  }

  /** Stops the loop, flushes what is pending (retrying by `deadline`), closes the link. */
  close(deadline: number = performance.now() + 5_000): Promise<void> {
    this.#closed ??= this.#close(deadline);
    return this.#closed;
  }

  get #requestTimeout(): number {
    return this.#o.requestTimeoutMs ?? 1_000;
  }

  async #close(deadline: number): Promise<void> {
    this.#stop.abort();
    await this.#loop;
    for (let attempt = 1;; attempt++) {
      const left = deadline - performance.now();
      if (this.pendingEvents === 0 || left <= 0) break;
      const timeout = Math.max(
        1,
        Math.min(this.#o.flushTimeoutMs ?? REDIS_RETRY.flushTimeoutMs, left),
      );
      if (await this.#serially(() => this.#flushOnce(timeout))) continue;
      await sleep(Math.min(deadline - performance.now(), backoffDelay(attempt, REDIS_RETRY.close)));
    }
    if (this.pendingEvents > 0) this.#o.observer?.abandoned?.(this.pendingEvents);
    await within(this.#sweeping, remaining(deadline));
    await this.#link.close();
    await this.#sweeping;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const wait = this.#failures === 0 ? this.#o.flushMs : Math.max(
        this.#o.flushMs,
        backoffDelay(this.#failures, {
          baseMs: 2 * this.#o.flushMs,
          capMs: REDIS_RETRY.flushBackoffCapMs,
        }),
      );
      if (!await sleep(wait, signal)) break;
      await this.#serially(() =>
        this.#flushOnce(this.#o.flushTimeoutMs ?? REDIS_RETRY.flushTimeoutMs)
      );
    }
  }

  /** Runs `task` after every earlier flush or reset (one writer at a time). */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    const next = this.#exclusive.then(task);
    this.#exclusive = next.catch(() => {});
    return next;
  }

  /** One flush: cuts the pending tally into chunks if none is outstanding, sends them. */
  async #flushOnce(timeoutMs: number): Promise<boolean> {
    if (this.#queue.isEmpty) this.#queue.cut(this.#tally.take());
    while (!this.#queue.isEmpty) {
      const started = performance.now();
      const trip = await this.#queue.sendTrip(timeoutMs);
      if (trip.generation !== undefined && trip.generation !== this.#generation) {
        // Another instance reset the shared state: admit afresh under the caps.
        if (this.#generation !== undefined) {
          const carried = [...trip.carried, ...this.#queue.chunks].map((chunk) => chunk.apps);
          this.#tally.rebase(carried);
        }
        this.#generation = trip.generation;
      }
      const ok = trip.error === undefined;
      this.#o.observer?.flushed?.({
        ok,
        seconds: (performance.now() - started) / 1000,
        applied: trip.applied,
        duplicates: trip.duplicates,
      });
      if (!ok) {
        this.#failures++;
        this.#lastError = trip.error;
        this.#o.observer?.failed?.("flush", trip.error!);
        return false;
      }
      this.#failures = 0;
      this.#lastError = undefined;
    }
    return true;
  }

  /** Unlinks the app keys of generations before `current` (errors reported, not thrown). */
  async #sweep(current: number): Promise<void> {
    try {
      await sweepGenerations({
        link: this.#link,
        prefix: this.#prefix,
        current,
        timeoutMs: this.#requestTimeout,
        signal: this.#stop.signal,
      });
    } catch (error) {
      this.#o.observer?.failed?.("sweep", asError(error));
    }
  }

  #unavailable(operation: "read" | "reset", reason: unknown): StoreUnavailableError {
    const error = asError(reason);
    this.#o.observer?.failed?.(operation, error);
    return new StoreUnavailableError(`Redis cannot be reached: ${error.message}`, {
      cause: error,
    });
  }
}
