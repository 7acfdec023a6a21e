/**
 * The PostgreSQL schema as numbered migrations, and the statements of the store that are
 * longer than a line. Hosts sort byte-wise (`COLLATE "C"`), as SQLite sorts them, so the watch
 * list pages alike on both stores.
 *
 * @module
 */
import { SCHEMA_VERSION } from "./store_rows.ts";

/**
 * Migration `i` takes the schema from version `i` to `i + 1`; `schema_version` says where a
 * database is. Append, never edit: a database already past a step never runs it again.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIGRATIONS } from "./postgres_schema.ts";
 * import { SCHEMA_VERSION } from "./store_rows.ts";
 * assert.equal(MIGRATIONS.length, SCHEMA_VERSION);
 * ```
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    `CREATE TABLE IF NOT EXISTS reports (
       host text COLLATE "C" NOT NULL, port integer NOT NULL, engine text NOT NULL,
       scanned_at_ms bigint NOT NULL, status text NOT NULL, grade text,
       not_after_ms bigint, problems text NOT NULL, report text NOT NULL,
       PRIMARY KEY (host, port, engine))`,
    `CREATE TABLE IF NOT EXISTS watched (
       host text COLLATE "C" NOT NULL, port integer NOT NULL, added_at_ms bigint NOT NULL,
       PRIMARY KEY (host, port))`,
  ],
  [
    `CREATE TABLE IF NOT EXISTS leases (
       host text COLLATE "C" NOT NULL, port integer NOT NULL, engine text NOT NULL,
       owner text NOT NULL, expires_at_ms bigint NOT NULL,
       PRIMARY KEY (host, port, engine))`,
    "CREATE INDEX IF NOT EXISTS reports_age ON reports (scanned_at_ms)",
  ],
];
if (MIGRATIONS.length !== SCHEMA_VERSION) throw new Error("a migration per schema version");

/**
 * Upserts a report and returns whether one was there and its grade (one round trip; the CTE
 * reads the row as it was before the upsert).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SAVE_REPORT_SQL } from "./postgres_schema.ts";
 * assert.match(SAVE_REPORT_SQL, /ON CONFLICT \(host, port, engine\) DO UPDATE/);
 * ```
 */
export const SAVE_REPORT_SQL = `
WITH previous AS (SELECT grade FROM reports WHERE host = $1 AND port = $2 AND engine = $3),
     saved AS (
       INSERT INTO reports
         (host, port, engine, scanned_at_ms, status, grade, not_after_ms, problems, report)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (host, port, engine) DO UPDATE SET
         scanned_at_ms = EXCLUDED.scanned_at_ms, status = EXCLUDED.status,
         grade = EXCLUDED.grade, not_after_ms = EXCLUDED.not_after_ms,
         problems = EXCLUDED.problems, report = EXCLUDED.report
       RETURNING 1)
SELECT EXISTS (SELECT 1 FROM previous) AS had, (SELECT grade FROM previous) AS grade,
       (SELECT count(*) FROM saved) AS saved`;

/**
 * The watch list's statements: which of a batch are watched, how many are, add a batch.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { WATCH_SQL } from "./postgres_schema.ts";
 * assert.match(WATCH_SQL.insert, /unnest/);
 * ```
 */
export const WATCH_SQL = {
  existing: `SELECT w.host, w.port FROM watched w
               JOIN unnest($1::text[], $2::int[]) AS t(host, port)
                 ON w.host = t.host AND w.port = t.port`,
  count: "SELECT count(*)::int AS n FROM watched",
  insert: `INSERT INTO watched (host, port, added_at_ms)
           SELECT host, port, $3 FROM unnest($1::text[], $2::int[]) AS t(host, port)
           ON CONFLICT DO NOTHING`,
} as const;
