/**
 * The bridge between node:http (which serves the port; see http_server.ts for why) and the
 * Fetch API the routes are written against: a node request becomes a `Request` whose body is
 * pulled (the socket is paused while nobody reads, so the kernel, not the heap, holds what a
 * client sends ahead), and a `Response` is written back with backpressure.
 *
 * Every request body counts against one {@linkcode BodyBudget} while its request is open, so the
 * memory unfinished bodies hold is bounded for the whole server, whatever many clients send.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyBudget } from "./node_bridge.ts";
 * const budget = new BodyBudget(1024);
 * assert.equal(budget.take(1000), true);
 * assert.equal(budget.take(100), false); // over the bound: refused, nothing taken
 * budget.give(1000);
 * assert.equal(budget.held, 0);
 * ```
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HttpError } from "./routes.ts";

/**
 * The bytes of request bodies the server holds at once, at most `limit`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyBudget } from "./node_bridge.ts";
 * const budget = new BodyBudget(10);
 * assert.equal(budget.take(10), true);
 * assert.equal(budget.held, 10);
 * ```
 */
export class BodyBudget {
  /** The bound, in bytes. */
  readonly limit: number;
  #held = 0;

  /** A budget of `limit` bytes. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Bytes held now. */
  get held(): number {
    return this.#held;
  }

  /** Takes `bytes` if they fit; `false` (nothing taken) otherwise. */
  take(bytes: number): boolean {
    if (this.#held + bytes > this.limit) return false;
    this.#held += bytes;
    return true;
  }

  /** Gives back `bytes` taken before. */
  give(bytes: number): void {
    this.#held = Math.max(0, this.#held - bytes);
  }
}

/** A node request as a Fetch `Request`, and how to let go of what its body holds. */
export interface BridgedRequest {
  /** The request; its URL is `http://localhost` + the request target (the Host is not used). */
  readonly request: Request;
  /** The request's URL, parsed once. */
  readonly url: URL;
  /** Gives the body's bytes back to the budget; call once the answer is written. */
  release(): void;
}

/** Methods whose requests carry no body the routes read. */
const BODILESS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);

/**
 * Makes the Fetch `Request` of `incoming`. Throws an {@linkcode HttpError} 400 for an HTTP/1.1
 * request without `Host`, a request target that is not an origin-form path or an absolute http
 * URL (`*`, `//x`), or a header the Fetch API refuses.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { IncomingMessage } from "node:http";
 * import { Socket } from "node:net";
 * import { BodyBudget, toRequest } from "./node_bridge.ts";
 * const incoming = new IncomingMessage(new Socket());
 * incoming.method = "GET";
 * incoming.url = "/scans?limit=2";
 * incoming.httpVersion = "1.1";
 * incoming.headers = { host: "example.com" };
 * incoming.rawHeaders = ["Host", "example.com"];
 * const { request, release } = toRequest(incoming, new BodyBudget(1024));
 * assert.equal(request.url, "http://localhost/scans?limit=2");
 * release();
 * ```
 */
