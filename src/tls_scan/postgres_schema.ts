/**
 * The PostgreSQL schema as numbered migrations, and the statements of the store that are
 * longer than a line. Hosts sort byte-wise (`COLLATE "C"`), as SQLite sorts them, so the watch
 * list pages alike on both stores.
 *
 * @module
 */
import type { Logger } from "../app/logging.ts";
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

/** Runs one statement with its parameters; answers its rows. */
export type RunStatement = (
  sql: string,
  params?: unknown[],
) => Promise<{ rows: Record<string, unknown>[] }>;

/**
 * Creates or migrates the schema to the last of {@linkcode MIGRATIONS}, inside the caller's
 * transaction: a transaction-scoped advisory lock makes every other instance wait here, then
 * find the work done. Answers the version it found.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MIGRATIONS, migrateSchema } from "./postgres_schema.ts";
 * const sent: string[] = [];
 * const from = await migrateSchema((sql) => {
 *   sent.push(sql);
 *   return Promise.resolve({ rows: sql.startsWith("SELECT max") ? [{ version: 1 }] : [] });
 * });
 * assert.equal(from, 1);
 * assert.ok(sent.includes(MIGRATIONS[1]![0]!)); // version 2's statements ran, not version 1's
 * assert.ok(!sent.includes(MIGRATIONS[0]![0]!));
 * ```
 */
export async function migrateSchema(run: RunStatement, logger?: Logger): Promise<number> {
  // Any number, the same in every instance: they queue here, the first one migrates.
  await run("SELECT pg_advisory_xact_lock(7219019)");
  await run("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)");
  const found = await run("SELECT max(version) AS version FROM schema_version");
  const from = Number(found.rows[0]?.version ?? 0);
  for (const [index, statements] of MIGRATIONS.entries()) {
    if (index + 1 <= from) continue;
    for (const statement of statements) await run(statement);
  }
  if (from < MIGRATIONS.length) {
    await run("DELETE FROM schema_version");
    await run("INSERT INTO schema_version (version) VALUES ($1)", [MIGRATIONS.length]);
    logger?.info("database schema at version {version} (was {from})", {
      version: MIGRATIONS.length,
      from,
    });
  }
  return from;
}
