/**
 * The tls-scan component (`COMPONENTS=tls-scan`): a host's TLS posture, grade and certificate
 * expiry on `GET /scan?host=`, and a watch list rescanned by a scheduler, with two engines:
 * `probe` (openssl s_client from here; {@link ./probe_engine.ts}) and `ssllabs` (the SSL Labs
 * API v4; {@link ./ssllabs_engine.ts}). Its settings are in {@link ./settings.ts}; the report
 * contract in {@link ./report.ts}; one scan per host:port at a time ({@link ./coordinator.ts});
 * reports, the watch list and scan claims in the store ({@link ./store.ts}; SQLite by default,
 * PostgreSQL for several instances).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "../app/app_config.ts";
 * import { createApp } from "../app/app.ts";
 * import { tlsScan } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir(); // the SQLite database, created when missing
 * const env = { COMPONENTS: "tls-scan", HTTP_PORT: "0", TLS_SCAN_DB: `${dir}/tls-scan.db` };
 * const app = await createApp(loadConfig([tlsScan], env));
 * await app.start();
 * const watched = await fetch(`http://127.0.0.1:${app.port}/scans`);
 * assert.equal(watched.status, 200);
 * assert.deepEqual(await watched.json(), { total: 0, hosts: [], next: null }); // nothing watched yet
 * await app.stop();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */
import { type Component, type ComponentContext, defineComponent } from "../app/component.ts";
import { remaining } from "../app/deadline.ts";
import { Lifecycle } from "../app/lifecycle.ts";
import type { Resolver } from "./address_guard.ts";
import { ScanCoordinator } from "./coordinator.ts";
import type { ScanEngine } from "./engine.ts";
import {
  createTlsScanMetrics,
  registerSchedulerGauges,
  registerWatchGauges,
  statusLabel,
} from "./metrics.ts";
import { createProbeEngine } from "./probe_engine.ts";
import { tlsScanRoutes } from "./routes.ts";
import { Scheduler } from "./scheduler.ts";
import { configure, SETTINGS, type TlsScanConfig } from "./settings.ts";
import { createSslLabsEngine } from "./ssllabs_engine.ts";
import { openStore } from "./open_store.ts";
import { notifyingChanges, WatchStatsCache } from "./watch_stats.ts";

export type { TlsScanConfig } from "./settings.ts";
export type { TlsReport } from "./report.ts";

/** How often the watch-list gauges re-read the store (changes made here show within 1 s). */
const STATS_INTERVAL_MS = 15_000;

/** What a test may replace. */
export interface TlsScanOverrides {
  /** The SSRF guard's resolver. */
  readonly resolve?: Resolver;
  /** The clock of the cache, the scheduler and the gauges. */
  readonly now?: () => Date;
}

/**
 * Makes the component: the store (the database file, created when missing), the engine, the
 * coordinator, the scheduler and the routes. Nothing runs before `start()`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "../app/logging.ts";
 * import { createRegistry } from "../app/metrics.ts";
 * import { readSettings } from "../app/settings.ts";
 * import { createTlsScan } from "./mod.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 *
 * const config = configure(readSettings(SETTINGS, { TLS_SCAN_DB: ":memory:" }), {});
 * const context = { registry: createRegistry().registry, logger: getLogger("tls-scan") };
 * const component = createTlsScan(config, context);
 * assert.equal(component.describe(), "engine probe, 0 watched, sqlite :memory:");
 * component.routes.map((route) => `${route.method} ${route.path}`);
 * // ["GET /scan", "POST /scans", "GET /scans", "DELETE /scans/:host"]
 * await component.stop(performance.now() + 1_000); // closes the store
 * ```
 */
