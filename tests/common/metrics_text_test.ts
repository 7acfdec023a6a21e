/**
 * The one Prometheus text parser of the tools, tests and benchmarks, on what prom-client
 * really writes.
 */
import assert from "node:assert/strict";
import { Counter, Histogram, Registry } from "prom-client";
import {
  histogramQuantile,
  MetricsSnapshot,
  metricTotals,
  parseSeries,
} from "../../tools/common/metrics_text.ts";

async function exposition(): Promise<string> {
  const registry = new Registry();
  const invalid = new Counter({
    name: "edr_invalid_total",
    help: "invalid",
    labelNames: ["reason", "queue"],
    registers: [registry],
  });
  invalid.inc({ reason: "bad_json", queue: "a" }, 2);
  invalid.inc({ reason: 'quote " and \\ backslash', queue: "a" });
  invalid.inc({ reason: "bad_json", queue: "b" }, 4);
  const seconds = new Histogram({
    name: "edr_seconds",
    help: "seconds",
    buckets: [0.1, 1],
    registers: [registry],
  });
  for (const value of [0.05, 0.5, 0.5, 5]) seconds.observe(value);
  return await registry.metrics();
}

Deno.test("parseSeries: every sample line with its labels; comments skipped", async () => {
  const series = parseSeries(await exposition());
  assert.ok(series.every((s) => !s.name.startsWith("#")));
  assert.deepEqual(series.find((s) => s.labels.queue === "b"), {
    name: "edr_invalid_total",
    labels: { reason: "bad_json", queue: "b" },
    value: 4,
  });
  // An escaped quote stays inside its label value (escapes as written).
  assert.ok(series.some((s) => s.labels.reason === 'quote \\" and \\\\ backslash'));
});

Deno.test("MetricsSnapshot: sums by labels, one label's breakdown, histograms", async () => {
  const metrics = new MetricsSnapshot(await exposition());
  assert.equal(metrics.value("edr_invalid_total"), 7);
  assert.equal(metrics.value("edr_invalid_total", { reason: "bad_json" }), 6);
  assert.equal(metrics.value("edr_invalid_total", { reason: "bad_json", queue: "a" }), 2);
  assert.equal(metrics.value("edr_absent_total"), 0);
  assert.deepEqual(metrics.byLabel("edr_invalid_total", "queue"), { a: 1, b: 4 });
  assert.deepEqual(metrics.histogram("edr_seconds"), {
    buckets: [{ le: 0.1, count: 1 }, { le: 1, count: 3 }, { le: Infinity, count: 4 }],
    sum: 6.05,
    count: 4,
  });
});

Deno.test("histogramQuantile: interpolates inside the bucket, as PromQL does", async () => {
  const histogram = new MetricsSnapshot(await exposition()).histogram("edr_seconds");
  assert.equal(histogramQuantile(histogram, 0.25), 0.1);
  assert.equal(histogramQuantile(histogram, 0.5), 0.1 + 0.9 * 0.5);
  // Beyond the last finite bucket: its upper edge, as histogram_quantile answers.
  assert.equal(histogramQuantile(histogram, 0.99), 1);
  assert.ok(Number.isNaN(histogramQuantile({ buckets: [], sum: 0, count: 0 }, 0.5)));
});

Deno.test("metricTotals: every series of a name adds up; values that are not finite are left out", () => {
  const totals = metricTotals('a_total{x="1"} 2\na_total{x="2"} 3\nb NaN\nc +Inf\nd 1');
  assert.deepEqual([...totals], [["a_total", 5], ["d", 1]]);
});
