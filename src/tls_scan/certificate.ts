/**
 * The leaf certificate as the probe sees it, parsed in-process with `node:crypto`
 * `X509Certificate` (no npm package needed): names in RFC 4514 order (`CN=…, O=…`, as SSL Labs
 * writes them), dates, key, signature hash, self-signature and the host-name check.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLeaf } from "./certificate.ts";
 * // A leaf whose SAN names localhost, PEM on openssl's stdout (its key thrown away).
 * const { stdout } = await new Deno.Command("openssl", {
 *   args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
 *     .concat(["-keyout", "/dev/null", "-subj", "/CN=web", "-addext", "subjectAltName=DNS:localhost"]),
 *   stderr: "null",
 * }).output();
 * const pem = new TextDecoder().decode(stdout);
 * assert.equal(readLeaf(pem, { host: "localhost", kind: "name" }).nameMatch, true);
 * assert.equal(readLeaf(pem, { host: "example.com", kind: "name" }).nameMatch, false);
 * ```
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import type { HostKind } from "./target.ts";

/** What the report and the grade need from the leaf. */
export interface LeafFacts {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly keyAlgorithm: "RSA" | "EC";
  readonly keySize: number;
  /** `md5`, `sha1`, `sha256` … or `other`. */
  readonly signatureHash: string;
  readonly selfSigned: boolean;
  readonly nameMatch: boolean;
}

const CURVE_BITS: Readonly<Record<string, number>> = {
  prime192v1: 192,
  secp192k1: 192,
  secp224r1: 224,
  secp224k1: 224,
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
  brainpoolP256r1: 256,
  brainpoolP384r1: 384,
  brainpoolP512r1: 512,
};

/**
 * Reads the leaf `pem` of `target`. Throws when it is not a certificate.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readLeaf } from "./certificate.ts";
 * // openssl req -x509 -newkey rsa:2048 -nodes -keyout /dev/null -subj /CN=localhost (PEM on stdout)
 * const { stdout } = await new Deno.Command("openssl", {
 *   args: ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "/dev/null", "-subj", "/CN=localhost"],
 *   stderr: "null",
 * }).output();
 * const leaf = readLeaf(new TextDecoder().decode(stdout), { host: "localhost", kind: "name" });
 * assert.deepEqual([leaf.subject, leaf.keyAlgorithm, leaf.keySize], ["CN=localhost", "RSA", 2048]);
 * // Without SANs, the CN says which name the leaf covers.
 * assert.deepEqual([leaf.signatureHash, leaf.selfSigned, leaf.nameMatch], ["sha256", true, true]);
 * assert.throws(() => readLeaf("not a certificate", { host: "localhost", kind: "name" }));
 * ```
 */
export function readLeaf(
  pem: string,
  target: { readonly host: string; readonly kind: HostKind },
): LeafFacts {
  const cert = new X509Certificate(pem);
  const { asymmetricKeyType: type, asymmetricKeyDetails: details } = cert.publicKey;
  const ec = type === "ec" || type === "ed25519" || type === "ed448";
  const keySize = type === "ec"
    ? CURVE_BITS[details?.namedCurve ?? ""] ?? 0
    : type === "ed25519"
    ? 256
    : type === "ed448"
    ? 448
    : details?.modulusLength ?? 0;
  const nameMatch = target.kind === "name"
    ? cert.checkHost(target.host) !== undefined
    : cert.checkIP(target.host) !== undefined;
  return {
    subject: distinguishedName(cert.subject),
    issuer: distinguishedName(cert.issuer),
    notBefore: cert.validFromDate,
    notAfter: cert.validToDate,
    keyAlgorithm: ec ? "EC" : "RSA",
    keySize,
    // Deno's X509Certificate has `signatureAlgorithm` (Node 24+); @types/node does not know it.
    signatureHash: signatureHash(
      (cert as X509Certificate & { signatureAlgorithm?: string }).signatureAlgorithm ?? "",
    ),
    selfSigned: cert.checkIssued(cert) && cert.verify(cert.publicKey),
    nameMatch,
  };
}

/**
 * node's `C=US\nO=Org\nCN=name` as `CN=name, O=Org, C=US`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { distinguishedName } from "./certificate.ts";
 * assert.equal(distinguishedName("C=US\nO=Let's Encrypt\nCN=R11"), "CN=R11, O=Let's Encrypt, C=US");
 * ```
 */
export function distinguishedName(lines: string): string {
  return lines.split("\n").filter((l) => l.length > 0).reverse().join(", ");
}

/**
 * The hash of a signature algorithm name (`sha1WithRSAEncryption` → `sha1`,
 * `ecdsa-with-SHA384` → `sha384`, `SHA256withRSA` → `sha256`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { signatureHash } from "./certificate.ts";
 * assert.equal(signatureHash("ecdsa-with-SHA384"), "sha384");
 * assert.equal(signatureHash("ED25519"), "other");
 * ```
 */
export function signatureHash(algorithm: string): string {
  const lower = algorithm.toLowerCase();
  if (lower.includes("md5")) return "md5";
  const sha = /sha-?(1|224|256|384|512)(?!\d)/.exec(lower);
  return sha ? `sha${sha[1]}` : "other";
}
