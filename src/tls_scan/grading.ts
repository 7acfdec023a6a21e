/**
 * The grade of an endpoint, following the documented subset of the SSL Labs rating guide
 * (version 2009q/r) that a probe can observe honestly: the three scores (protocol support, key
 * exchange, cipher strength; 30/30/40 %, a zero anywhere gives 0) mapped to A…F from every
 * accepted suite, then the caps (T for trust, M for the name, F/C/B for weak protocols, keys,
 * DH groups, ciphers, signatures, an incomplete chain, no forward secrecy or no AEAD on the
 * best protocol), the warnings that make A an A- (no secure renegotiation, no
 * TLS_FALLBACK_SCSV, extra or out-of-order certificates) and the lift to A+ by a long HSTS
 * max-age. What is not observed (revocation, ROBOT…) is not an input, so it cannot lower a
 * grade.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradeEndpoint } from "./grading.ts";
 * import { Features } from "./report.ts";
 * assert.equal(gradeEndpoint({
 *   protocols: ["TLS 1.2", "TLS 1.3"],
 *   key: { algorithm: "RSA", bits: 2048 },
 *   suites: [{ protocol: "TLS 1.3", name: "TLS_AES_256_GCM_SHA384", bits: 256, kex: "ECDH",
 *     kex_bits: 253, forward_secrecy: true, aead: true }],
 *   features: Features.parse({}),
 *   certificate: { chainTrusted: true, expired: false, notYetValid: false, selfSigned: false,
 *     revoked: false, nameMatch: true, signatureHash: "sha256" },
 *   hstsMaxAge: null,
 * }).grade, "A");
 * ```
 *
 * @module
 */
import { type Features, type Grade, type Suite, worstGrade } from "./report.ts";
import type { ProtocolName } from "./protocols.ts";
import { summarizeSuites } from "./suite_posture.ts";

/** Everything the grade depends on, from either engine. */
export interface Posture {
  /** Offered protocols. */
  readonly protocols: readonly ProtocolName[];
  /** The leaf's public key (the key-exchange score uses it as a proxy). */
  readonly key: { readonly algorithm: "RSA" | "EC"; readonly bits: number };
  /** Every accepted suite. */
  readonly suites: readonly Suite[];
  /** Renegotiation, fallback protection, stapling, the chain as sent. */
  readonly features: Features;
  readonly certificate: CertificatePosture;
  /** `Strict-Transport-Security` max-age in seconds, null when absent or not looked at. */
  readonly hstsMaxAge: number | null;
}

/** What the grade needs to know of the leaf certificate. */
export interface CertificatePosture {
  /** A chain to a trust anchor, dates aside. */
  readonly chainTrusted: boolean;
  readonly expired: boolean;
  readonly notYetValid: boolean;
  readonly selfSigned: boolean;
  readonly revoked: boolean;
  readonly nameMatch: boolean;
  /** Hash of the certificate's signature (`md5`, `sha1`, `sha256` …). */
  readonly signatureHash: string;
}

/** A rule that capped (or lifted) the grade. */
export interface AppliedRule {
  readonly rule: string;
  readonly grade: Grade;
}

/** The grade and how it was reached. */
export interface Grading {
  readonly grade: Grade;
  /** The combined score 0–100 before caps. */
  readonly score: number;
  readonly scores: {
    readonly protocol: number;
    readonly keyExchange: number;
    readonly cipher: number;
  };
  /** The caps that held, `warnings` when A became A-, `hsts` when lifted to A+. */
  readonly rules: readonly AppliedRule[];
  /** What makes A an A- (SSL Labs' `hasWarnings`). */
  readonly warnings: readonly string[];
}

/**
 * HSTS max-age that earns A+ (SSL Labs' `LONG_MAX_AGE`, 180 days).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { LONG_HSTS_MAX_AGE } from "./grading.ts";
 * assert.equal(LONG_HSTS_MAX_AGE, 15_552_000);
 * ```
 */
export const LONG_HSTS_MAX_AGE = 15_552_000;

const PROTOCOL_SCORES: Readonly<Record<ProtocolName, number>> = {
  "SSL 2.0": 0,
  "SSL 3.0": 80,
  "TLS 1.0": 90,
  "TLS 1.1": 95,
  "TLS 1.2": 100,
  "TLS 1.3": 100,
};

/**
 * Protocol support score: the mean of the best and the worst protocol's scores.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { protocolScore } from "./grading.ts";
 * assert.equal(protocolScore(["TLS 1.0", "TLS 1.2", "TLS 1.3"]), 95); // (100 + 90) / 2
 * ```
 */
