/**
 * Content negotiation for the reports: `Accept` picks JSON (the default), `text/plain` or
 * `text/html` (whichever of the three the header names first), and a report or the digest is
 * rendered in it. Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { preferredFormat } from "./report_format.ts";
 * const accept = (value: string) => new Request("http://x/", { headers: { accept: value } });
 * assert.equal(preferredFormat(accept("text/html,application/xhtml+xml,*\/*;q=0.8")), "html");
 * ```
 *
 * @module
 */
import { type DigestRow, renderDigestHtml, renderDigestText, sortDigest } from "./digest_report.ts";
import { renderHtml } from "./html_report.ts";
import { daysRemaining, type TlsReport } from "./report.ts";
import { renderText } from "./text_report.ts";

/** A format a report is answered in. */
export type ReportFormat = "json" | "text" | "html";

const TYPES: readonly [ReportFormat, RegExp][] = [
  ["json", /\bapplication\/json\b/],
  ["text", /\btext\/plain\b/],
  ["html", /\btext\/html\b/],
];

/**
 * The format `request` asks for: of JSON, text and HTML, the one its `Accept` names first;
 * JSON when it names none.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { preferredFormat } from "./report_format.ts";
 * const accept = (value: string) => new Request("http://x/", { headers: { accept: value } });
 * assert.equal(preferredFormat(accept("text/plain")), "text");
 * assert.equal(preferredFormat(accept("application/json, text/html")), "json");
 * assert.equal(preferredFormat(new Request("http://x/")), "json");
 * ```
 */
export function preferredFormat(request: Request): ReportFormat {
  const accept = request.headers.get("accept") ?? "";
  let best: ReportFormat = "json";
  let at = Infinity;
  for (const [format, pattern] of TYPES) {
    const index = accept.search(pattern);
    if (index >= 0 && index < at) [best, at] = [format, index];
  }
  return best;
}

const CONTENT_TYPES: Readonly<Record<ReportFormat, string>> = {
  json: "application/json",
  text: "text/plain; charset=utf-8",
  html: "text/html; charset=utf-8",
};

/**
 * `report` as a response in `format`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportResponse } from "./report_format.ts";
 * import { errorReport } from "./report.ts";
 * const report = errorReport({ host: "a.test", port: 443, engine: "probe", message: "Refused" });
 * assert.equal(reportResponse(report, "html").headers.get("content-type"), "text/html; charset=utf-8");
 * ```
 */
export function reportResponse(report: TlsReport, format: ReportFormat): Response {
  if (format === "json") return Response.json(report);
  const body = format === "html" ? renderHtml(report) : renderText(report);
  return new Response(body, { headers: { "content-type": CONTENT_TYPES[format] } });
}

/**
 * The digest of `rows` as a response in `format` (JSON: the rows sorted, worst first).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { digestResponse } from "./report_format.ts";
 * const response = digestResponse([], "text", new Date());
 * assert.match(await response.text(), /^TLS digest: 0 watched hosts/);
 * ```
 */
export function digestResponse(
  rows: readonly DigestRow[],
  format: ReportFormat,
  now: Date,
): Response {
  if (format === "html") {
    return new Response(renderDigestHtml(rows, now), {
      headers: { "content-type": CONTENT_TYPES.html },
    });
  }
  if (format === "text") {
    return new Response(renderDigestText(rows, now), {
      headers: { "content-type": CONTENT_TYPES.text },
    });
  }
  return Response.json({ generated_at: now.toISOString(), hosts: digestJson(rows, now) });
}

function digestJson(rows: readonly DigestRow[], now: Date) {
  return sortDigest(rows).map((row) => watchedHostJson(row, now));
}

/**
 * A watched host's last grade and expiry as JSON, as `GET /scans` and the digest answer it
 * (`days_remaining` counted at `now`; both null without a certificate).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { watchedHostJson } from "./report_format.ts";
 * const row = {
 *   host: "a.test",
 *   port: 443,
 *   status: "READY" as const,
 *   grade: "A" as const,
 *   problems: [],
 *   notAfterMs: Date.parse("2026-03-11T00:00:00Z"),
 * };
 * const json = watchedHostJson(row, new Date("2026-03-01T00:00:00Z"));
 * assert.equal(json.not_after, "2026-03-11T00:00:00.000Z");
 * assert.equal(json.days_remaining, 10);
 * ```
 */
export function watchedHostJson(row: DigestRow, now: Date): {
  host: string;
  port: number;
  status: DigestRow["status"];
  grade: DigestRow["grade"];
  problems: DigestRow["problems"];
  not_after: string | null;
  days_remaining: number | null;
} {
  return {
    host: row.host,
    port: row.port,
    status: row.status,
    grade: row.grade,
    problems: row.problems,
    not_after: row.notAfterMs === null ? null : new Date(row.notAfterMs).toISOString(),
    days_remaining: row.notAfterMs === null ? null : daysRemaining(new Date(row.notAfterMs), now),
  };
}
