/**
 * The store's metrics (`edr_tls_scan_store_*`, `edr_tls_scan_reports*`): statements run (the
 * benchmark's queries per scan), reports kept and evicted under TLS_SCAN_MAX_REPORTS, and for
 * PostgreSQL the connection pool (bounded by TLS_SCAN_DATABASE_POOL_MAX) and the reports held
 * while the database was unreachable. Every gauge reads a value kept in memory: a scrape runs
 * no query.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { createStoreMetrics } from "./store_metrics.ts";
 * const { registry } = createRegistry();
 * const metrics = createStoreMetrics(registry, { store: "sqlite", reports: () => 3 });
 * metrics.queries.inc();
 * const text = await registry.getSingleMetricAsString("edr_tls_scan_store_queries_total");
 * assert.match(text, /edr_tls_scan_store_queries_total\{store="sqlite"\} 1/);
 * ```
 *
 * @module
 */
import client from "prom-client";

/** The connection pool as the client library sees it. */
export interface PoolStats {
  readonly max: number;
  readonly total: number;
  readonly idle: number;
  readonly waiting: number;
}

/** Where the gauges read from. */
export interface StoreMetricSources {
  readonly store: "sqlite" | "postgres";
  /** Reports stored (the watch summary's count). */
  readonly reports: () => number;
  /** The pool (PostgreSQL only). */
  readonly pool?: () => PoolStats;
  /** Reports waiting for the database to come back (PostgreSQL only). */
  readonly pendingReports?: () => number;
}

/**
 * Makes the store's metrics on `registry`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { createStoreMetrics } from "./store_metrics.ts";
 * const { registry } = createRegistry();
 * const pool = () => ({ max: 10, total: 2, idle: 1, waiting: 0 });
 * createStoreMetrics(registry, { store: "postgres", reports: () => 0, pool });
 * const text = await registry.getSingleMetricAsString("edr_tls_scan_store_pool_connections");
 * assert.match(text, /state="max"\} 10/);
 * ```
 */
export function createStoreMetrics(registry: client.Registry, sources: StoreMetricSources) {
  const registers = [registry];
  const labels = { store: sources.store };
  new client.Gauge({
    name: "edr_tls_scan_reports",
    help: "Reports stored, watched hosts' and others' (bounded by TLS_SCAN_MAX_REPORTS)",
    registers,
    collect() {
      this.set(sources.reports());
    },
  });
  if (sources.pool) {
    const pool = sources.pool;
    new client.Gauge({
      name: "edr_tls_scan_store_pool_connections",
      help: "Database connections: max (the bound), total open, idle; waiting: callers queued",
      labelNames: ["state"] as const,
      registers,
      collect() {
        const stats = pool();
        for (const state of ["max", "total", "idle", "waiting"] as const) {
          this.set({ state }, stats[state]);
        }
      },
    });
  }
  if (sources.pendingReports) {
    const pending = sources.pendingReports;
    new client.Gauge({
      name: "edr_tls_scan_store_pending_reports",
      help: "Reports of finished scans held until the database is reachable again",
      registers,
      collect() {
        this.set(pending());
      },
    });
  }
  return {
    queries: new client.Counter({
      name: "edr_tls_scan_store_queries_total",
      help: "Database statements run by the store",
      labelNames: ["store"] as const,
      registers,
    }).labels(labels),
    evicted: new client.Counter({
      name: "edr_tls_scan_reports_evicted_total",
      help: "Reports of unwatched hosts evicted to stay within TLS_SCAN_MAX_REPORTS",
      registers,
    }),
    unavailable: new client.Counter({
      name: "edr_tls_scan_store_unavailable_total",
      help: "Store calls that failed because the database could not be reached",
      registers,
    }),
    droppedReports: new client.Counter({
      name: "edr_tls_scan_store_dropped_reports_total",
      help: "Reports dropped because the buffer of reports held for the database was full",
      registers,
    }),
  };
}

/** The store's metrics. */
export type StoreMetrics = ReturnType<typeof createStoreMetrics>;
