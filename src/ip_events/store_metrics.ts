/**
 * The Redis store's metrics (`edr_ip_events_store_*`), registered only when the store is
 * Redis: flushes by outcome and their latency, events held locally, chunks recognised as
 * already applied, failures by operation, events a shutdown could not hand on.
 *
 * @module
 */
import client, { type Registry } from "prom-client";
import type { RedisStoreObserver } from "./redis_store.ts";

/** The store's metrics, and the observer that moves them. */
export interface StoreMetrics {
  readonly observer: Required<RedisStoreObserver>;
}

/**
 * Makes and registers the metrics; `pending` is read at scrape time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { createStoreMetrics } from "./store_metrics.ts";
 * const registry = new Registry();
 * const { observer } = createStoreMetrics(registry, () => 0);
 * observer.flushed({ ok: true, seconds: 0.001, applied: 1, duplicates: 0 });
 * assert.match(await registry.metrics(), /^edr_ip_events_store_flushes_total\{outcome="ok"\} 1$/m);
 * ```
 */
export function createStoreMetrics(registry: Registry, pending: () => number): StoreMetrics {
  const registers = [registry];
  const flushes = new client.Counter({
    name: "edr_ip_events_store_flushes_total",
    help: "Flush round trips to Redis by outcome (ok: every chunk sent is applied)",
    labelNames: ["outcome"] as const,
    registers,
  });
  const seconds = new client.Histogram({
    name: "edr_ip_events_store_flush_duration_seconds",
    help: "Time of one flush round trip to Redis",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const chunks = new client.Counter({
    name: "edr_ip_events_store_chunks_total",
    help: "Flush chunks by outcome: applied, or duplicate (Redis had applied it, its reply " +
      "was lost; not applied again)",
    labelNames: ["outcome"] as const,
    registers,
  });
  const errors = new client.Counter({
    name: "edr_ip_events_store_errors_total",
    help: "Failed store operations (flush, read, reset, sweep)",
    labelNames: ["operation"] as const,
    registers,
  });
  const abandoned = new client.Counter({
    name: "edr_ip_events_store_abandoned_events_total",
    help: "Events a shutdown could not hand to Redis by its deadline",
    registers,
  });
  new client.Gauge({
    name: "edr_ip_events_store_pending_events",
    help: "Events counted by this instance and not yet applied in Redis",
    registers,
    collect() {
      this.set(pending());
    },
  });
  for (const outcome of ["ok", "failed"]) flushes.inc({ outcome }, 0);
  for (const outcome of ["applied", "duplicate"]) chunks.inc({ outcome }, 0);
  for (const operation of ["flush", "read", "reset", "sweep"]) errors.inc({ operation }, 0);
  return {
    observer: {
      flushed(outcome) {
        flushes.inc({ outcome: outcome.ok ? "ok" : "failed" });
        seconds.observe(outcome.seconds);
        if (outcome.applied > 0) chunks.inc({ outcome: "applied" }, outcome.applied);
        if (outcome.duplicates > 0) chunks.inc({ outcome: "duplicate" }, outcome.duplicates);
      },
      failed(operation) {
        errors.inc({ operation });
      },
      abandoned(events) {
        abandoned.inc(events);
      },
    },
  };
}
