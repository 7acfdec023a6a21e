/**
 * The tls-scan metrics (`edr_tls_scan_*`) on the app's one registry. Counters and histograms
 * are fed as scans happen; the watch-list gauges (watched hosts, hosts by grade, hosts whose
 * certificate expires within the warn window, expiry time and grade rank per watched host) are
 * read at scrape time from the store's summary that {@link ./watch_stats.ts} keeps fresh off
 * the scrape path (a scrape runs no query). Per-host series are acceptable only because the watch
 * list is bounded (TLS_SCAN_MAX_WATCHED).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import client from "prom-client";
 * import { createTlsScanMetrics } from "./metrics.ts";
 * const registry = new client.Registry();
 * const metrics = createTlsScanMetrics(registry);
 * metrics.scans.inc({ engine: "probe", outcome: "ready" });
 * assert.match(await registry.metrics(), /^edr_tls_scan_scans_total\{engine="probe",outcome="ready"\} 1$/m);
 * ```
 *
 * @module
 */
import client from "prom-client";
import { daysRemaining, type EngineName, gradeRank, GRADES } from "./report.ts";
import type { WatchStats } from "./store.ts";

/** Scan durations from 50 ms (a local probe) to 30 min (a slow SSL Labs assessment). */
const SCAN_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

/** SSL Labs statuses kept as label values; anything else is `other`. */
const KNOWN_STATUSES = new Set(["200", "400", "429", "441", "500", "503", "529", "network"]);

/**
 * Makes every tls-scan metric on `registry`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { createTlsScanMetrics } from "./metrics.ts";
 * const { registry } = createRegistry();
 * createTlsScanMetrics(registry).cacheHits.inc();
 * assert.equal((await registry.getSingleMetricAsString("edr_tls_scan_cache_hits_total")).endsWith(" 1"), true);
 * ```
 */
