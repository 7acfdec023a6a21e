/**
 * The single-flight scan coordinator: at most one scan per host:port at any time, whoever asks
 * (GET /scan, with or without `fresh`, or the scheduler): a second caller joins the running
 * scan. A caller waits up to `waitMs` and is otherwise told to come back (202). A report younger
 * than the max age is answered from the store without touching the host; distinct scans started
 * by requests are bounded (`maxPending`; beyond: busy, at once). Request scans and the
 * scheduler's run in separate lanes of the engine (`lane`), so strangers' requests for hosts
 * that never answer cannot delay watched hosts' rescans. `fresh` is honoured only for a report
 * older than `freshMinAgeMs`: nobody can make this service rescan a third party (or spend SSL
 * Labs assessments) more often than that. Each scan: the SSRF guard (the probe: resolve, refuse
 * non-public addresses; SSL Labs: refuse only what can never be public, resolve nothing), the
 * engine, the store, the metrics.
 *
 * Across instances sharing one database, a scan first claims its target in the store (a lease
 * renewed while it runs, so a killed instance's claims expire): an instance asked for a target
 * another one is scanning waits for that scan's report in the store instead of scanning again.
 *
 * @example
 * ```ts
 * import type { ScanCoordinator } from "./coordinator.ts";
 * async function ask(coordinator: ScanCoordinator) {
 *   const answer = await coordinator.request({ host: "example.com", port: 443, kind: "name" }, { fresh: false });
 *   if (answer.kind === "in_progress") answer.retryAfterSeconds; // come back later
 * }
 * ```
 *
 * @module
 */
import type { Logger } from "../app/logging.ts";
import { sleep } from "../app/backoff.ts";
import { remaining, within, withTimeout } from "../app/deadline.ts";
import { guardNeverPublic, type GuardResult, guardTarget, type Resolver } from "./address_guard.ts";
import type { ScanEngine } from "./engine.ts";
import type { TlsScanMetrics } from "./metrics.ts";
import { errorReport, gradeRank, type TlsReport } from "./report.ts";
import { type Lease, StoreUnavailableError, type TlsScanStore } from "./store.ts";
import { traceScan } from "./scan_span.ts";
import { type HostKind, targetKey } from "./target.ts";

/** A validated target. */
export interface ScanTarget {
  readonly host: string;
  readonly port: number;
  readonly kind: HostKind;
}

/** How a scan ended. */
export type ScanEnd =
  | { readonly kind: "report"; readonly report: TlsReport }
  | { readonly kind: "refused"; readonly address: string; readonly range: string }
  | { readonly kind: "failed"; readonly reason: string; readonly status: 502 | 503 };

/** What a caller is told. */
export type ScanAnswer =
  | ScanEnd
  | { readonly kind: "in_progress"; readonly retryAfterSeconds: number }
  | { readonly kind: "busy"; readonly retryAfterSeconds: number };

/** Options of {@linkcode ScanCoordinator}. */
export interface CoordinatorOptions {
  readonly engine: ScanEngine;
  readonly store: TlsScanStore;
  readonly metrics: TlsScanMetrics;
  readonly logger: Logger;
  /** Reports younger than this are answered from the store. */
  readonly maxAgeMs: number;
  /** How long `request` waits for a scan (TLS_SCAN_WAIT_SECONDS). */
  readonly waitMs: number;
  /** Distinct scans requests may have running (TLS_SCAN_MAX_PENDING). */
  readonly maxPending: number;
  /**
   * `fresh` is honoured only when the stored report is at least this old
   * (TLS_SCAN_FRESH_MIN_AGE_SECONDS); younger, the stored report is answered. Default 0.
   */
  readonly freshMinAgeMs?: number;
  readonly allowPrivate: boolean;
  /** This instance's name on its scan claims (unique per process). */
  readonly owner: string;
  /** How long a claim lives unless renewed (renewed every third of it while scanning). */
  readonly leaseMs: number;
  /** How often a caller waiting on another instance's scan looks for its report. */
  readonly pollMs?: number;
  /** The resolver of the SSRF guard. Default: the system's. */
  readonly resolve?: Resolver | undefined;
  readonly now?: (() => Date) | undefined;
}

