/**
 * The service as an attacker meets it: `deno task start`'s command as a subprocess with
 * `COMPONENTS=submissions,ip-events,tls-scan`, against the local AWS stack it needs, its HTTP
 * port on every interface (`HTTP_HOST` 0.0.0.0), nothing scanned on its own (scheduler off, no
 * private targets) so no test traffic leaves loopback, and `HTTP_REQUEST_TIMEOUT_SECONDS` short
 * so the connection bounds show within seconds (headers then get the same bound: the header
 * timeout is the shorter of 10 s and the request timeout).
 *
 * @module
 */
import { type ServiceProcess, startService } from "../../tools/common/service_process.ts";
import { type LocalStack, startLocalStack } from "../../tools/submissions/local_stack.ts";

/** The request timeout the hostile tests run with, in seconds. */
export const REQUEST_TIMEOUT_SECONDS = 3;

/** A running service and what it runs against; dispose to stop it all. */
export interface HostileService extends AsyncDisposable {
  /** The service process. */
  readonly service: ServiceProcess;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** Its JSON log so far. */
  log(): Promise<string>;
  /** The log lines at level ERROR or above. */
  errorLines(): Promise<string[]>;
}

/** Starts the local stack and the service with `env` over the hostile defaults. */
export async function startHostileService(
  env: Record<string, string> = {},
): Promise<HostileService> {
  const dir = await Deno.makeTempDir({ prefix: "edr-hostile-" });
  let stack: LocalStack | undefined;
  let service: ServiceProcess | undefined;
  const logPath = `${dir}/service.log`;
  try {
    stack = await startLocalStack();
    service = await startService({
      ...stack.env(),
      PATH: Deno.env.get("PATH") ?? "",
      DENO_NO_UPDATE_CHECK: "1",
      COMPONENTS: "submissions,ip-events,tls-scan",
      HTTP_PORT: "0",
      HTTP_HOST: "0.0.0.0",
      HTTP_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS),
      LOG_LEVEL: "debug",
      SQS_WAIT_TIME_SECONDS: "1",
      SHUTDOWN_TIMEOUT_SECONDS: "3",
      IP_EVENTS_UDP_PORT: "0",
      IP_EVENTS_UDP_HOST: "127.0.0.1",
      TLS_SCAN_DB: `${dir}/tls-scan.db`,
      TLS_SCAN_ALLOW_PRIVATE: "false",
      TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "0",
      ...env,
    }, logPath);
  } catch (error) {
    await service?.kill();
    await stack?.[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const log = () => Deno.readTextFile(logPath);
  const running = service;
  const ownStack = stack;
  return {
    service: running,
    base: `http://127.0.0.1:${running.port}`,
    log,
    async errorLines() {
      return (await log()).split("\n").filter((line) => /"level":"(ERROR|FATAL)"/.test(line));
    },
    async [Symbol.asyncDispose]() {
      try {
        await running.terminate(10_000);
      } finally {
        await running.kill();
        await ownStack[Symbol.asyncDispose]();
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}

/** Polls `/healthz` every `everyMs` until stopped; counts the answers that were not a quick 200. */
export function watchHealth(base: string, everyMs = 250): { stop(): Promise<HealthTally> } {
  const tally = { ok: 0, failed: 0, slowestMs: 0 };
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(3_000) });
        await response.body?.cancel();
        if (response.status === 200) tally.ok++;
        else tally.failed++;
      } catch {
        tally.failed++;
      }
      tally.slowestMs = Math.max(tally.slowestMs, performance.now() - started);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return tally;
    },
  };
}

/** What {@linkcode watchHealth} saw. */
export interface HealthTally {
  /** Quick 200s. */
  readonly ok: number;
  /** Failures and timeouts (3 s). */
  readonly failed: number;
  /** The slowest answer, in milliseconds. */
  readonly slowestMs: number;
}

/** Polls `condition` every 100 ms until it holds or `timeoutMs` passes; whether it held. */
export async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return await condition();
}
