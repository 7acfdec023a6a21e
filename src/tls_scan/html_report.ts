/**
 * The report as one self-contained HTML document for e-mail (`Accept: text/html` on
 * `GET /scan`): inline styles only, no script, no image, no link, no external resource (mail
 * clients block them), every value escaped. Host, grade, problems explained, certificate
 * subject, issuer, expiry date and days left, protocols, every accepted suite, what the probe
 * observed and what it could not test. Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderHtml } from "./html_report.ts";
 * import { errorReport } from "./report.ts";
 * const html = renderHtml(errorReport({ host: "a.test", port: 443, engine: "probe", message: "Refused" }));
 * assert.match(html, /^<!DOCTYPE html>/);
 * assert.doesNotMatch(html, /<script|src=|href=/);
 * ```
 *
 * @module
 */
import { PROBLEM_TEXT } from "./problems.ts";
import type { Grade, TlsReport } from "./report.ts";
import { targetKey } from "./target.ts";

/**
 * `text` with `& < > " '` escaped for HTML text and attribute values.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeHtml } from "./html_report.ts";
 * assert.equal(escapeHtml(`<b title="x">&</b>`), "&lt;b title=&quot;x&quot;&gt;&amp;&lt;/b&gt;");
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * The colour of a grade's badge (green A, amber B–C, red D–F, dark red T and M, grey none).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradeColour } from "./html_report.ts";
 * assert.equal(gradeColour("A+"), "#1a7f37");
 * assert.equal(gradeColour(null), "#6e7781");
 * ```
 */
export function gradeColour(grade: Grade | null): string {
  if (grade === null) return "#6e7781";
  if (grade.startsWith("A")) return "#1a7f37";
  if (grade === "B" || grade === "C") return "#bf8700";
  if (grade === "T" || grade === "M") return "#82071e";
  return "#cf222e";
}

const FONT = "font-family:Arial,Helvetica,sans-serif;color:#1f2328";
const CELL = "padding:4px 10px;border-bottom:1px solid #d0d7de;text-align:left;vertical-align:top";
const HEAD = `${CELL};background:#f6f8fa;font-weight:bold`;

/**
 * A grade badge (inline styles).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { badge } from "./html_report.ts";
 * assert.equal(badge("B").includes(">B<"), true);
 * ```
 */
export function badge(grade: Grade | null): string {
  return `<span style="display:inline-block;min-width:2.2em;padding:6px 10px;border-radius:6px;` +
    `background:${gradeColour(grade)};color:#ffffff;font-weight:bold;font-size:22px;` +
    `text-align:center">${escapeHtml(grade ?? "–")}</span>`;
}

/**
 * A table with a header row; cells are escaped here.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { table } from "./html_report.ts";
 * assert.equal(table(["a"], [["<x>"]]).includes("&lt;x&gt;"), true);
 * ```
 */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const th = head.map((h) => `<th style="${HEAD}">${escapeHtml(h)}</th>`).join("");
  const trs = rows.map((row) =>
    `<tr>${row.map((c) => `<td style="${CELL}">${escapeHtml(c)}</td>`).join("")}</tr>`
  ).join("\n");
  return `<table style="border-collapse:collapse;margin:6px 0 14px;font-size:13px">` +
    `<tr>${th}</tr>\n${trs}</table>`;
}

/**
 * An HTML document around `body` (inline-styled, nothing external).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { page } from "./html_report.ts";
 * assert.equal(page("T", "<p>x</p>").startsWith("<!DOCTYPE html>"), true);
 * ```
 */
export function page(title: string, body: string): string {
  return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width"><title>${escapeHtml(title)}</title>` +
    `</head>\n<body style="margin:0;padding:20px;background:#ffffff;${FONT}">\n${body}\n` +
    `</body></html>\n`;
}

const yesNo = (value: boolean | null): string =>
  value === null ? "not applicable / not seen" : value ? "yes" : "no";

/**
 * Renders `report` as a self-contained HTML document.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderHtml } from "./html_report.ts";
 * import { errorReport } from "./report.ts";
 * const html = renderHtml(errorReport({
 *   host: "<evil>.test", port: 443, engine: "probe", message: "Connection refused",
 * }));
 * assert.ok(html.includes("&lt;evil&gt;.test:443"));
 * assert.ok(html.includes("Connection refused"));
 * ```
 */
