/**
 * The one HTTP server of the service, on `HTTP_HOST:HTTP_PORT`: `GET /healthz` (alive),
 * `GET /readyz` (200 only when every enabled component is ready, else 503; the JSON lists each
 * component's checks), `GET /metrics` (Prometheus text format, the one registry), and the routes
 * the enabled components contribute. A route that changes state is served only to an admin
 * (admin_access.ts: `ADMIN_TOKEN`, or loopback in protected mode).
 *
 * Why node:http and not `Deno.serve`: measured on Deno 2.9.6, `Deno.serve` has no header, body
 * or idle timeout (a connection that never finished its headers, a stalled body and an idle
 * keep-alive connection were all still open after 135 s) and no connection cap (denoland/deno#3515
 * is open). node:http costs about 100 µs more CPU per request (README, Operations). node:http, as
 * Deno implements it, enforces `headersTimeout`, `requestTimeout`, `keepAliveTimeout` and
 * `maxConnections` and answers 431 to oversized headers, so every connection has a bound:
 *
 * - headers within {@linkcode HTTP_LIMITS}`.headersTimeoutMs` (10 s), the whole request within
 *   `HTTP_REQUEST_TIMEOUT_SECONDS`: else 408 (when nothing was answered yet) and the connection
 *   closes;
 * - an idle keep-alive connection closes after `keepAliveTimeoutMs` (5 s);
 * - at most `HTTP_MAX_CONNECTIONS` connections; further ones are closed at once;
 * - request bodies held at once at most `HTTP_MAX_BODY_BYTES_IN_FLIGHT` (503 + `Retry-After`
 *   past it), each route bounding its own body too (413, after which the connection closes).
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
 * const response = await fetch(`http://127.0.0.1:${server.port}/hello`);
 * console.assert(await response.text() === "hi\n");
 * await server.shutdown();
 * ```
 *
 * @module
 */
import { errorMessage } from "./error_message.ts";
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import client, { type Registry } from "prom-client";
import { adminAccess } from "./admin_access.ts";
import { createHandler, type HandlerOptions } from "./http_handler.ts";
import { getLogger } from "./logging.ts";
import { BodyBudget, sendResponse, toRequest } from "./node_bridge.ts";
import { HttpError, jsonError } from "./routes.ts";

/**
 * The connection bounds, with their defaults (the settings `HTTP_REQUEST_TIMEOUT_SECONDS`,
 * `HTTP_MAX_CONNECTIONS` and `HTTP_MAX_BODY_BYTES_IN_FLIGHT` override theirs).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { HTTP_LIMITS } from "./http_server.ts";
 * assert.equal(HTTP_LIMITS.headersTimeoutMs, 10_000);
 * ```
 */
export const HTTP_LIMITS = {
  /** The request line and headers must arrive within this. */
  headersTimeoutMs: 10_000,
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: 30_000,
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** How often the timeouts are checked (their precision). */
  checkIntervalMs: 1_000,
  /** Open connections at most. */
  maxConnections: 1_024,
  /** Bytes of request bodies held at once at most. */
  maxBodyBytesInFlight: 64 * 1024 * 1024,
  /** Request headers at most (node's default; 431 past it). */
  maxHeaderBytes: 16 * 1024,
} as const;

/** Options of {@linkcode startHttpServer}. */
export interface HttpServerOptions
  extends Pick<HandlerOptions, "registry" | "readiness" | "routes"> {
  /** The port; 0 picks a free one. */
  readonly port: number;
  /** The address to bind. Default `0.0.0.0` (reachable by orchestrator probes). */
  readonly hostname?: string;
  /** `ADMIN_TOKEN`: unset is protected mode (state changes from loopback only). */
  readonly adminToken?: string | undefined;
  /** The whole request must arrive within this. Default 30 s. */
  readonly requestTimeoutMs?: number | undefined;
  /** Open connections at most. Default 1 024. */
  readonly maxConnections?: number | undefined;
  /** Bytes of request bodies held at once at most. Default 64 MiB. */
  readonly maxBodyBytesInFlight?: number | undefined;
}

