/**
 * The tls-scan component in an app on 127.0.0.1 (a free port), for tests: the real settings
 * path (`loadConfig` with `COMPONENTS=tls-scan`), the real HTTP server, a database in a
 * temporary folder unless one is given.
 *
 * @module
 */
import { App } from "../../src/app/app.ts";
import { loadConfig } from "../../src/app/app_config.ts";
import { getLogger } from "../../src/app/logging.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import {
  createTlsScan,
  tlsScan,
  type TlsScanConfig,
  type TlsScanOverrides,
} from "../../src/tls_scan/mod.ts";

/** A running service. */
export interface TestService extends AsyncDisposable {
  readonly base: string;
  readonly dbPath: string;
  get(path: string, headers?: HeadersInit): Promise<Response>;
  json(path: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }>;
  stop(): Promise<void>;
}

/** Starts the service with `env` on top of test defaults (allow private, wait 10 s, no scheduler). */
export async function startService(
  env: Record<string, string>,
  overrides: TlsScanOverrides = {},
): Promise<TestService> {
  const ownDir = env.TLS_SCAN_DB === undefined
    ? await Deno.makeTempDir({ prefix: "tls-db-" })
    : undefined;
  const dbPath = env.TLS_SCAN_DB ?? `${ownDir}/reports.db`;
  const loaded = loadConfig([tlsScan], {
    COMPONENTS: "tls-scan",
    HTTP_PORT: "0",
    SHUTDOWN_TIMEOUT_SECONDS: "5",
    TLS_SCAN_ALLOW_PRIVATE: "true",
    TLS_SCAN_WAIT_SECONDS: "10",
    TLS_SCAN_TIMEOUT_SECONDS: "2",
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "0",
    ...env,
    TLS_SCAN_DB: dbPath,
  });
  const metrics = createRegistry();
  const config = loaded.enabled[0]!.config as TlsScanConfig;
  const component = createTlsScan(
    config,
    { registry: metrics.registry, logger: getLogger("tls-scan") },
    overrides,
  );
  const app = new App({
    config: loaded.app,
    hostname: "127.0.0.1",
    components: [{ name: "tls-scan", component }],
    metrics,
  });
  await app.start();
  const base = `http://127.0.0.1:${app.port}`;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= app.stop().then(async () => {
      if (ownDir) await Deno.remove(ownDir, { recursive: true });
    });
  const get = (path: string, headers: HeadersInit = {}) => fetch(`${base}${path}`, { headers });
  return {
    base,
    dbPath,
    get,
    async json(path) {
      const response = await get(path);
      return { status: response.status, body: await response.json(), headers: response.headers };
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
