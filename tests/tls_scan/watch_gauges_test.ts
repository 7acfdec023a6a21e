/**
 * The watch-list gauges follow the store's summary: per-host series are rebuilt when a new
 * summary comes (a host unwatched loses its series) and left as they are while it is the same
 * one; the count of expiring certificates follows the clock.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createRegistry } from "../../src/app/metrics.ts";
import { registerWatchGauges } from "../../src/tls_scan/metrics.ts";
import type { WatchStats } from "../../src/tls_scan/store.ts";
import { MetricsSnapshot } from "../../tools/common/metrics_text.ts";

const DAY = 86_400_000;

Deno.test("per-host series follow each new summary; the same summary sets nothing again", async () => {
  const t0 = Date.parse("2026-06-01T00:00:00Z");
  let clock = t0;
  const summary = (hosts: WatchStats["hosts"]): WatchStats => ({
    watched: hosts.length,
    reports: hosts.length,
    byGrade: {},
    hosts,
  });
  let current = summary([
    { host: "a.example", port: 443, grade: "A", notAfterMs: t0 + 40 * DAY },
    { host: "b.example", port: 443, grade: "F", notAfterMs: t0 + 10 * DAY },
  ]);
  const { registry } = createRegistry();
  registerWatchGauges(registry, () => current, {
    engine: "probe",
    warnDays: 30,
    now: () => new Date(clock),
  });
  const scrape = async () => new MetricsSnapshot(await registry.metrics());

  let metrics = await scrape();
  const expiry = "edr_tls_scan_certificate_expiry_timestamp_seconds";
  assert.deepEqual(metrics.byLabel(expiry, "host"), {
    "a.example": (t0 + 40 * DAY) / 1000,
    "b.example": (t0 + 10 * DAY) / 1000,
  });
  assert.deepEqual(metrics.byLabel("edr_tls_scan_grade_rank", "host"), {
    "a.example": 1,
    "b.example": 7,
  });
  assert.equal(metrics.value("edr_tls_scan_hosts_expiring"), 1);

  // The same summary, later: the per-host series stay; the expiring count moves with the clock.
  clock = t0 + 15 * DAY;
  metrics = await scrape();
  assert.equal(Object.keys(metrics.byLabel(expiry, "host")).length, 2);
  assert.equal(metrics.value("edr_tls_scan_hosts_expiring"), 2);

  // A new summary without b.example: its series are gone.
  current = summary([{ host: "a.example", port: 443, grade: "B", notAfterMs: null }]);
  metrics = await scrape();
  assert.deepEqual(metrics.byLabel(expiry, "host"), {});
  assert.deepEqual(metrics.byLabel("edr_tls_scan_grade_rank", "host"), { "a.example": 3 });
  assert.equal(metrics.value("edr_tls_scan_hosts_expiring"), 0);
});
