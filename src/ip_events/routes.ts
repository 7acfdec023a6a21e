/**
 * The HTTP API on `HTTP_PORT`: `GET /events/:app_sha256` (the app's count and good and bad
 * IPs), `DELETE /events` (forget everything) and `POST /events` (one serialized `IpEvent`, the
 * clients' HTTP mode). Errors are JSON `{"error": …}`; a wrong method is the shared server's 405.
 * DELETE and POST change state: the server serves them to an admin only (`ADMIN_TOKEN`, or a
 * loopback peer in protected mode; src/app/admin_access.ts).
 *
 * @module
 */
import { jsonError, readBody, type Route } from "../app/routes.ts";
import type { Ingest } from "./ingest.ts";
import type { IpEventsMetrics } from "./metrics.ts";
import { type IpEventStore, StoreUnavailableError } from "./store.ts";

/** Largest POST body read (an IpEvent is at most ~72 bytes; unknown fields may add some). */
export const MAX_POST_BYTES = 1024;

/** What the routes work with. */
export interface EventsRoutesOptions {
  readonly store: IpEventStore;
  readonly ingest: Ingest;
  readonly metrics: Pick<IpEventsMetrics, "getSeconds">;
  /** Hands what the UDP socket holds to the store (before a GET or a DELETE). */
  readonly drain: () => Promise<void>;
}

const SHA_PATTERN = /^[0-9a-fA-F]{64}$/;

/**
 * The component's routes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { Ingest } from "./ingest.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { createIpEventsMetrics } from "./metrics.ts";
 * import { eventsRoutes } from "./routes.ts";
 * const store = new MemoryStore({ maxApps: 10, maxIpsPerApp: 10 });
 * const metrics = createIpEventsMetrics(new Registry(), {
 *   stats: () => store.stats(),
 *   udpCounters: () => undefined,
 *   socketDrops: () => undefined,
 * });
 * const ingest = new Ingest({ store, metrics });
 * const routes = eventsRoutes({
 *   store,
 *   ingest,
 *   metrics,
 *   drain: () => Promise.resolve(), // a receiver's drain()
 * });
 * assert.deepEqual(routes.map((route) => `${route.method} ${route.path}`), [
 *   "GET /events/:app_sha256",
 *   "DELETE /events",
 *   "POST /events",
 * ]);
 * ```
 */
export function eventsRoutes(options: EventsRoutesOptions): Route[] {
  const { store, ingest, metrics, drain } = options;
  return [
    {
      method: "GET",
      path: "/events/:app_sha256",
      changesState: false,
      async handle(request, params) {
        const started = performance.now();
        if (!acceptsJson(request.headers.get("accept"))) {
          return jsonError(406, "only application/json is served");
        }
        const sha = params.app_sha256 ?? "";
        if (!SHA_PATTERN.test(sha)) {
          return jsonError(400, "app_sha256 must be 64 hex characters");
        }
        await drain();
        let answer;
        try {
          answer = await store.answer(sha.toLowerCase());
        } catch (error) {
          return unavailable(error);
        }
        metrics.getSeconds.observe((performance.now() - started) / 1000);
        return Response.json(answer);
      },
    },
    {
      method: "DELETE",
      path: "/events",
      changesState: true,
      async handle(request) {
        await request.body?.cancel();
        // What arrived before the DELETE must not be counted after it.
        await drain();
        try {
          await store.reset();
        } catch (error) {
          return unavailable(error);
        }
        return new Response(null, { status: 204 });
      },
    },
    {
      method: "POST",
      path: "/events",
      changesState: true,
      async handle(request) {
        const type = request.headers.get("content-type")?.split(";")[0]?.trim().toLowerCase();
        if (type !== "application/octet-stream") {
          await request.body?.cancel();
          return jsonError(415, "Content-Type must be application/octet-stream");
        }
        const body = await readBody(request, MAX_POST_BYTES);
        if (body === "too_large") {
          return jsonError(413, `the body is over ${MAX_POST_BYTES} bytes`);
        }
        const result = ingest.post(body);
        return result.ok
          ? new Response(null, { status: 204 })
          : jsonError(400, result.message, { reason: result.reason });
      },
    },
  ];
}

/** 503 for a store that cannot reach its server (the events keep being counted locally). */
function unavailable(error: unknown): Response {
  if (!(error instanceof StoreUnavailableError)) throw error;
  return jsonError(503, error.message, {}, { "retry-after": "1" });
}

/**
 * Whether an `Accept` header admits `application/json` (no header admits anything).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { acceptsJson } from "./routes.ts";
 * assert.ok(acceptsJson("text/html, application/*;q=0.5"));
 * assert.equal(acceptsJson("text/html"), false);
 * ```
 */
export function acceptsJson(accept: string | null): boolean {
  if (accept === null || accept.trim() === "") return true;
  return accept.split(",").some((range) => {
    const [type, ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    const q = params.find((p) => p.startsWith("q="));
    if (q !== undefined && !(Number(q.slice(2)) > 0)) return false;
    return type === "*/*" || type === "application/*" || type === "application/json";
  });
}
