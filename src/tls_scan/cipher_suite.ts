/**
 * What a cipher suite's name says about it: the symmetric strength in bits, forward secrecy
 * (an ephemeral key exchange) and authenticated encryption (AEAD). Works on OpenSSL names
 * (`ECDHE-RSA-AES256-GCM-SHA384`) and IANA names (`TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384`,
 * as SSL Labs reports them); every TLS 1.3 suite has both properties.
 *
 * @example
 * ```ts
 * import { suiteFacts } from "./cipher_suite.ts";
 * suiteFacts("AES256-GCM-SHA384"); // { bits: 256, forwardSecrecy: false, aead: true }
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
 * import { suiteFacts } from "./cipher_suite.ts";
 * suiteFacts("ECDHE-RSA-AES128-SHA256"); // { bits: 128, forwardSecrecy: true, aead: false }
 * suiteFacts("TLS_AES_256_GCM_SHA384"); // { bits: 256, forwardSecrecy: true, aead: true }
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
