/**
 * The inputs of tls-scan's routes (routes.ts), validated into targets: `GET /scan`'s host and
 * port, `GET /scans`' `after`, and the entries of a `POST /scans` body, each bad one a
 * rejection that names its index and what is wrong (the others go on).
 *
 * @module
 */
import { jsonError } from "../app/routes.ts";
import type { ScanTarget } from "./coordinator.ts";
import { type HostKind, parseHost, parsePort, type Target } from "./target.ts";

/** Where a valid entry of a `POST /scans` body came from. */
export interface WatchEntry {
  /** Its index in the request's `hosts`. */
  readonly index: number;
  readonly kind: HostKind;
  /** The host as given (at most 260 characters), for a later rejection. */
  readonly shown: string;
}

/** An entry of a `POST /scans` body that is not watched, and why. */
export interface WatchRejection {
  readonly index: number;
  readonly host: string;
  readonly error: string;
}

/**
 * The entries of a `POST /scans` body's `hosts` (a host string or `{"host", "port"}` each):
 * the valid ones as targets (with where each came from), the others as rejections.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readWatchEntries } from "./route_inputs.ts";
 * const { targets, entries, rejections } = readWatchEntries([
 *   "example.com",
 *   { host: "example.org", port: 8443 },
 *   "bad host",
 * ]);
 * assert.deepEqual(targets, [
 *   { host: "example.com", port: 443 },
 *   { host: "example.org", port: 8443 },
 * ]);
 * assert.equal(entries.get(targets[1]!)?.index, 1);
 * assert.equal(rejections.length, 1);
 * assert.equal(rejections[0]!.index, 2);
 * ```
 */
export function readWatchEntries(hosts: readonly unknown[]): {
  targets: Target[];
  entries: Map<Target, WatchEntry>;
  rejections: WatchRejection[];
} {
  const targets: Target[] = [];
  const entries = new Map<Target, WatchEntry>();
  const rejections: WatchRejection[] = [];
  for (const [index, entry] of hosts.entries()) {
    const rawHost = typeof entry === "string" ? entry : (entry as { host?: unknown })?.host;
    const rawPort = typeof entry === "object" && entry !== null
      ? (entry as { port?: unknown }).port
      : undefined;
    const shown = typeof rawHost === "string"
      ? rawHost.slice(0, 260)
      : JSON.stringify(entry)?.slice(0, 260) ?? "";
    const fail = (error: string) => rejections.push({ index, host: shown, error });
    if (typeof rawHost !== "string") {
      fail('each entry must be a host string or {"host": string, "port": number}');
      continue;
    }
    const host = parseHost(rawHost);
    if (!host.ok) {
      fail(host.error);
      continue;
    }
    const port = rawPort === undefined ? parsePort(undefined) : parsePort(String(rawPort));
    if (!port.ok) {
      fail(port.error);
      continue;
    }
    const target = { host: host.host, port: port.port };
    targets.push(target);
    entries.set(target, { index, kind: host.kind, shown });
  }
  return { targets, entries, rejections };
}

/**
 * `host:port` or `[v6]:port` as `next` gives it (`GET /scans?after=`); `undefined` when it is
 * not one.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAfter } from "./route_inputs.ts";
 * assert.deepEqual(parseAfter("[2001:db8::1]:8443"), { host: "2001:db8::1", port: 8443 });
 * assert.equal(parseAfter("example.com"), undefined); // no port
 * ```
 */
export function parseAfter(raw: string): Target | undefined {
  if (raw.length > 300) return undefined; // a name is at most 253 characters
  const match = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(raw);
  if (!match) return undefined;
  const host = parseHost(match[1]!);
  const port = parsePort(match[2]!);
  return host.ok && port.ok ? { host: host.host, port: port.port } : undefined;
}

/**
 * The target of `GET /scan?host=…&port=…`, or the 400 that says what is wrong with it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readTarget } from "./route_inputs.ts";
 * assert.deepEqual(readTarget("example.com", null), {
 *   host: "example.com",
 *   port: 443,
 *   kind: "name",
 * });
 * const missing = readTarget(null, null);
 * assert.ok("error" in missing);
 * assert.equal(missing.error.status, 400);
 * ```
 */
export function readTarget(
  rawHost: string | null,
  rawPort: string | null,
): ScanTarget | { error: Response } {
  if (rawHost === null) {
    return {
      error: jsonError(400, "host is required (GET /scan?host=example.com)", { field: "host" }),
    };
  }
  const host = parseHost(rawHost);
  if (!host.ok) return { error: jsonError(400, host.error, { field: "host" }) };
  const port = parsePort(rawPort);
  if (!port.ok) return { error: jsonError(400, port.error, { field: "port" }) };
  return { host: host.host, port: port.port, kind: host.kind };
}