interface Job {
  readonly done: Promise<ScanEnd>;
  readonly fromRequest: boolean;
}

/**
 * The coordinator.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "../app/logging.ts";
 * import { createRegistry } from "../app/metrics.ts";
 * import { ScanCoordinator } from "./coordinator.ts";
 * import { createTlsScanMetrics } from "./metrics.ts";
 * import { createProbeEngine } from "./probe_engine.ts";
 * import { SqliteStore } from "./sqlite_store.ts";
 *
 * const coordinator = new ScanCoordinator({
 *   engine: createProbeEngine({ timeoutMs: 8_000, concurrency: 4 }),
 *   store: SqliteStore.open(":memory:", { maxReports: 1_000 }),
 *   metrics: createTlsScanMetrics(createRegistry().registry),
 *   logger: getLogger("tls-scan", "scan"),
 *   maxAgeMs: 86_400_000,
 *   waitMs: 90_000,
 *   maxPending: 100,
 *   allowPrivate: true, // 127.0.0.1 is loopback: refused without it
 *   owner: "instance-1",
 *   leaseMs: 24_000,
 * });
 * const target = { host: "127.0.0.1", port: 9, kind: "ipv4" as const }; // nothing listens on 9
 * const [first, second] = await Promise.all([
 *   coordinator.request(target, { fresh: true }),
 *   coordinator.request(target, { fresh: true }),
 * ]);
 * assert.equal(first.kind === "report" && first.report.status, "ERROR"); // nothing listens
 * assert.equal(second, first); // the second request joined the first one's scan
 * const again = await coordinator.request(target, { fresh: false });
 * assert.equal(again.kind === "report" && again.report.from_cache, true); // from the store, no scan
 * ```
 */
export class ScanCoordinator {
  readonly #o: CoordinatorOptions;
  readonly #jobs = new Map<string, Job>();
  readonly #stopping = new AbortController();
  #fromRequests = 0;

  /** Makes a coordinator. */
  constructor(options: CoordinatorOptions) {
    this.#o = options;
  }

  /** Scans running now. */
  get inFlight(): number {
    return this.#jobs.size;
  }