export function createTlsScan(
  config: TlsScanConfig,
  context: ComponentContext,
  overrides: TlsScanOverrides = {},
): Component {
  const { registry, logger } = context;
  const metrics = createTlsScanMetrics(registry);
  const opened = openStore(config, {
    registry,
    logger: logger.getChild("store"),
    reports: () => stats.current().reports,
  });
  const stats = new WatchStatsCache({
    store: opened,
    engine: config.engine,
    intervalMs: STATS_INTERVAL_MS,
    logger,
  });
  const store = notifyingChanges(opened, () => stats.refreshSoon());
  // One name per process on its scan claims: instances sharing a database tell theirs apart.
  const owner = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const claims = { owner, leaseMs: config.leaseMs };
  const engine: ScanEngine = config.engine === "probe"
    ? createProbeEngine({
      timeoutMs: config.timeoutSeconds * 1000,
      concurrency: config.concurrency,
      requestConcurrency: config.requestConcurrency,
      caFile: config.caFile,
      onEndpoint: (seen) => {
        metrics.probeConnections.observe(seen.connections);
        if (seen.ok && seen.timeouts > 0) metrics.handshakeTimeouts.inc(seen.timeouts);
      },
      now: overrides.now,
    })
    : createSslLabsEngine({
      baseUrl: config.sslLabsUrl,
      email: config.sslLabsEmail!,
      maxAgeHours: config.maxAgeHours,
      timeScale: config.timeScale,
      onCall: (call, status) => metrics.sslLabsCalls.inc({ call, status: statusLabel(status) }),
      onCounters: ({ current, max }) => {
        metrics.sslLabsCurrent.set(current);
        metrics.sslLabsMax.set(max);
      },
      onEvent: (event, fields) => logger.warn(event, fields),
    });
  registerWatchGauges(registry, () => stats.current(), {
    engine: engine.name,
    warnDays: config.expiryWarnDays,
    now: overrides.now,
  });
  const maxAgeMs = config.maxAgeHours * 3_600_000;
  const coordinator = new ScanCoordinator({
    engine,
    store,
    metrics,
    logger: logger.getChild("scan"),
    maxAgeMs,
    waitMs: config.waitSeconds * 1000,
    maxPending: config.maxPending,
    freshMinAgeMs: config.freshMinAgeSeconds * 1000,
    allowPrivate: config.allowPrivate,
    ...claims,
    resolve: overrides.resolve,
    now: overrides.now,
  });
  const scheduler = new Scheduler({
    coordinator,
    store,
    engine,
    logger: logger.getChild("scheduler"),
    intervalMs: config.schedulerIntervalSeconds * 1000,
    maxAgeMs,
    warnDays: config.expiryWarnDays,
    maxEntries: config.maxWatched,
    ...claims,
    now: overrides.now,
  });
  registerSchedulerGauges(registry, scheduler);
  const starting = new AbortController();
  const lifecycle = new Lifecycle("tls-scan");
  return {
    routes: tlsScanRoutes({
      coordinator,
      store,
      scheduler,
      engine: engine.name,
      maxWatched: config.maxWatched,
      allowPrivate: config.allowPrivate,
      resolve: overrides.resolve,
      now: overrides.now,
    }),
    checks: {
      [engine.name === "probe" ? "openssl" : "ssllabs"]: (signal) => engine.check(signal),
      database: (signal) => store.check(signal),
    },
    describe: () =>
      `engine ${engine.name}, ${stats.current().watched} watched, ${store.kind} ${store.where}` +
      (config.allowPrivate ? ", private targets ALLOWED" : ""),
    start: () =>
      lifecycle.start(async () => {
        await stats.refresh(); // describe() after start names the watch list's size
        stats.start();
        // The engine's start (openssl's certificate directory; SSL Labs `info`) runs in the
        // background: its outcome shows in the readiness check.
        engine.start(starting.signal).catch((error) =>
          logger.error("engine start failed: {error}", { error: String(error) })
        )
          .finally(() => {
            if (lifecycle.state === "running") scheduler.start();
          });
      }),
    stop: (deadline: number) =>
      lifecycle.stop(async () => {
        starting.abort();
        await Promise.all([scheduler.stop(deadline), coordinator.stop(deadline)]);
        await stats.stop();
        await store.close(deadline);
        if (remaining(deadline) === 0) logger.warn("tls-scan stopped at its deadline");
      }),
  };
}

/**
 * The component definition (`COMPONENTS=tls-scan`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "../app/settings.ts";
 * import { tlsScan } from "./mod.ts";
 * assert.equal(tlsScan.name, "tls-scan");
 * assert.equal(tlsScan.configure(readSettings(tlsScan.settings, {}), {}).dbPath, "data/tls-scan.db");
 * ```
 */
export const tlsScan = defineComponent({
  name: "tls-scan",
  summary: "GET /scan?host=: TLS posture, grade and certificate expiry; a watched list rescanned",
  settings: SETTINGS,
  configure,
  create: (config, context) => createTlsScan(config, context),
});
