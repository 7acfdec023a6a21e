/**
 * The PostgreSQL store (TLS_SCAN_STORE=postgres): reports, the watch list and scan claims in
 * one database shared by every instance, through a bounded connection pool (postgres_pool.ts:
 * the schema is created or migrated at first use by whichever instance gets there first). A
 * scheduler round claims its due hosts in one statement (postgres_leases.ts), so two instances
 * never claim one host.
 *
 * While the database cannot be reached every call rejects with
 * {@linkcode StoreUnavailableError}, except `save`: a finished scan's report is held
 * (held_reports.ts: at most `maxPendingReports`, the oldest dropped and counted past it) and
 * written once the database answers again, so scans in flight lose nothing.
 *
 * @module
 */
import type { Logger } from "../app/logging.ts";
import { redactedUrl } from "../app/redacted_url.ts";
import type { EngineName, Grade, TlsReport } from "./report.ts";
import { TlsReport as ReportSchema } from "./report.ts";
import { HeldReports } from "./held_reports.ts";
import { PostgresLeases } from "./postgres_leases.ts";
import { PostgresPool } from "./postgres_pool.ts";
import { SAVE_REPORT_SQL, WATCH_SQL } from "./postgres_schema.ts";
import {
  type DueQuery,
  type Lease,
  type SaveOutcome,
  type StoredReport,
  StoreUnavailableError,
  type TlsScanStore,
  type WatchedRow,
  type WatchOutcome,
  type WatchStats,
} from "./store.ts";
import type { PoolStats } from "./store_metrics.ts";
import { admitToWatch, reportRow, rowToWatched, watchStatsOf } from "./store_rows.ts";
import { type Target, targetKey } from "./target.ts";

/** Options of {@linkcode PostgresStore.open}. */
export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/db` (TLS_SCAN_DATABASE_URL). */
  readonly url: string;
  /** Connections at most (TLS_SCAN_DATABASE_POOL_MAX). */
  readonly poolMax: number;
  /** Reports kept at most (TLS_SCAN_MAX_REPORTS). */
  readonly maxReports: number;
  /** Reports held while the database is unreachable, at most. Default 10 000. */
  readonly maxPendingReports?: number;
  /** How long to wait for a connection, ms. Default 5 000. */
  readonly connectTimeoutMs?: number;
  readonly logger?: Logger;
  /** Called once per statement sent. */
  readonly onQuery?: () => void;
  /** Called with the count of reports evicted under the bound. */
  readonly onEvicted?: (count: number) => void;
  /** Called when the database could not be reached. */
  readonly onUnavailable?: (error: Error) => void;
  /** Called when a statement was answered (the database reachable). */
  readonly onAnswered?: () => void;
  /** Called when a held report had to be dropped (the buffer full). */
  readonly onDropped?: () => void;
}

/**
 * The PostgreSQL store.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PostgresStore } from "./postgres_store.ts";
 * const store = PostgresStore.open({
 *   url: "postgres://scanner:secret@127.0.0.1:5432/tls",
 *   poolMax: 10,
 *   maxReports: 100_000,
 * });
 * assert.equal(store.where, "postgres://scanner:***@127.0.0.1:5432/tls"); // the password is never shown
 * await store.close();
 * ```
 */
export class PostgresStore implements TlsScanStore {
  /** Always `postgres`. */
  readonly kind = "postgres" as const;
  /** The URL without its password. */
  readonly where: string;
  readonly #o: PostgresStoreOptions;
  readonly #pool: PostgresPool;
  readonly #held: HeldReports;
  readonly #leases = new PostgresLeases((sql, params) => this.#pool.query(sql, params));
  /** Reports counted at the last count, plus those this instance added since. */
  #reportsEstimate = Number.POSITIVE_INFINITY;
  #closed = false;

