/**
 * The demo's last word: the whole stream read back and reconciled with what the fleet sent.
 *
 * ```ts
 * import { formatReconciliation } from "./reconciliation.ts";
 * // console.log(formatReconciliation(reconcile(manifest, records, { queueDepth })));
 * ```
 *
 * @module
 */
import type { ReconcileReport } from "../reconcile.ts";

/** The short reconciliation printed at the end. */
export function formatReconciliation(report: ReconcileReport): string {
  const lines = [
    `reconciliation: ${report.ok ? "OK" : "NOT OK"}`,
    `  sent      ${report.messages} submissions: ${report.validSubmissions} valid, ` +
    `${report.invalidSubmissions} invalid`,
    `  events    ${report.expectedEvents} expected, ${report.presentEvents} present, ` +
    `${report.missingEvents} missing`,
    `  stream    ${report.records} records: ${report.orderViolations} order violations, ` +
    `${report.duplicates} duplicates, ${report.invalidSubmissionRecords} from invalid submissions`,
  ];
  for (const problem of report.problems) lines.push(`  problem:  ${problem}`);
  return lines.join("\n");
}
