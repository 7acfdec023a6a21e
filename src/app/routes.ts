/**
 * The HTTP routes components contribute to the one server, and the small helpers their handlers
 * share: a JSON error body, and a request body read with a size bound (a listener open to the
 * network must bound the memory each request can take).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonError, type Route } from "./routes.ts";
 *
 * const route: Route = {
 *   method: "GET",
 *   path: "/events/:sha",
 *   handle: (_request, params) =>
 *     params.sha?.length === 64 ? Response.json({ count: 0 }) : jsonError(400, "bad sha"),
 * };
 * const url = new URL("http://localhost:8080/events/abc");
 * const answer = await route.handle(new Request(url), { sha: "abc" }, url);
 * assert.equal(answer.status, 400);
 * assert.deepEqual(await answer.json(), { error: "bad sha" });
 * ```
 *
 * @module
 */

/** The methods a route can serve (`HEAD` is served by every `GET` route). */
export type Method = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";

/** Path parameters of a matched route, by name (`/events/:sha` → `sha`). */
export type RouteParams = Readonly<Record<string, string | undefined>>;

/** One route of a component. */
export interface Route {
  /** The method it serves. */
  readonly method: Method;
  /** A URLPattern pathname, e.g. `/scan` or `/events/:sha`. */
  readonly path: string;
  /**
   * Whether the route changes state (watches a host, forgets events): such a route is served
   * only to an admin (`ADMIN_TOKEN`, or a loopback peer in protected mode; admin_access.ts).
   * Default: `true` for every method but `GET`, so a new `POST` route is protected unless its
   * component says otherwise.
   */
  readonly changesState?: boolean;
  /**
   * Answers a request; a thrown {@linkcode HttpError} becomes its status, any other thrown
   * error a 500 (and is logged as a defect). Path parameters arrive percent-decoded.
   */
  handle(request: Request, params: RouteParams, url: URL): Response | Promise<Response>;
}

/**
 * Whether `route` changes state: its own `changesState`, else every method but `GET`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { changesState } from "./routes.ts";
 * const handle = () => new Response();
 * assert.equal(changesState({ method: "DELETE", path: "/scans/:host", handle }), true);
 * assert.equal(changesState({ method: "GET", path: "/scans", handle }), false);
 * assert.equal(changesState({ method: "GET", path: "/x", changesState: true, handle }), true);
 * ```
 */
export function changesState(route: Route): boolean {
  return route.changesState ?? route.method !== "GET";
}

/**
 * A request the server answers with `status` and a specific message, not a defect: a client
 * that hung up mid-body, a body that timed out, the server's body budget spent. Thrown by
 * {@linkcode readBody}; the server answers it (if the client is still there) and logs it at
 * debug, never as an error.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./routes.ts";
 * const error = new HttpError(400, "the client closed the connection mid-body", "aborted");
 * assert.equal(error.status, 400);
 * assert.equal(error.reason, "aborted");
 * ```
 */
export class HttpError extends Error {
  /** The status to answer. */
  readonly status: number;
  /** A short label for metrics and logs (`aborted`, `timeout`, `budget`, …). */
  readonly reason: string;
  /** Headers of the answer (`retry-after`, say). */
  readonly headers: Readonly<Record<string, string>>;

  /** Makes an error answered with `status` and `message`. */
  constructor(
    status: number,
    message: string,
    reason: string,
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = "HttpError";
    this.status = status;
    this.reason = reason;
    this.headers = headers;
  }
}

/** A request matched to a route, or to a path served only by other methods. */
export type RouteMatch =
  | { readonly kind: "route"; readonly route: Route; readonly params: RouteParams }
  | { readonly kind: "method-not-allowed"; readonly allow: readonly string[] }
  | { readonly kind: "none" };