export function toRequest(incoming: IncomingMessage, budget: BodyBudget): BridgedRequest {
  if (incoming.httpVersion === "1.1" && incoming.headers.host === undefined) {
    // RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host.
    throw new HttpError(400, "HTTP/1.1 requests need a Host header (RFC 9112)", "no_host");
  }
  const url = requestUrl(incoming.url ?? "");
  let headers: Headers;
  try {
    // rawHeaders alternates names and values, repeats kept: one constructor call.
    const raw = incoming.rawHeaders;
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
    headers = new Headers(pairs);
  } catch {
    throw new HttpError(400, "a request header has a value HTTP does not allow", "bad_header");
  }
  const method = incoming.method ?? "GET";
  let held = 0;
  let released = false;
  const release = () => {
    released = true;
    budget.give(held);
    held = 0;
  };
  const hasBody = !BODILESS.has(method) &&
    (incoming.headers["transfer-encoding"] !== undefined ||
      Number(incoming.headers["content-length"] ?? "0") > 0);
  if (!hasBody) return { request: new Request(url, { method, headers }), url, release };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      incoming.on("data", (chunk: Uint8Array) => {
        if (released) return;
        if (!budget.take(chunk.byteLength)) {
          incoming.pause();
          controller.error(
            new HttpError(
              503,
              `the server holds ${budget.limit} bytes of request bodies already; retry later`,
              "body_budget",
              { "retry-after": "1" },
            ),
          );
          return;
        }
        held += chunk.byteLength;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) incoming.pause();
      });
      incoming.on("end", () => {
        try {
          controller.close();
        } catch {
          // Already errored or cancelled.
        }
      });
      incoming.on("aborted", () => fail(controller));
      incoming.on("error", () => fail(controller));
      incoming.on("close", () => {
        if (!incoming.complete) fail(controller);
      });
      incoming.pause();
    },
    pull() {
      incoming.resume();
    },
    cancel() {
      // The route has what it wants (or refused the rest): stop taking bytes; the server closes
      // the connection after the answer rather than reading the rest.
      incoming.pause();
      release();
    },
  }, { highWaterMark: 1 });
  return {
    request: new Request(url, { method, headers, body, duplex: "half" } as RequestInit),
    url,
    release,
  };
}

/**
 * The URL of a request target: origin-form (`/scans?limit=2`) or absolute-form
 * (`http://host/scans`, RFC 9112 §3.2.2: a server must accept it), always on `http://localhost`
 * (routes never see the client's idea of the host). Anything else (`*`, `//x`, another scheme)
 * is a 400.
 */
function requestUrl(target: string): URL {
  let path = target;
  if (/^https?:\/\//i.test(target)) {
    try {
      const absolute = new URL(target);
      path = absolute.pathname + absolute.search;
    } catch {
      path = "";
    }
  }
  if (!path.startsWith("/") || path.startsWith("//")) {
    throw new HttpError(
      400,
      "the request target must be a path starting with / (or an absolute http URL)",
      "bad_target",
    );
  }
  try {
    return new URL(path, "http://localhost");
  } catch {
    throw new HttpError(400, "the request target is not a valid path", "bad_target");
  }
}

function fail(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.error(
      new HttpError(
        400,
        "the client closed the connection before the body was complete",
        "aborted",
      ),
    );
  } catch {
    // Already closed or errored.
  }
}

/**
 * Writes `response` to `res`: status, headers and the body with its `Content-Length`. The body
 * is read whole first: every route answers a body it already holds (JSON, a text report,
 * the metrics), and one write is much cheaper than a chunked stream through node:http. Resolves
 * when it is handed to the socket or the connection is gone; never rejects.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createServer } from "node:http";
 * import type { AddressInfo } from "node:net";
 * import { sendResponse } from "./node_bridge.ts";
 *
 * // A node:http server answering a web Response, on a free loopback port.
 * const server = createServer((_req, res) => void sendResponse(res, new Response("ok\n")));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as AddressInfo;
 * const answer = await fetch(`http://127.0.0.1:${port}/`);
 * assert.equal(answer.headers.get("content-length"), "3"); // the body whole, not chunked
 * assert.equal(await answer.text(), "ok\n");
 * server.closeAllConnections();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export async function sendResponse(res: ServerResponse, response: Response): Promise<void> {
  if (res.destroyed || res.headersSent) {
    await response.body?.cancel().catch(() => {});
    return;
  }
  let body: Uint8Array | undefined;
  try {
    body = response.body === null ? undefined : new Uint8Array(await response.arrayBuffer());
  } catch {
    // The body failed: nothing was sent yet; the connection is closed without an answer.
    res.destroy();
    return;
  }
  if (res.destroyed) return;
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (body !== undefined) res.setHeader("content-length", body.byteLength);
  res.end(body);
}
