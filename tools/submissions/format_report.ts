/**
 * A reconciliation report (reconcile.ts) as text: what `deno task verify` prints and what a
 * failed end-to-end assertion shows.
 *
 * @example
 * ```ts
 * import { formatReport } from "./format_report.ts";
 * import { reconcile } from "./reconcile.ts";
 *
 * const manifest = [{ submission_id: "s", device_id: "d", valid: true, events: 1, kind: "ok" }];
 * formatReport(reconcile(manifest, [])).split("\n").at(-1);
 * // "  problem: 1 expected events are missing"
 * ```
 *
 * @module
 */
import type { ReconcileReport } from "./reconcile.ts";

/**
 * The report as readable text, a few lines, samples included.
 *
 * @example
 * ```ts
 * import { formatReport } from "./format_report.ts";
 * import { reconcile } from "./reconcile.ts";
 *
 * formatReport(reconcile([], [])).split("\n")[0]; // "verify: OK"
 * ```
 */
export function formatReport(report: ReconcileReport): string {
  const lines = [
    `verify: ${report.ok ? "OK" : "NOT OK"}`,
    `  manifest: ${report.messages} messages, ${report.validSubmissions} valid submissions ` +
    `(${report.expectedEvents} events), ${report.invalidSubmissions} invalid`,
    `  stream:   ${report.records} records, ${report.presentEvents}/${report.expectedEvents} ` +
    `expected events present, ${report.duplicates} duplicate copies`,
    `  missing events:             ${report.missingEvents}`,
    `  order violations:           ${report.orderViolations}`,
    `  records of invalid subm.:   ${report.invalidSubmissionRecords}`,
    `  records not in manifest:    ${report.unknownRecords}`,
    `  malformed records:          ${report.malformedRecords}`,
    `  event_count mismatches:     ${report.eventCountMismatches}`,
    `  sequences beyond events:    ${report.unexpectedSequences}`,
    `  submissions on >1 shard:    ${report.splitSubmissions}`,
  ];
  if (report.queueDepth !== undefined) {
    lines.push(
      `  queue depth:                ${report.queueDepth.visible} visible + ` +
        `${report.queueDepth.inFlight} in flight`,
    );
  }
  const more = (shown: number, total: number) =>
    total > shown ? [`    ... and ${total - shown} more`] : [];
  if (report.missing.length > 0) {
    lines.push("  first missing events:");
    for (const m of report.missing) {
      lines.push(
        `    ${m.device_id}/${m.submission_id} #${m.sequence} (event_id ${m.event_id})`,
      );
    }
    lines.push(...more(report.missing.length, report.missingEvents));
  }
  if (report.orderViolationSamples.length > 0) {
    lines.push("  first order violations:");
    for (const v of report.orderViolationSamples) {
      lines.push(
        `    ${v.submission_id} #${v.sequence} after #${v.after} (${v.shardId} ${v.sequenceNumber})`,
      );
    }
    lines.push(...more(report.orderViolationSamples.length, report.orderViolations));
  }
  if (report.malformedSamples.length > 0) {
    lines.push("  first malformed records:");
    for (const m of report.malformedSamples) {
      lines.push(`    ${m.shardId} ${m.sequenceNumber}: ${m.reason}`);
    }
    lines.push(...more(report.malformedSamples.length, report.malformedRecords));
  }
  for (const problem of report.problems) lines.push(`  problem: ${problem}`);
  return lines.join("\n");
}