/**
 * Routes compiled once; {@linkcode Router.match} finds the route of a request. Two routes with
 * the same method and path are a defect and throw at construction.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Router } from "./routes.ts";
 * const router = new Router([{ method: "GET", path: "/a/:id", handle: () => new Response() }]);
 * const found = router.match("GET", "/a/7");
 * assert.equal(found.kind, "route");
 * assert.deepEqual(found.kind === "route" && found.params, { id: "7" });
 * assert.deepEqual(router.match("POST", "/a/7"), { kind: "method-not-allowed", allow: ["GET", "HEAD"] });
 * assert.deepEqual(router.match("GET", "/b"), { kind: "none" });
 * ```
 */
export class Router {
  readonly #routes: { route: Route; pattern: URLPattern }[];

  /** Compiles `routes`. */
  constructor(routes: readonly Route[]) {
    const seen = new Set<string>();
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      if (seen.has(key)) throw new Error(`two routes for ${key}`);
      seen.add(key);
    }
    this.#routes = routes.map((route) => ({
      route,
      pattern: new URLPattern({ pathname: route.path }),
    }));
  }

  /**
   * The route serving `method` on `pathname` (HEAD is served by GET routes), its parameters
   * percent-decoded; a parameter that is not valid percent-encoded UTF-8 (`%E0%A4%A`, `%`,
   * the overlong `%C0%AF`) throws an {@linkcode HttpError} 400.
   */
  match(method: string, pathname: string): RouteMatch {
    const wanted = method === "HEAD" ? "GET" : method;
    const allow = new Set<string>();
    for (const { route, pattern } of this.#routes) {
      const found = pattern.exec({ pathname });
      if (found === null) continue;
      if (route.method === wanted) {
        return { kind: "route", route, params: decodeParams(found.pathname.groups) };
      }
      allow.add(route.method);
      if (route.method === "GET") allow.add("HEAD");
    }
    return allow.size > 0 ? { kind: "method-not-allowed", allow: [...allow] } : { kind: "none" };
  }
}

function decodeParams(groups: Record<string, string | undefined>): RouteParams {
  const params: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(groups)) {
    try {
      params[name] = value === undefined ? undefined : decodeURIComponent(value);
    } catch {
      throw new HttpError(
        400,
        `the path segment ${name} is not valid percent-encoded UTF-8`,
        "malformed_path",
      );
    }
  }
  return params;
}

/**
 * A JSON error response: `{"error": message, ...extra}` with `status`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { jsonError } from "./routes.ts";
 * const response = jsonError(400, "app_sha256 must be 64 hex characters");
 * assert.equal(response.status, 400);
 * assert.deepEqual(await response.json(), { error: "app_sha256 must be 64 hex characters" });
 * ```
 */
export function jsonError(
  status: number,
  message: string,
  extra: Readonly<Record<string, unknown>> = {},
  headers: HeadersInit = {},
): Response {
  return Response.json({ error: message, ...extra }, { status, headers });
}

/** Why {@linkcode readBody} gave up. */
export type BodyError = "too_large";

/**
 * Reads the whole body of `request`, at most `maxBytes`; stops reading and answers
 * `"too_large"` past it (the rest is never buffered), so a caller cannot make the service hold
 * more than the bound whatever it sends. A body that cannot be read to its end (the client hung
 * up, the request timed out, the server's body budget is spent) throws an
 * {@linkcode HttpError}, which the server answers (400, 408, 503) without logging an error.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readBody } from "./routes.ts";
 * const body = await readBody(new Request("http://x/", { method: "POST", body: "hi" }), 1024);
 * assert.equal(new TextDecoder().decode(body as Uint8Array), "hi");
 * const big = new Request("http://x/", { method: "POST", body: "x".repeat(2048) });
 * assert.equal(await readBody(big, 1024), "too_large");
 * ```
 */
export async function readBody(
  request: Request,
  maxBytes: number,
): Promise<Uint8Array | BodyError> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await request.body?.cancel().catch(() => {});
    return "too_large";
  }
  if (request.body === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  while (true) {
    let read: ReadableStreamReadResult<Uint8Array>;
    try {
      read = await reader.read();
    } catch (error) {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, "the request body ended before it was complete", "aborted");
    }
    const { done, value } = read;
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return "too_large";
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}