export function createTlsScanMetrics(registry: client.Registry) {
  const registers = [registry];
  return {
    scans: new client.Counter({
      name: "edr_tls_scan_scans_total",
      help:
        "Scans by engine and outcome (ready, error: finished reports; failed: engine could not scan)",
      labelNames: ["engine", "outcome"] as const,
      registers,
    }),
    scanDuration: new client.Histogram({
      name: "edr_tls_scan_scan_duration_seconds",
      help: "Wall time of a scan, by engine",
      labelNames: ["engine"] as const,
      buckets: SCAN_BUCKETS,
      registers,
    }),
    probeConnections: new client.Histogram({
      name: "edr_tls_scan_probe_connections",
      help: "TCP connections (handshakes: openssl processes or in-process libssl) one probe of " +
        "one endpoint cost, suite enumeration included",
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    handshakeTimeouts: new client.Counter({
      name: "edr_tls_scan_handshake_timeouts_total",
      help: "Enumeration handshakes that timed out (each retried once: a busy server is not a " +
        "refusal)",
      registers,
    }),
    cacheHits: new client.Counter({
      name: "edr_tls_scan_cache_hits_total",
      help: "GET /scan answered from the store (no connection to the host)",
      registers,
    }),
    freshDeclined: new client.Counter({
      name: "edr_tls_scan_fresh_declined_total",
      help: "GET /scan?fresh=true answered from the store: the report was younger than " +
        "TLS_SCAN_FRESH_MIN_AGE_SECONDS",
      registers,
    }),
    rejected: new client.Counter({
      name: "edr_tls_scan_rejected_total",
      help: "Requests refused: invalid (400), refused target (403), busy (503)",
      labelNames: ["reason"] as const,
      registers,
    }),
    inFlight: new client.Gauge({
      name: "edr_tls_scan_scans_in_flight",
      help: "Scans running now",
      registers,
    }),
    gradeDrops: new client.Counter({
      name: "edr_tls_scan_grade_drops_total",
      help: "Rescans whose grade is worse than the previous report's",
      labelNames: ["engine"] as const,
      registers,
    }),
    sslLabsCalls: new client.Counter({
      name: "edr_tls_scan_ssllabs_calls_total",
      help: "SSL Labs API calls by call and HTTP status (network: no answer)",
      labelNames: ["call", "status"] as const,
      registers,
    }),
    sslLabsCurrent: new client.Gauge({
      name: "edr_tls_scan_ssllabs_assessments_current",
      help: "X-Current-Assessments as last seen",
      registers,
    }),
    sslLabsMax: new client.Gauge({
      name: "edr_tls_scan_ssllabs_assessments_max",
      help: "X-Max-Assessments as last seen",
      registers,
    }),
  };
}

/** The tls-scan metrics. */
export type TlsScanMetrics = ReturnType<typeof createTlsScanMetrics>;

/**
 * A bounded label value for an SSL Labs status.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { statusLabel } from "./metrics.ts";
 * assert.equal(statusLabel(429), "429");
 * assert.equal(statusLabel(418), "other");
 * ```
 */
export function statusLabel(status: number | "network"): string {
  const label = String(status);
  return KNOWN_STATUSES.has(label) ? label : "other";
}

/**
 * Registers the gauges read from the last watch-list summary (`stats()`) at scrape time.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { registerWatchGauges } from "./metrics.ts";
 * const { registry } = createRegistry();
 * const stats = () => ({
 *   watched: 1,
 *   reports: 1,
 *   byGrade: { A: 1 },
 *   hosts: [{ host: "example.com", port: 443, grade: "A" as const, notAfterMs: null }],
 * });
 * registerWatchGauges(registry, stats, { engine: "probe", warnDays: 30 });
 * const text = await registry.getSingleMetricAsString("edr_tls_scan_watched_hosts");
 * assert.ok(text.endsWith(" 1"));
 * ```
 */
export function registerWatchGauges(
  registry: client.Registry,
  stats: () => WatchStats,
  options: {
    readonly engine: EngineName;
    readonly warnDays: number;
    readonly now?: (() => Date) | undefined;
  },
): void {
  const registers = [registry];
  const now = options.now ?? (() => new Date());
  new client.Gauge({
    name: "edr_tls_scan_watched_hosts",
    help: "Hosts on the watch list",
    registers,
    collect() {
      this.set(stats().watched);
    },
  });
  new client.Gauge({
    name: "edr_tls_scan_hosts_by_grade",
    help: "Watched hosts by the grade of their last report (none: not scanned yet or ERROR)",
    labelNames: ["grade"] as const,
    registers,
    collect() {
      const counts = stats().byGrade;
      for (const grade of [...GRADES, "none"]) this.set({ grade }, counts[grade] ?? 0);
    },
  });
  // The per-host series change only when the summary does (a new object on each refresh):
  // a scrape in between sets nothing and only writes them out.
  const perHost = (fill: (gauge: client.Gauge<"host" | "port">, summary: WatchStats) => void) => {
    let shown: WatchStats | undefined;
    return function (this: client.Gauge<"host" | "port">) {
      const summary = stats();
      if (summary === shown) return;
      shown = summary;
      this.reset();
      fill(this, summary);
    };
  };
  new client.Gauge({
    // As blackbox_exporter's probe_ssl_earliest_cert_expiry: an instant, so alerts compute
    // the time left (`… - time()`) at any resolution.
    name: "edr_tls_scan_certificate_expiry_timestamp_seconds",
    help: "Unix time at which the certificate of a watched host expires (its notAfter)",
    labelNames: ["host", "port"] as const,
    registers,
    collect: perHost((gauge, summary) => {
      for (const row of summary.hosts) {
        if (row.notAfterMs === null) continue;
        gauge.set({ host: row.host, port: String(row.port) }, row.notAfterMs / 1000);
      }
    }),
  });
  new client.Gauge({
    name: "edr_tls_scan_hosts_expiring",
    help:
      "Watched hosts whose certificate expires within TLS_SCAN_EXPIRY_WARN_DAYS (or has expired)",
    registers,
    collect() {
      const at = now();
      let expiring = 0;
      for (const { notAfterMs } of stats().hosts) {
        if (notAfterMs !== null && daysRemaining(new Date(notAfterMs), at) < options.warnDays) {
          expiring++;
        }
      }
      this.set(expiring);
    },
  });
  new client.Gauge({
    name: "edr_tls_scan_grade_rank",
    help: "Grade of a watched host's last report as a rank: 0 A+, 1 A, 2 A-, 3 B … 7 F, 8 T, 9 M",
    labelNames: ["host", "port"] as const,
    registers,
    collect: perHost((gauge, summary) => {
      for (const row of summary.hosts) {
        if (row.grade) gauge.set({ host: row.host, port: String(row.port) }, gradeRank(row.grade));
      }
    }),
  });
}

/**
 * Registers the scheduler's gauges, read at scrape time: watched hosts whose last scheduled
 * scan was refused (their name now resolves to a non-public address) and hosts backing off
 * after a failure.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { registerSchedulerGauges } from "./metrics.ts";
 * const { registry } = createRegistry();
 * registerSchedulerGauges(registry, { refusedHosts: 2, failingHosts: 3 });
 * const text = await registry.getSingleMetricAsString("edr_tls_scan_watched_refused_hosts");
 * assert.ok(text.endsWith(" 2"));
 * ```
 */
export function registerSchedulerGauges(
  registry: client.Registry,
  scheduler: { readonly refusedHosts: number; readonly failingHosts: number },
): void {
  new client.Gauge({
    name: "edr_tls_scan_watched_refused_hosts",
    help: "Watched hosts whose last scheduled scan was refused: the name now resolves to a " +
      "non-public address (retried with a growing backoff; unwatch them or fix their DNS)",
    registers: [registry],
    collect() {
      this.set(scheduler.refusedHosts);
    },
  });
  new client.Gauge({
    name: "edr_tls_scan_scheduler_backoff_hosts",
    help: "Watched hosts waiting out a backoff after a failed or refused scheduled scan",
    registers: [registry],
    collect() {
      this.set(scheduler.failingHosts);
    },
  });
}