/** A running server. */
export interface HttpServer {
  /** The port it listens on. */
  readonly port: number;
  /**
   * Stops listening, closes idle connections at once and the others once their answer is
   * written, or after `graceMs` (default 1 s) at the latest.
   */
  shutdown(graceMs?: number): Promise<void>;
}

const logger = getLogger("app", "http");

/** The server's own metrics, made once per registry. */
function httpMetrics(registry: Registry) {
  const existing = registry.getSingleMetric("edr_http_refused_requests_total");
  const refused = (existing as client.Counter<"reason"> | undefined) ??
    new client.Counter({
      name: "edr_http_refused_requests_total",
      help: "requests answered 4xx/5xx for their form or timing, or cut short, by reason " +
        "(timeout, bad_request, header_overflow, aborted, body_budget, malformed_path, " +
        "unauthorized, protected_mode, …)",
      labelNames: ["reason"],
      registers: [registry],
    });
  const connections = (registry.getSingleMetric("edr_http_open_connections") as
    | client.Gauge
    | undefined) ??
    new client.Gauge({
      name: "edr_http_open_connections",
      help: "open HTTP connections (at most HTTP_MAX_CONNECTIONS)",
      registers: [registry],
    });
  return { refused, connections };
}

/** The answer to a request node:http could not parse or that ran out of time. */
function clientErrorAnswer(
  error: Error & { code?: string; reason?: string },
  timeouts: { headersMs: number; requestMs: number },
): [number, string, string] {
  const code = error.code;
  switch (code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [
        408,
        "timeout",
        `the request was not complete in time (headers within ${timeouts.headersMs / 1000} s, ` +
        `the whole request within ${timeouts.requestMs / 1000} s)`,
      ];
    case "HPE_HEADER_OVERFLOW":
      return [
        431,
        "header_overflow",
        `the request line and headers are over ${HTTP_LIMITS.maxHeaderBytes / 1024} KiB`,
      ];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return [413, "too_large", "the chunk extensions are too large"];
    default: {
      const why = typeof error.reason === "string" && error.reason !== ""
        ? `: ${error.reason}`
        : "";
      return [400, "bad_request", `malformed HTTP request (${code ?? "unparsable"}${why})`];
    }
  }
}

/**
 * Starts the server; resolves once it listens.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { startHttpServer } from "./http_server.ts";
 * const server = await startHttpServer({
 *   port: 0,
 *   hostname: "127.0.0.1",
 *   registry: new Registry(),
 *   readiness: () => Promise.resolve({ ready: true, components: {}, checkedAt: "" }),
 * });
 * assert.ok(server.port > 0); // the free port it got
 * await server.shutdown();
 * ```
 */
