/**
 * What a caller may ask to scan: a host (a DNS name in ASCII, or an IP literal) and a port.
 * Validation is strict and every refusal names what is wrong, because a host that reaches
 * `openssl` or SSL Labs must be exactly one name: no scheme, path, userinfo or port smuggled in,
 * no lenient IPv4 forms (`127.1`, `2130706433`) that resolvers would turn into loopback.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHost, parsePort } from "./target.ts";
 * assert.deepEqual(parseHost("Example.COM."), { ok: true, host: "example.com", kind: "name" });
 * const url = parseHost("https://example.com");
 * assert.ok(!url.ok && url.error.startsWith("host must be a bare name, not a URL"));
 * assert.deepEqual(parsePort("443"), { ok: true, port: 443 });
 * ```
 *
 * @module
 */
import ipaddr from "ipaddr.js";

/**
 * The longest DNS name (RFC 1035, without the trailing dot).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_HOST_LENGTH } from "./target.ts";
 * assert.equal(MAX_HOST_LENGTH, 253);
 * ```
 */
export const MAX_HOST_LENGTH = 253;

/** A validated host: lower-cased, trailing dot and IPv6 brackets removed. */
export type HostKind = "name" | "ipv4" | "ipv6";

/** The verdict of {@linkcode parseHost}. */
export type HostResult =
  | { readonly ok: true; readonly host: string; readonly kind: HostKind }
  | { readonly ok: false; readonly error: string };

/** The verdict of {@linkcode parsePort}. */
export type PortResult =
  | { readonly ok: true; readonly port: number }
  | { readonly ok: false; readonly error: string };

/** A target to scan: a validated host and port. */
export interface Target {
  readonly host: string;
  readonly port: number;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Validates `raw` as a host to scan.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHost } from "./target.ts";
 * assert.equal(parseHost("xn--bcher-kva.example").ok, true); // an IDN as punycode
 * const idn = parseHost("bücher.example");
 * assert.ok(!idn.ok && idn.error.startsWith("host has non-ASCII characters"));
 * ```
 */
export function parseHost(raw: string): HostResult {
  const fail = (error: string): HostResult => ({ ok: false, error });
  if (raw.length === 0) return fail("host is empty");
  if (raw.length > MAX_HOST_LENGTH + 2) {
    return fail(`host is longer than ${MAX_HOST_LENGTH} characters`);
  }
  // deno-lint-ignore no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) {
    return fail("host has spaces or control characters");
  }
  if (/[^\u0020-\u007e]/.test(raw)) {
    return fail("host has non-ASCII characters: send an IDN as punycode (xn--…)");
  }
  if (raw.includes("://")) return fail("host must be a bare name, not a URL (drop the scheme)");
  if (raw.includes("@")) return fail("host must not carry userinfo (user@)");
  if (/[/?#\\]/.test(raw)) return fail("host must not carry a path, query or fragment");
  const lower = raw.toLowerCase();
  const bracketed = /^\[(.+)\]$/.exec(lower);
  if (bracketed) {
    const inner = bracketed[1]!;
    return ipaddr.IPv6.isValid(inner) && !inner.includes("%")
      ? { ok: true, host: ipaddr.IPv6.parse(inner).toString(), kind: "ipv6" }
      : fail("host in brackets must be an IPv6 address");
  }
  if (lower.includes(":")) {
    if (ipaddr.IPv6.isValid(lower) && !lower.includes("%")) {
      return { ok: true, host: ipaddr.IPv6.parse(lower).toString(), kind: "ipv6" };
    }
    return fail("host must not contain a port (use the port parameter)");
  }
  const name = lower.endsWith(".") ? lower.slice(0, -1) : lower;
  if (name.length > MAX_HOST_LENGTH) {
    return fail(`host is longer than ${MAX_HOST_LENGTH} characters`);
  }
  if (ipaddr.IPv4.isValidFourPartDecimal(name)) {
    return { ok: true, host: ipaddr.IPv4.parse(name).toString(), kind: "ipv4" };
  }
  const labels = name.split(".");
  for (const label of labels) {
    if (label.length === 0) return fail("host has an empty label (leading or double dot)");
    if (label.length > 63) return fail(`host label "${label.slice(0, 20)}…" exceeds 63 characters`);
    if (label.includes("_")) return fail(`host label "${label}" contains "_"`);
    if (!LABEL.test(label)) {
      return fail(
        `host label "${label}" is invalid (letters, digits and inner hyphens only)`,
      );
    }
  }
  if (/^\d+$/.test(labels.at(-1)!)) {
    return fail("host's last label is all-numeric and the host is not a dotted-quad IPv4 address");
  }
  return { ok: true, host: name, kind: "name" };
}

/**
 * Validates `raw` (a query parameter) as a TCP port; `undefined` gives `fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parsePort(undefined), { ok: true, port: 443 });
 * assert.deepEqual(parsePort("0"), { ok: false, error: "port must be an integer from 1 to 65535, got \"0\"" });
 * ```
 */
export function parsePort(raw: string | null | undefined, fallback = 443): PortResult {
  if (raw === undefined || raw === null) return { ok: true, port: fallback };
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  return port >= 1 && port <= 65_535
    ? { ok: true, port }
    : { ok: false, error: `port must be an integer from 1 to 65535, got ${JSON.stringify(raw)}` };
}

/**
 * The key of a target in maps and logs: `host:port`, IPv6 in brackets.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { targetKey } from "./target.ts";
 * assert.equal(targetKey({ host: "example.com", port: 443 }), "example.com:443");
 * assert.equal(targetKey({ host: "2001:db8::1", port: 8443 }), "[2001:db8::1]:8443");
 * ```
 */
export function targetKey(target: Target): string {
  return target.host.includes(":")
    ? `[${target.host}]:${target.port}`
    : `${target.host}:${target.port}`;
}
