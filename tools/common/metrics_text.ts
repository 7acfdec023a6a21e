/**
 * Reading the service's `/metrics` (Prometheus text format, as prom-client writes it) in the
 * tools, the tests and the benchmarks: one parser, then sums by name and labels, one label's
 * breakdown, histograms and their quantiles.
 *
 * ```ts
 * import { metricTotals, MetricsSnapshot } from "./metrics_text.ts";
 *
 * const text = 'edr_x_total{reason="a"} 2\nedr_x_total{reason="b"} 1';
 * metricTotals(text).get("edr_x_total"); // 3
 * new MetricsSnapshot(text).value("edr_x_total", { reason: "b" }); // 1
 * ```
 *
 * @module
 */

/** One sample line: a metric name, its labels and its value. */
export interface Series {
  /** The metric name (a histogram's lines keep their `_bucket`, `_sum`, `_count`). */
  readonly name: string;
  /** Label names and values (values as written, escapes left in). */
  readonly labels: Readonly<Record<string, string>>;
  /** The sample value (`NaN` or `±Infinity` as written). */
  readonly value: number;
}

/** A Prometheus histogram. */
export interface Histogram {
  /** Cumulative buckets by upper bound, ascending (the last one `Infinity`). */
  readonly buckets: readonly { le: number; count: number }[];
  /** Sum of the observations. */
  readonly sum: number;
  /** Number of observations. */
  readonly count: number;
}

/**
 * Every sample line of a text exposition, in order; comments and blank lines skipped.
 *
 * @example
 * ```ts
 * import { parseSeries } from "./metrics_text.ts";
 *
 * parseSeries('# HELP up 1\nup{job="a"} 1');
 * // [{ name: "up", labels: { job: "a" }, value: 1 }]
 * ```
 */
export function parseSeries(text: string): Series[] {
  const series: Series[] = [];
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key!] = value!;
    }
    series.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return series;
}

/**
 * Sums every series of each metric in a Prometheus text exposition, by metric name
 * (`edr_submissions_messages_invalid_total{reason="…"}` lines add up to one total); values that are not
 * finite are left out.
 *
 * @example
 * ```ts
 * import { metricTotals } from "./metrics_text.ts";
 *
 * metricTotals('edr_x_total{reason="a"} 2\nedr_x_total{reason="b"} 1').get("edr_x_total"); // 3
 * ```
 */
export function metricTotals(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const { name, value } of parseSeries(text)) {
    if (!Number.isFinite(value)) continue;
    totals.set(name, (totals.get(name) ?? 0) + value);
  }
  return totals;
}

/**
 * A parsed scrape of `/metrics`, read by metric name and labels.
 *
 * @example
 * ```ts
 * import { MetricsSnapshot } from "./metrics_text.ts";
 *
 * const metrics = new MetricsSnapshot(
 *   'edr_seconds_bucket{le="0.1"} 3\nedr_seconds_bucket{le="+Inf"} 4\n' +
 *     "edr_seconds_sum 0.5\nedr_seconds_count 4",
 * );
 * metrics.histogram("edr_seconds").count; // 4
 * ```
 */
export class MetricsSnapshot {
  readonly #byName = new Map<string, Series[]>();

  /** Parses the text format (comments skipped). */
  constructor(text: string) {
    for (const series of parseSeries(text)) {
      const list = this.#byName.get(series.name);
      if (list === undefined) this.#byName.set(series.name, [series]);
      else list.push(series);
    }
  }

  /** The sum of the series of `name` whose labels include `labels`; 0 when there is none. */
  value(name: string, labels: Readonly<Record<string, string>> = {}): number {
    let sum = 0;
    for (const series of this.#byName.get(name) ?? []) {
      if (Object.entries(labels).every(([k, v]) => series.labels[k] === v)) sum += series.value;
    }
    return sum;
  }

  /** The label values of `label` over the series of `name`, with their values. */
  byLabel(name: string, label: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const series of this.#byName.get(name) ?? []) {
      const value = series.labels[label];
      if (value !== undefined) out[value] = series.value;
    }
    return out;
  }

  /** A histogram's cumulative buckets (upper bound, count), its sum and count. */
  histogram(name: string): Histogram {
    const buckets = (this.#byName.get(`${name}_bucket`) ?? [])
      .map((s) => ({ le: s.labels.le === "+Inf" ? Infinity : Number(s.labels.le), count: s.value }))
      .sort((a, b) => a.le - b.le);
    return { buckets, sum: this.value(`${name}_sum`), count: this.value(`${name}_count`) };
  }
}

/**
 * A quantile estimated from a histogram the way PromQL's `histogram_quantile` does: linear
 * interpolation inside the bucket; bounded by the bucket edges, so only as fine as the buckets.
 * `NaN` for an empty histogram.
 *
 * @example
 * ```ts
 * import { histogramQuantile } from "./metrics_text.ts";
 *
 * const histogram = { buckets: [{ le: 1, count: 2 }, { le: Infinity, count: 2 }], sum: 1, count: 2 };
 * histogramQuantile(histogram, 0.5); // 0.5
 * ```
 */
export function histogramQuantile(histogram: Histogram, q: number): number {
  const { buckets, count } = histogram;
  if (count === 0) return NaN;
  const rank = q * count;
  let lower = 0;
  let below = 0;
  for (const { le, count: cumulative } of buckets) {
    if (cumulative >= rank) {
      if (le === Infinity) return lower;
      const inBucket = cumulative - below;
      return inBucket === 0 ? le : lower + ((le - lower) * (rank - below)) / inBucket;
    }
    lower = le;
    below = cumulative;
  }
  return lower;
}
