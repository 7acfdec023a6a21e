/**
 * The shared {@linkcode IpEventStore}: several collector instances keep one state in Redis.
 *
 * - `record` never waits: events go to this instance's {@linkcode LocalTally} (per app: count
 *   and events per IP, under the caps), flushed every `flushMs` as chunks of the flush script
 *   in one pipelined round trip (well under one Redis command per datagram: one per chunk of
 *   up to `chunkPairs` (app, IP) pairs).
 * - Each chunk is idempotent (redis_scripts.ts): a chunk Redis applied but whose reply was lost
 *   is recognised when it is sent again, so nothing is counted twice across a reconnect. A
 *   chunk not acknowledged is kept and sent again, with the same number, until it is; events
 *   arriving meanwhile gather in the tally (bounded by the caps), so an outage loses nothing
 *   this process holds. Failed flushes back off (src/app/backoff.ts) and make `check` reject.
 * - `answer` reads the app's hash and this instance's applied sequence in one script, then
 *   adds what Redis does not hold yet: the chunks after that sequence and the pending tally. So
 *   an instance reads its own events at once; other instances' unflushed events (at most one
 *   flush window) show once they flush.
 * - `reset` drops this instance's unflushed events and starts a new generation for every
 *   instance; the old generation's keys are swept in the background. An event another
 *   instance received before the DELETE but had not flushed lands in the new generation: a
 *   DELETE may miss up to one flush window of the other instances' events, never an event
 *   sent after it.
 * - `close` flushes what is pending, retrying until its deadline (SIGTERM loses nothing when
 *   Redis answers).
 *
 * @module
 */
import { backoffDelay, sleep } from "../app/backoff.ts";
import { answerFor, type AppAnswer, NO_EVENTS } from "./netblock.ts";
import type { IpEvent } from "./decode_ip_event.ts";
import { LocalTally } from "./local_tally.ts";
import { type RedisLink, script, type ScriptCall } from "./redis_link.ts";
import {
  type AppDelta,
  appKeyPattern,
  chunkArguments,
  FLUSH_SCRIPT,
  generationKey,
  generationOfKey,
  parseFlushReply,
  parseReadReply,
  READ_SCRIPT,
  RESET_SCRIPT,
  sequenceKey,
} from "./redis_scripts.ts";
import {
  type IpEventStore,
  type RecordOutcome,
  type StoreLimits,
  type StoreStats,
  StoreUnavailableError,
} from "./store.ts";

const FLUSH = script(FLUSH_SCRIPT);
const READ = script(READ_SCRIPT);
const RESET = script(RESET_SCRIPT);
/** How long Redis remembers an instance's applied sequence after its last flush. */
const SEQUENCE_TTL_SECONDS = 7 * 24 * 3600;
const CHUNKS_PER_TRIP = 64;

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

interface Chunk {
  readonly seq: number;
  readonly apps: Map<string, AppDelta>;
  readonly events: number;
}

/**
 * The Redis store; flushing starts at construction.
 *
 * @example
 * ```ts ignore
 * const store = new RedisStore({ link: openRedisLink({ url }), limits, flushMs: 100 });
 * store.record(events);
 * await store.answer(sha); // this instance's events at once, the others' once flushed
 * await store.close(performance.now() + 5_000);
 * ```
 */
