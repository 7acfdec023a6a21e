/**
 * The cipher suites the local openssl can offer, read once from `openssl ciphers -v` (name,
 * oldest protocol, key exchange, encryption bits, MAC), and the candidates offered per protocol
 * when enumerating. The facts of a suite come from openssl itself, not from its name. Suites
 * that need credentials a scanner has not got (PSK, SRP) are left out; so is whatever this
 * openssl cannot speak (SSL 2/3, RC4, 3DES, DES, EXPORT on OpenSSL 3.0): {@linkcode NOT_TESTABLE}
 * says which of those a report cannot vouch for.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCatalog } from "./suite_catalog.ts";
 * const catalog = parseCatalog(
 *   "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD\n",
 * );
 * assert.equal(catalog.byName.get("ECDHE-RSA-AES128-GCM-SHA256")?.bits, 128);
 * ```
 *
 * @module
 */
import { runOpenssl } from "./openssl.ts";
import { PROTOCOL_SPELLINGS, type ProtocolName, PROTOCOLS } from "./protocols.ts";

/** One suite as `openssl ciphers -v` describes it. */
export interface CatalogSuite {
  readonly name: string;
  /** The oldest protocol it runs on (`SSLv3` suites run on TLS 1.0 too). */
  readonly since: "SSLv3" | "TLSv1" | "TLSv1.2" | "TLSv1.3";
  /** `ECDH`, `DH`, `RSA`, or `any` (TLS 1.3: the group decides). */
  readonly kx: string;
  /** `RSA`, `ECDSA`, `DSS`, `None` (anonymous), `any` (TLS 1.3). */
  readonly au: string;
  /** Symmetric bits (0 for NULL encryption). */
  readonly bits: number;
  readonly aead: boolean;
}

/** What the local openssl can offer. */
export interface SuiteCatalog {
  readonly suites: readonly CatalogSuite[];
  readonly byName: ReadonlyMap<string, CatalogSuite>;
}

/**
 * Every TLS 1.3 suite OpenSSL 3.0 implements (its default `-ciphersuites` has only the first
 * three; CCM ones must be asked for).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { TLS13_SUITES } from "./suite_catalog.ts";
 * assert.equal(TLS13_SUITES.length, 5);
 * ```
 */
export const TLS13_SUITES: readonly string[] = [
  "TLS_AES_256_GCM_SHA384",
  "TLS_CHACHA20_POLY1305_SHA256",
  "TLS_AES_128_GCM_SHA256",
  "TLS_AES_128_CCM_SHA256",
  "TLS_AES_128_CCM_8_SHA256",
];

/**
 * What a scan with OpenSSL 3.0 cannot see, listed in every probe report's `not_tested`:
 * `openssl list -disabled` shows SSL 3, SSL 2 is gone, and `openssl ciphers` has no RC4, 3DES,
 * DES or EXPORT suite at any security level. A server accepting them is not seen doing so.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { NOT_TESTABLE } from "./suite_catalog.ts";
 * assert.equal(NOT_TESTABLE.includes("SSL 3.0"), true);
 * ```
 */
export const NOT_TESTABLE: readonly string[] = [
  // The protocols OpenSSL 3 cannot offer: those without an s_client flag.
  ...PROTOCOLS.filter((p) => PROTOCOL_SPELLINGS[p].sClientFlag === undefined),
  "RC4 suites",
  "3DES suites",
  "DES and EXPORT suites",
];

/** The cipher string for `-cipher`: everything, NULL encryption too, at security level 0. */
const EVERYTHING = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
/** Key exchanges that need a pre-shared key or an SRP password: never negotiable by a scan. */
const NEEDS_CREDENTIALS = new Set(["PSK", "DHEPSK", "ECDHEPSK", "RSAPSK", "SRP"]);

