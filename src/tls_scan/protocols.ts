/**
 * The one list of protocols tls-scan knows, oldest first, with each one's spellings: SSL Labs'
 * name (the report's), OpenSSL's (`TLSv1.2`, what s_client and `SSL_get_version` print), the
 * `openssl s_client` flag that pins it and its wire version (for libssl). SSL 2.0 and 3.0 are
 * only ever reported (by SSL Labs): OpenSSL 3 cannot offer them, so they have no flag nor
 * version here. The report's schema (report.ts), the parsers, the probe and the grading all
 * read this table.
 *
 * @module
 */

/**
 * Every protocol as SSL Labs names it, oldest first.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROTOCOLS } from "./protocols.ts";
 * assert.ok(PROTOCOLS.indexOf("TLS 1.2") < PROTOCOLS.indexOf("TLS 1.3"));
 * ```
 */
export const PROTOCOLS = [
  "SSL 2.0",
  "SSL 3.0",
  "TLS 1.0",
  "TLS 1.1",
  "TLS 1.2",
  "TLS 1.3",
] as const;

/** A protocol as SSL Labs names it. */
export type ProtocolName = typeof PROTOCOLS[number];

/** How one protocol is spelled to and by OpenSSL. */
export interface ProtocolSpelling {
  /** OpenSSL's name, e.g. `TLSv1.2`. */
  readonly openssl: string;
  /** The `openssl s_client` flag that offers only this protocol (none for SSL 2/3 here). */
  readonly sClientFlag?: string;
  /** The wire version, for `SSL_CTX_set_{min,max}_proto_version` (none for SSL 2/3 here). */
  readonly wireVersion?: number;
}

/**
 * Each protocol's spellings.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROTOCOL_SPELLINGS } from "./protocols.ts";
 * assert.equal(PROTOCOL_SPELLINGS["TLS 1.2"].sClientFlag, "-tls1_2");
 * assert.equal(PROTOCOL_SPELLINGS["SSL 3.0"].wireVersion, undefined);
 * ```
 */
export const PROTOCOL_SPELLINGS: Readonly<Record<ProtocolName, ProtocolSpelling>> = {
  "SSL 2.0": { openssl: "SSLv2" },
  "SSL 3.0": { openssl: "SSLv3" },
  "TLS 1.0": { openssl: "TLSv1", sClientFlag: "-tls1", wireVersion: 0x301 },
  "TLS 1.1": { openssl: "TLSv1.1", sClientFlag: "-tls1_1", wireVersion: 0x302 },
  "TLS 1.2": { openssl: "TLSv1.2", sClientFlag: "-tls1_2", wireVersion: 0x303 },
  "TLS 1.3": { openssl: "TLSv1.3", sClientFlag: "-tls1_3", wireVersion: 0x304 },
};

const BY_OPENSSL_NAME: ReadonlyMap<string, ProtocolName> = new Map(
  PROTOCOLS.map((p) => [PROTOCOL_SPELLINGS[p].openssl, p]),
);

/**
 * OpenSSL's protocol name (`TLSv1.1`) as SSL Labs names it (`TLS 1.1`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolName } from "./protocols.ts";
 * assert.equal(protocolName("TLSv1"), "TLS 1.0");
 * assert.equal(protocolName("DTLSv1.2"), undefined);
 * ```
 */
export function protocolName(openssl: string): ProtocolName | undefined {
  return BY_OPENSSL_NAME.get(openssl);
}
