/**
 * The operations endpoint: `GET /healthz` (alive), `GET /readyz` (200 only when SQS and Kinesis
 * answer, else 503) and `GET /metrics` (Prometheus text format).
 *
 * @module
 */
import type { Registry } from "prom-client";
import type { ReadinessReport } from "./readiness.ts";

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
}

/** A running operations endpoint. */
export interface HttpServer {
  /** The port it listens on. */
  readonly port: number;
  /** Stops listening and closes open connections. */
  shutdown(): Promise<void>;
}

/** Handles one request (exported for tests that need no socket). */
export async function handleRequest(
  request: Request,
  options: Pick<HttpServerOptions, "registry" | "readiness">,
): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method !== "GET" && request.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  switch (pathname) {
    case "/healthz":
      return new Response("ok\n", { headers: { "content-type": "text/plain" } });
    case "/readyz": {
      const report = await options.readiness();
      return Response.json(report, { status: report.ready ? 200 : 503 });
    }
    case "/metrics":
      return new Response(await options.registry.metrics(), {
        headers: { "content-type": options.registry.contentType },
      });
    default:
      return new Response("not found\n", { status: 404 });
  }
}

/** Starts the operations endpoint. */
export function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  return new Promise((resolve) => {
    const server = Deno.serve({
      port: options.port,
      hostname: options.hostname ?? "0.0.0.0",
      onListen: ({ port }) => resolve({ port, shutdown: () => server.shutdown() }),
    }, (request) => handleRequest(request, options));
  });
}