/**
 * Parses `openssl ciphers -v` output (one suite a line; unknown lines are skipped).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCatalog } from "./suite_catalog.ts";
 * const catalog = parseCatalog([
 *   "TLS_AES_128_CCM_8_SHA256 TLSv1.3 Kx=any Au=any Enc=AESCCM8(128) Mac=AEAD",
 *   "NULL-SHA SSLv3 Kx=RSA Au=RSA Enc=None Mac=SHA1",
 *   "PSK-AES128-CBC-SHA SSLv3 Kx=PSK Au=PSK Enc=AES(128) Mac=SHA1",
 * ].join("\n"));
 * assert.deepEqual(catalog.suites.map((s) => [s.name, s.bits, s.aead]), [
 *   ["TLS_AES_128_CCM_8_SHA256", 128, true],
 *   ["NULL-SHA", 0, false],
 * ]); // the PSK suite is left out: a scanner has no key to offer it with
 * ```
 */
export function parseCatalog(text: string): SuiteCatalog {
  const suites: CatalogSuite[] = [];
  for (const line of text.split("\n")) {
    const [name, since, ...fields] = line.trim().split(/\s+/);
    if (!name || !since || !["SSLv3", "TLSv1", "TLSv1.2", "TLSv1.3"].includes(since)) continue;
    const field = (key: string) =>
      fields.find((f) => f.startsWith(`${key}=`))?.slice(key.length + 1) ?? "";
    const kx = field("Kx");
    if (NEEDS_CREDENTIALS.has(kx)) continue;
    const bits = Number(/\((\d+)\)$/.exec(field("Enc"))?.[1] ?? 0);
    suites.push({
      name,
      since: since as CatalogSuite["since"],
      kx,
      au: field("Au"),
      bits,
      aead: field("Mac") === "AEAD",
    });
  }
  return { suites, byName: new Map(suites.map((s) => [s.name, s])) };
}

/**
 * The suites to offer for `protocol`, in openssl's order (strongest first).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { candidates, parseCatalog } from "./suite_catalog.ts";
 * const catalog = parseCatalog([
 *   "TLS_AES_128_GCM_SHA256 TLSv1.3 Kx=any Au=any Enc=AESGCM(128) Mac=AEAD",
 *   "ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD",
 *   "AES128-SHA SSLv3 Kx=RSA Au=RSA Enc=AES(128) Mac=SHA1",
 * ].join("\n"));
 * assert.deepEqual(candidates(catalog, "TLS 1.0"), ["AES128-SHA"]);
 * assert.deepEqual(candidates(catalog, "TLS 1.2"), ["ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"]);
 * assert.deepEqual(candidates(catalog, "TLS 1.3"), ["TLS_AES_128_GCM_SHA256"]);
 * ```
 */
export function candidates(catalog: SuiteCatalog, protocol: ProtocolName): string[] {
  const fits = (since: CatalogSuite["since"]): boolean => {
    if (protocol === "TLS 1.3") return since === "TLSv1.3";
    if (protocol === "TLS 1.2") return since !== "TLSv1.3";
    return since === "SSLv3" || since === "TLSv1";
  };
  return catalog.suites.filter((s) => fits(s.since)).map((s) => s.name);
}

/**
 * Reads the catalog of the local openssl (one `openssl ciphers -v` run).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCatalog } from "./suite_catalog.ts";
 * const catalog = await loadCatalog(AbortSignal.timeout(10_000));
 * assert.ok(catalog.byName.has("TLS_AES_128_CCM_8_SHA256"));
 * ```
 */
export async function loadCatalog(signal: AbortSignal): Promise<SuiteCatalog> {
  const run = await runOpenssl(
    ["ciphers", "-v", "-ciphersuites", TLS13_SUITES.join(":"), EVERYTHING],
    { timeoutMs: 10_000, signal },
  );
  if (run.code !== 0) throw new Error(`openssl ciphers failed: ${run.stderr.trim()}`);
  const catalog = parseCatalog(run.stdout);
  if (catalog.suites.length === 0) throw new Error("openssl ciphers listed no suite");
  return catalog;
}