export function renderHtml(report: TlsReport): string {
  const key = targetKey(report);
  const parts: string[] = [];
  const h2 = (text: string) =>
    `<h2 style="font-size:16px;margin:18px 0 4px;border-bottom:2px solid #d0d7de">${
      escapeHtml(text)
    }</h2>`;
  parts.push(
    `<table style="border-collapse:collapse"><tr><td style="padding-right:14px">${
      badge(report.grade)
    }</td><td><div style="font-size:20px;font-weight:bold">TLS report for ${
      escapeHtml(key)
    }</div><div style="font-size:13px;color:#57606a">Scanned ${
      escapeHtml(report.scanned_at.replace("T", " ").replace(/\.\d+Z$/, " UTC"))
    } by ${escapeHtml(report.engine)}${report.from_cache ? " (cached)" : ""}</div></td></tr>` +
      `</table>`,
  );
  if (report.status === "ERROR") {
    parts.push(
      `<p style="color:#cf222e;font-weight:bold">Not assessed: ${
        escapeHtml(report.status_message)
      }</p>`,
    );
  }
  parts.push(h2("Problems"));
  parts.push(
    report.problems.length === 0
      ? `<p>${report.status === "ERROR" ? "not assessed" : "none"}</p>`
      : `<ul style="margin:4px 0">${
        report.problems.map((code) =>
          `<li><b>${escapeHtml(code)}</b>: ${escapeHtml(PROBLEM_TEXT[code])}</li>`
        ).join("")
      }</ul>`,
  );
  const cert = report.certificate;
  if (cert) {
    const days = cert.days_remaining;
    const left = days < 0 ? `expired ${-days} days ago` : `${days} days left`;
    parts.push(h2("Certificate"));
    parts.push(table(["field", "value"], [
      ["Subject", cert.subject],
      ["Issuer", cert.issuer],
      ["Expires", `${cert.not_after.slice(0, 10)} (${left})`],
      ["Valid from", cert.not_before.slice(0, 10)],
      ["Key", `${cert.key_algorithm} ${cert.key_size} bits`],
      ["Trusted", cert.trusted ? "yes" : "no"],
      ["Name matches", cert.name_match ? "yes" : "no"],
      ["Revocation", cert.revocation_status],
    ]));
  }
  const protocols = [...new Set(report.endpoints.flatMap((e) => e.protocols))];
  if (protocols.length > 0) {
    parts.push(h2("Protocols"), `<p>${escapeHtml(protocols.join(", "))}</p>`);
  }
  if (report.suites.length > 0) {
    parts.push(h2(`Accepted cipher suites (${report.suites.length})`));
    parts.push(table(
      ["protocol", "suite", "bits", "key exchange", "forward secrecy", "AEAD"],
      report.suites.map((s) => [
        s.protocol,
        s.name,
        String(s.bits),
        s.kex_bits === null ? s.kex : `${s.kex} ${s.kex_bits} bits`,
        s.forward_secrecy ? "yes" : "no",
        s.aead ? "yes" : "no",
      ]),
    ));
  }
  if (report.status === "READY") {
    const f = report.features;
    parts.push(h2("Observed"));
    parts.push(table(["check", "result"], [
      ["Secure renegotiation", yesNo(f.secure_renegotiation)],
      ["TLS_FALLBACK_SCSV honoured", yesNo(f.fallback_scsv)],
      ["OCSP stapling", yesNo(f.ocsp_stapling)],
      ["Certificates sent", f.chain_length === null ? "unknown" : String(f.chain_length)],
      ["Chain issues", f.chain_issues.length === 0 ? "none" : f.chain_issues.join(", ")],
    ]));
  }
  if (report.endpoints.length > 0) {
    parts.push(h2("Endpoints"));
    parts.push(table(
      ["address", "grade", "status"],
      report.endpoints.map((e) => [
        e.ip_address,
        `${e.grade ?? "–"}${e.has_warnings ? " (warnings)" : ""}`,
        e.status_message,
      ]),
    ));
  }
  if (report.not_tested.length > 0) {
    parts.push(
      `<p style="font-size:12px;color:#57606a">Not tested (this scanner's OpenSSL cannot offer ` +
        `them; a server accepting them is not seen doing so): ${
          escapeHtml(report.not_tested.join(", "))
        }.</p>`,
    );
  }
  return page(`TLS report for ${key}: ${report.grade ?? "not assessed"}`, parts.join("\n"));
}
