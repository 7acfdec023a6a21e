/**
 * The PostgreSQL store (TLS_SCAN_STORE=postgres): reports, the watch list and scan claims in
 * one database shared by every instance, through a bounded connection pool (npm:pg). The
 * schema is created or migrated at first use by whichever instance gets there first (under a
 * transaction-scoped advisory lock, so the others wait, then find it done). A scheduler round
 * claims its due hosts in one statement (`FOR UPDATE SKIP LOCKED` on the watch list, an upsert
 * of the claims that only takes free or expired ones), so two instances never claim one host.
 *
 * While the database cannot be reached every call rejects with
 * {@linkcode StoreUnavailableError}, except `save`: a finished scan's report is held (at most
 * `maxPendingReports`, the oldest dropped and counted past it) and written once the database
 * answers again, so scans in flight lose nothing.
 *
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { errorMessage } from "../app/error_message.ts";
import type { Logger } from "../app/logging.ts";
import type { EngineName, Grade, TlsReport } from "./report.ts";
import { TlsReport as ReportSchema } from "./report.ts";
import { isUnavailable, redactedUrl } from "./postgres_errors.ts";
import { migrateSchema, SAVE_REPORT_SQL, WATCH_SQL } from "./postgres_schema.ts";
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
import { reportRow, rowToWatched } from "./store_rows.ts";
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

type Db = Pick<pg.PoolClient, "query">;

/**
 * The PostgreSQL store.
 *
 * ```ts
 * import { PostgresStore } from "./postgres_store.ts";
 * const store = PostgresStore.open({
 *   url: "postgres://scanner:secret@127.0.0.1:5432/tls",
 *   poolMax: 10,
 *   maxReports: 100_000,
 * });
 * store.where; // "postgres://scanner:***@127.0.0.1:5432/tls": the password is never shown
 * await store.close();
 * ```
 */
export class PostgresStore implements TlsScanStore {
  /** Always `postgres`. */
  readonly kind = "postgres" as const;
  /** The URL without its password. */
  readonly where: string;
  readonly #o: PostgresStoreOptions;
  readonly #pool: pg.Pool;
  #schema: Promise<void> | undefined;
  readonly #pending = new Map<string, TlsReport>();
  #flushing: Promise<void> | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Reports counted at the last count, plus those this instance added since. */
  #reportsEstimate = Number.POSITIVE_INFINITY;
  #closed = false;

