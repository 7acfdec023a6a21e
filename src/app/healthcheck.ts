/**
 * `edr-preprocessor healthcheck`: the image's `HEALTHCHECK` without curl. The binary asks its own
 * running instance for `GET /healthz` (on loopback when it binds every interface, else on the
 * address it binds) and exits 0 when it answers 200 in time, else 1 with one line saying why, so
 * `docker inspect` shows the reason.
 *
 * @module
 */
import { errorMessage } from "./error_message.ts";

/** What one probe found. */
export interface HealthcheckResult {
  /** Whether the service answered 200. */
  readonly healthy: boolean;
  /** One line: the status, or why there was none. */
  readonly detail: string;
}

/**
 * Where the instance bound to `httpHost` answers: loopback for a wildcard address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeHost } from "./healthcheck.ts";
 * assert.equal(probeHost("0.0.0.0"), "127.0.0.1");
 * assert.equal(probeHost("::"), "[::1]");
 * assert.equal(probeHost("10.0.0.7"), "10.0.0.7");
 * assert.equal(probeHost("fd00::7"), "[fd00::7]");
 * ```
 */
export function probeHost(httpHost: string): string {
  if (httpHost === "0.0.0.0") return "127.0.0.1";
  if (httpHost === "::") return "[::1]";
  return httpHost.includes(":") ? `[${httpHost}]` : httpHost;
}

/**
 * GETs `http://{host}:{port}/healthz` within `timeoutMs` (default 3 s, below the image's 5 s
 * HEALTHCHECK timeout); `host` as {@linkcode probeHost} gives it.
 *
 * @example A port where nothing listens is unhealthy, with the reason
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeHealth } from "./healthcheck.ts";
 *
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * listener.close(); // nothing listens there now
 * const result = await probeHealth("127.0.0.1", port, 2_000);
 * assert.equal(result.healthy, false);
 * assert.match(result.detail, /^GET \/healthz on :\d+ failed/);
 * ```
 */
export async function probeHealth(
  host: string,
  port: number,
  timeoutMs = 3_000,
): Promise<HealthcheckResult> {
  const url = `http://${host}:${port}/healthz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return {
      healthy: response.status === 200,
      detail: `GET /healthz on :${port} answered ${response.status}`,
    };
  } catch (error) {
    const reason = errorMessage(error);
    return { healthy: false, detail: `GET /healthz on :${port} failed: ${reason}` };
  }
}
