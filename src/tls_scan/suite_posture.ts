/**
 * What the grade needs from the accepted suites: the best and worst cipher strength, the
 * weakest DH and EC groups, anonymous suites, the worst weak cipher with the cap the rating
 * guide gives it, and whether the best protocol has any forward-secret and any AEAD suite (a
 * server preferring ECDHE-GCM that also accepts AES128-SHA keeps both).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeSuites } from "./suite_posture.ts";
 * const summary = summarizeSuites([
 *   { protocol: "TLS 1.2", name: "ECDHE-RSA-AES256-GCM-SHA384", bits: 256, kex: "ECDH",
 *     kex_bits: 253, forward_secrecy: true, aead: true },
 *   { protocol: "TLS 1.2", name: "AES128-SHA", bits: 128, kex: "RSA", kex_bits: null,
 *     forward_secrecy: false, aead: false },
 * ], ["TLS 1.2"]);
 * assert.deepEqual([summary.bestBits, summary.worstBits], [256, 128]);
 * assert.deepEqual([summary.forwardSecrecy, summary.aead], [true, true]);
 * ```
 *
 * @module
 */
import { isAnonymous, type WeakCipherKind, weakCipherKind } from "./cipher_suite.ts";
import type { Grade, Suite } from "./report.ts";
import { type ProtocolName, PROTOCOLS } from "./protocols.ts";

/** The suites, summed up for the grade. */
export interface SuiteSummary {
  /** Bits of the strongest and the weakest cipher (0 when there are no suites). */
  readonly bestBits: number;
  readonly worstBits: number;
  /** The smallest DH group of a DH suite; null when none has one. */
  readonly weakestDh: number | null;
  /** The smallest curve of an ECDH suite; null when none has one. */
  readonly weakestEc: number | null;
  readonly anonymous: boolean;
  /** The worst weak cipher and the cap it brings. */
  readonly weakCipher: { readonly kind: WeakCipherKind; readonly cap: Grade } | null;
  /** Some suite of the best protocol is forward secret / AEAD. */
  readonly forwardSecrecy: boolean;
  readonly aead: boolean;
}

/**
 * Sums up `suites`, with the offered `protocols` (RC4 and 3DES caps depend on TLS 1.1+).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeSuites } from "./suite_posture.ts";
 * const summary = summarizeSuites([
 *   { protocol: "TLS 1.2", name: "TLS_RSA_WITH_3DES_EDE_CBC_SHA", bits: 112, kex: "RSA",
 *     kex_bits: null, forward_secrecy: false, aead: false },
 * ], ["TLS 1.2"]);
 * assert.deepEqual(summary.weakCipher, { kind: "3des", cap: "C" }); // 3DES with TLS 1.1+: C
 * ```
 */
export function summarizeSuites(
  suites: readonly Suite[],
  protocols: readonly ProtocolName[],
): SuiteSummary {
  const bits = suites.map((s) => s.bits);
  const groups = (kex: string) =>
    suites.filter((s) => s.kex === kex && s.kex_bits !== null).map((s) => s.kex_bits!);
  const dh = groups("DH");
  const ec = groups("ECDH");
  const modern = protocols.includes("TLS 1.1") || protocols.includes("TLS 1.2") ||
    protocols.includes("TLS 1.3");
  let weakCipher: SuiteSummary["weakCipher"] = null;
  for (const suite of suites) {
    const kind = weakCipherKind(suite.name, suite.bits);
    if (!kind) continue;
    const cap: Grade = kind === "null_or_export" || kind === "insecure"
      ? "F"
      : (kind === "rc4" || kind === "3des") && modern
      ? "C"
      : "B";
    if (!weakCipher || rank(cap) > rank(weakCipher.cap)) weakCipher = { kind, cap };
  }
  const best = PROTOCOLS.filter((p) => suites.some((s) => s.protocol === p)).at(-1);
  const ofBest = suites.filter((s) => s.protocol === best);
  return {
    bestBits: bits.length > 0 ? Math.max(...bits) : 0,
    worstBits: bits.length > 0 ? Math.min(...bits) : 0,
    weakestDh: dh.length > 0 ? Math.min(...dh) : null,
    weakestEc: ec.length > 0 ? Math.min(...ec) : null,
    anonymous: suites.some((s) => isAnonymous(s.name)),
    weakCipher,
    forwardSecrecy: ofBest.some((s) => s.forward_secrecy),
    aead: ofBest.some((s) => s.aead),
  };
}

function rank(grade: Grade): number {
  return ["A+", "A", "A-", "B", "C", "D", "E", "F"].indexOf(grade);
}