  private constructor(options: PostgresStoreOptions) {
    this.#o = options;
    this.where = redactedUrl(options.url);
    this.#pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      query_timeout: 30_000,
      application_name: "edr-tls-scan",
      // BIGINT columns hold milliseconds since 1970: well within a double.
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === pg.types.builtins.INT8
            ? Number
            : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection's server going away is reported here; the next query reconnects.
    this.#pool.on("error", (error) => {
      this.#o.logger?.warn("database connection lost: {error}", { error: error.message });
    });
  }

  /** Makes the store; nothing connects before the first call (a database down at start is
   * the same as one going down later). */
  static open(options: PostgresStoreOptions): PostgresStore {
    return new PostgresStore(options);
  }

  /** The pool now, for its metrics. */
  poolStats(): PoolStats {
    const pool = this.#pool;
    return {
      max: this.#o.poolMax,
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    };
  }

  /** Reports held until the database answers again. */
  get pendingReports(): number {
    return this.#pending.size;
  }

  async #query<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    db: Db = this.#pool,
  ): Promise<pg.QueryResult<R>> {
    if (db === this.#pool) await this.#migrated();
    this.#o.onQuery?.();
    try {
      const result = await db.query<R>(sql, params);
      this.#o.onAnswered?.();
      return result;
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): unknown {
    if (!isUnavailable(error)) return error;
    const message = errorMessage(error);
    const unavailable = new StoreUnavailableError(message || "the database cannot be reached", {
      cause: error,
    });
    this.#o.onUnavailable?.(unavailable);
    return unavailable;
  }

  async #transaction<T>(body: (db: Db) => Promise<T>): Promise<T> {
    await this.#migrated();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw this.#translate(error);
    }
    let broken = false;
    try {
      await this.#query("BEGIN", [], client);
      const result = await body(client);
      await this.#query("COMMIT", [], client);
      return result;
    } catch (error) {
      broken = error instanceof StoreUnavailableError;
      if (!broken) await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Creates or migrates the schema once per process; a failed attempt is retried next call. */
  #migrated(): Promise<void> {
    this.#schema ??= this.#migrate().catch((error) => {
      this.#schema = undefined;
      throw error;
    });
    return this.#schema;
  }

  async #migrate(): Promise<void> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw this.#translate(error);
    }
    const run = (sql: string, params: unknown[] = []) => this.#query(sql, params, client);
    let broken = false;
    try {
      await run("BEGIN");
      await migrateSchema(run, this.#o.logger);
      await run("COMMIT");
    } catch (error) {
      broken = error instanceof StoreUnavailableError;
      if (!broken) await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** The last report of `target` by `engine`. */
  async latest(target: Target, engine: EngineName): Promise<StoredReport | undefined> {
    const held = this.#pending.get(`${engine} ${targetKey(target)}`);
    if (held) return { report: held, scannedAtMs: Date.parse(held.scanned_at) };
    const { rows } = await this.#query<{ report: string; scanned_at_ms: number }>(
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
      this.#hold(report);
      return { previousGrade: undefined, evicted: 0 };
    }
  }

  async #write(report: TlsReport): Promise<SaveOutcome> {
    const { rows } = await this.#query<{ had: boolean; grade: Grade | null }>(
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
    const { rows } = await this.#query<{ evicted: number; remaining: number }>(
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

  #hold(report: TlsReport): void {
    const key = `${report.engine} ${targetKey(report)}`;
    this.#pending.delete(key); // re-inserted last: the newest report of a target wins
    this.#pending.set(key, report);
    const max = this.#o.maxPendingReports ?? 10_000;
    for (const oldest of this.#pending.keys()) {
      if (this.#pending.size <= max) break;
      this.#pending.delete(oldest);
      this.#o.onDropped?.();
    }
    this.#scheduleFlush(1_000);
  }

  #scheduleFlush(ms: number): void {
    if (this.#flushTimer !== undefined || this.#closed) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush().catch(() => {});
    }, ms);
  }

  /** Writes the held reports in order; stops at the first unreachable and tries again later. */
  #flush(): Promise<void> {
    this.#flushing ??= (async () => {
      try {
        for (const [key, report] of this.#pending) {
          await this.#write(report);
          if (this.#pending.get(key) === report) this.#pending.delete(key);
        }
        this.#o.logger?.info("reports held while the database was down are written");
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.#scheduleFlush(2_000);
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  /** Adds `targets` to the watch list, never past `max` watched. */
  watch(targets: readonly Target[], max: number, nowMs = Date.now()): Promise<WatchOutcome> {
    return this.#transaction(async (db) => {
      // One watch at a time across instances, so the bound holds.
      await this.#query("SELECT pg_advisory_xact_lock(7219020)", [], db);
      const hosts = targets.map((t) => t.host), ports = targets.map((t) => t.port);
      const { rows } = await this.#query<{ host: string; port: number }>(
        WATCH_SQL.existing,
        [hosts, ports],
        db,
      );
      const known = new Set(rows.map(targetKey));
      const { rows: counted } = await this.#query<{ n: number }>(WATCH_SQL.count, [], db);
      let count = counted[0]!.n;
      let already = 0;
      const full: Target[] = [];
      const adding: Target[] = [];
      for (const target of targets) {
        const key = targetKey(target);
        if (known.has(key)) already++;
        else if (count >= max) full.push(target);
        else {
          known.add(key);
          adding.push(target);
          count++;
        }
      }
      if (adding.length > 0) {
        await this.#query(WATCH_SQL.insert, [
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
      ? await this.#query("DELETE FROM watched WHERE host = $1", [host])
      : await this.#query("DELETE FROM watched WHERE host = $1 AND port = $2", [host, port]);
    return result.rowCount ?? 0;
  }

  /** How many targets are watched. */
  async watchedCount(): Promise<number> {
    return (await this.#query<{ n: number }>(WATCH_SQL.count)).rows[0]!.n;
  }

  /** One page of the watch list, after `after`. */
  async listWatched(engine: EngineName, limit: number, after?: Target): Promise<WatchedRow[]> {
    const { rows } = await this.#query(
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

  /**
   * Claims, in one statement, the due targets no other owner holds. A statement that started
   * while another instance's claim of the same rows was committing sees them free, then loses
   * them in the upsert and may come back empty though other hosts are due: tried again (a new
   * snapshot) up to twice after a short random pause, so an instance is not idle for a whole
   * scheduler interval while hosts are due.
   */
  async claimDue(engine: EngineName, due: DueQuery, lease: Lease): Promise<Target[]> {
    for (let attempt = 0;; attempt++) {
      const claimed = await this.#stillDue(
        engine,
        due,
        lease,
        await this.#claimDueOnce(engine, due, lease),
      );
      if (claimed.length > 0 || attempt === 2) return claimed;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }

  /**
   * The claimed targets still due, read after the claim (a new snapshot): the claiming
   * statement judged due-ness on its own snapshot, so a host another instance scanned and let
   * go just before is dropped here (its claim given up) instead of being scanned twice.
   */
  async #stillDue(
    engine: EngineName,
    due: DueQuery,
    lease: Lease,
    claimed: Target[],
  ): Promise<Target[]> {
    if (claimed.length === 0) return claimed;
    const hosts = claimed.map((t) => t.host), ports = claimed.map((t) => t.port);
    const { rows } = await this.#query<{ host: string; port: number }>(
      `SELECT r.host, r.port FROM reports r
         JOIN unnest($1::text[], $2::int[]) AS t(host, port) ON r.host = t.host AND r.port = t.port
        WHERE r.engine = $3 AND NOT (r.scanned_at_ms < $4
              OR (r.not_after_ms IS NOT NULL AND r.not_after_ms < $5 AND r.scanned_at_ms < $6))`,
      [hosts, ports, engine, due.staleBeforeMs, due.expiringBeforeMs, due.recheckBeforeMs],
    );
    if (rows.length === 0) return claimed;
    await this.#query(
      `DELETE FROM leases l USING unnest($1::text[], $2::int[]) AS t(host, port)
        WHERE l.host = t.host AND l.port = t.port AND l.engine = $3 AND l.owner = $4`,
      [rows.map((r) => r.host), rows.map((r) => r.port), engine, lease.owner],
    );
    const done = new Set(rows.map(targetKey));
    return claimed.filter((t) => !done.has(targetKey(t)));
  }

  async #claimDueOnce(engine: EngineName, due: DueQuery, lease: Lease): Promise<Target[]> {
    const { rows } = await this.#query<{ host: string; port: number }>(
      `WITH due AS (
         SELECT w.host, w.port, COALESCE(r.scanned_at_ms, 0) AS age FROM watched w
           LEFT JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = $1
           LEFT JOIN leases l ON l.host = w.host AND l.port = w.port AND l.engine = $1
          WHERE (r.host IS NULL OR r.scanned_at_ms < $2
                 OR (r.not_after_ms IS NOT NULL AND r.not_after_ms < $3 AND r.scanned_at_ms < $4))
            AND (l.host IS NULL OR l.owner = $5 OR l.expires_at_ms <= $6)
          ORDER BY 3, w.host, w.port LIMIT $7
          FOR UPDATE OF w SKIP LOCKED),
       claimed AS (
         INSERT INTO leases (host, port, engine, owner, expires_at_ms)
         SELECT host, port, $1, $5, $8 FROM due
         ON CONFLICT (host, port, engine) DO UPDATE
           SET owner = EXCLUDED.owner, expires_at_ms = EXCLUDED.expires_at_ms
           WHERE leases.owner = EXCLUDED.owner OR leases.expires_at_ms <= $6
         RETURNING host, port)
       SELECT c.host, c.port FROM claimed c JOIN due d ON d.host = c.host AND d.port = c.port
        ORDER BY d.age, c.host, c.port`,
      [
        engine,
        due.staleBeforeMs,
        due.expiringBeforeMs,
        due.recheckBeforeMs,
        lease.owner,
        lease.nowMs,
        due.limit,
        lease.nowMs + lease.leaseMs,
      ],
    );
    return rows.map((row) => ({ host: row.host, port: row.port }));
  }

  /** Claims one target unless another owner holds it. */
  async claim(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    const result = await this.#query(
      `INSERT INTO leases (host, port, engine, owner, expires_at_ms) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (host, port, engine) DO UPDATE
         SET owner = EXCLUDED.owner, expires_at_ms = EXCLUDED.expires_at_ms
         WHERE leases.owner = EXCLUDED.owner OR leases.expires_at_ms <= $6`,
      [target.host, target.port, engine, lease.owner, lease.nowMs + lease.leaseMs, lease.nowMs],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Extends our claim. */
  async renew(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    const result = await this.#query(
      `UPDATE leases SET expires_at_ms = $1
        WHERE host = $2 AND port = $3 AND engine = $4 AND owner = $5`,
      [lease.nowMs + lease.leaseMs, target.host, target.port, engine, lease.owner],
    );
    return (result.rowCount ?? 0) > 0;
  }

  /** Gives up our claim. */
  async release(target: Target, engine: EngineName, owner: string): Promise<void> {
    await this.#query(
      "DELETE FROM leases WHERE host = $1 AND port = $2 AND engine = $3 AND owner = $4",
      [target.host, target.port, engine, owner],
    );
  }

  /** The watch list's summary (two statements; the gauges' cache calls it off the scrape). */
  async watchStats(engine: EngineName): Promise<WatchStats> {
    const { rows } = await this.#query<Record<string, unknown>>(
      `SELECT w.host, w.port, r.grade, r.not_after_ms FROM watched w
         LEFT JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = $1`,
      [engine],
    );
    const { rows: counted } = await this.#query<{ n: number }>(
      "SELECT count(*) AS n FROM reports",
    );
    this.#reportsEstimate = counted[0]!.n;
    const byGrade: Record<string, number> = {};
    for (const row of rows) {
      const grade = (row.grade as string | null) ?? "none";
      byGrade[grade] = (byGrade[grade] ?? 0) + 1;
    }
    return {
      watched: rows.length,
      reports: counted[0]!.n,
      byGrade,
      hosts: rows.filter((row) => row.grade !== null || row.not_after_ms !== null).map((row) => ({
        host: row.host as string,
        port: row.port as number,
        grade: (row.grade ?? null) as Grade | null,
        notAfterMs: (row.not_after_ms ?? null) as number | null,
      })),
    };
  }

  /** Resolves when the database answers (and its schema is in place). */
  async check(_signal: AbortSignal): Promise<unknown> {
    return (await this.#query("SELECT 1 AS ok")).rows[0];
  }

  /** Writes the held reports (by `deadline`, `performance.now()` ms) and closes the pool. */
  async close(deadline = performance.now() + 5_000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    if (this.#pending.size > 0) {
      const flushed = this.#flush().catch(() => {});
      const left = Math.max(0, deadline - performance.now());
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([flushed, new Promise((r) => timer = setTimeout(r, left))]);
      clearTimeout(timer);
      if (this.#pending.size > 0) {
        this.#o.logger?.error("{count} reports could not be written before shutdown", {
          count: this.#pending.size,
        });
      }
    }
    await this.#pool.end();
  }
}
