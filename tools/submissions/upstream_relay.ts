/**
 * The fault proxy's HTTP plumbing (fault_proxy.ts): forwarding a request to the emulator over
 * keep-alive connections, its reply streamed back untouched or buffered for rewriting, and the
 * AWS JSON answers the proxy writes itself.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { readBody, UpstreamRelay } from "./upstream_relay.ts";
 *
 * const relay = new UpstreamRelay({
 *   service: "kinesis",
 *   upstream: new URL("http://127.0.0.1:4567"),
 *   onUpstreamError: () => {},
 * });
 * const server = http.createServer((req, res) => readBody(req, (body) => relay.forward(req, res, body)));
 * // ... later:
 * relay.close();
 * server.close();
 * ```
 *
 * @module
 */
import http from "node:http";
import { Buffer } from "node:buffer";
import type { ServiceName } from "./fault_settings.ts";

const AMZ_JSON = "application/x-amz-json-1.1";
/** Headers that describe one hop's connection and must not be copied to the next hop. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

/** A buffered upstream response, for the cases where the proxy rewrites it. */
export interface UpstreamReply {
  /** The emulator's HTTP status. */
  status: number;
  /** The emulator's headers. */
  headers: http.IncomingHttpHeaders;
  /** The emulator's body, whole. */
  body: Buffer;
}

/** Options of {@linkcode UpstreamRelay}. */
export interface UpstreamRelayOptions {
  /** The service behind: decides what happens to a call whose client went away. */
  readonly service: ServiceName;
  /** Base URL of the emulator. Plain HTTP only. */
  readonly upstream: URL;
  /** Called when the emulator could not be reached or broke the connection. */
  readonly onUpstreamError: () => void;
}

/**
 * Forwards requests to the emulator. The upstream connections are kept alive: a new TCP
 * connection per call would cost more than the forwarding itself at ~20 PutRecords calls/s.
 *
 * @example
 * ```ts
 * import { UpstreamRelay } from "./upstream_relay.ts";
 *
 * const relay = new UpstreamRelay({
 *   service: "sqs",
 *   upstream: new URL("http://127.0.0.1:4576"),
 *   onUpstreamError: () => console.error("emulator unreachable"),
 * });
 * relay.close();
 * ```
 */
export class UpstreamRelay {
  readonly #service: ServiceName;
  readonly #upstream: URL;
  readonly #onUpstreamError: () => void;
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #requests = new Set<http.ClientRequest>();
  #closed = false;

  /** A relay to `options.upstream`; nothing is connected before the first request. */
  constructor(options: UpstreamRelayOptions) {
    this.#service = options.service;
    this.#upstream = options.upstream;
    this.#onUpstreamError = options.onUpstreamError;
  }

  /**
   * Forwards a request whose body nobody needs to read. The body is still read whole first
   * (requests are small): streamed, a client dropping mid-body would cut the upstream request
   * short (see `forward` on kinesalite). The response is streamed back.
   */
  forwardStreaming(req: http.IncomingMessage, res: http.ServerResponse): void {
    readBody(req, (body) => this.forward(req, res, body));
  }

  /**
   * Forwards an already-read body. Without `onReply` the response is streamed back untouched;
   * with it, the response is buffered and handed over for rewriting.
   */
  forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    onReply?: (reply: UpstreamReply) => void,
  ): void {
    const headers = endToEndHeaders(req.headers);
    headers["content-length"] = body.length;
    this.#request(req, res, headers, onReply)?.end(body);
  }

  /** Stops every call in flight and closes the upstream connections; forwards nothing after. */
  close(): void {
    this.#closed = true;
    for (const request of this.#requests) request.destroy();
    this.#agent.destroy();
  }

  #request(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    headers: http.OutgoingHttpHeaders,
    onReply?: (reply: UpstreamReply) => void,
  ): http.ClientRequest | undefined {
    if (this.#closed || req.socket.destroyed) return undefined;
    const upstream = http.request({
      protocol: this.#upstream.protocol,
      hostname: this.#upstream.hostname,
      port: this.#upstream.port,
      method: req.method,
      path: req.url,
      // The Host header is passed on unchanged: fauxqs builds queue URLs from it, so they name
      // the proxy (the public endpoint), not the hidden emulator port.
      headers,
      agent: this.#agent,
    }, (upstreamRes) => {
      upstreamRes.on("error", () => req.socket.destroy());
      if (res.destroyed) return void upstreamRes.resume(); // the client is gone
      if (onReply) {
        readBody(
          upstreamRes,
          (body) =>
            onReply({ status: upstreamRes.statusCode ?? 502, headers: upstreamRes.headers, body }),
        );
      } else {
        res.writeHead(upstreamRes.statusCode ?? 502, endToEndHeaders(upstreamRes.headers));
        upstreamRes.pipe(res);
      }
    });
    this.#requests.add(upstream);
    upstream.on("close", () => this.#requests.delete(upstream));
    upstream.on("error", () => {
      if (this.#closed) return;
      this.#onUpstreamError();
      // Mirror what the client would have seen talking to the emulator directly.
      req.socket.destroy();
    });
    // The client gave up (SDK timeout, socket destroyed by an outage). An SQS call is stopped,
    // so an abandoned long poll takes no message. A Kinesis call is left to finish and its
    // answer dropped: closing kinesalite's connection before it has answered makes it throw
    // from its request 'error' handler, an uncaught exception in the process hosting it.
    res.on("close", () => {
      if (res.writableFinished || this.#service === "kinesis") return;
      if (upstream.writableFinished) upstream.destroy();
      else upstream.once("finish", () => upstream.destroy());
    });
    return upstream;
  }
}

/**
 * Copies request or response headers, leaving out hop-by-hop ones.
 *
 * @example
 * ```ts
 * import { endToEndHeaders } from "./upstream_relay.ts";
 *
 * endToEndHeaders({ connection: "keep-alive", "x-amz-target": "AmazonSQS.ReceiveMessage" });
 * // { "x-amz-target": "AmazonSQS.ReceiveMessage" }
 * ```
 */
export function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/**
 * Answers with an AWS JSON body, as the emulators do.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { sendJson } from "./upstream_relay.ts";
 *
 * const server = http.createServer((_req, res) => {
 *   sendJson(res, 400, { __type: "ProvisionedThroughputExceededException", message: "Rate exceeded" });
 * });
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const response = await fetch(`http://127.0.0.1:${port}/`);
 * response.headers.get("content-type"); // "application/x-amz-json-1.1"
 * (await response.json()).__type; // "ProvisionedThroughputExceededException"
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": AMZ_JSON,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": crypto.randomUUID(),
  });
  res.end(text);
}

/**
 * Reads a request's or a response's whole body, then calls `done` with it.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { readBody } from "./upstream_relay.ts";
 *
 * const server = http.createServer((req, res) => readBody(req, (body) => res.end(`${body.length}`)));
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const response = await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body: "hello" });
 * await response.text(); // "5"
 * await new Promise((resolve) => server.close(resolve));
 * ```
 */
export function readBody(req: http.IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

/**
 * The body as a JSON object, or `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import { Buffer } from "node:buffer";
 * import { parseJsonObject } from "./upstream_relay.ts";
 *
 * parseJsonObject(Buffer.from('{"StreamName":"events"}')); // { StreamName: "events" }
 * parseJsonObject(Buffer.from("[1]")); // undefined
 * ```
 */
export function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}
