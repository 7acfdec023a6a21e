/**
 * The chain as the server sent it (leaf first), judged as SSL Labs' "chain issues" are:
 * `order` (a certificate is not followed by its issuer although the issuer was sent),
 * `extra` (certificates that are on no path from the leaf), `incomplete` (the path sent stops
 * short of a self-signed root and verification could not find the issuer: an intermediate is
 * missing, or the issuing CA is unknown; a client without AIA fetching cannot tell which).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chainIssues } from "./chain.ts";
 * assert.deepEqual(chainIssues([], 0), []); // nothing sent, nothing to judge
 * ```
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import type { Features } from "./report.ts";

/** A chain issue. */
export type ChainIssue = Features["chain_issues"][number];

/**
 * `Verify return code`s meaning "the issuer of the last certificate sent was not found": 2, 20,
 * and 21 ("unable to verify the first certificate": what s_client says for a lone leaf).
 */
const ISSUER_NOT_FOUND = new Set([2, 20, 21]);

/**
 * The issues of `pems` (leaf first) given the verify code of the same handshake.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { chainIssues } from "./chain.ts";
 * // A CA and a leaf it issued, PEM, made with openssl in a temporary directory.
 * const dir = await Deno.makeTempDir();
 * const openssl = (...args: string[]) => new Deno.Command("openssl", { args, stderr: "null" }).output();
 * const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
 * const [caKey, caFile] = [`${dir}/ca.key`, `${dir}/ca.pem`];
 * await openssl("req", "-x509", ...newKey, "-subj", "/CN=CA", "-keyout", caKey, "-out", caFile);
 * const issued = ["-CA", caFile, "-CAkey", caKey, "-keyout", "/dev/null", "-out", `${dir}/leaf.pem`];
 * await openssl("req", "-x509", ...newKey, "-subj", "/CN=localhost", ...issued);
 * const [leaf, ca] = [await Deno.readTextFile(`${dir}/leaf.pem`), await Deno.readTextFile(caFile)];
 * await Deno.remove(dir, { recursive: true });
 *
 * // openssl s_client -showcerts … : the leaf sent without its issuer, verify code 21.
 * assert.deepEqual(chainIssues([leaf], 21), ["incomplete"]);
 * assert.deepEqual(chainIssues([leaf, ca], 0), []);
 * assert.deepEqual(chainIssues([leaf, ca, ca], 0), ["extra"]); // one certificate too many
 * ```
 */
export function chainIssues(pems: readonly string[], verifyCode: number | undefined): ChainIssue[] {
  const certs: X509Certificate[] = [];
  for (const pem of pems) {
    try {
      certs.push(new X509Certificate(pem));
    } catch {
      // an unparsable certificate is on no path: counted as extra below
    }
  }
  const leaf = certs[0];
  if (!leaf) return [];
  const issues: ChainIssue[] = [];
  // Walk from the leaf to each issuer among the certificates sent.
  const path = [leaf];
  const unused = new Set(certs.slice(1));
  for (let current = leaf; !isSelfSigned(current);) {
    const issuer = [...unused].find((c) => current.checkIssued(c));
    if (!issuer) break;
    path.push(issuer);
    unused.delete(issuer);
    current = issuer;
  }
  const last = path[path.length - 1]!;
  if (!isSelfSigned(last) && verifyCode !== undefined && ISSUER_NOT_FOUND.has(verifyCode)) {
    issues.push("incomplete");
  }
  if (unused.size > 0 || certs.length < pems.length) issues.push("extra");
  if (path.some((cert, i) => certs[i] !== cert)) issues.push("order");
  return issues;
}

function isSelfSigned(cert: X509Certificate): boolean {
  return cert.checkIssued(cert) && cert.verify(cert.publicKey);
}