  private constructor(options: PostgresStoreOptions) {
    this.#o = options;
    this.where = redactedUrl(options.url);
    this.#pool = new PostgresPool({
      url: options.url,
      poolMax: options.poolMax,
      connectTimeoutMs: options.connectTimeoutMs,
      logger: options.logger,
      onQuery: options.onQuery,
      onUnavailable: options.onUnavailable,
      onAnswered: options.onAnswered,
    });
    this.#held = new HeldReports({
      write: (report) => this.#write(report),
      max: options.maxPendingReports,
      logger: options.logger,
      onDropped: options.onDropped,
    });
  }

  /** Makes the store; nothing connects before the first call (a database down at start is
   * the same as one going down later). */
  static open(options: PostgresStoreOptions): PostgresStore {
    return new PostgresStore(options);
  }

  /** The pool now, for its metrics. */
  poolStats(): PoolStats {
    return this.#pool.stats();
  }

  /** Reports held until the database answers again. */
  get pendingReports(): number {
    return this.#held.size;
  }

  /** The last report of `target` by `engine`. */
  async latest(target: Target, engine: EngineName): Promise<StoredReport | undefined> {
    const held = this.#held.latest(target, engine);
    if (held) return { report: held, scannedAtMs: Date.parse(held.scanned_at) };
    const { rows } = await this.#pool.query<{ report: string; scanned_at_ms: number }>(
      "SELECT report, scanned_at_ms FROM reports WHERE host = $1 AND port = $2 AND engine = $3",
      [target.host, target.port, engine],
    );
    const row = rows[0];
    return row && {
      report: ReportSchema.parse(JSON.parse(row.report)),
      scannedAtMs: row.scanned_at_ms,
    };
  }

  /** Keeps `report` (held while the database is unreachable); evicts past the bound. */
  async save(report: TlsReport): Promise<SaveOutcome> {
    try {
      return await this.#write(report);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      this.#held.hold(report);
      return { previousGrade: undefined, evicted: 0 };
    }
  }

  async #write(report: TlsReport): Promise<SaveOutcome> {
    const { rows } = await this.#pool.query<{ had: boolean; grade: Grade | null }>(
      SAVE_REPORT_SQL,
      reportRow(report),
    );
    const previous = rows[0]!;
    const evicted = previous.had ? 0 : await this.#evict();
    return { previousGrade: previous.had ? previous.grade : undefined, evicted };
  }

  /**
   * Past the bound, deletes the oldest reports of unwatched targets. Counting every report
   * on every new one would cost a scan of the table each time: the count is re-read only
   * when this instance's estimate comes within a tenth of the bound.
   */
  async #evict(): Promise<number> {
    this.#reportsEstimate++;
    const max = this.#o.maxReports;
    if (this.#reportsEstimate < max - Math.floor(max / 10)) return 0;
    const { rows } = await this.#pool.query<{ evicted: number; remaining: number }>(
      `WITH excess AS (SELECT GREATEST(0, count(*) - $1) AS n, count(*) AS total FROM reports),
            gone AS (
              DELETE FROM reports WHERE (host, port, engine) IN (
                SELECT r.host, r.port, r.engine FROM reports r
                 WHERE NOT EXISTS (SELECT 1 FROM watched w WHERE w.host = r.host AND w.port = r.port)
                 ORDER BY r.scanned_at_ms LIMIT (SELECT n FROM excess))
              RETURNING 1)
       SELECT (SELECT count(*) FROM gone)::int AS evicted, (SELECT total FROM excess) AS remaining`,
      [max],
    );
    const { evicted, remaining } = rows[0]!;
    this.#reportsEstimate = remaining - evicted;
    if (evicted > 0) this.#o.onEvicted?.(evicted);
    return evicted;
  }

  /** Adds `targets` to the watch list, never past `max` watched. */
  watch(targets: readonly Target[], max: number, nowMs = Date.now()): Promise<WatchOutcome> {
    return this.#pool.transaction(async (db) => {
      // One watch at a time across instances, so the bound holds.
      await this.#pool.query("SELECT pg_advisory_xact_lock(7219020)", [], db);
      const hosts = targets.map((t) => t.host), ports = targets.map((t) => t.port);
      const { rows } = await this.#pool.query<{ host: string; port: number }>(
        WATCH_SQL.existing,
        [hosts, ports],
        db,
      );
      const known = new Set(rows.map(targetKey));
      const { rows: counted } = await this.#pool.query<{ n: number }>(WATCH_SQL.count, [], db);
      const { adding, already, full } = admitToWatch(targets, known, counted[0]!.n, max);
      if (adding.length > 0) {
        await this.#pool.query(WATCH_SQL.insert, [
          adding.map((t) => t.host),
          adding.map((t) => t.port),
          nowMs,
        ], db);
      }
      return { added: adding.length, already, full };
    });
  }

  /** Stops watching `host` (on `port`, or every port). */
  async unwatch(host: string, port?: number): Promise<number> {
    const result = port === undefined
      ? await this.#pool.query("DELETE FROM watched WHERE host = $1", [host])
      : await this.#pool.query("DELETE FROM watched WHERE host = $1 AND port = $2", [host, port]);
    return result.rowCount ?? 0;
  }

  /** How many targets are watched. */
  async watchedCount(): Promise<number> {
    return (await this.#pool.query<{ n: number }>(WATCH_SQL.count)).rows[0]!.n;
  }

  /** One page of the watch list, after `after`. */
  async listWatched(engine: EngineName, limit: number, after?: Target): Promise<WatchedRow[]> {
    const { rows } = await this.#pool.query(
      `SELECT w.host, w.port, w.added_at_ms, r.status, r.grade, r.problems, r.not_after_ms,
              r.scanned_at_ms
         FROM watched w LEFT JOIN reports r
           ON r.host = w.host AND r.port = w.port AND r.engine = $1
        WHERE (w.host, w.port) > ($2, $3)
        ORDER BY w.host, w.port LIMIT $4`,
      [engine, after?.host ?? "", after?.port ?? -1, limit],
    );
    return rows.map(rowToWatched);
  }

  /** Claims the due targets no other owner holds (postgres_leases.ts). */
  claimDue(engine: EngineName, due: DueQuery, lease: Lease): Promise<Target[]> {
    return this.#leases.claimDue(engine, due, lease);
  }

  /** Claims one target unless another owner holds it. */
  claim(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    return this.#leases.claim(target, engine, lease);
  }

  /** Extends our claim. */
  renew(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    return this.#leases.renew(target, engine, lease);
  }

  /** Gives up our claim. */
  release(target: Target, engine: EngineName, owner: string): Promise<void> {
    return this.#leases.release(target, engine, owner);
  }

  /** The watch list's summary (two statements; the gauges' cache calls it off the scrape). */
  async watchStats(engine: EngineName): Promise<WatchStats> {
    const { rows } = await this.#pool.query<Record<string, unknown>>(
      `SELECT w.host, w.port, r.grade, r.not_after_ms FROM watched w
         LEFT JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = $1`,
      [engine],
    );
    const { rows: counted } = await this.#pool.query<{ n: number }>(
      "SELECT count(*) AS n FROM reports",
    );
    this.#reportsEstimate = counted[0]!.n;
    return watchStatsOf(rows, counted[0]!.n);
  }

  /** Resolves when the database answers (and its schema is in place). */
  async check(_signal: AbortSignal): Promise<unknown> {
    return (await this.#pool.query("SELECT 1 AS ok")).rows[0];
  }

  /** Writes the held reports (by `deadline`, `performance.now()` ms) and closes the pool. */
  async close(deadline = performance.now() + 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#held.close(deadline);
    await this.#pool.end();
  }
}
