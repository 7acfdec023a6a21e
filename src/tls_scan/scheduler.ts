/**
 * The scheduler: rescans watched hosts when their last report is older than the max age, and
 * daily when their certificate expires within the warn window, oldest first, within the
 * engine's limits (`parallelism()`: TLS_SCAN_CONCURRENCY for the probe, the API's counters for
 * SSL Labs). Its scans go through the coordinator, so they join a request's scan of the same
 * host rather than run twice. A host whose scan failed (SSL Labs refusing, say) waits a
 * growing backoff before it is tried again; a watched name that has come to resolve to a
 * non-public address is flagged (`refusedHosts`, a gauge; one warning, then debug) and backs
 * off the same way, up to the max age, rather than being refused at every round. The failure
 * map holds watched hosts only: an unwatched host is forgotten (`forget`), and it never holds
 * more than `maxEntries`. Each round claims its targets in the store
 * ({@linkcode TlsScanStore.claimDue}), so instances sharing one database scan a due host once.
 *
 * What is ours here is the due-time rule (which hosts, when, the failure backoff and its
 * bounded map, the claims); running a round's scans `parallelism()` at a time is p-limit's.
 *
 * @example
 * ```ts
 * import type { Scheduler } from "./scheduler.ts";
 * async function once(scheduler: Scheduler) {
 *   const scanned = await scheduler.tick(); // one round, what is due now
 * }
 * ```
 *
 * @module
 */
import { sleep } from "../app/backoff.ts";
import { remaining, within } from "../app/deadline.ts";
import type { Logger } from "../app/logging.ts";
import type { ScanCoordinator } from "./coordinator.ts";
import type { ScanEngine } from "./engine.ts";
import { StoreUnavailableError, type TlsScanStore } from "./store.ts";
import { type Target, targetKey } from "./target.ts";
import ipaddr from "ipaddr.js";
import pLimit from "p-limit";

/** Options of {@linkcode Scheduler}. */
export interface SchedulerOptions {
  readonly coordinator: ScanCoordinator;
  readonly store: TlsScanStore;
  readonly engine: ScanEngine;
  readonly logger: Logger;
  /** This instance's name on its claims (the coordinator's). */
  readonly owner: string;
  /** How long a claim lives unless renewed (the coordinator's). */
  readonly leaseMs: number;
  /** Pause between rounds when nothing is due, ms (0: the loop does not run). */
  readonly intervalMs: number;
  /** Reports older than this are due. */
  readonly maxAgeMs: number;
  /** Certificates expiring within this many days are rechecked daily. */
  readonly warnDays: number;
  /** The most hosts the failure map holds (TLS_SCAN_MAX_WATCHED). Default 100 000. */
  readonly maxEntries?: number;
  readonly now?: (() => Date) | undefined;
}

const DAY = 86_400_000;

/**
 * The scheduler.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "../app/logging.ts";
 * import { createRegistry } from "../app/metrics.ts";
 * import { ScanCoordinator } from "./coordinator.ts";
 * import { createTlsScanMetrics } from "./metrics.ts";
 * import { createProbeEngine } from "./probe_engine.ts";
 * import { Scheduler } from "./scheduler.ts";
 * import { SqliteStore } from "./sqlite_store.ts";
 *
 * const engine = createProbeEngine({ timeoutMs: 8_000, concurrency: 4 });
 * const store = SqliteStore.open(":memory:", { maxReports: 1_000 });
 * const logger = getLogger("tls-scan");
 * const claims = { owner: "instance-1", leaseMs: 24_000 };
 * const coordinator = new ScanCoordinator({
 *   engine,
 *   store,
 *   logger,
 *   metrics: createTlsScanMetrics(createRegistry().registry),
 *   maxAgeMs: 86_400_000,
 *   waitMs: 90_000,
 *   maxPending: 100,
 *   allowPrivate: true,
 *   ...claims,
 * });
 * const scheduler = new Scheduler({
 *   coordinator,
 *   store,
 *   engine,
 *   logger,
 *   intervalMs: 60_000,
 *   maxAgeMs: 86_400_000,
 *   warnDays: 30,
 *   ...claims,
 * });
 * await store.watch([{ host: "127.0.0.1", port: 9 }], 10_000);
 * assert.equal(await scheduler.tick(), 1); // the new host, never scanned (its report: ERROR, refused)
 * assert.equal(await scheduler.tick(), 0); // its report is fresh
 * ```
 */
export class Scheduler {
  readonly #o: SchedulerOptions;
  readonly #stopping = new AbortController();
  readonly #failures = new Map<
    string,
    { count: number; retryAt: number; refused: boolean }
  >();
  #wake = Promise.withResolvers<void>();
  #loop: Promise<void> | undefined;

  /** Makes a scheduler; nothing runs before {@linkcode Scheduler.start}. */
  constructor(options: SchedulerOptions) {
    this.#o = options;
  }

