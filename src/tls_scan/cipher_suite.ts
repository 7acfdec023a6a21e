/**
 * What a cipher suite's name says about it: the symmetric strength in bits, forward secrecy
 * (an ephemeral key exchange) and authenticated encryption (AEAD). Works on OpenSSL names
 * (`ECDHE-RSA-AES256-GCM-SHA384`) and IANA names (`TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`,
 * as SSL Labs reports them); every TLS 1.3 suite has both properties.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { suiteFacts } from "./cipher_suite.ts";
 * assert.deepEqual(suiteFacts("AES256-GCM-SHA384"), { bits: 256, forwardSecrecy: false, aead: true });
 * ```
 *
 * @module
 */

/** Strength and properties of a suite. */
export interface SuiteFacts {
  /** Symmetric key strength in bits (3DES counts 112). */
  readonly bits: number;
  readonly forwardSecrecy: boolean;
  readonly aead: boolean;
}

/**
 * Reads a suite's facts from its name.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { suiteFacts } from "./cipher_suite.ts";
 * assert.deepEqual(suiteFacts("ECDHE-RSA-AES128-SHA256"), { bits: 128, forwardSecrecy: true, aead: false });
 * assert.deepEqual(suiteFacts("TLS_AES_256_GCM_SHA384"), { bits: 256, forwardSecrecy: true, aead: true });
 * ```
 */
export function suiteFacts(name: string): SuiteFacts {
  const upper = name.toUpperCase();
  const tls13 = /^TLS_(AES|CHACHA20|SM4)_/.test(upper);
  return {
    bits: suiteBits(upper),
    forwardSecrecy: tls13 || /(^|[-_])(ECDHE|DHE|EDH)[-_]/.test(upper),
    aead: tls13 || /GCM|CHACHA20|POLY1305|CCM/.test(upper),
  };
}

function suiteBits(upper: string): number {
  if (/NULL/.test(upper)) return 0;
  if (/EXP/.test(upper)) return 40;
  const sized = /(AES|CAMELLIA|ARIA)[-_]?(128|256)/.exec(upper);
  if (sized) return Number(sized[2]);
  if (/CHACHA20/.test(upper)) return 256;
  if (/3DES|DES[-_]CBC3/.test(upper)) return 112;
  if (/(^|[-_])DES[-_]/.test(upper)) return 56;
  if (/RC4|SEED|IDEA|SM4/.test(upper)) return 128;
  return 128;
}

/** Why a suite's cipher is weak, in the rating guide's terms. */
export type WeakCipherKind = "null_or_export" | "insecure" | "rc4" | "3des" | "short";

/**
 * Why the cipher of `name` (OpenSSL or IANA spelling) with `bits` is weak, or undefined:
 * NULL encryption or EXPORT, a cipher under 112 bits (DES), RC4, 3DES (a 64-bit block), or any
 * other under 128 bits.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { weakCipherKind } from "./cipher_suite.ts";
 * assert.equal(weakCipherKind("DES-CBC3-SHA", 112), "3des");
 * assert.equal(weakCipherKind("TLS_RSA_WITH_RC4_128_SHA", 128), "rc4");
 * assert.equal(weakCipherKind("ECDHE-RSA-AES128-GCM-SHA256", 128), undefined);
 * ```
 */
export function weakCipherKind(name: string, bits: number): WeakCipherKind | undefined {
  const upper = name.toUpperCase();
  if (bits === 0 || /NULL|EXP/.test(upper)) return "null_or_export";
  if (/RC4/.test(upper)) return "rc4";
  if (/3DES|DES[-_]CBC3|DES[-_]EDE/.test(upper)) return "3des";
  if (bits < 112) return "insecure";
  if (bits < 128) return "short";
  return undefined;
}

/**
 * `true` for a suite without server authentication (OpenSSL `ADH-`/`AECDH-`, IANA `_anon_`):
 * anyone in the middle can answer it, so the guide's key-exchange score is 0.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isAnonymous } from "./cipher_suite.ts";
 * assert.equal(isAnonymous("ADH-AES128-GCM-SHA256"), true);
 * assert.equal(isAnonymous("TLS_ECDH_anon_WITH_AES_128_CBC_SHA"), true);
 * assert.equal(isAnonymous("DHE-RSA-AES128-GCM-SHA256"), false);
 * ```
 */
export function isAnonymous(name: string): boolean {
  return /^(ADH|AECDH)-|_anon_/i.test(name);
}
