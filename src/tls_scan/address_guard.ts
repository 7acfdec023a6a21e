/**
 * The SSRF guard: a scan may reach only public unicast addresses. A name is resolved first
 * (the system resolver, as the probe's connection would use) and refused when *any* of its
 * addresses is loopback, private, link-local, CGNAT, unspecified, multicast or otherwise
 * reserved; the probe then connects to the checked addresses themselves, never to the name
 * again, so a second DNS answer cannot redirect it. `allowPrivate` lifts the refusal (local
 * test fleets).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addressRange, guardTarget } from "./address_guard.ts";
 * assert.equal(addressRange("10.0.0.1"), "private");
 * assert.equal((await guardTarget("127.0.0.1", { allowPrivate: false })).kind, "refused");
 * assert.equal((await guardTarget("127.0.0.1", { allowPrivate: true })).kind, "allowed");
 * ```
 *
 * @module
 */
import { lookup } from "node:dns/promises";
import ipaddr from "ipaddr.js";
import { withTimeout } from "../app/deadline.ts";
import type { HostKind } from "./target.ts";

/** The verdict of {@linkcode guardTarget}. */
export type GuardResult =
  /** Every address is public (or private ones are allowed); scan these. */
  | { readonly kind: "allowed"; readonly addresses: readonly string[] }
  /** An address is not public: no connection, no API call. */
  | { readonly kind: "refused"; readonly address: string; readonly range: string }
  /** The name does not resolve (a finished scan: status ERROR). */
  | { readonly kind: "unresolvable"; readonly message: string };

/** A resolver: every address of `host` (like `dns.lookup` with `all: true`). */
export type Resolver = (host: string) => Promise<readonly string[]>;

/** Options of {@linkcode guardTarget}. */
export interface GuardOptions {
  /** Let private, loopback … addresses through (TLS_SCAN_ALLOW_PRIVATE). */
  readonly allowPrivate: boolean;
  /** The resolver. Default: the system's (`getaddrinfo`). */
  readonly resolve?: Resolver | undefined;
  /** How long resolution may take, in milliseconds. Default 10 000. */
  readonly timeoutMs?: number;
  /** The host's kind, when the caller has validated it already. */
  readonly kind?: HostKind;
  /** The most addresses kept (the probe scans each). Default 4. */
  readonly maxAddresses?: number;
}

const EMBEDDED_V4_RANGES = new Set(["rfc6052", "6to4", "teredo"]);

/**
 * The range of an IP address in ipaddr.js's names; `"unicast"` means public. IPv4-mapped,
 * NAT64 and 6to4 IPv6 addresses are judged by the IPv4 address they carry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(addressRange("::ffff:127.0.0.1"), "loopback");
 * assert.equal(addressRange("100.64.1.1"), "carrierGradeNat");
 * assert.equal(addressRange("2606:4700::1"), "unicast");
 * ```
 */
export function addressRange(address: string): string {
  const parsed = ipaddr.process(address);
  const range = parsed.range();
  if (parsed.kind() === "ipv6" && EMBEDDED_V4_RANGES.has(range)) {
    const bytes = (parsed as ipaddr.IPv6).toByteArray();
    // NAT64 keeps the IPv4 address in the last 32 bits, 6to4 in bits 16..48; Teredo's is
    // obfuscated: refuse it rather than decode.
    if (range === "teredo") return range;
    const v4 = range === "6to4" ? bytes.slice(2, 6) : bytes.slice(12, 16);
    return ipaddr.fromByteArray(v4).range();
  }
  return range;
}

const RANGE_WORDS: Readonly<Record<string, string>> = {
  linkLocal: "link-local",
  carrierGradeNat: "CGNAT (shared address space)",
  uniqueLocal: "unique-local (private)",
  rfc6052: "NAT64",
  "6to4": "6to4",
  "special-use": "special-use (never public)",
};

/**
 * A range name for people: `linkLocal` → `link-local`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(describeRange("carrierGradeNat"), "CGNAT (shared address space)");
 * ```
 */
export function describeRange(range: string): string {
  return RANGE_WORDS[range] ?? range;
}

/**
 * `true` when `address` may be scanned without `allowPrivate`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isPublicAddress } from "./address_guard.ts";
 * assert.equal(isPublicAddress("1.1.1.1"), true);
 * assert.equal(isPublicAddress("::ffff:192.168.1.10"), false); // a private IPv4 address, mapped
 * ```
 */
export function isPublicAddress(address: string): boolean {
  return addressRange(address) === "unicast";
}

/**
 * The system resolver: `getaddrinfo` through `node:dns`, every address, IPv4 first.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemResolver } from "./address_guard.ts";
 * // localhost comes from /etc/hosts, no DNS query.
 * assert.equal((await systemResolver("localhost"))[0], "127.0.0.1"); // IPv4 first
 * ```
 */
