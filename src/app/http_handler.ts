/**
 * What the HTTP server does with a request once node:http has bounded and bridged it
 * (http_server.ts): the built-in `GET /healthz`, `/readyz` and `/metrics`, then the components'
 * routes by method and path (404, 405 with `Allow`), the admin check of a route that changes
 * state (admin_access.ts), and every `HttpError` a route throws as its JSON answer (500 for
 * anything else, logged). It needs no socket: tests call it with a `Request`.
 *
 * @module
 */
import type { Registry } from "prom-client";
import { adminAccess, type AdminCheck } from "./admin_access.ts";
import { errorMessage } from "./error_message.ts";
import { getLogger } from "./logging.ts";
import type { ReadinessReport } from "./readiness.ts";
import { changesState, HttpError, jsonError, type Route, Router } from "./routes.ts";

const logger = getLogger("app", "http");

/** The built-in paths, served on GET and HEAD only. */
const BUILT_IN = new Set(["/healthz", "/readyz", "/metrics"]);

/** What {@linkcode createHandler} needs. */
export interface HandlerOptions {
  /** The metrics registry (`GET /metrics`). */
  readonly registry: Registry;
  /** The readiness verdict (`GET /readyz`). */
  readonly readiness: () => Promise<ReadinessReport>;
  /** The enabled components' routes. Default none. */
  readonly routes?: readonly Route[];
  /** Who may change state; default protected mode (loopback only). */
  readonly access?: AdminCheck;
  /** Called with the reason of every request answered 4xx for its form (metrics). */
  readonly onRefused?: (reason: string) => void;
}

/**
 * Makes the request handler of the server (exported for tests that need no socket): `peer` is
 * the TCP peer address, which decides protected mode; `url`, the request's URL when the caller
 * has parsed it already.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { createHandler } from "./http_handler.ts";
 * const handle = createHandler({
 *   registry: new Registry(),
 *   readiness: () => Promise.resolve({ ready: true, components: {}, checkedAt: "" }),
 * });
 * assert.equal((await handle(new Request("http://x/healthz"), "10.0.0.7")).status, 200);
 * ```
 */
export function createHandler(
  options: HandlerOptions,
): (request: Request, peer: string, url?: URL) => Promise<Response> {
  const router = new Router(options.routes ?? []);
  const access = options.access ?? adminAccess({ token: undefined });
  const refused = (reason: string) => options.onRefused?.(reason);
  return async (request, peer, parsed) => {
    const url = parsed ?? new URL(request.url);
    if (BUILT_IN.has(url.pathname)) return await builtIn(request, url.pathname, options);
    let match;
    try {
      match = router.match(request.method, url.pathname);
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      refused(error.reason);
      return jsonError(error.status, error.message, {}, error.headers);
    }
    switch (match.kind) {
      case "none":
        return jsonError(404, `no route for ${url.pathname.slice(0, 200)}`);
      case "method-not-allowed":
        return jsonError(
          405,
          `${request.method.slice(0, 20)} is not allowed on ${url.pathname.slice(0, 200)}`,
          {},
          { allow: match.allow.join(", ") },
        );
      case "route": {
        if (changesState(match.route)) {
          const denied = access(request, peer);
          if (denied !== undefined) {
            refused(denied.status === 401 ? "unauthorized" : "protected_mode");
            return denied;
          }
        }
        try {
          return await match.route.handle(request, match.params, url);
        } catch (error) {
          if (error instanceof HttpError) {
            refused(error.reason);
            logger.debug("{method} {path}: {status} {error}", {
              method: request.method,
              path: match.route.path,
              status: error.status,
              error: error.message,
            });
            return jsonError(error.status, error.message, {}, error.headers);
          }
          logger.error("{method} {path} failed: {error}", {
            method: request.method,
            path: match.route.path,
            error: errorMessage(error),
          });
          return jsonError(500, "internal error");
        }
      }
    }
  };
}

async function builtIn(
  request: Request,
  pathname: string,
  options: Pick<HandlerOptions, "registry" | "readiness">,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return jsonError(405, `${request.method.slice(0, 20)} is not allowed on ${pathname}`, {}, {
      allow: "GET, HEAD",
    });
  }
  switch (pathname) {
    case "/readyz": {
      const report = await options.readiness();
      return Response.json(report, { status: report.ready ? 200 : 503 });
    }
    case "/metrics":
      return new Response(await options.registry.metrics(), {
        headers: { "content-type": options.registry.contentType },
      });
    default:
      return new Response("ok\n", { headers: { "content-type": "text/plain" } });
  }
}
