/**
 * What both stores share below the contract: the schema version they migrate to, and the
 * mapping of a watch-list row (as either database returns it) to a {@linkcode WatchedRow}.
 *
 * @module
 */
import type { Grade } from "./report.ts";
import type { WatchedRow } from "./store.ts";

/**
 * The schema version both stores create or migrate to at start (1: reports and the watch
 * list; 2: scan leases and the reports' age index).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SCHEMA_VERSION } from "./store_rows.ts";
 * assert.equal(SCHEMA_VERSION, 2);
 * ```
 */
export const SCHEMA_VERSION = 2;

/**
 * A watch-list row joined with its last report (columns `host, port, added_at_ms, status,
 * grade, problems, not_after_ms, scanned_at_ms`; the report's are null when never scanned).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowToWatched } from "./store_rows.ts";
 * const row = rowToWatched({ host: "a.test", port: 443, added_at_ms: 5, problems: null });
 * assert.deepEqual(row, {
 *   host: "a.test",
 *   port: 443,
 *   addedAtMs: 5,
 *   status: null,
 *   grade: null,
 *   problems: [],
 *   notAfterMs: null,
 *   scannedAtMs: null,
 * });
 * ```
 */
export function rowToWatched(row: Record<string, unknown>): WatchedRow {
  return {
    host: row.host as string,
    port: Number(row.port),
    addedAtMs: Number(row.added_at_ms),
    status: (row.status ?? null) as WatchedRow["status"],
    grade: (row.grade ?? null) as Grade | null,
    problems: row.problems ? JSON.parse(row.problems as string) : [],
    notAfterMs: row.not_after_ms == null ? null : Number(row.not_after_ms),
    scannedAtMs: row.scanned_at_ms == null ? null : Number(row.scanned_at_ms),
  };
}
