/**
 * The service as an attacker meets it: all three components (all_components_service.ts), its
 * HTTP port on every interface (`HTTP_HOST` 0.0.0.0), nothing scanned on its own (scheduler off, no
 * private targets) so no test traffic leaves loopback, and `HTTP_REQUEST_TIMEOUT_SECONDS` short
 * so the connection bounds show within seconds (headers then get the same bound: the header
 * timeout is the shorter of 10 s and the request timeout).
 *
 * @module
 */
import { type AllComponentsService, startAllComponents } from "./all_components_service.ts";

/** The request timeout the hostile tests run with, in seconds. */
export const REQUEST_TIMEOUT_SECONDS = 3;

/** A running service and what it runs against; dispose to stop it all. */
export type HostileService = AllComponentsService;

/** Starts the local stack and the service with `env` over the hostile defaults. */
export function startHostileService(env: Record<string, string> = {}): Promise<HostileService> {
  return startAllComponents({
    HTTP_HOST: "0.0.0.0",
    HTTP_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS),
    LOG_LEVEL: "debug",
    SHUTDOWN_TIMEOUT_SECONDS: "3",
    TLS_SCAN_ALLOW_PRIVATE: "false",
    ...env,
  }, "edr-hostile-");
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