  /** Starts the loop (when the interval is not 0). */
  start(): void {
    if (this.#o.intervalMs > 0) this.#loop ??= this.#run();
  }

  /** Watched hosts whose last scheduled scan was refused (they resolve to non-public addresses). */
  get refusedHosts(): number {
    let count = 0;
    for (const failure of this.#failures.values()) if (failure.refused) count++;
    return count;
  }

  /** Hosts in the failure map (at most `maxEntries`). */
  get failingHosts(): number {
    return this.#failures.size;
  }

  /** Forgets the failures of an unwatched host (every port when `port` is not given). */
  forget(host: string, port?: number): void {
    if (port !== undefined) {
      this.#failures.delete(targetKey({ host, port }));
      return;
    }
    for (const key of [...this.#failures.keys()]) {
      if (key.slice(0, key.lastIndexOf(":")).replace(/^\[|\]$/g, "") === host) {
        this.#failures.delete(key);
      }
    }
  }

  /** Looks for due hosts now (after hosts were added). */
  wake(): void {
    this.#wake.resolve();
  }

  /** Stops the loop and waits for its round, by `deadline` (the coordinator aborts scans). */
  async stop(deadline: number): Promise<void> {
    this.#stopping.abort();
    this.wake();
    if (this.#loop) await within(this.#loop, remaining(deadline));
  }

  /** One round: scans what is due now, `parallelism()` at a time; how many were scanned. */
  async tick(): Promise<number> {
    const now = (this.#o.now ?? (() => new Date()))().getTime();
    const batch = Math.max(1, this.#o.engine.parallelism()) * 4;
    const { store, engine, owner, leaseMs } = this.#o;
    const claimedAt = Date.now();
    const claimed = await store.claimDue(engine.name, {
      staleBeforeMs: now - this.#o.maxAgeMs,
      expiringBeforeMs: now + this.#o.warnDays * DAY,
      recheckBeforeMs: now - Math.min(DAY, this.#o.maxAgeMs),
      limit: batch + this.#failures.size,
    }, { owner, leaseMs, nowMs: claimedAt });
    const due = claimed.filter((t) => (this.#failures.get(targetKey(t))?.retryAt ?? 0) <= now)
      .slice(0, batch);
    const skipped = claimed.filter((t) => !due.includes(t));
    await Promise.all(skipped.map((t) => store.release(t, engine.name, owner)));
    const limit = pLimit(Math.max(1, engine.parallelism()));
    const unscanned: Target[] = [];
    await Promise.all(due.map((target) =>
      limit(async () => {
        if (this.#stopping.signal.aborted) return void unscanned.push(target);
        // A target queued for long renews its claim first (another instance may hold it now).
        const stale = Date.now() - claimedAt > leaseMs / 3;
        if (stale && !await store.claim(target, engine.name, this.#lease())) return;
        await this.#scanOne(target, now);
      })
    ));
    // Claimed but not scanned (stopping): free for another instance now, not at expiry.
    await Promise.all(unscanned.map((t) => store.release(t, engine.name, owner).catch(() => {})));
    return due.length;
  }

  #lease() {
    return { owner: this.#o.owner, leaseMs: this.#o.leaseMs, nowMs: Date.now() };
  }

  async #scanOne(target: Target, now: number): Promise<void> {
    const key = targetKey(target);
    const kind = ipaddr.isValid(target.host)
      ? (target.host.includes(":") ? "ipv6" as const : "ipv4" as const)
      : "name" as const;
    const end = await this.#o.coordinator.scan({ ...target, kind });
    if (end.kind === "report") {
      this.#failures.delete(key);
      return;
    }
    // Refused or failed: try again later, not at every round.
    const previous = this.#failures.get(key);
    const count = (previous?.count ?? 0) + 1;
    const wait = Math.min(this.#o.maxAgeMs, this.#o.intervalMs * 2 ** count);
    this.#failures.delete(key); // re-inserted last: the map's order is least recently failed first
    this.#failures.set(key, { count, retryAt: now + wait, refused: end.kind === "refused" });
    // Bounded: the oldest entries go first (their hosts are tried at the next due round).
    const max = this.#o.maxEntries ?? 100_000;
    for (const old of this.#failures.keys()) {
      if (this.#failures.size <= max) break;
      this.#failures.delete(old);
    }
    const fields = { target: key, kind: end.kind, seconds: Math.round(wait / 1000) };
    if (end.kind === "refused" && !previous?.refused) {
      this.#o.logger.warn(
        "watched {target} now resolves to a non-public address: refused, retried in {seconds} s " +
          "and less often after (unwatch it, or fix its DNS)",
        fields,
      );
    } else {
      this.#o.logger.debug(
        "scheduled scan of {target} ended {kind}; next try in {seconds} s",
        fields,
      );
    }
  }

  async #run(): Promise<void> {
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      let scanned = 0;
      try {
        scanned = await this.tick();
      } catch (error) {
        if (error instanceof StoreUnavailableError) {
          this.#o.logger.warn("scheduler round skipped: database unavailable ({error})", {
            error: error.message,
          });
        } else this.#o.logger.error("scheduler round failed: {error}", { error: String(error) });
      }
      if (scanned > 0) continue;
      const woken = this.#wake.promise;
      await Promise.race([sleep(this.#o.intervalMs, signal), woken]);
      this.#wake = Promise.withResolvers<void>();
    }
  }
}
