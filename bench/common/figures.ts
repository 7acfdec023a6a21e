/**
 * The figures of a benchmark's report: percentiles of measured values, numbers printed
 * readably (`12,345`, `850 ms`, `41.3 MB`) and markdown tables that also read well in a
 * terminal.
 *
 * ```ts
 * import { ms, percentile, table } from "./figures.ts";
 *
 * const sorted = [120, 80, 95].sort((a, b) => a - b);
 * const row = [ms(percentile(sorted, 50)), ms(percentile(sorted, 99))];
 * console.log(table(["p50", "p99"], [row]));
 * ```
 *
 * @module
 */

/**
 * The `p`-th percentile (0–100) of ascending `sorted` (nearest rank); NaN when empty.
 *
 * @example
 * ```ts
 * import { percentile } from "./figures.ts";
 *
 * percentile([10, 20, 30, 40], 50); // 20
 * ```
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * A markdown table, columns padded so it also reads well in a terminal.
 *
 * @example
 * ```ts
 * import { table } from "./figures.ts";
 *
 * table(["run", "events/s"], [["ours", "9,120"]]);
 * // | run  | events/s |
 * // |------|----------|
 * // | ours | 9,120    |
 * ```
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

/**
 * A whole number with thousands separators, or `–` when not finite.
 *
 * @example
 * ```ts
 * import { int } from "./figures.ts";
 *
 * int(12345.4); // "12,345"
 * ```
 */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}

/**
 * `n` with `digits` decimals, or `–` when not finite.
 *
 * @example
 * ```ts
 * import { fixed } from "./figures.ts";
 *
 * fixed(2.345, 2); // "2.35"
 * ```
 */
export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "–";
}

/**
 * Milliseconds, readable.
 *
 * @example
 * ```ts
 * import { ms } from "./figures.ts";
 *
 * ms(850); // "850 ms"
 * ms(2414); // "2.41 s"
 * ```
 */
export function ms(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return n < 1_000 ? `${Math.round(n)} ms` : `${(n / 1_000).toFixed(2)} s`;
}

/**
 * Bytes as MB (10^6), one decimal.
 *
 * @example
 * ```ts
 * import { mb } from "./figures.ts";
 *
 * mb(41_300_000); // "41.3 MB"
 * ```
 */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