export class RedisStore implements IpEventStore {
  readonly #link: RedisLink;
  readonly #tally: LocalTally;
  readonly #o: RedisStoreOptions;
  readonly #prefix: string;
  readonly #keys: readonly [string, string];
  readonly #stop = new AbortController();
  #unacked: Chunk[] = [];
  #nextSeq = 1;
  /** Every sequence number up to it is applied or dropped. */
  #settled = 0;
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
    this.#loop = this.#run();
  }

  /** Adds a batch of valid events to the local tally (never waits). */
  record(events: readonly IpEvent[]): RecordOutcome {
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
    for (const chunk of this.#unacked) {
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
      this.#unacked = [];
      this.#settled = this.#nextSeq - 1;
      const call = {
        script: RESET,
        keys: this.#keys,
        args: [String(this.#settled), String(SEQUENCE_TTL_SECONDS)],
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
    return this.#tally.pendingEvents + this.#unacked.reduce((sum, c) => sum + c.events, 0);
  }

  /** Flushes now (tests, close); resolves `true` when everything taken is applied. */
  flush(): Promise<boolean> {
    return this.#serially(() => this.#flushOnce(this.#o.flushTimeoutMs ?? 2_000));
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
      const timeout = Math.max(1, Math.min(this.#o.flushTimeoutMs ?? 2_000, left));
      if (await this.#serially(() => this.#flushOnce(timeout))) continue;
      await sleep(Math.min(deadline - performance.now(), backoffDelay(attempt, { baseMs: 50 })));
    }
    if (this.pendingEvents > 0) this.#o.observer?.abandoned?.(this.pendingEvents);
    const left = deadline - performance.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      this.#sweeping,
      new Promise((resolve) => timer = setTimeout(resolve, Math.max(0, left))),
    ]);
    clearTimeout(timer);
    await this.#link.close();
    await this.#sweeping;
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const wait = this.#failures === 0 ? this.#o.flushMs : Math.max(
        this.#o.flushMs,
        backoffDelay(this.#failures, { baseMs: 2 * this.#o.flushMs, capMs: 2_000 }),
      );
      if (!await sleep(wait, signal)) break;
      await this.#serially(() => this.#flushOnce(this.#o.flushTimeoutMs ?? 2_000));
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
    if (this.#unacked.length === 0) this.#cut();
    while (this.#unacked.length > 0) {
      const trip = this.#unacked.slice(0, CHUNKS_PER_TRIP);
      if (!await this.#send(trip, timeoutMs)) return false;
    }
    return true;
  }

  #cut(): void {
    const limit = this.#o.chunkPairs ?? 2_000;
    let apps = new Map<string, AppDelta>();
    let pairs = 0;
    let events = 0;
    const close = () => {
      this.#unacked.push({ seq: this.#nextSeq++, apps, events });
      apps = new Map();
      pairs = 0;
      events = 0;
    };
    for (const [sha, delta] of this.#tally.take()) {
      if (pairs > 0 && pairs + delta.ips.size + 1 > limit) close();
      apps.set(sha, delta);
      pairs += delta.ips.size + 1;
      events += delta.count;
    }
    if (apps.size > 0) close();
  }

  async #send(trip: readonly Chunk[], timeoutMs: number): Promise<boolean> {
    const started = performance.now();
    const settled = String(this.#settled);
    const calls: ScriptCall[] = trip.map((chunk) => ({
      script: FLUSH,
      keys: this.#keys,
      args: [
        this.#prefix,
        String(chunk.seq),
        settled,
        String(SEQUENCE_TTL_SECONDS),
        ...chunkArguments(chunk.apps),
      ],
    }));
    const results = await this.#link.runScripts(calls, timeoutMs);
    let applied = 0;
    let duplicates = 0;
    let error: Error | undefined;
    let generation: number | undefined;
    const done = new Set<Chunk>();
    results.forEach((result, i) => {
      if (result.status === "rejected") {
        error ??= asError(result.reason);
        return;
      }
      let reply;
      try {
        reply = parseFlushReply(result.value);
      } catch (e) {
        error ??= asError(e);
        return;
      }
      generation = reply.generation;
      if (reply.status === "gap") {
        error ??= new Error(`chunk ${trip[i]!.seq} refused: an earlier chunk is missing`);
        return;
      }
      if (reply.status === "applied") applied++;
      else duplicates++;
      done.add(trip[i]!);
    });
    this.#unacked = this.#unacked.filter((chunk) => !done.has(chunk));
    this.#settled = this.#unacked.length > 0 ? this.#unacked[0]!.seq - 1 : this.#nextSeq - 1;
    if (generation !== undefined && generation !== this.#generation) {
      // Another instance reset the shared state: admit afresh under the caps.
      if (this.#generation !== undefined) {
        this.#tally.rebase([...trip.map((c) => c.apps), ...this.#unacked.map((c) => c.apps)]);
      }
      this.#generation = generation;
    }
    const ok = error === undefined;
    this.#o.observer?.flushed?.({
      ok,
      seconds: (performance.now() - started) / 1000,
      applied,
      duplicates,
    });
    if (ok) {
      this.#failures = 0;
      this.#lastError = undefined;
    } else {
      this.#failures++;
      this.#lastError = error;
      this.#o.observer?.failed?.("flush", error!);
    }
    return ok;
  }

  /** Unlinks the app keys of generations before `current`, a SCAN page at a time. */
  async #sweep(current: number): Promise<void> {
    let cursor = "0";
    try {
      do {
        const reply = await this.#link.command(
          ["SCAN", cursor, "MATCH", appKeyPattern(this.#prefix), "COUNT", "1000"],
          this.#requestTimeout,
        ) as [string, string[]];
        cursor = String(reply[0]);
        const old = reply[1].filter((key) => {
          const generation = generationOfKey(this.#prefix, key);
          return generation !== undefined && generation < current;
        });
        if (old.length > 0) await this.#link.command(["UNLINK", ...old], this.#requestTimeout);
      } while (cursor !== "0" && !this.#stop.signal.aborted);
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

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