export function startHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const metrics = httpMetrics(options.registry);
  const handle = createHandler({
    ...options,
    access: adminAccess({ token: options.adminToken }),
    onRefused: (reason) => metrics.refused.inc({ reason }),
  });
  const requestTimeoutMs = options.requestTimeoutMs ?? HTTP_LIMITS.requestTimeoutMs;
  const budget = new BodyBudget(options.maxBodyBytesInFlight ?? HTTP_LIMITS.maxBodyBytesInFlight);
  const sockets = new Map<Socket, { busy: boolean }>();
  let closing = false;

  const headersTimeoutMs = Math.min(HTTP_LIMITS.headersTimeoutMs, requestTimeoutMs);
  const server = createServer({
    headersTimeout: headersTimeoutMs,
    requestTimeout: requestTimeoutMs,
    keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
    connectionsCheckingInterval: HTTP_LIMITS.checkIntervalMs,
    maxHeaderSize: HTTP_LIMITS.maxHeaderBytes,
    // Checked by toRequest instead, which says why (node answers an empty 400).
    requireHostHeader: false,
  }, (incoming, res) => serve(incoming, res));
  server.maxConnections = options.maxConnections ?? HTTP_LIMITS.maxConnections;

  server.on("connection", (socket: Socket) => {
    sockets.set(socket, { busy: false });
    metrics.connections.set(sockets.size);
    socket.on("error", () => {}); // a reset peer: 'close' follows
    socket.on("close", () => {
      sockets.delete(socket);
      metrics.connections.set(sockets.size);
    });
  });

  server.on("clientError", (error: Error & { code?: string; reason?: string }, socket: Socket) => {
    if (error.code === "ECONNRESET" || error.code === "EPIPE") {
      metrics.refused.inc({ reason: "aborted" });
      logger.debug("a client hung up mid-request: {error}", { error: error.message });
      socket.destroy();
      return;
    }
    const [status, reason, message] = clientErrorAnswer(error, {
      headersMs: headersTimeoutMs,
      requestMs: requestTimeoutMs,
    });
    metrics.refused.inc({ reason });
    logger.debug("answered {status} to a malformed or late request: {error}", {
      status,
      error: `${error.code ?? ""} ${error.message}`,
    });
    const started = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (socket.writable && !started?.headersSent) {
      const body = JSON.stringify({ error: message });
      const length = new TextEncoder().encode(body).byteLength;
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\nconnection: close\r\n` +
          `content-type: application/json\r\ncontent-length: ${length}\r\n\r\n${body}`,
      );
      lingerThenDestroy(socket);
    } else {
      socket.destroy();
    }
  });

  async function serve(incoming: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = incoming.socket;
    const state = sockets.get(socket);
    if (state) state.busy = true;
    res.on("error", () => {}); // the client went away; 'close' follows
    let bridged;
    let response: Response;
    try {
      bridged = toRequest(incoming, budget);
      response = await handle(bridged.request, socket.remoteAddress ?? "", bridged.url);
    } catch (error) {
      if (error instanceof HttpError) {
        metrics.refused.inc({ reason: error.reason });
        response = jsonError(error.status, error.message, {}, error.headers);
      } else {
        logger.error("{method} {path} failed: {error}", {
          method: incoming.method,
          path: bridged ? new URL(bridged.request.url).pathname : "",
          error: errorMessage(error),
        });
        response = jsonError(500, "internal error");
      }
    }
    // A body not read to its end (a 413, a refusal before reading) is never read: the connection
    // closes after the answer instead of waiting for the rest.
    const unread = !incoming.complete && incoming.method !== "GET" && incoming.method !== "HEAD";
    if (unread || closing) res.setHeader("connection", "close");
    await sendResponse(res, response);
    bridged?.release();
    if (state) state.busy = false;
    if (unread || closing) {
      if (res.writableFinished) lingerThenDestroy(socket);
      else res.once("finish", () => lingerThenDestroy(socket));
    }
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname ?? "0.0.0.0", () => {
      server.off("error", reject);
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      resolve({ port, shutdown: (graceMs = 1_000) => shutdown(graceMs) });
    });
  });

  async function shutdown(graceMs: number): Promise<void> {
    closing = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const [socket, { busy }] of sockets) if (!busy) socket.destroy();
    const deadline = performance.now() + graceMs;
    while (sockets.size > 0 && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const socket of sockets.keys()) socket.destroy();
    await closed;
  }
}

/**
 * Ends `socket` (the answer is flushed, then FIN) and destroys it after a short grace, so a
 * client that keeps sending cannot hold it, and one that reads gets the answer before the close
 * (an immediate destroy with unread input would send a reset that can discard it).
 */
function lingerThenDestroy(socket: Socket): void {
  socket.end();
  const timer = setTimeout(() => socket.destroy(), 2_000);
  socket.once("close", () => clearTimeout(timer));
}