export function protocolScore(protocols: readonly ProtocolName[]): number {
  if (protocols.length === 0) return 0;
  const scores = protocols.map((p) => PROTOCOL_SCORES[p]);
  return (Math.max(...scores) + Math.min(...scores)) / 2;
}

/**
 * Key exchange score from the key size (RSA/DH bits, or EC bits).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { keyExchangeScore } from "./grading.ts";
 * assert.equal(keyExchangeScore({ algorithm: "RSA", bits: 2048 }), 90);
 * assert.equal(keyExchangeScore({ algorithm: "EC", bits: 256 }), 100);
 * ```
 */
export function keyExchangeScore(key: Posture["key"]): number {
  const steps = key.algorithm === "EC" ? [110, 123, 163, 225] : [512, 1024, 2048, 4096];
  const scores = [20, 40, 80, 90];
  for (const [i, limit] of steps.entries()) if (key.bits < limit) return scores[i]!;
  return 100;
}

/**
 * Cipher strength score of one suite's bits (the guide averages the best and the worst).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { cipherScore } from "./grading.ts";
 * assert.equal(cipherScore(128), 80);
 * assert.equal(cipherScore(256), 100);
 * ```
 */
export function cipherScore(bits: number): number {
  if (bits <= 0) return 0;
  if (bits < 128) return 20;
  if (bits < 256) return 80;
  return 100;
}

/**
 * The letter of a combined score.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreGrade } from "./grading.ts";
 * assert.equal(scoreGrade(88), "A");
 * assert.equal(scoreGrade(64), "C");
 * ```
 */
export function scoreGrade(score: number): Grade {
  if (score >= 80) return "A";
  if (score >= 65) return "B";
  if (score >= 50) return "C";
  if (score >= 35) return "D";
  if (score >= 20) return "E";
  return "F";
}

/**
 * `true` when the key is below the guide's minimum (RSA < 2048, EC < 224).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isWeakKey } from "./grading.ts";
 * assert.equal(isWeakKey({ algorithm: "RSA", bits: 1024 }), true);
 * assert.equal(isWeakKey({ algorithm: "EC", bits: 256 }), false);
 * ```
 */
export function isWeakKey(key: Posture["key"]): boolean {
  return key.algorithm === "EC" ? key.bits < 224 : key.bits < 2048;
}

/**
 * The caps that hold for `posture`, each with the grade it allows at most.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { caps, type Posture } from "./grading.ts";
 * import { Features } from "./report.ts";
 * const posture: Posture = {
 *   protocols: ["TLS 1.0", "TLS 1.2"],
 *   key: { algorithm: "RSA", bits: 2048 },
 *   suites: [{ protocol: "TLS 1.2", name: "DHE-RSA-AES128-SHA256", bits: 128, kex: "DH",
 *     kex_bits: 1024, forward_secrecy: true, aead: false }],
 *   features: Features.parse({}),
 *   certificate: { chainTrusted: true, expired: false, notYetValid: false, selfSigned: false,
 *     revoked: false, nameMatch: true, signatureHash: "sha256" },
 *   hstsMaxAge: null,
 * };
 * assert.deepEqual(caps(posture), [
 *   { rule: "tls1_0_or_1_1", grade: "B" },
 *   { rule: "weak_dh", grade: "B" },
 *   { rule: "no_aead", grade: "B" },
 * ]);
 * ```
 */
export function caps(posture: Posture): AppliedRule[] {
  const found: AppliedRule[] = [];
  const cap = (rule: string, grade: Grade) => found.push({ rule, grade });
  const offered = new Set(posture.protocols);
  const c = posture.certificate;
  if (!c.chainTrusted) cap("untrusted", "T");
  if (c.selfSigned) cap("self_signed", "T");
  if (c.expired) cap("expired", "T");
  if (c.notYetValid) cap("not_yet_valid", "T");
  if (c.revoked) cap("revoked", "T");
  if (!c.nameMatch) cap("name_mismatch", "M");
  if (c.signatureHash === "md5") cap("md5_signature", "F");
  if (c.signatureHash === "sha1") cap("sha1_signature", "T");
  if (offered.has("SSL 2.0")) cap("ssl2", "F");
  if (offered.has("SSL 3.0")) {
    const best = posture.protocols.every((p) => p === "SSL 3.0" || p === "SSL 2.0");
    cap("ssl3", best ? "F" : "B");
  }
  if (offered.has("TLS 1.0") || offered.has("TLS 1.1")) cap("tls1_0_or_1_1", "B");
  if (!offered.has("TLS 1.2") && !offered.has("TLS 1.3")) cap("legacy_only", "C");
  const { algorithm, bits } = posture.key;
  // RSA below 1024 bits is F in the guide; for EC we take the usual equivalent, 160 bits.
  if (algorithm === "RSA" ? bits < 1024 : bits < 160) cap("weak_key", "F");
  else if (isWeakKey(posture.key)) cap("weak_key", "B");
  const summary = summarizeSuites(posture.suites, posture.protocols);
  if (summary.weakestDh !== null && summary.weakestDh < 1024) cap("weak_dh", "F");
  else if (summary.weakestDh !== null && summary.weakestDh < 2048) cap("weak_dh", "B");
  if (summary.anonymous) cap("anonymous_suite", "F");
  if (summary.weakCipher) cap(`weak_cipher_${summary.weakCipher.kind}`, summary.weakCipher.cap);
  if (posture.features.chain_issues.includes("incomplete")) cap("incomplete_chain", "B");
  if (posture.suites.length > 0 && !summary.forwardSecrecy) cap("no_forward_secrecy", "B");
  if (posture.suites.length > 0 && !summary.aead) cap("no_aead", "B");
  return found;
}

