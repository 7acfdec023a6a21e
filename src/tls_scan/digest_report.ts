/**
 * The digest of every watched host (`GET /scans/report`), worst first: hosts that could not
 * be assessed, then by grade (M, T, F … A+), then the soonest certificate expiry; hosts never
 * scanned yet last. As a self-contained HTML document (inline styles, nothing external, for
 * e-mail) or as plain text. Pure: rows in, text out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDigestText } from "./digest_report.ts";
 * const text = renderDigestText([
 *   { host: "a.test", port: 443, status: "READY", grade: "A", problems: [], notAfterMs: Date.parse("2027-01-01") },
 *   { host: "b.test", port: 443, status: "READY", grade: "B", problems: ["weak_dh"], notAfterMs: Date.parse("2027-06-01") },
 * ], new Date("2026-12-01T00:00:00Z"));
 * assert.ok(text.indexOf("b.test") < text.indexOf("a.test")); // the worse grade first
 * ```
 *
 * @module
 */
import { badge, escapeHtml, page, table } from "./html_report.ts";
import { PROBLEM_TEXT } from "./problems.ts";
import { daysRemaining, type Grade, gradeRank, type ProblemCode } from "./report.ts";
import { targetKey } from "./target.ts";

/** One watched host and the summary of its last report. */
export interface DigestRow {
  readonly host: string;
  readonly port: number;
  /** null: not scanned yet. */
  readonly status: "READY" | "ERROR" | null;
  readonly grade: Grade | null;
  readonly problems: readonly string[];
  readonly notAfterMs: number | null;
}

/**
 * `rows` worst first: not assessed (ERROR), then the worst grade, then the soonest expiry;
 * never scanned last.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortDigest } from "./digest_report.ts";
 * const row = (host: string, grade: "A" | "T" | null, days: number | null, status: "READY" | "ERROR" | null = "READY") =>
 *   ({ host, port: 443, status, grade, problems: [], notAfterMs: days === null ? null : days * 86_400_000 });
 * const sorted = sortDigest([row("a", "A", 90), row("b", "A", 10), row("c", "T", 300),
 *   row("d", null, null, "ERROR"), row("e", null, null, null)]);
 * assert.deepEqual(sorted.map((r) => r.host), ["d", "c", "b", "a", "e"]);
 * ```
 */
export function sortDigest(rows: readonly DigestRow[]): DigestRow[] {
  const rank = (row: DigestRow) =>
    row.status === null ? -2 : row.status === "ERROR" || row.grade === null ? 99 : gradeRank(
      row.grade,
    );
  return [...rows].sort((a, b) =>
    rank(b) - rank(a) ||
    (a.notAfterMs ?? Number.MAX_SAFE_INTEGER) - (b.notAfterMs ?? Number.MAX_SAFE_INTEGER) ||
    targetKey(a).localeCompare(targetKey(b))
  );
}

function cells(row: DigestRow, now: Date): string[] {
  const days = row.notAfterMs === null ? null : daysRemaining(new Date(row.notAfterMs), now);
  return [
    targetKey(row),
    row.status === null ? "not scanned yet" : row.status === "ERROR" ? "ERROR" : row.grade ?? "–",
    row.notAfterMs === null ? "–" : new Date(row.notAfterMs).toISOString().slice(0, 10),
    days === null ? "–" : String(days),
    row.problems.length === 0 ? "-" : row.problems.join(", "),
  ];
}

function counts(rows: readonly DigestRow[]): string {
  const byGrade = new Map<string, number>();
  for (const row of rows) {
    const key = row.status === null ? "not scanned" : row.status === "ERROR" ? "ERROR" : row.grade!;
    byGrade.set(key, (byGrade.get(key) ?? 0) + 1);
  }
  return [...byGrade].map(([grade, n]) => `${grade}: ${n}`).join(", ");
}

/**
 * The digest as plain text, one host a line, worst first, with the problems explained once.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDigestText } from "./digest_report.ts";
 * const text = renderDigestText([], new Date());
 * assert.match(text, /^TLS digest: 0 watched hosts/);
 * ```
 */
export function renderDigestText(rows: readonly DigestRow[], now: Date): string {
  const sorted = sortDigest(rows);
  const table = [
    ["host", "grade", "expires", "days", "problems"],
    ...sorted.map((r) => cells(r, now)),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = [
    `TLS digest: ${rows.length} watched hosts, ${now.toISOString().slice(0, 16)}Z`,
    rows.length > 0 ? counts(rows) : "",
    "",
    ...table.map((row) =>
      [
        ...row.slice(0, 4).map((c, i) => i === 3 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)),
        row[4],
      ].join("  ").trimEnd()
    ),
  ];
  const legend = problemLegend(rows);
  if (legend.length > 0) {
    lines.push("", "Problems:", ...legend.map(([code, text]) => `  ${code}: ${text}`));
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The digest as one self-contained HTML document (inline styles, nothing external).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderDigestHtml } from "./digest_report.ts";
 * const html = renderDigestHtml([
 *   { host: "a.test", port: 443, status: "READY", grade: "T", problems: ["expired"], notAfterMs: 0 },
 * ], new Date("2026-12-01T00:00:00Z"));
 * assert.ok(html.includes("a.test:443") && html.includes("the certificate has expired"));
 * ```
 */
export function renderDigestHtml(rows: readonly DigestRow[], now: Date): string {
  const sorted = sortDigest(rows);
  const worst = sorted.find((r) => r.status === "READY" && r.grade !== null)?.grade ?? null;
  const parts = [
    `<table style="border-collapse:collapse"><tr><td style="padding-right:14px">${
      badge(worst)
    }</td><td><div style="font-size:20px;font-weight:bold">TLS digest: ${rows.length} watched ` +
    `hosts</div><div style="font-size:13px;color:#57606a">${
      escapeHtml(now.toISOString().slice(0, 16).replace("T", " "))
    } UTC · worst grade and soonest expiry first · ${escapeHtml(counts(rows))}</div></td></tr>` +
    `</table>`,
    table(["host", "grade", "expires", "days left", "problems"], sorted.map((r) => cells(r, now))),
  ];
  const legend = problemLegend(rows);
  if (legend.length > 0) {
    parts.push(
      `<h2 style="font-size:16px;margin:18px 0 4px">Problems</h2><ul style="margin:4px 0">${
        legend.map(([code, text]) => `<li><b>${escapeHtml(code)}</b>: ${escapeHtml(text)}</li>`)
          .join("")
      }</ul>`,
    );
  }
  return page(`TLS digest: ${rows.length} watched hosts`, parts.join("\n"));
}

/** Every problem code the rows show, with its explanation, in the contract's order. */
function problemLegend(rows: readonly DigestRow[]): [string, string][] {
  const seen = new Set(rows.flatMap((r) => r.problems));
  return (Object.keys(PROBLEM_TEXT) as ProblemCode[]).filter((code) => seen.has(code))
    .map((code) => [code, PROBLEM_TEXT[code]]);
}
