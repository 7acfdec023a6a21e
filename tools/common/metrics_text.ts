/**
 * Reading the service's `/metrics` (Prometheus text format) in the tools: totals by metric name.
 *
 * ```ts
 * import { metricTotals } from "./metrics_text.ts";
 * metricTotals('edr_x_total{reason="a"} 2\nedr_x_total{reason="b"} 1').get("edr_x_total"); // 3
 * ```
 *
 * @module
 */

/**
 * Sums every series of each metric in a Prometheus text exposition, by metric name
 * (`edr_messages_invalid_total{reason="…"}` lines add up to one total).
 */
export function metricTotals(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    totals.set(match[1]!, (totals.get(match[1]!) ?? 0) + value);
  }
  return totals;
}
