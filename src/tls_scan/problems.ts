/**
 * The problem codes of an endpoint, each only when it holds, and their one-line descriptions
 * for the text report. `untrusted` means no chain to a trust anchor: an expired or
 * not-yet-valid leaf of a trusted CA is `expired` / `not_yet_valid`, not `untrusted`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROBLEM_TEXT, postureProblems } from "./problems.ts";
 * assert.equal(PROBLEM_TEXT.tls1_0, "TLS 1.0 is offered (deprecated since 2021, RFC 8996)");
 * ```
 *
 * @module
 */
import { type CertificatePosture, isWeakKey, type Posture, warnings } from "./grading.ts";
import type { ProtocolName } from "./protocols.ts";
import { type Features, type ProblemCode, sortProblems, type Suite } from "./report.ts";
import { summarizeSuites } from "./suite_posture.ts";

/**
 * Days below which a valid certificate is `expiring_soon` (the contract's 30).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXPIRING_SOON_DAYS } from "./problems.ts";
 * assert.equal(EXPIRING_SOON_DAYS, 30);
 * ```
 */
export const EXPIRING_SOON_DAYS = 30;

/**
 * What problems are derived from: both engines map their findings here (the probe from its
 * {@linkcode Posture}, via {@linkcode postureProblems}; SSL Labs from its report), so one
 * function, {@linkcode problemsOf}, says when each problem holds.
 */
export interface Observation {
  /** Offered protocols. */
  readonly protocols: readonly ProtocolName[];
  /** Every accepted suite. */
  readonly suites: readonly Suite[];
  /** Renegotiation, fallback protection, stapling, the chain as sent. */
  readonly features: Features;
  /** The leaf certificate, null when none was seen. */
  readonly leaf: LeafObservation | null;
  /** The assessor's own verdict beside the suites (SSL Labs'): `false` is `no_forward_secrecy`. */
  readonly forwardSecrecy?: boolean;
  /** The assessor's own verdict beside the suites (SSL Labs'): `false` is `no_aead`. */
  readonly aead?: boolean;
}

/** What the problems need of the leaf certificate. */
export interface LeafObservation {
  readonly certificate: CertificatePosture;
  readonly key: Posture["key"];
  /** Whole days until `notAfter` (negative once expired). */
  readonly daysRemaining: number;
  /** The assessor judged the key insecure itself (SSL Labs' issue bit), whatever its size. */
  readonly insecureKey?: boolean;
  /** The assessor judged the signature insecure itself (SSL Labs' issue bit). */
  readonly insecureSignature?: boolean;
}

/**
 * The problems an observation shows, sorted, each once.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { problemsOf } from "./problems.ts";
 * import { Features } from "./report.ts";
 * const problems = problemsOf({
 *   protocols: ["TLS 1.1", "TLS 1.2"],
 *   suites: [],
 *   features: Features.parse({}),
 *   leaf: null,
 *   forwardSecrecy: false,
 * });
 * assert.deepEqual(problems, ["tls1_1", "no_tls1_3", "no_forward_secrecy"]);
 * ```
 */
export function problemsOf(observation: Observation): ProblemCode[] {
  const found: ProblemCode[] = [];
  if (observation.leaf) found.push(...leafProblems(observation.leaf));
  found.push(...protocolProblems(observation.protocols));
  if (observation.forwardSecrecy === false) found.push("no_forward_secrecy");
  if (observation.aead === false) found.push("no_aead");
  found.push(...suiteProblems(observation));
  if (observation.features.chain_issues.includes("incomplete")) found.push("incomplete_chain");
  for (const warning of warnings(observation.features)) found.push(warning as ProblemCode);
  return sortProblems(found);
}

/**
 * The problems `posture` (the probe's observation of one endpoint) shows, with `daysRemaining`
 * of the leaf.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { postureProblems } from "./problems.ts";
 * import { Features } from "./report.ts";
 * const problems = postureProblems({
 *   protocols: ["TLS 1.2"],
 *   key: { algorithm: "RSA", bits: 2048 },
 *   suites: [{ protocol: "TLS 1.2", name: "ECDHE-RSA-AES256-GCM-SHA384", bits: 256,
 *     kex: "ECDH", kex_bits: 253, forward_secrecy: true, aead: true }],
 *   features: Features.parse({}),
 *   certificate: { chainTrusted: true, expired: false, notYetValid: false, selfSigned: false,
 *     revoked: false, nameMatch: false, signatureHash: "sha256" },
 *   hstsMaxAge: null,
 * }, 12);
 * assert.deepEqual(problems, ["expiring_soon", "name_mismatch", "no_tls1_3"]);
 * ```
 */
export function postureProblems(posture: Posture, daysRemaining: number): ProblemCode[] {
  const { certificate, key } = posture;
  return problemsOf({ ...posture, leaf: { certificate, key, daysRemaining } });
}

