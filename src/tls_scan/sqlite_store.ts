/**
 * The SQLite store (TLS_SCAN_STORE=sqlite, the default): one instance's reports, watch list
 * and scan claims in an embedded database (`node:sqlite`, built into Deno; the file and its
 * folder are created when missing), so a restart loses neither the cache nor the watch list.
 * Calls are small (indexed lookups; a 10 000-host watch is one transaction) and synchronous
 * underneath; they answer through the async {@linkcode TlsScanStore} contract.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteStore } from "./sqlite_store.ts";
 * const store = SqliteStore.open(`${Deno.makeTempDirSync()}/tls.db`, { maxReports: 1_000 });
 * const outcome = await store.watch([{ host: "example.com", port: 443 }], 10_000);
 * assert.equal(outcome.added, 1);
 * await store.close();
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import {
  claimableLease,
  claimDueParameters,
  dueReport,
  leaseStatements,
} from "./lease_statements.ts";
import {
  type EngineName,
  type Grade,
  type TlsReport,
  TlsReport as ReportSchema,
} from "./report.ts";
import type {
  DueQuery,
  Lease,
  SaveOutcome,
  StoredReport,
  TlsScanStore,
  WatchedRow,
  WatchOutcome,
  WatchStats,
} from "./store.ts";
import {
  admitToWatch,
  REPORT_COLUMNS,
  reportRow,
  rowToWatched,
  SCHEMA_VERSION,
  watchStatsOf,
} from "./store_rows.ts";
import { type Target, targetKey } from "./target.ts";

const STATEMENTS = leaseStatements("?");

/** A report's row replaces the target's last one by this engine. */
const SAVE_REPORT_SQL = `INSERT OR REPLACE INTO reports (${REPORT_COLUMNS.join(", ")})
  VALUES (${REPORT_COLUMNS.map(() => "?").join(", ")})`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS reports (
  host TEXT NOT NULL, port INTEGER NOT NULL, engine TEXT NOT NULL,
  scanned_at_ms INTEGER NOT NULL, status TEXT NOT NULL, grade TEXT,
  not_after_ms INTEGER, problems TEXT NOT NULL, report TEXT NOT NULL,
  PRIMARY KEY (host, port, engine)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS watched (
  host TEXT NOT NULL, port INTEGER NOT NULL, added_at_ms INTEGER NOT NULL,
  PRIMARY KEY (host, port)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leases (
  host TEXT NOT NULL, port INTEGER NOT NULL, engine TEXT NOT NULL,
  owner TEXT NOT NULL, expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (host, port, engine)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reports_age ON reports (scanned_at_ms);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
`;

/** Options of {@linkcode SqliteStore.open}. */
export interface SqliteStoreOptions {
  /** Reports kept at most (TLS_SCAN_MAX_REPORTS); past it the oldest unwatched go. */
  readonly maxReports: number;
  /** Called once per statement run, for the queries metric. */
  readonly onQuery?: () => void;
  /** Called with the count of reports evicted under the bound. */
  readonly onEvicted?: (count: number) => void;
}

/**
 * The SQLite store.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorReport } from "./report.ts";
 * import { SqliteStore } from "./sqlite_store.ts";
 * const store = SqliteStore.open(":memory:", { maxReports: 100 });
 * const report = errorReport({ host: "a.test", port: 443, engine: "probe", message: "Refused" });
 * assert.deepEqual(await store.save(report), { previousGrade: undefined, evicted: 0 });
 * const stored = await store.latest({ host: "a.test", port: 443 }, "probe");
 * assert.equal(stored?.report.status_message, "Refused");
 * await store.close();
 * ```
 */
export class SqliteStore implements TlsScanStore {
  /** Always `sqlite`. */
  readonly kind = "sqlite" as const;
  /** The database file. */
  readonly where: string;
  readonly #db: DatabaseSync;
  readonly #o: SqliteStoreOptions;
  #reports: number;

  private constructor(db: DatabaseSync, where: string, options: SqliteStoreOptions) {
    this.#db = db;
    this.where = where;
    this.#o = options;
    this.#reports = this.#get<{ n: number }>("SELECT COUNT(*) AS n FROM reports")!.n;
  }

  /** Opens (creating when missing, migrating when older) the database at `path`. */
  static open(path: string, options: SqliteStoreOptions): SqliteStore {
    if (path !== ":memory:") Deno.mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    db.exec("BEGIN IMMEDIATE");
    try {
      db.exec(SCHEMA);
      db.exec("DELETE FROM schema_version");
      db.prepare("INSERT INTO schema_version (version) VALUES (?)").run(SCHEMA_VERSION);
      db.exec("COMMIT");
    } catch (error) {
      db.exec("ROLLBACK");
      db.close();
      throw error;
    }
    return new SqliteStore(db, path, options);
  }

  #get<T>(sql: string, ...params: (string | number | null)[]): T | undefined {
    this.#o.onQuery?.();
    return this.#db.prepare(sql).get(...params) as T | undefined;
  }

  #all<T>(sql: string, ...params: (string | number | null)[]): T[] {
    this.#o.onQuery?.();
    return this.#db.prepare(sql).all(...params) as T[];
  }

  #run(sql: string, ...params: (string | number | null)[]): number {
    this.#o.onQuery?.();
    return Number(this.#db.prepare(sql).run(...params).changes);
  }

  #transaction<T>(body: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = body();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** The last report of `target` by `engine`. */
  latest(target: Target, engine: EngineName): Promise<StoredReport | undefined> {
    const row = this.#get<{ report: string; scanned_at_ms: number }>(
      "SELECT report, scanned_at_ms FROM reports WHERE host = ? AND port = ? AND engine = ?",
      target.host,
      target.port,
      engine,
    );
    return Promise.resolve(
      row && {
        report: ReportSchema.parse(JSON.parse(row.report)),
        scannedAtMs: row.scanned_at_ms,
      },
    );
  }

  /** Keeps `report`; past the bound, evicts the oldest unwatched reports. */
  save(report: TlsReport): Promise<SaveOutcome> {
    return Promise.resolve(this.#transaction(() => {
      const previous = this.#get<{ grade: Grade | null }>(
        "SELECT grade FROM reports WHERE host = ? AND port = ? AND engine = ?",
        report.host,
        report.port,
        report.engine,
      );
      this.#run(SAVE_REPORT_SQL, ...reportRow(report));
      if (!previous) this.#reports++;
      let evicted = 0;
      // Only a new row can take the count past the bound; a rescan replaces its own.
      if (!previous && this.#reports > this.#o.maxReports) {
        evicted = this.#run(
          `DELETE FROM reports WHERE (host, port, engine) IN (
             SELECT r.host, r.port, r.engine FROM reports r
               LEFT JOIN watched w ON w.host = r.host AND w.port = r.port
              WHERE w.host IS NULL ORDER BY r.scanned_at_ms LIMIT ?)`,
          this.#reports - this.#o.maxReports,
        );
        this.#reports -= evicted;
        this.#o.onEvicted?.(evicted);
      }
      return { previousGrade: previous?.grade, evicted };
    }));
  }

  /** Adds `targets` to the watch list, never past `max` watched. */
  watch(targets: readonly Target[], max: number, nowMs = Date.now()): Promise<WatchOutcome> {
    return Promise.resolve(this.#transaction(() => {
      this.#o.onQuery?.();
      const exists = this.#db.prepare("SELECT 1 FROM watched WHERE host = ? AND port = ?");
      const insert = this.#db.prepare(
        "INSERT INTO watched (host, port, added_at_ms) VALUES (?, ?, ?)",
      );
      const count = this.#get<{ n: number }>("SELECT COUNT(*) AS n FROM watched")!.n;
      const known = new Set<string>();
      for (const target of targets) {
        if (exists.get(target.host, target.port)) known.add(targetKey(target));
      }
      const { adding, already, full } = admitToWatch(targets, known, count, max);
      for (const target of adding) insert.run(target.host, target.port, nowMs);
      return { added: adding.length, already, full };
    }));
  }

  /** Stops watching `host` (on `port`, or every port). */
  unwatch(host: string, port?: number): Promise<number> {
    return Promise.resolve(
      port === undefined
        ? this.#run("DELETE FROM watched WHERE host = ?", host)
        : this.#run("DELETE FROM watched WHERE host = ? AND port = ?", host, port),
    );
  }

  /** How many targets are watched. */
  watchedCount(): Promise<number> {
    return Promise.resolve(this.#get<{ n: number }>("SELECT COUNT(*) AS n FROM watched")!.n);
  }

  /** One page of the watch list, after `after`. */
  listWatched(engine: EngineName, limit: number, after?: Target): Promise<WatchedRow[]> {
    const rows = this.#all<Record<string, unknown>>(
      `SELECT w.host, w.port, w.added_at_ms, r.status, r.grade, r.problems, r.not_after_ms,
              r.scanned_at_ms
         FROM watched w LEFT JOIN reports r
           ON r.host = w.host AND r.port = w.port AND r.engine = ?
        WHERE (w.host, w.port) > (?, ?)
        ORDER BY w.host, w.port LIMIT ?`,
      engine,
      after?.host ?? "",
      after?.port ?? -1,
      limit,
    );
    return Promise.resolve(rows.map(rowToWatched));
  }

  /** Claims the due targets no other owner holds. */
  claimDue(engine: EngineName, due: DueQuery, lease: Lease): Promise<Target[]> {
    return Promise.resolve(this.#transaction(() => {
      const targets = this.#all<Target>(
        `SELECT w.host, w.port FROM watched w
           LEFT JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = ?1
           LEFT JOIN leases l ON l.host = w.host AND l.port = w.port AND l.engine = ?1
          WHERE ${dueReport("?2", "?3", "?4")} AND ${claimableLease("?5", "?6")}
          ORDER BY COALESCE(r.scanned_at_ms, 0), w.host, w.port LIMIT ?7`,
        ...claimDueParameters(engine, due, lease),
      ).map((row) => ({ host: row.host, port: row.port }));
      for (const target of targets) this.#upsertLease(target, engine, lease);
      return targets;
    }));
  }

  #upsertLease(target: Target, engine: EngineName, lease: Lease): number {
    const [sql, params] = STATEMENTS.claim(target, engine, lease);
    return this.#run(sql, ...params);
  }

  /** Claims one target unless another owner holds it. */
  claim(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    return Promise.resolve(this.#upsertLease(target, engine, lease) > 0);
  }

  /** Extends our claim. */
  renew(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    const [sql, params] = STATEMENTS.renew(target, engine, lease);
    return Promise.resolve(this.#run(sql, ...params) > 0);
  }

  /** Gives up our claim. */
  release(target: Target, engine: EngineName, owner: string): Promise<void> {
    const [sql, params] = STATEMENTS.release(target, engine, owner);
    this.#run(sql, ...params);
    return Promise.resolve();
  }

  /** The watch list's summary. */
  watchStats(engine: EngineName): Promise<WatchStats> {
    const hosts = this.#all<Record<string, unknown>>(
      `SELECT w.host, w.port, r.grade, r.not_after_ms FROM watched w
         LEFT JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = ?`,
      engine,
    );
    return Promise.resolve(watchStatsOf(hosts, this.#reports));
  }

  /** Resolves while the database file answers. */
  check(_signal: AbortSignal): Promise<unknown> {
    return Promise.resolve(this.#get("SELECT 1"));
  }

  /** Closes the database. */
  close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
    return Promise.resolve();
  }
}
