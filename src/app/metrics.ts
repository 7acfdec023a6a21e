/**
 * The one Prometheus registry of the service (npm:prom-client): the process and runtime metrics
 * under their standard names (`process_*`, `nodejs_*`), the build (`edr_build_info`) and
 * readiness per check (`edr_dependency_up`); every component registers its own metrics on it,
 * under its own prefix (`edr_submissions_*`, `edr_ip_events_*`, `edr_tls_scan_*`). The
 * convention: counters end in `_total`, values are in base units (`_seconds`, `_bytes`), instants
 * are `*_timestamp_seconds`. A registry of its own rather than prom-client's global one, so
 * tests can make as many apps as they like.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "./metrics.ts";
 * const { registry, dependencyUp } = createRegistry();
 * dependencyUp.set({ component: "submissions", dependency: "sqs" }, 1);
 * const text = await registry.metrics();
 * assert.match(text, /^edr_dependency_up\{component="submissions",dependency="sqs"\} 1$/m);
 * ```
 *
 * @module
 */
import client from "prom-client";
import { registerProcessMetrics } from "./process_metrics.ts";
import { type BuildInfo, buildInfo } from "./version.ts";

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

/** The build's commit as the environment says, when the environment may be read. */
function buildFromEnv(): BuildInfo {
  const variable = "EDR_BUILD_COMMIT";
  const granted = Deno.permissions.querySync({ name: "env", variable }).state === "granted";
  return buildInfo(granted ? { [variable]: Deno.env.get(variable) } : {});
}

/**
 * Makes the registry with the process metrics, `edr_build_info` (1, labelled with `build`,
 * by default this build with `EDR_BUILD_COMMIT` when it may be read) and the readiness gauge.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "./metrics.ts";
 * import { buildInfo } from "./version.ts";
 * const { registry } = createRegistry({ build: buildInfo({ EDR_BUILD_COMMIT: "0123abc" }) });
 * const text = await registry.metrics();
 * assert.match(text, /^edr_build_info\{version="[^"]+",.*commit="0123abc".*\} 1$/m);
 * assert.match(text, /^process_resident_memory_bytes [1-9]\d*$/m);
 * ```
 */
export function createRegistry(options: { readonly build?: BuildInfo } = {}): AppMetrics {
  const registry = new client.Registry();
  const registers = [registry];
  registerProcessMetrics(registry);
  const build = options.build ?? buildFromEnv();
  const labels = Object.keys(build) as (keyof BuildInfo)[];
  new client.Gauge({
    name: "edr_build_info",
    help: "1, labelled with the build: version, Deno, V8, TypeScript, commit",
    labelNames: labels,
    registers,
  }).set({ ...build }, 1);
  const dependencyUp = new client.Gauge({
    name: "edr_dependency_up",
    help: "1 when the dependency answered its last readiness probe",
    labelNames: ["component", "dependency"] as const,
    registers,
  });
  return { registry, dependencyUp };
}
