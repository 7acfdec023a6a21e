/**
 * The store contract: the last report of every target per engine, the watch list, and the
 * scan leases that let several instances share one database of record without scanning a
 * host twice. {@linkcode SqliteStore} (sqlite_store.ts, one instance, the default) and
 * {@linkcode PostgresStore} (postgres_store.ts, any number of instances) implement it; both run
 * the same tests (tests/tls_scan/store_contract.ts).
 *
 * Every call may wait (a shared store goes over the network) and rejects with
 * {@linkcode StoreUnavailableError} when the database cannot be reached: the routes answer 503
 * and the readiness check fails until it can.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteStore } from "./sqlite_store.ts";
 * import type { TlsScanStore } from "./store.ts";
 * const store: TlsScanStore = SqliteStore.open(":memory:", { maxReports: 100 });
 * assert.deepEqual(await store.watch([{ host: "example.com", port: 443 }], 10), {
 *   added: 1,
 *   already: 0,
 *   full: [],
 * });
 * await store.close();
 * ```
 *
 * @module
 */
import type { EngineName, Grade, TlsReport } from "./report.ts";
import type { Target } from "./target.ts";

/** A stored report and when it was made. */
export interface StoredReport {
  readonly report: TlsReport;
  readonly scannedAtMs: number;
}

/** A watched target with the summary of its last report (if any). */
export interface WatchedRow extends Target {
  readonly addedAtMs: number;
  readonly status: "READY" | "ERROR" | null;
  readonly grade: Grade | null;
  readonly problems: readonly string[];
  readonly notAfterMs: number | null;
  readonly scannedAtMs: number | null;
}

/** What {@linkcode TlsScanStore.save} replaced. */
export interface SaveOutcome {
  /** The grade of the report it replaced; `undefined` when there was none. */
  readonly previousGrade: Grade | null | undefined;
  /** Unwatched reports evicted to stay within the report bound. */
  readonly evicted: number;
}

/** What {@linkcode TlsScanStore.watch} did. */
export interface WatchOutcome {
  readonly added: number;
  readonly already: number;
  /** Targets that did not fit under the watch-list bound. */
  readonly full: Target[];
}

/** Which watched targets are due: never scanned, stale, or expiring and not rechecked today. */
export interface DueQuery {
  readonly staleBeforeMs: number;
  readonly expiringBeforeMs: number;
  readonly recheckBeforeMs: number;
  readonly limit: number;
}

/**
 * A claim on scanning a target: held by `owner` (one per instance) until `nowMs + leaseMs`
 * unless renewed; an expired claim (its instance killed) is anyone's to take.
 */
export interface Lease {
  readonly owner: string;
  readonly leaseMs: number;
  readonly nowMs: number;
}

/** The watch list's summary for the gauges, read in one go off the scrape path. */
export interface WatchStats {
  readonly watched: number;
  /** Reports stored, watched or not (bounded by TLS_SCAN_MAX_REPORTS). */
  readonly reports: number;
  /** Watched targets by the grade of their last report (`none`: not scanned or ERROR). */
  readonly byGrade: Readonly<Record<string, number>>;
  /** Every watched target with a report: its grade and certificate expiry. */
  readonly hosts: readonly {
    readonly host: string;
    readonly port: number;
    readonly grade: Grade | null;
    readonly notAfterMs: number | null;
  }[];
}

/** The store. */
export interface TlsScanStore {
  /** `sqlite` or `postgres`. */
  readonly kind: "sqlite" | "postgres";
  /** Where the data lives, safe to log (a path, or the URL without its password). */
  readonly where: string;
  /** The last report of `target` by `engine`. */
  latest(target: Target, engine: EngineName): Promise<StoredReport | undefined>;
  /**
   * Keeps `report` as its target's last one for its engine; then, past the report bound,
   * evicts the oldest reports of unwatched targets (watched targets keep theirs).
   */
  save(report: TlsReport): Promise<SaveOutcome>;
  /**
   * Adds `targets` to the watch list, never past `max` watched in all. Idempotent: a target
   * already watched counts as `already`; those that do not fit are returned in `full`.
   */
  watch(targets: readonly Target[], max: number, nowMs?: number): Promise<WatchOutcome>;
  /** Stops watching `host` (on `port`, or on every port); how many entries went. */
  unwatch(host: string, port?: number): Promise<number>;
  /** How many targets are watched. */
  watchedCount(): Promise<number>;
  /**
   * One page of the watch list in (host, port) order, after `after` (keyset paging: stable
   * while hosts are added or removed), each with its last report by `engine`.
   */
  listWatched(engine: EngineName, limit: number, after?: Target): Promise<WatchedRow[]>;
  /**
   * Claims, atomically, up to `due.limit` watched targets due for a scan and not claimed by
   * another owner (oldest report first): the scheduler's round. Another instance asking at
   * the same time gets other targets.
   */
  claimDue(engine: EngineName, due: DueQuery, lease: Lease): Promise<Target[]>;
  /** Claims one target (free, expired, or already ours); `false` when another owner holds it. */
  claim(target: Target, engine: EngineName, lease: Lease): Promise<boolean>;
  /** Extends our claim while the scan runs; `false` when it is no longer ours. */
  renew(target: Target, engine: EngineName, lease: Lease): Promise<boolean>;
  /** Gives up our claim (the scan ended and its report is saved). */
  release(target: Target, engine: EngineName, owner: string): Promise<void>;
  /** The watch list's summary (one read; the gauges cache it). */
  watchStats(engine: EngineName): Promise<WatchStats>;
  /** Resolves when the database answers; rejects with why not. `/readyz`'s `database`. */
  check(signal: AbortSignal): Promise<unknown>;
  /** Writes what it still holds (reports buffered while the database was down) and closes. */
  close(deadline?: number): Promise<void>;
}

/**
 * The database cannot be reached: the caller answers 503 with the message, and retries later.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreUnavailableError } from "./store.ts";
 * const error = new StoreUnavailableError("connect ECONNREFUSED 127.0.0.1:5432");
 * assert.equal(error.name, "StoreUnavailableError");
 * assert.ok(error instanceof Error);
 * ```
 */
export class StoreUnavailableError extends Error {
  /** Says what cannot be reached. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