function leafProblems(leaf: LeafObservation): ProblemCode[] {
  const found: ProblemCode[] = [];
  const c = leaf.certificate;
  if (c.expired) found.push("expired");
  if (c.notYetValid) found.push("not_yet_valid");
  const days = leaf.daysRemaining;
  if (!c.expired && !c.notYetValid && days >= 0 && days < EXPIRING_SOON_DAYS) {
    found.push("expiring_soon");
  }
  if (!c.chainTrusted) found.push("untrusted");
  if (c.selfSigned) found.push("self_signed");
  if (!c.nameMatch) found.push("name_mismatch");
  if (c.revoked) found.push("revoked");
  if (leaf.insecureKey || isWeakKey(leaf.key)) found.push("weak_key");
  const weakHash = c.signatureHash === "md5" || c.signatureHash === "sha1";
  if (leaf.insecureSignature || weakHash) found.push("weak_signature");
  return found;
}

/**
 * The problems of the accepted suites: `weak_dh` (a DH group under 2048 bits), `weak_cipher`,
 * `anonymous_suite`, and `no_forward_secrecy` / `no_aead` only when no suite of the best
 * protocol has it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { suiteProblems } from "./problems.ts";
 * assert.deepEqual(suiteProblems({
 *   protocols: ["TLS 1.2"],
 *   suites: [{ protocol: "TLS 1.2", name: "DHE-RSA-AES128-GCM-SHA256", bits: 128, kex: "DH",
 *     kex_bits: 1024, forward_secrecy: true, aead: true }],
 * }), ["weak_dh"]);
 * ```
 */
export function suiteProblems(posture: Pick<Posture, "protocols" | "suites">): ProblemCode[] {
  if (posture.suites.length === 0) return [];
  const summary = summarizeSuites(posture.suites, posture.protocols);
  const found: ProblemCode[] = [];
  if (summary.weakestDh !== null && summary.weakestDh < 2048) found.push("weak_dh");
  if (summary.weakCipher) found.push("weak_cipher");
  if (summary.anonymous) found.push("anonymous_suite");
  if (!summary.forwardSecrecy) found.push("no_forward_secrecy");
  if (!summary.aead) found.push("no_aead");
  return found;
}

/**
 * The problems of the offered protocols alone.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolProblems } from "./problems.ts";
 * assert.deepEqual(protocolProblems(["TLS 1.0", "TLS 1.1"]), ["tls1_0", "tls1_1", "legacy_only", "no_tls1_3"]);
 * ```
 */
export function protocolProblems(protocols: readonly ProtocolName[]): ProblemCode[] {
  const offered = new Set<ProtocolName>(protocols);
  const found: ProblemCode[] = [];
  if (offered.has("SSL 2.0")) found.push("ssl2");
  if (offered.has("SSL 3.0")) found.push("ssl3");
  if (offered.has("TLS 1.0")) found.push("tls1_0");
  if (offered.has("TLS 1.1")) found.push("tls1_1");
  if (!offered.has("TLS 1.2") && !offered.has("TLS 1.3")) found.push("legacy_only");
  if (!offered.has("TLS 1.3")) found.push("no_tls1_3");
  return found;
}

/**
 * One line per problem code, for people.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROBLEM_TEXT } from "./problems.ts";
 * assert.equal(PROBLEM_TEXT.expiring_soon, "the certificate expires within 30 days");
 * ```
 */
export const PROBLEM_TEXT: Readonly<Record<ProblemCode, string>> = {
  expired: "the certificate has expired",
  not_yet_valid: "the certificate is not valid yet",
  expiring_soon: `the certificate expires within ${EXPIRING_SOON_DAYS} days`,
  untrusted: "the certificate does not chain to a trusted root",
  self_signed: "the certificate is self-signed",
  name_mismatch: "the certificate is not valid for this host name",
  revoked: "the certificate has been revoked",
  weak_key: "the certificate key is too small (RSA < 2048 or EC < 224 bits)",
  weak_signature: "the certificate is signed with MD5 or SHA-1",
  ssl2: "SSL 2.0 is offered",
  ssl3: "SSL 3.0 is offered",
  tls1_0: "TLS 1.0 is offered (deprecated since 2021, RFC 8996)",
  tls1_1: "TLS 1.1 is offered (deprecated since 2021, RFC 8996)",
  legacy_only: "neither TLS 1.2 nor TLS 1.3 is offered",
  no_tls1_3: "TLS 1.3 is not offered",
  no_forward_secrecy: "no forward secrecy (no ephemeral key exchange on the best protocol)",
  no_aead: "no authenticated encryption (AEAD) suite on the best protocol",
  weak_dh: "a Diffie-Hellman group under 2048 bits is accepted (under 1024: F)",
  weak_cipher: "a weak cipher is accepted (NULL, EXPORT, DES, RC4, 3DES or under 128 bits)",
  anonymous_suite: "an anonymous suite is accepted: anyone in the middle can answer it",
  incomplete_chain:
    "the chain as sent stops at a certificate whose issuer was not found (a missing intermediate, or an unknown CA)",
  chain_issues: "the server sends extra certificates or sends them out of order",
  insecure_renegotiation: "secure renegotiation (RFC 5746) is not supported",
  no_fallback_scsv: "TLS_FALLBACK_SCSV is not honoured: downgrade attacks are possible",
};
