/**
 * Finds every suite a server accepts, by elimination (as sslscan does): offer every remaining
 * candidate of a protocol, note the one the server picks, remove it, repeat until the server
 * refuses. That costs one handshake per accepted suite plus one per protocol. To be fast with
 * one process per handshake, each protocol's candidates left after the first handshake are
 * dealt round-robin into chains of about {@linkcode CHAIN_SUITES}, eliminated in parallel: a
 * chain ends with one refused handshake, so a protocol costs its accepted suites plus its
 * chains. How many handshakes run at once is the caller's bound (the handshake function).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { enumerateSuites } from "./enumerate_suites.ts";
 * import { parseCatalog } from "./suite_catalog.ts";
 * const catalog = parseCatalog(
 *   "AES128-SHA SSLv3 Kx=RSA Au=RSA Enc=AES(128) Mac=SHA1\n" +
 *     "AES256-SHA SSLv3 Kx=RSA Au=RSA Enc=AES(256) Mac=SHA1\n",
 * );
 * // A server that accepts AES256-SHA only, on TLS 1.2 only.
 * const found = await enumerateSuites(catalog, ["TLS 1.2"], (protocol, offer) =>
 *   Promise.resolve(offer.includes("AES256-SHA") ? { protocol, cipher: "AES256-SHA" } : undefined));
 * assert.deepEqual(found.suites.map((s) => s.name), ["AES256-SHA"]);
 * assert.equal(found.connections, 2); // one accepted suite + one refusal
 * ```
 *
 * @module
 */
import type { Suite } from "./report.ts";
import type { ProtocolName } from "./protocols.ts";
import type { TempKey } from "./s_client_output.ts";
import { candidates, type CatalogSuite, type SuiteCatalog } from "./suite_catalog.ts";

/**
 * Candidates per parallel chain: 24 splits TLS 1.2's ~90 suites into 4 chains.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHAIN_SUITES } from "./enumerate_suites.ts";
 * assert.equal(CHAIN_SUITES, 24);
 * ```
 */
export const CHAIN_SUITES = 24;

/** What one handshake showed: nothing when it failed. */
export interface HandshakeSeen {
  readonly protocol: ProtocolName | undefined;
  readonly cipher: string | undefined;
  readonly tempKey?: TempKey | undefined;
  readonly secureRenegotiation?: boolean | undefined;
  /** The handshake timed out: says nothing about the server's suites; worth one retry. */
  readonly timedOut?: boolean;
}

/** One handshake offering exactly `offer` on exactly `protocol`. */
export type Handshake = (
  protocol: ProtocolName,
  offer: readonly string[],
) => Promise<HandshakeSeen | undefined>;

/** What enumeration found. */
export interface Enumeration {
  /** Protocols that completed a handshake, oldest first. */
  readonly protocols: ProtocolName[];
  /** Accepted suites, newest protocol first, each protocol in the catalog's order. */
  readonly suites: Suite[];
  /** The first handshake seen per protocol (renegotiation, temp key). */
  readonly first: Partial<Record<ProtocolName, HandshakeSeen>>;
  readonly connections: number;
  /** Handshakes that timed out (each retried once). */
  readonly timeouts: number;
}

/**
 * Enumerates `protocols` (all at once; `handshake` bounds the concurrency).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { enumerateSuites } from "./enumerate_suites.ts";
 * import { parseCatalog } from "./suite_catalog.ts";
 * const catalog = parseCatalog(
 *   "TLS_AES_128_GCM_SHA256 TLSv1.3 Kx=any Au=any Enc=AESGCM(128) Mac=AEAD\n" +
 *     "DHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=DH Au=RSA Enc=AESGCM(128) Mac=AEAD\n",
 * );
 * const found = await enumerateSuites(catalog, ["TLS 1.2", "TLS 1.3"], (protocol, offer) =>
 *   Promise.resolve(protocol === "TLS 1.2" && offer.length > 0
 *     ? { protocol, cipher: offer[0], tempKey: { type: "DH", bits: 1024 } }
 *     : undefined));
 * assert.deepEqual(found.protocols, ["TLS 1.2"]);
 * assert.deepEqual(found.suites, [{
 *   protocol: "TLS 1.2", name: "DHE-RSA-AES128-GCM-SHA256", bits: 128, kex: "DH",
 *   kex_bits: 1024, forward_secrecy: true, aead: true,
 * }]);
 * ```
 */
