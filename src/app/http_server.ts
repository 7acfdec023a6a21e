/**
 * The one HTTP server of the service, on `HTTP_PORT`: `GET /healthz` (alive), `GET /readyz`
 * (200 only when every enabled component is ready, else 503; the JSON lists each component's
 * checks), `GET /metrics` (Prometheus text format, the one registry), and the routes the
 * enabled components contribute.
 *
 * ```ts
 * import { Registry } from "prom-client";
 * import { startHttpServer } from "./http_server.ts";
 *
 * const server = await startHttpServer({
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   registry: new Registry(),
 *   readiness: () => Promise.resolve({ ready: true, components: {}, checkedAt: "" }),
 *   routes: [{ method: "GET", path: "/hello", handle: () => new Response("hi\n") }],
 * });
 * await server.shutdown();
 * ```
 *
 * @module
 */
import type { Registry } from "prom-client";
import { getLogger } from "./logging.ts";
import type { ReadinessReport } from "./readiness.ts";
import { jsonError, type Route, Router } from "./routes.ts";

/** Options of {@linkcode startHttpServer}. */
export interface HttpServerOptions {
  /** The port; 0 picks a free one. */
  readonly port: number;
  /** The address to bind. Default `0.0.0.0` (reachable by orchestrator probes). */
  readonly hostname?: string;
  /** The metrics registry. */
  readonly registry: Registry;
  /** The readiness verdict. */
  readonly readiness: () => Promise<ReadinessReport>;
  /** The enabled components' routes. Default none. */
  readonly routes?: readonly Route[];
}

/** A running server. */
export interface HttpServer {
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  shutdown(): Promise<void>;
}

const logger = getLogger("app", "http");

/** The built-in paths, served on GET and HEAD only. */
const BUILT_IN = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * Makes the request handler of the server (exported for tests that need no socket).
 *
 * ```ts
 * import { Registry } from "prom-client";
 * import { createHandler } from "./http_server.ts";
 * const handle = createHandler({
 *   registry: new Registry(),
 *   readiness: () => Promise.resolve({ ready: true, components: {}, checkedAt: "" }),
 * });
 * (await handle(new Request("http://x/healthz"))).status; // 200
 * ```
 */
export function createHandler(
  options: Pick<HttpServerOptions, "registry" | "readiness" | "routes">,
): (request: Request) => Promise<Response> {
  const router = new Router(options.routes ?? []);
  return async (request) => {
    const url = new URL(request.url);
    if (BUILT_IN.has(url.pathname)) return await builtIn(request, url.pathname, options);
    const match = router.match(request.method, url.pathname);
    switch (match.kind) {
      case "none":
        return new Response("not found\n", { status: 404 });
      case "method-not-allowed":
        return jsonError(405, `${request.method} is not allowed on ${url.pathname}`, {}, {
          allow: match.allow.join(", "),
        });
      case "route":
        try {
          return await match.route.handle(request, match.params, url);
        } catch (error) {
          logger.error("{method} {path} failed: {error}", {
            method: request.method,
            path: match.route.path,
            error: error instanceof Error ? error.message : String(error),
          });
          return jsonError(500, "internal error");
        }
    }
  };
}

async function builtIn(
  request: Request,
  pathname: string,
  options: Pick<HttpServerOptions, "registry" | "readiness">,
): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
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

/**
 * Starts the server; resolves once it listens.
 *
 * ```ts
 * import { Registry } from "prom-client";
 * import { startHttpServer } from "./http_server.ts";
 * const server = await startHttpServer({
 *   port: 0,
 *   registry: new Registry(),
 *   readiness: () => Promise.resolve({ ready: true, components: {}, checkedAt: "" }),
 * });
 * server.port; // the free port it got
 * await server.shutdown();
 * ```
 */
export function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const handle = createHandler(options);
  return new Promise((resolve, reject) => {
    try {
      const server = Deno.serve({
        port: options.port,
        hostname: options.hostname ?? "0.0.0.0",
        onListen: ({ port }) => resolve({ port, shutdown: () => server.shutdown() }),
      }, handle);
    } catch (error) {
      reject(error);
    }
  });
}