/**
 * What turns an A into an A-: no secure renegotiation, no TLS_FALLBACK_SCSV, certificates sent
 * that are extra or out of order (SSL Labs' warnings; none changes a lower grade).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { warnings } from "./grading.ts";
 * import { Features } from "./report.ts";
 * assert.deepEqual(warnings(Features.parse({ fallback_scsv: false, chain_issues: ["order"] })), [
 *   "no_fallback_scsv",
 *   "chain_issues",
 * ]);
 * ```
 */
export function warnings(features: Features): string[] {
  const found: string[] = [];
  if (features.secure_renegotiation === false) found.push("insecure_renegotiation");
  if (features.fallback_scsv === false) found.push("no_fallback_scsv");
  if (features.chain_issues.some((i) => i === "extra" || i === "order")) {
    found.push("chain_issues");
  }
  return found;
}

/**
 * Grades one endpoint.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradeEndpoint } from "./grading.ts";
 * import { Features } from "./report.ts";
 * const grading = gradeEndpoint({
 *   protocols: ["TLS 1.2", "TLS 1.3"],
 *   key: { algorithm: "EC", bits: 256 },
 *   suites: [{ protocol: "TLS 1.3", name: "TLS_AES_128_GCM_SHA256", bits: 128, kex: "ECDH",
 *     kex_bits: 253, forward_secrecy: true, aead: true }],
 *   features: Features.parse({}),
 *   certificate: { chainTrusted: false, expired: false, notYetValid: false, selfSigned: true,
 *     revoked: false, nameMatch: true, signatureHash: "sha256" },
 *   hstsMaxAge: null,
 * });
 * assert.equal(grading.score, 92); // 0.3 × 100 + 0.3 × 100 + 0.4 × 80
 * assert.equal(grading.grade, "T"); // capped by the untrusted, self-signed certificate
 * assert.deepEqual(grading.warnings, []);
 * ```
 */
export function gradeEndpoint(posture: Posture): Grading {
  const summary = summarizeSuites(posture.suites, posture.protocols);
  // Key exchange: the weakest of the leaf key and the ephemeral groups the server chose.
  const keyScores = [keyExchangeScore(posture.key)];
  if (summary.weakestDh !== null) {
    keyScores.push(keyExchangeScore({ algorithm: "RSA", bits: summary.weakestDh }));
  }
  if (summary.weakestEc !== null) {
    keyScores.push(keyExchangeScore({ algorithm: "EC", bits: summary.weakestEc }));
  }
  const scores = {
    protocol: protocolScore(posture.protocols),
    keyExchange: summary.anonymous ? 0 : Math.min(...keyScores),
    cipher: (cipherScore(summary.bestBits) + cipherScore(summary.worstBits)) / 2,
  };
  const anyZero = scores.protocol === 0 || scores.keyExchange === 0 || scores.cipher === 0;
  const score = anyZero
    ? 0
    : Math.round(0.3 * scores.protocol + 0.3 * scores.keyExchange + 0.4 * scores.cipher);
  const rules = caps(posture);
  let grade = worstGrade([scoreGrade(score), ...rules.map((r) => r.grade)])!;
  const warned = warnings(posture.features);
  if (grade === "A" && warned.length > 0) {
    grade = "A-";
    rules.push({ rule: "warnings", grade: "A-" });
  }
  if (grade === "A" && posture.hstsMaxAge !== null && posture.hstsMaxAge >= LONG_HSTS_MAX_AGE) {
    grade = "A+";
    rules.push({ rule: "hsts", grade: "A+" });
  }
  return { grade, score, scores, rules, warnings: warned };
}