  /** GET /scan: join, answer from the store, or start a scan; wait up to `waitMs`. */
  async request(target: ScanTarget, options: { readonly fresh: boolean }): Promise<ScanAnswer> {
    const key = targetKey(target);
    let job = this.#jobs.get(key);
    if (!job) {
      let cached: TlsReport | undefined;
      try {
        cached = await this.#cached(target, options.fresh ? this.#o.freshMinAgeMs ?? 0 : undefined);
      } catch (error) {
        if (error instanceof StoreUnavailableError) return unavailable(error);
        throw error;
      }
      if (cached) {
        this.#o.metrics.cacheHits.inc();
        if (options.fresh) this.#o.metrics.freshDeclined.inc();
        return { kind: "report", report: cached };
      }
      if (this.#fromRequests >= this.#o.maxPending) {
        this.#o.metrics.rejected.inc({ reason: "busy" });
        return { kind: "busy", retryAfterSeconds: this.#o.engine.retryAfterSeconds() };
      }
      job = this.#jobs.get(key) ?? this.#start(target, options.fresh, true);
    }
    return await this.#wait(job.done, this.#o.waitMs);
  }

  /**
   * The scheduler's scan of a target it has claimed ({@linkcode TlsScanStore.claimDue}):
   * joins a running one, else starts one; waits for the end.
   */
  scan(target: ScanTarget): Promise<ScanEnd> {
    return (this.#jobs.get(targetKey(target)) ?? this.#start(target, false, false)).done;
  }

  /** Aborts every scan and waits for them, by `deadline`. */
  async stop(deadline: number): Promise<void> {
    this.#stopping.abort();
    const all = Promise.allSettled([...this.#jobs.values()].map((j) => j.done));
    if (!await within(all, remaining(deadline))) {
      this.#o.logger.warn("{count} scans still running at the stop deadline", {
        count: this.#jobs.size,
      });
    }
  }

  /**
   * The stored report younger than the max age, or, for a `fresh` request, younger than
   * `freshMinAgeMs` (`undefined`: not fresh).
   */
  async #cached(
    target: ScanTarget,
    freshMinAgeMs: number | undefined,
  ): Promise<TlsReport | undefined> {
    if (freshMinAgeMs === 0) return undefined;
    const stored = await this.#o.store.latest(target, this.#o.engine.name);
    const maxAge = Math.min(this.#o.maxAgeMs, freshMinAgeMs ?? Infinity);
    if (!stored || this.#now() - stored.scannedAtMs >= maxAge) return undefined;
    return { ...stored.report, from_cache: true };
  }

  #now(): number {
    return (this.#o.now ?? (() => new Date()))().getTime();
  }

  /** The stored report if made at or after `sinceMs` (a `fresh` caller), else if young enough. */
  async #madeSince(target: ScanTarget, sinceMs: number | undefined) {
    if (sinceMs === undefined) return await this.#cached(target, undefined);
    const stored = await this.#o.store.latest(target, this.#o.engine.name);
    return stored && stored.scannedAtMs >= sinceMs
      ? { ...stored.report, from_cache: true }
      : undefined;
  }

  #lease(): Lease {
    // Claims compare instances' wall clocks, never the cache's (injectable) clock.
    return { owner: this.#o.owner, leaseMs: this.#o.leaseMs, nowMs: Date.now() };
  }

  /**
   * Claims `target` for this instance, or waits until the instance holding it has stored
   * its report (answered from the store) or let its claim go or expire (claimed then).
   */
  async #acquire(target: ScanTarget, fresh: boolean): Promise<ScanEnd | "claimed"> {
    const { store, engine } = this.#o;
    const sinceMs = fresh ? this.#now() : undefined;
    const signal = this.#stopping.signal;
    while (!signal.aborted) {
      if (await store.claim(target, engine.name, this.#lease())) {
        // Its holder may have stored the report and let go between our look and our claim.
        const report = await this.#madeSince(target, sinceMs);
        if (!report) return "claimed";
        await store.release(target, engine.name, this.#o.owner);
        this.#o.metrics.cacheHits.inc();
        return { kind: "report", report };
      }
      const report = await this.#madeSince(target, sinceMs);
      if (report) {
        this.#o.metrics.cacheHits.inc();
        return { kind: "report", report };
      }
      await sleep(this.#o.pollMs ?? 250, signal);
    }
    return { kind: "failed", reason: "the service is stopping", status: 503 };
  }

  async #claimAndRun(target: ScanTarget, fresh: boolean, lane: "request" | "watched") {
    const { store, engine, owner, leaseMs } = this.#o;
    if (lane === "request") {
      const claimed = await this.#acquire(target, fresh);
      if (claimed !== "claimed") return claimed;
    }
    // The scheduler's targets come claimed; either way the claim lives while the scan runs.
    const renew = setInterval(() => {
      store.renew(target, engine.name, this.#lease()).catch(() => {});
    }, Math.max(100, leaseMs / 3));
    try {
      return await this.#run(target, fresh, lane);
    } finally {
      clearInterval(renew);
      // Unreachable database: the claim expires on its own.
      await store.release(target, engine.name, owner).catch(() => {});
    }
  }

  #start(target: ScanTarget, fresh: boolean, fromRequest: boolean): Job {
    const key = targetKey(target);
    if (fromRequest) this.#fromRequests++;
    this.#o.metrics.inFlight.inc();
    const run = () => this.#claimAndRun(target, fresh, fromRequest ? "request" : "watched");
    const done = traceScan(target, this.#o.engine.name, fresh, run).catch((error): ScanEnd => {
      if (error instanceof StoreUnavailableError) {
        this.#o.logger.warn("scan of {target} not started: {error}", {
          target: key,
          error: error.message,
        });
        return unavailable(error);
      }
      // A defect (or the store closed under a scan at shutdown): answered, never unhandled.
      this.#o.logger.error("scan of {target} failed: {error}", {
        target: key,
        error: String(error),
      });
      return { kind: "failed", reason: "internal error", status: 502 };
    }).finally(() => {
      this.#jobs.delete(key);
      if (fromRequest) this.#fromRequests--;
      this.#o.metrics.inFlight.dec();
    });
    const job = { done, fromRequest };
    this.#jobs.set(key, job);
    return job;
  }

  async #run(target: ScanTarget, fresh: boolean, lane: "request" | "watched"): Promise<ScanEnd> {
    const { engine, metrics, logger } = this.#o;
    const started = performance.now();
    const signal = this.#stopping.signal;
    // An engine that does not connect itself (SSL Labs resolves the name on its side, perhaps
    // differently from a split-horizon resolver here) is refused only what is never public.
    const verdict: GuardResult = !engine.connectsItself
      ? (this.#o.allowPrivate
        ? { kind: "allowed", addresses: [] }
        : guardNeverPublic(target.host, target.kind))
      : await guardTarget(target.host, {
        allowPrivate: this.#o.allowPrivate,
        kind: target.kind,
        resolve: this.#o.resolve,
      });
    if (verdict.kind === "refused") {
      metrics.rejected.inc({ reason: "refused" });
      logger.warn("refused to scan {target}: {address} is {range}", {
        target: targetKey(target),
        address: verdict.address,
        range: verdict.range,
      });
      return verdict;
    }
    const result = verdict.kind === "unresolvable"
      ? {
        kind: "report" as const,
        report: errorReport({ ...target, engine: engine.name, message: verdict.message }),
      }
      : await engine.scan({ ...target, addresses: verdict.addresses }, { fresh, signal, lane });
    metrics.scanDuration.observe({ engine: engine.name }, (performance.now() - started) / 1000);
    if (result.kind === "failed") {
      metrics.scans.inc({ engine: engine.name, outcome: "failed" });
      logger.warn("scan of {target} failed: {reason}", {
        target: targetKey(target),
        reason: result.reason,
      });
      return result;
    }
    const report = result.report;
    metrics.scans.inc({
      engine: engine.name,
      outcome: report.status === "READY" ? "ready" : "error",
    });
    const { previousGrade } = await this.#o.store.save(report);
    if (previousGrade && report.grade && gradeRank(report.grade) > gradeRank(previousGrade)) {
      metrics.gradeDrops.inc({ engine: engine.name });
      logger.warn("grade of {target} dropped from {previous} to {grade}", {
        target: targetKey(target),
        previous: previousGrade,
        grade: report.grade,
      });
    }
    logger.info("scanned {target}: {status} {grade} {problems}", {
      target: targetKey(target),
      status: report.status,
      grade: report.grade ?? "none",
      problems: report.problems.join(","),
      ms: Math.round(performance.now() - started),
    });
    return result;
  }

  #wait(done: Promise<ScanEnd>, ms: number): Promise<ScanAnswer> {
    return withTimeout(done, ms, (): ScanAnswer => ({
      kind: "in_progress",
      retryAfterSeconds: this.#o.engine.retryAfterSeconds(),
    }));
  }
}

function unavailable(error: StoreUnavailableError): ScanEnd {
  return { kind: "failed", reason: `database unavailable: ${error.message}`, status: 503 };
}
