/**
 * The HTTP face of tls-scan on the shared server: `GET /scan` (one host, now; JSON, text or
 * HTML by `Accept`), `POST /scans`, `GET /scans`, `DELETE /scans/{host}` (the watch list),
 * `GET /scans/report` (the digest of every watched host). Every input is validated with an
 * error naming what is wrong; bodies and pages are bounded. {@linkcode tlsScanRoutes} shows them
 * made and one answered.
 *
 * @module
 */
import { jsonError, readBody, type Route } from "../app/routes.ts";
import type { Resolver } from "./address_guard.ts";
import type { ScanCoordinator } from "./coordinator.ts";
import type { EngineName } from "./report.ts";
import { digestResponse, preferredFormat, watchedHostJson } from "./report_format.ts";
import { parseAfter, readTarget, readWatchEntries } from "./route_inputs.ts";
import { answerResponse } from "./scan_answer.ts";
import type { Scheduler } from "./scheduler.ts";
import { StoreUnavailableError, type TlsScanStore } from "./store.ts";
import { parseHost, parsePort, type Target, targetKey } from "./target.ts";
import { refuseToWatch } from "./watch_guard.ts";

/**
 * At most this many hosts per `POST /scans`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_HOSTS_PER_POST } from "./routes.ts";
 * assert.equal(MAX_HOSTS_PER_POST, 10_000);
 * ```
 */
export const MAX_HOSTS_PER_POST = 10_000;
/**
 * Body bound of `POST /scans`: 10 000 hosts of 253 characters with their JSON.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_POST_BYTES } from "./routes.ts";
 * assert.equal(MAX_POST_BYTES, 4_194_304);
 * ```
 */
export const MAX_POST_BYTES = 4 * 1024 * 1024;
/**
 * Page size of `GET /scans` without `limit`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAGE_DEFAULT } from "./routes.ts";
 * assert.equal(PAGE_DEFAULT, 100);
 * ```
 */
export const PAGE_DEFAULT = 100;
/**
 * The largest `limit` of `GET /scans`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PAGE_MAX } from "./routes.ts";
 * assert.equal(PAGE_MAX, 1_000);
 * ```
 */
export const PAGE_MAX = 1_000;

/** What the routes use. */
export interface TlsScanRoutesOptions {
  readonly coordinator: ScanCoordinator;
  readonly store: TlsScanStore;
  readonly scheduler: Scheduler;
  readonly engine: EngineName;
  readonly maxWatched: number;
  readonly allowPrivate: boolean;
  /** The resolver of the watch-time check (watch_guard.ts). Default: the system's. */
  readonly resolve?: Resolver | undefined;
  readonly now?: (() => Date) | undefined;
}

/**
 * The routes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "../app/logging.ts";
 * import { createRegistry } from "../app/metrics.ts";
 * import { ScanCoordinator } from "./coordinator.ts";
 * import { createTlsScanMetrics } from "./metrics.ts";
 * import { createProbeEngine } from "./probe_engine.ts";
 * import { tlsScanRoutes } from "./routes.ts";
 * import { Scheduler } from "./scheduler.ts";
 * import { SqliteStore } from "./sqlite_store.ts";
 *
 * const engine = createProbeEngine({ timeoutMs: 8_000, concurrency: 4 });
 * const store = SqliteStore.open(":memory:", { maxReports: 1_000 });
 * const logger = getLogger("tls-scan");
 * const metrics = createTlsScanMetrics(createRegistry().registry);
 * const limits = { maxAgeMs: 86_400_000, waitMs: 90_000, maxPending: 100, allowPrivate: false };
 * const claims = { owner: "instance-1", leaseMs: 24_000 };
 * const coordinator = new ScanCoordinator({ engine, store, metrics, logger, ...limits, ...claims });
 * const scheduler = new Scheduler({
 *   coordinator,
 *   store,
 *   engine,
 *   logger,
 *   intervalMs: 60_000,
 *   maxAgeMs: 86_400_000,
 *   warnDays: 30,
 *   ...claims,
 * });
 * const routes = tlsScanRoutes({
 *   coordinator,
 *   store,
 *   scheduler,
 *   engine: "probe",
 *   maxWatched: 10_000,
 *   allowPrivate: false,
 *   // A name is resolved before it is watched; this resolver answers without DNS.
 *   resolve: () => Promise.resolve(["93.184.215.14"]),
 * });
 * assert.deepEqual(routes.map((route) => `${route.method} ${route.path}`), [
 *   "GET /scan",
 *   "POST /scans",
 *   "GET /scans",
 *   "GET /scans/report",
 *   "DELETE /scans/:host",
 * ]);
 * const post = routes.find((route) => route.method === "POST")!;
 * const url = new URL("http://localhost:8080/scans");
 * const body = JSON.stringify({ hosts: ["example.com", "10.0.0.1"] });
 * const response = await post.handle(new Request(url, { method: "POST", body }), {}, url);
 * assert.equal(response.status, 202);
 * const answer = await response.json();
 * // The public name is watched; the private address is refused, by its place in the list.
 * assert.equal(answer.added, 1);
 * assert.deepEqual(answer.rejections.map((r: { index: number; host: string }) => [r.index, r.host]), [
 *   [1, "10.0.0.1"],
 * ]);
 * await store.close();
 * ```
 */
