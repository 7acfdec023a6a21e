/**
 * The one Prometheus registry of the service (npm:prom-client): the process's default metrics
 * (prefix `edr_`), its RSS, and readiness per check; every component registers its own metrics
 * on it (`edr_*` for the submissions pipeline, `edr_ip_events_*`, `edr_tls_scan_*`). A registry
 * of its own rather than prom-client's global one, so tests can make as many apps as they like.
 *
 * ```ts
 * import { createRegistry } from "./metrics.ts";
 * const { registry, dependencyUp } = createRegistry();
 * dependencyUp.set({ component: "submissions", dependency: "sqs" }, 1);
 * (await registry.metrics()).includes("edr_dependency_up"); // true
 * ```
 *
 * @module
 */
import client from "prom-client";

/**
 * Latency buckets in seconds, from 5 ms to 2 min: one scale for every component.
 *
 * ```ts
 * import client from "prom-client";
 * import { LATENCY_BUCKETS } from "./metrics.ts";
 * new client.Histogram({ name: "edr_x_seconds", help: "x", buckets: [...LATENCY_BUCKETS] });
 * ```
 */
export const LATENCY_BUCKETS: readonly number[] = [
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
  120,
];

/** The registry and the app's own metrics. */
export interface AppMetrics {
  /** The one registry. */
  readonly registry: client.Registry;
  /** 1 when a readiness check answered its last probe, by component and check. */
  readonly dependencyUp: client.Gauge<"component" | "dependency">;
}

/**
 * Makes the registry with the process metrics and the readiness gauge.
 *
 * ```ts
 * import { createRegistry } from "./metrics.ts";
 * const { registry } = createRegistry();
 * const text = await registry.metrics(); // includes edr_process_rss_bytes
 * ```
 */
export function createRegistry(): AppMetrics {
  const registry = new client.Registry();
  const registers = [registry];
  client.collectDefaultMetrics({ register: registry, prefix: "edr_" });
  new client.Gauge({
    // prom-client's own RSS reading is 0 under Deno.
    name: "edr_process_rss_bytes",
    help: "Resident set size of the process",
    registers,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  const dependencyUp = new client.Gauge({
    name: "edr_dependency_up",
    help: "1 when the dependency answered its last readiness probe",
    labelNames: ["component", "dependency"] as const,
    registers,
  });
  return { registry, dependencyUp };
}
