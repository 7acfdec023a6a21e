/**
 * The report as an email-ready text (`Accept: text/plain`): host, grade, problems in words,
 * certificate subject, issuer, expiry date and days left, protocols, endpoints. Pure.
 *
 * @example
 * ```ts
 * import { errorReport } from "./report.ts";
 * import { renderText } from "./text_report.ts";
 * import assert from "node:assert/strict";
 * const text = renderText(errorReport({ host: "example.com", port: 443, engine: "probe", message: "Connection refused" }));
 * assert.ok(text.startsWith("TLS report for example.com:443\n"));
 * assert.match(text, /^Status: +ERROR \(Connection refused\)$/m);
 * ```
 *
 * @module
 */
import { PROBLEM_TEXT } from "./problems.ts";
import type { TlsReport } from "./report.ts";
import { targetKey } from "./target.ts";

/**
 * Renders `report` as plain text, one fact per line, ending with a newline.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorReport } from "./report.ts";
 * import { renderText } from "./text_report.ts";
 * const report = errorReport({
 *   host: "a.test",
 *   port: 443,
 *   engine: "probe",
 *   message: "Refused",
 *   scannedAt: new Date("2026-01-01T12:00:00Z"),
 * });
 * assert.equal(
 *   renderText(report),
 *   [
 *     "TLS report for a.test:443",
 *     "",
 *     "Scanned:      2026-01-01 12:00:00 UTC by probe",
 *     "Status:       ERROR (Refused)",
 *     "Grade:        none",
 *     "Problems:     not assessed",
 *     "",
 *   ].join("\n"),
 * );
 * ```
 */
export function renderText(report: TlsReport): string {
  const lines = [`TLS report for ${targetKey(report)}`, ""];
  const scanned = `${report.scanned_at.replace("T", " ").replace(/\.\d+Z$/, " UTC")}`;
  lines.push(`Scanned:      ${scanned} by ${report.engine}${report.from_cache ? " (cached)" : ""}`);
  if (report.status === "ERROR") {
    lines.push(`Status:       ERROR (${report.status_message})`, "Grade:        none");
  } else {
    lines.push(`Grade:        ${report.grade ?? "none"}`);
  }
  if (report.problems.length === 0) {
    lines.push(`Problems:     ${report.status === "ERROR" ? "not assessed" : "none"}`);
  } else {
    lines.push("Problems:");
    for (const code of report.problems) lines.push(`  - ${code}: ${PROBLEM_TEXT[code]}`);
  }
  const cert = report.certificate;
  if (cert) {
    const days = cert.days_remaining;
    const left = days < 0 ? `expired ${-days} days ago` : `${days} days left`;
    lines.push(
      "Certificate:",
      `  Subject:    ${cert.subject}`,
      `  Issuer:     ${cert.issuer}`,
      `  Expires:    ${cert.not_after.slice(0, 10)} (${left})`,
      `  Key:        ${cert.key_algorithm} ${cert.key_size} bits`,
      `  Trusted:    ${cert.trusted ? "yes" : "no"}; name matches: ${
        cert.name_match ? "yes" : "no"
      }; revocation: ${cert.revocation_status}`,
    );
  }
  const protocols = [...new Set(report.endpoints.flatMap((e) => e.protocols))];
  if (protocols.length > 0) lines.push(`Protocols:    ${protocols.join(", ")}`);
  for (const endpoint of report.endpoints) {
    const state = endpoint.grade ?? endpoint.status_message;
    lines.push(`Endpoint:     ${endpoint.ip_address}: ${state}`);
  }
  return `${lines.join("\n")}\n`;
}