export function tlsScanRoutes(options: TlsScanRoutesOptions): Route[] {
  const now = options.now ?? (() => new Date());
  return [
    { method: "GET", path: "/scan", handle: (request, _params, url) => scan(request, url) },
    // POST and DELETE change the watch list: the server serves them to an admin only.
    {
      method: "POST",
      path: "/scans",
      changesState: true,
      handle: (request) => storeDown(watch(request)),
    },
    { method: "GET", path: "/scans", handle: (_request, _params, url) => storeDown(list(url)) },
    { method: "GET", path: "/scans/report", handle: (request) => storeDown(digest(request)) },
    {
      method: "DELETE",
      path: "/scans/:host",
      changesState: true,
      handle: (_request, params, url) => storeDown(unwatch(params.host ?? "", url)),
    },
  ];

  async function scan(request: Request, url: URL): Promise<Response> {
    const target = readTarget(url.searchParams.get("host"), url.searchParams.get("port"));
    if ("error" in target) return target.error;
    const fresh = url.searchParams.get("fresh");
    if (fresh !== null && fresh !== "true" && fresh !== "false") {
      return jsonError(400, `fresh must be true or false, got ${JSON.stringify(fresh)}`, {
        field: "fresh",
      });
    }
    const answer = await options.coordinator.request(target, { fresh: fresh === "true" });
    return answerResponse(answer, target, preferredFormat(request));
  }

  /** The database unreachable: 503 with why (the client retries; nothing was changed). */
  async function storeDown(answer: Promise<Response>): Promise<Response> {
    try {
      return await answer;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      return jsonError(503, `database unavailable: ${error.message}`, {}, { "retry-after": "5" });
    }
  }

  async function watch(request: Request): Promise<Response> {
    const body = await readBody(request, MAX_POST_BYTES);
    if (body === "too_large") {
      return jsonError(
        413,
        `body over ${MAX_POST_BYTES} bytes (at most ${MAX_HOSTS_PER_POST} hosts)`,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(body));
    } catch {
      return jsonError(
        400,
        'body must be JSON: {"hosts": ["example.com", {"host": "…", "port": 8443}]}',
      );
    }
    const hosts = (parsed as { hosts?: unknown })?.hosts;
    if (!Array.isArray(hosts)) return jsonError(400, "hosts must be an array", { field: "hosts" });
    if (hosts.length > MAX_HOSTS_PER_POST) {
      return jsonError(413, `at most ${MAX_HOSTS_PER_POST} hosts per request, got ${hosts.length}`);
    }
    const { targets, entries, rejections } = readWatchEntries(hosts);
    if (!options.allowPrivate) {
      // Literals and reserved names now; names resolved now too for the probe (watch_guard.ts).
      const refused = await refuseToWatch(
        targets.map((target) => ({ host: target.host, kind: entries.get(target)!.kind })),
        {
          resolveNames: options.engine === "probe",
          resolve: options.resolve,
        },
      );
      for (const [position, error] of refused) {
        const target = targets[position]!;
        const { index, shown } = entries.get(target)!;
        rejections.push({ index, host: shown, error });
      }
      if (refused.size > 0) {
        const kept = targets.filter((_, position) => !refused.has(position));
        targets.length = 0;
        targets.push(...kept);
      }
      rejections.sort((a, b) => a.index - b.index);
    }
    const { added, already, full } = await options.store.watch(
      targets,
      options.maxWatched,
      now().getTime(),
    );
    for (const target of full) {
      rejections.push({
        index: entries.get(target)!.index,
        host: targetKey(target),
        error: `watch list full (${options.maxWatched} hosts)`,
      });
    }
    if (added > 0) options.scheduler.wake();
    return Response.json({
      accepted: added + already,
      added,
      already_watched: already,
      rejected: rejections.length,
      rejections,
    }, { status: 202 });
  }

  async function list(url: URL): Promise<Response> {
    const limitRaw = url.searchParams.get("limit");
    const limit = limitRaw === null ? PAGE_DEFAULT : Number(limitRaw);
    if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_MAX) {
      return jsonError(400, `limit must be an integer from 1 to ${PAGE_MAX}`, { field: "limit" });
    }
    const afterRaw = url.searchParams.get("after");
    let after: Target | undefined;
    if (afterRaw !== null) {
      const parsed = parseAfter(afterRaw);
      if (parsed === undefined) {
        return jsonError(400, "after must be host:port (the next of a previous page)", {
          field: "after",
        });
      }
      after = parsed;
    }
    const rows = await options.store.listWatched(options.engine, limit + 1, after);
    const page = rows.slice(0, limit);
    const at = now();
    return Response.json({
      total: await options.store.watchedCount(),
      hosts: page.map((row) => ({
        ...watchedHostJson(row, at),
        scanned_at: row.scannedAtMs === null ? null : new Date(row.scannedAtMs).toISOString(),
      })),
      next: rows.length > limit ? targetKey(page.at(-1)!) : null,
    });
  }

  /** Every watched host's last grade and expiry, worst first (bounded by `maxWatched`). */
  async function digest(request: Request): Promise<Response> {
    const rows = [];
    let after: Target | undefined;
    for (;;) {
      const page = await options.store.listWatched(options.engine, PAGE_MAX, after);
      rows.push(...page);
      if (page.length < PAGE_MAX || rows.length >= options.maxWatched) break;
      after = page.at(-1);
    }
    return digestResponse(rows.slice(0, options.maxWatched), preferredFormat(request), now());
  }

  async function unwatch(rawHost: string, url: URL): Promise<Response> {
    // The server hands path parameters decoded (a malformed %-sequence is its 400).
    const host = parseHost(rawHost);
    if (!host.ok) return jsonError(400, host.error, { field: "host" });
    const portRaw = url.searchParams.get("port");
    const port = portRaw === null ? undefined : parsePort(portRaw);
    if (port && !port.ok) return jsonError(400, port.error, { field: "port" });
    const removed = await options.store.unwatch(host.host, port?.port);
    if (removed > 0) options.scheduler.forget(host.host, port?.port);
    return removed === 0
      ? jsonError(404, `${host.host} is not watched${port ? ` on port ${port.port}` : ""}`)
      : Response.json({ removed });
  }
}
