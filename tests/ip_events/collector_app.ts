/**
 * The collector in this process behind the app's real HTTP server, on free loopback ports, for
 * tests that call the API (the UDP sender of a test is then another socket of this process; the
 * tests that need the sender in its own process run main.ts: e2e_test.ts).
 *
 * @module
 */
import { App } from "../../src/app/app.ts";
import { getLogger } from "../../src/app/logging.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import { readSettings } from "../../src/app/settings.ts";
import { type Collector, createCollector } from "../../src/ip_events/collector.ts";
import { configure, SETTINGS } from "../../src/ip_events/settings.ts";

/** A running collector app. */
export interface CollectorApp extends AsyncDisposable {
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** The UDP port. */
  readonly udpPort: number;
  /** The collector itself. */
  readonly collector: Collector;
  /** Metrics text. */
  metrics(): Promise<string>;
}

/**
 * Starts the collector with `env` over the test defaults (free ports, loopback); `ADMIN_TOKEN`
 * in `env` is the app's admin token.
 */
export async function startCollectorApp(env: Record<string, string> = {}): Promise<CollectorApp> {
  const values = readSettings(SETTINGS, {
    IP_EVENTS_UDP_PORT: "0",
    IP_EVENTS_UDP_HOST: "127.0.0.1",
    IP_EVENTS_UDP_RECEIVE_BUFFER_BYTES: String(1 << 20),
    ...env,
  });
  const metrics = createRegistry();
  const collector = createCollector(configure(values, env), {
    registry: metrics.registry,
    logger: getLogger("ip-events"),
  });
  const app = new App({
    config: {
      components: ["ip-events"],
      httpPort: 0,
      shutdownTimeoutSeconds: 5,
      logLevel: "error",
      adminToken: env.ADMIN_TOKEN,
    },
    hostname: "127.0.0.1",
    components: [{ name: "ip-events", component: collector }],
    metrics,
  });
  await app.start();
  const base = `http://127.0.0.1:${app.port}`;
  return {
    base,
    udpPort: collector.udpPort!,
    collector,
    metrics: async () => await (await fetch(`${base}/metrics`)).text(),
    [Symbol.asyncDispose]: () => app.stop(),
  };
}

/** The value of one series in a metrics text (0 when absent). */
export function metricValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