export const systemResolver: Resolver = async (host) => {
  const found = await lookup(host, { all: true, order: "ipv4first" });
  return found.map((entry) => entry.address);
};

/**
 * Decides whether `host` may be scanned, resolving it when it is a name. Never connects to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { guardTarget } from "./address_guard.ts";
 * const verdict = await guardTarget("localhost", { allowPrivate: false }); // by name, no DNS
 * assert.deepEqual(verdict, { kind: "refused", address: "localhost", range: "loopback" });
 * ```
 */
export async function guardTarget(host: string, options: GuardOptions): Promise<GuardResult> {
  const kind = options.kind ??
    (ipaddr.isValid(host) ? (host.includes(":") ? "ipv6" : "ipv4") : "name");
  // `localhost` and `*.localhost` are loopback by definition (RFC 6761), whatever DNS says;
  // the other special-use names never resolve publicly.
  const reserved = kind === "name" ? reservedName(host) : undefined;
  if (reserved && !options.allowPrivate) return { kind: "refused", address: host, range: reserved };
  let addresses: readonly string[];
  if (kind === "name") {
    try {
      addresses = await withTimeout(
        (options.resolve ?? systemResolver)(host),
        options.timeoutMs ?? 10_000,
        () => {
          throw Object.assign(new Error("timeout"), { code: "TIMEOUT" });
        },
      );
    } catch (error) {
      return { kind: "unresolvable", message: resolutionMessage(error) };
    }
    if (addresses.length === 0) {
      return { kind: "unresolvable", message: "Unable to resolve domain name" };
    }
  } else {
    addresses = [host];
  }
  const unique = [...new Set(addresses.map((a) => ipaddr.process(a).toString()))];
  if (!options.allowPrivate) {
    for (const address of unique) {
      const range = addressRange(address);
      if (range !== "unicast") return { kind: "refused", address, range };
    }
  }
  return { kind: "allowed", addresses: unique.slice(0, options.maxAddresses ?? 4) };
}

/**
 * Special-use names that never resolve in public DNS, so no scanner anywhere can reach them
 * publicly: `localhost` (RFC 6761), `.invalid` (RFC 6761), `.local` (mDNS, RFC 6762),
 * `.onion` (RFC 7686), `.alt` (RFC 9476), `home.arpa` (RFC 8375) and `.internal` (ICANN's
 * private-use TLD, 2024). `.test` and `.example` are reserved too but RFC 6761 asks software
 * not to treat them specially. Returns the rule a name falls under, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reservedName } from "./address_guard.ts";
 * assert.equal(reservedName("db.localhost"), "loopback");
 * assert.equal(reservedName("printer.local"), "special-use");
 * assert.equal(reservedName("nas.home.arpa"), "special-use");
 * assert.equal(reservedName("example.com"), undefined);
 * ```
 */
export function reservedName(host: string): "loopback" | "special-use" | undefined {
  const name = host.toLowerCase().replace(/\.$/, "");
  if (name === "localhost" || name.endsWith(".localhost")) return "loopback";
  const special = ["invalid", "local", "onion", "alt", "home.arpa", "internal"];
  return special.some((tld) => name === tld || name.endsWith(`.${tld}`))
    ? "special-use"
    : undefined;
}

/**
 * The guard of an engine that does not connect itself (SSL Labs resolves and connects on its
 * side, so a local resolver, split-horizon or without public names, must not decide): refuses
 * only what can never be public, IP literals outside the public ranges and reserved names
 * ({@linkcode reservedName}); resolves nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { guardNeverPublic } from "./address_guard.ts";
 * // A public name that resolves to 10.x inside: SSL Labs would scan it, so it is allowed.
 * assert.deepEqual(guardNeverPublic("intranet-and-public.example.com", "name"), {
 *   kind: "allowed",
 *   addresses: [],
 * });
 * assert.equal(guardNeverPublic("10.0.0.1", "ipv4").kind, "refused");
 * assert.equal(guardNeverPublic("localhost", "name").kind, "refused");
 * ```
 */
export function guardNeverPublic(host: string, kind: HostKind): GuardResult {
  if (kind === "name") {
    const reserved = reservedName(host);
    return reserved ? { kind: "refused", address: host, range: reserved } : ALLOWED_UNRESOLVED;
  }
  const address = ipaddr.process(host).toString();
  const range = addressRange(address);
  return range === "unicast"
    ? { kind: "allowed", addresses: [] }
    : { kind: "refused", address, range };
}

const ALLOWED_UNRESOLVED: GuardResult = { kind: "allowed", addresses: [] };

function resolutionMessage(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOTFOUND" || code === "ENODATA" || code === "EAI_NONAME") {
    return "Unable to resolve domain name";
  }
  if (code === "TIMEOUT") return "Unable to resolve domain name (resolver timed out)";
  return `Unable to resolve domain name (${code ?? (error as Error).message})`;
}
