/**
 * The store: the last report of every target per engine, and the watch list, in an embedded
 * SQLite database (`node:sqlite`, built into Deno; the file and its folder are created when
 * missing), so a restart loses neither the cache nor the watch list. Calls are synchronous and
 * small (indexed lookups; a 10 000-host watch is one transaction).
 *
 * @example
 * ```ts
 * import { ReportStore } from "./sqlite_store.ts";
 * const store = ReportStore.open(`${Deno.makeTempDirSync()}/tls.db`);
 * store.watch([{ host: "example.com", port: 443 }], 10_000); // { added: 1, already: 0, full: [] }
 * store.close();
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { dirname } from "node:path";
import {
  type EngineName,
  type Grade,
  type TlsReport,
  TlsReport as ReportSchema,
} from "./report.ts";
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

/** What {@linkcode ReportStore.save} replaced. */
export interface SaveOutcome {
  /** The grade of the report it replaced; `undefined` when there was none. */
  readonly previousGrade: Grade | null | undefined;
}

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
`;

/**
 * The SQLite store.
 *
 * ```ts
 * import { errorReport } from "./report.ts";
 * import { ReportStore } from "./sqlite_store.ts";
 * const store = ReportStore.open(":memory:");
 * const report = errorReport({ host: "a.test", port: 443, engine: "probe", message: "Refused" });
 * store.save(report); // { previousGrade: undefined }: its first report
 * store.latest({ host: "a.test", port: 443 }, "probe")?.report.status_message; // "Refused"
 * store.close();
 * ```
 */
export class ReportStore {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating when missing) the database at `path`. */
  static open(path: string): ReportStore {
    if (path !== ":memory:") Deno.mkdirSync(dirname(path), { recursive: true });
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;");
    db.exec(SCHEMA);
    return new ReportStore(db);
  }

  /** The last report of `target` by `engine`. */
  latest(target: Target, engine: EngineName): StoredReport | undefined {
    const row = this.#db.prepare(
      "SELECT report, scanned_at_ms FROM reports WHERE host = ? AND port = ? AND engine = ?",
    ).get(target.host, target.port, engine) as
      | { report: string; scanned_at_ms: number }
      | undefined;
    if (!row) return undefined;
    return { report: ReportSchema.parse(JSON.parse(row.report)), scannedAtMs: row.scanned_at_ms };
  }

  /** Keeps `report` as its target's last one for its engine. */
  save(report: TlsReport): SaveOutcome {
    const previous = this.#db.prepare(
      "SELECT grade FROM reports WHERE host = ? AND port = ? AND engine = ?",
    ).get(report.host, report.port, report.engine) as { grade: Grade | null } | undefined;
    this.#db.prepare(
      `INSERT OR REPLACE INTO reports
        (host, port, engine, scanned_at_ms, status, grade, not_after_ms, problems, report)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      report.host,
      report.port,
      report.engine,
      Date.parse(report.scanned_at),
      report.status,
      report.grade,
      report.certificate ? Date.parse(report.certificate.not_after) : null,
      JSON.stringify(report.problems),
      JSON.stringify(report),
    );
    return { previousGrade: previous?.grade };
  }

  /**
   * Adds `targets` to the watch list, never past `max` watched in all. Idempotent: a target
   * already watched counts as `already`; those that do not fit are returned in `full`.
   */
  watch(targets: readonly Target[], max: number, nowMs = Date.now()): {
    added: number;
    already: number;
    full: Target[];
  } {
    const exists = this.#db.prepare("SELECT 1 FROM watched WHERE host = ? AND port = ?");
    const insert = this.#db.prepare(
      "INSERT INTO watched (host, port, added_at_ms) VALUES (?, ?, ?)",
    );
    let count = this.watchedCount();
    let added = 0, already = 0;
    const full: Target[] = [];
    this.#db.exec("BEGIN");
    try {
      for (const target of targets) {
        if (exists.get(target.host, target.port)) already++;
        else if (count >= max) full.push(target);
        else {
          insert.run(target.host, target.port, nowMs);
          count++;
          added++;
        }
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    return { added, already, full };
  }

  /** Stops watching `host` (on `port`, or on every port); how many entries went. */
  unwatch(host: string, port?: number): number {
    const result = port === undefined
      ? this.#db.prepare("DELETE FROM watched WHERE host = ?").run(host)
      : this.#db.prepare("DELETE FROM watched WHERE host = ? AND port = ?").run(host, port);
    return Number(result.changes);
  }

  /** How many targets are watched. */
  watchedCount(): number {
    return (this.#db.prepare("SELECT COUNT(*) AS n FROM watched").get() as { n: number }).n;
  }

  /**
   * One page of the watch list in (host, port) order, after `after` (keyset paging: stable
   * while hosts are added or removed), each with its last report by `engine`.
   */
  listWatched(engine: EngineName, limit: number, after?: Target): WatchedRow[] {
    const rows = this.#db.prepare(
      `SELECT w.host, w.port, w.added_at_ms, r.status, r.grade, r.problems, r.not_after_ms,
              r.scanned_at_ms
         FROM watched w LEFT JOIN reports r
           ON r.host = w.host AND r.port = w.port AND r.engine = ?
        WHERE (w.host, w.port) > (?, ?)
        ORDER BY w.host, w.port LIMIT ?`,
    ).all(engine, after?.host ?? "", after?.port ?? -1, limit) as Record<string, unknown>[];
    return rows.map((row) => ({
      host: row.host as string,
      port: row.port as number,
      addedAtMs: row.added_at_ms as number,
      status: (row.status ?? null) as WatchedRow["status"],
      grade: (row.grade ?? null) as Grade | null,
      problems: row.problems ? JSON.parse(row.problems as string) : [],
      notAfterMs: (row.not_after_ms ?? null) as number | null,
      scannedAtMs: (row.scanned_at_ms ?? null) as number | null,
    }));
  }

  /**
   * Watched targets due for a scan, oldest report first: never scanned, scanned before
   * `staleBeforeMs`, or with a certificate expiring before `expiringBeforeMs` and scanned
   * before `recheckBeforeMs` (the daily recheck of certificates about to expire).
   */
  dueWatched(engine: EngineName, due: {
    readonly staleBeforeMs: number;
    readonly expiringBeforeMs: number;
    readonly recheckBeforeMs: number;
    readonly limit: number;
  }): Target[] {
    return this.#db.prepare(
      `SELECT w.host, w.port FROM watched w LEFT JOIN reports r
           ON r.host = w.host AND r.port = w.port AND r.engine = ?
        WHERE r.host IS NULL OR r.scanned_at_ms < ?
           OR (r.not_after_ms IS NOT NULL AND r.not_after_ms < ? AND r.scanned_at_ms < ?)
        ORDER BY COALESCE(r.scanned_at_ms, 0), w.host, w.port LIMIT ?`,
    ).all(
      engine,
      due.staleBeforeMs,
      due.expiringBeforeMs,
      due.recheckBeforeMs,
      due.limit,
    ).map((row) => ({ host: row.host as string, port: row.port as number }));
  }

  /** Watched targets by the grade of their last report (`none`: not scanned or ERROR). */
  gradeCounts(engine: EngineName): Record<string, number> {
    const rows = this.#db.prepare(
      `SELECT COALESCE(r.grade, 'none') AS grade, COUNT(*) AS n FROM watched w
         LEFT JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = ?
        GROUP BY 1`,
    ).all(engine) as { grade: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.grade, r.n]));
  }

  /** Every watched target with a known certificate expiry, for the days-left gauge. */
  watchedExpiries(engine: EngineName): { host: string; port: number; notAfterMs: number }[] {
    return (this.#db.prepare(
      `SELECT w.host, w.port, r.not_after_ms FROM watched w
         JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = ?
        WHERE r.not_after_ms IS NOT NULL`,
    ).all(engine) as { host: string; port: number; not_after_ms: number }[])
      .map((r) => ({ host: r.host, port: r.port, notAfterMs: r.not_after_ms }));
  }

  /** Closes the database. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
