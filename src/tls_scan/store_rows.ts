/**
 * What both stores share below the contract: the schema version they migrate to, a report's
 * row as both write it, the mapping of a watch-list row (as either database returns it) to
 * a {@linkcode WatchedRow}, the watch list's bound and its summary for the gauges.
 *
 * @module
 */
import type { Grade, TlsReport } from "./report.ts";
import type { WatchedRow, WatchOutcome, WatchStats } from "./store.ts";
import { type Target, targetKey } from "./target.ts";

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

/**
 * A report's row, in the column order both stores write it: `host, port, engine,
 * scanned_at_ms, status, grade, not_after_ms, problems, report` (the last two as JSON).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { REPORT_COLUMNS, reportRow } from "./store_rows.ts";
 * import type { TlsReport } from "./report.ts";
 * const report = {
 *   host: "a.test",
 *   port: 443,
 *   engine: "probe",
 *   scanned_at: "2026-12-06T00:00:00.000Z",
 *   status: "READY",
 *   grade: "A",
 *   certificate: undefined,
 *   problems: ["no_tls1_3"],
 * } as unknown as TlsReport;
 * const row = reportRow(report);
 * assert.equal(row.length, REPORT_COLUMNS.length);
 * assert.deepEqual(row.slice(0, 8), [
 *   "a.test", 443, "probe", 1796515200000, "READY", "A", null, '["no_tls1_3"]',
 * ]);
 * ```
 */
export function reportRow(report: TlsReport): (string | number | null)[] {
  return [
    report.host,
    report.port,
    report.engine,
    Date.parse(report.scanned_at),
    report.status,
    report.grade,
    report.certificate ? Date.parse(report.certificate.not_after) : null,
    JSON.stringify(report.problems),
    JSON.stringify(report),
  ];
}

/**
 * The reports table's columns, in {@linkcode reportRow}'s order.
 */
export const REPORT_COLUMNS: readonly string[] = [
  "host",
  "port",
  "engine",
  "scanned_at_ms",
  "status",
  "grade",
  "not_after_ms",
  "problems",
  "report",
];

/**
 * Which of `targets` join a watch list of `count` targets (the keys of those already on it in
 * `known`) without passing `max`: the rest are `already` watched (a target named twice counts
 * once) or `full`. Both stores' `watch` decide with it, then insert `adding`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { admitToWatch } from "./store_rows.ts";
 * const a = { host: "a.test", port: 443 }, b = { host: "b.test", port: 443 };
 * const c = { host: "c.test", port: 443 };
 * const outcome = admitToWatch([a, b, b, c], new Set(["a.test:443"]), 1, 2);
 * assert.deepEqual(outcome, { adding: [b], already: 2, full: [c] });
 * ```
 */
export function admitToWatch(
  targets: readonly Target[],
  known: Set<string>,
  count: number,
  max: number,
): Omit<WatchOutcome, "added"> & { readonly adding: Target[] } {
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
  return { adding, already, full };
}

/**
 * The watch list's summary from its rows joined with their last report (columns `host, port,
 * grade, not_after_ms`; the report's null when never scanned) and the count of `reports`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { watchStatsOf } from "./store_rows.ts";
 * const stats = watchStatsOf([
 *   { host: "a.test", port: 443, grade: "A", not_after_ms: 5 },
 *   { host: "b.test", port: 443, grade: null, not_after_ms: null },
 * ], 7);
 * assert.deepEqual(stats, {
 *   watched: 2,
 *   reports: 7,
 *   byGrade: { A: 1, none: 1 },
 *   hosts: [{ host: "a.test", port: 443, grade: "A", notAfterMs: 5 }],
 * });
 * ```
 */
export function watchStatsOf(
  rows: readonly Record<string, unknown>[],
  reports: number,
): WatchStats {
  const byGrade: Record<string, number> = {};
  for (const row of rows) {
    const grade = (row.grade as string | null) ?? "none";
    byGrade[grade] = (byGrade[grade] ?? 0) + 1;
  }
  return {
    watched: rows.length,
    reports,
    byGrade,
    hosts: rows.filter((row) => row.grade !== null || row.not_after_ms !== null).map((row) => ({
      host: row.host as string,
      port: row.port as number,
      grade: (row.grade ?? null) as Grade | null,
      notAfterMs: (row.not_after_ms ?? null) as number | null,
    })),
  };
}