export async function enumerateSuites(
  catalog: SuiteCatalog,
  protocols: readonly ProtocolName[],
  handshake: Handshake,
): Promise<Enumeration> {
  let connections = 0;
  let timeouts = 0;
  const shake: Handshake = async (protocol, offer) => {
    connections++;
    const seen = await handshake(protocol, offer);
    if (!seen?.timedOut) return seen;
    timeouts++;
    // A busy server (s_server serves one connection at a time) is not a refusal.
    connections++;
    return handshake(protocol, offer);
  };
  const first: Partial<Record<ProtocolName, HandshakeSeen>> = {};
  const accepted = new Map<ProtocolName, Map<string, Suite>>();

  async function one(protocol: ProtocolName): Promise<void> {
    const all = candidates(catalog, protocol);
    if (all.length === 0) return;
    const found = new Map<string, Suite>();
    const take = (seen: HandshakeSeen | undefined, offer: readonly string[]): boolean => {
      const entry = seen?.cipher ? catalog.byName.get(seen.cipher) : undefined;
      // A suite it was not offered, or on another protocol: stop, or a broken server loops us.
      if (!seen || seen.protocol !== protocol || !entry || !offer.includes(entry.name)) {
        return false;
      }
      if (found.has(entry.name)) return false;
      found.set(entry.name, toSuite(protocol, entry, seen.tempKey));
      return true;
    };
    const opening = await shake(protocol, all);
    if (!take(opening, all)) return;
    first[protocol] = opening!;
    accepted.set(protocol, found);
    const rest = all.filter((name) => !found.has(name));
    const count = Math.max(1, Math.ceil(rest.length / CHAIN_SUITES));
    const chains = Array.from({ length: count }, (_, i) => rest.filter((_, j) => j % count === i));
    await Promise.all(chains.map(async (chain) => {
      let offer = chain;
      while (offer.length > 0) {
        const seen = await shake(protocol, offer);
        if (!take(seen, offer)) return;
        offer = offer.filter((name) => name !== seen!.cipher);
      }
    }));
  }

  await Promise.all(protocols.map(one));
  const order = new Map(catalog.suites.map((s, i) => [s.name, i]));
  const newestFirst = [...protocols].sort().reverse();
  const suites = newestFirst.flatMap((protocol) =>
    [...(accepted.get(protocol)?.values() ?? [])].sort((a, b) =>
      (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0)
    )
  );
  return {
    protocols: protocols.filter((p) => accepted.has(p)),
    suites,
    first,
    connections,
    timeouts,
  };
}

/**
 * A suite as the report shows it, from openssl's facts and the server's ephemeral key.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { toSuite } from "./enumerate_suites.ts";
 * const entry = { name: "TLS_AES_128_GCM_SHA256", since: "TLSv1.3", kx: "any", au: "any",
 *   bits: 128, aead: true } as const;
 * assert.deepEqual(toSuite("TLS 1.3", entry, { type: "X25519", bits: 253 }), {
 *   protocol: "TLS 1.3", name: "TLS_AES_128_GCM_SHA256", bits: 128, kex: "ECDH", kex_bits: 253,
 *   forward_secrecy: true, aead: true,
 * });
 * ```
 */
export function toSuite(
  protocol: ProtocolName,
  entry: CatalogSuite,
  tempKey: TempKey | undefined,
): Suite {
  // TLS 1.3 suites name no key exchange: the group the server chose says ECDH or DH.
  const kex = entry.kx === "any" ? (tempKey?.type === "DH" ? "DH" : "ECDH") : entry.kx;
  const ephemeral = kex === "ECDH" || kex === "DH";
  return {
    protocol,
    name: entry.name,
    bits: entry.bits,
    kex,
    kex_bits: ephemeral ? tempKey?.bits ?? null : null,
    forward_secrecy: ephemeral,
    aead: entry.aead,
  };
}
