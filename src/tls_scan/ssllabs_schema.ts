/**
 * The SSL Labs API v4 objects the engine reads (`Info`, `Host`, `Endpoint`, `Cert`), as
 * lenient zod schemas: only the fields the report needs are declared, unknown ones pass, and
 * timestamps are milliseconds (the docs say "Unix timestamp"; real responses are in ms).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsHost } from "./ssllabs_schema.ts";
 * assert.equal(SslLabsHost.parse({ host: "example.com", status: "DNS" }).status, "DNS");
 * ```
 *
 * @module
 */
import { z } from "zod";

/**
 * `GET info`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsInfo } from "./ssllabs_schema.ts";
 * const info = SslLabsInfo.parse({ maxAssessments: 25, currentAssessments: 0, newAssessmentCoolOff: 1_000 });
 * assert.equal(info.maxAssessments, 25);
 * ```
 */
export const SslLabsInfo = z.looseObject({
  engineVersion: z.string().optional(),
  criteriaVersion: z.string().optional(),
  maxAssessments: z.number().int().nonnegative(),
  currentAssessments: z.number().int().nonnegative(),
  newAssessmentCoolOff: z.number().int().nonnegative(),
  messages: z.array(z.string()).optional(),
});
/** `GET info`. */
export type SslLabsInfo = z.infer<typeof SslLabsInfo>;

const Protocol = z.looseObject({
  id: z.number().optional(),
  name: z.string(),
  version: z.string(),
});

/**
 * One suite SSL Labs saw accepted: IANA name, cipher bits, key exchange (`kxType` absent for
 * RSA key exchange; `kxStrength` is the DH group size, `namedGroupBits` the curve size).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsSuite } from "./ssllabs_schema.ts";
 * assert.equal(SslLabsSuite.parse({ id: 51, name: "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", cipherStrength: 128,
 *   kxType: "DH", kxStrength: 2048 }).kxStrength, 2048);
 * ```
 */
export const SslLabsSuite = z.looseObject({
  id: z.number().optional(),
  name: z.string(),
  cipherStrength: z.number().optional(),
  kxType: z.string().optional(),
  kxStrength: z.number().optional(),
  namedGroupBits: z.number().optional(),
  namedGroupName: z.string().optional(),
});
/** One suite SSL Labs saw accepted. */
export type SslLabsSuite = z.infer<typeof SslLabsSuite>;

/**
 * Bits of `ChainCert.issues` / `CertChain.issues` (API v4).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { CHAIN_ISSUES } from "./ssllabs_schema.ts";
 * assert.equal((12 & CHAIN_ISSUES.unrelated) !== 0, true); // 12 = unrelated/duplicate (4) + order (8)
 * ```
 */
export const CHAIN_ISSUES = {
  incomplete: 2,
  unrelated: 4,
  order: 8,
} as const;

/**
 * An endpoint's details (with `all=done`, once the assessment is finished).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsDetails } from "./ssllabs_schema.ts";
 * // Fields not declared (heartbleed) pass through.
 * assert.deepEqual(SslLabsDetails.parse({ supportsAead: true, heartbleed: false }), {
 *   supportsAead: true,
 *   heartbleed: false,
 * });
 * ```
 */
export const SslLabsDetails = z.looseObject({
  certChains: z.array(z.looseObject({
    id: z.string().optional(),
    certIds: z.array(z.string()),
    trustPaths: z.array(z.looseObject({
      trust: z.array(z.looseObject({ rootStore: z.string().optional(), isTrusted: z.boolean() }))
        .optional(),
    })).optional(),
    issues: z.number().optional(),
    noSni: z.boolean().optional(),
  })).optional(),
  protocols: z.array(Protocol).optional(),
  /** Accepted suites per protocol (`protocol` is a `Protocol.id`). */
  suites: z.array(z.looseObject({
    protocol: z.number(),
    list: z.array(SslLabsSuite).optional(),
  })).optional(),
  forwardSecrecy: z.number().optional(),
  supportsAead: z.boolean().optional(),
  /** Bits: 1 insecure client-initiated, 2 secure renegotiation, 4 secure client-initiated. */
  renegSupport: z.number().optional(),
  fallbackScsv: z.boolean().optional(),
  ocspStapling: z.boolean().optional(),
});

/**
 * One endpoint (IP address).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsEndpoint } from "./ssllabs_schema.ts";
 * assert.equal(SslLabsEndpoint.parse({ ipAddress: "93.184.215.14", grade: "A" }).grade, "A");
 * assert.equal(SslLabsEndpoint.safeParse({ grade: "A" }).success, false); // no ipAddress
 * ```
 */
export const SslLabsEndpoint = z.looseObject({
  ipAddress: z.string(),
  statusMessage: z.string().optional(),
  grade: z.string().optional(),
  hasWarnings: z.boolean().optional(),
  details: SslLabsDetails.optional(),
});
/** One endpoint. */
export type SslLabsEndpoint = z.infer<typeof SslLabsEndpoint>;

/**
 * A certificate of `Host.certs`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsCert } from "./ssllabs_schema.ts";
 * const cert = SslLabsCert.parse({
 *   id: "4b2c…",
 *   subject: "CN=example.com",
 *   notBefore: 1767225600000,
 *   notAfter: 1775001600000,
 * });
 * assert.equal(new Date(cert.notAfter).toISOString(), "2026-04-01T00:00:00.000Z"); // milliseconds
 * ```
 */
export const SslLabsCert = z.looseObject({
  id: z.string(),
  subject: z.string(),
  issuerSubject: z.string().optional(),
  notBefore: z.number(),
  notAfter: z.number(),
  sigAlg: z.string().optional(),
  keyAlg: z.string().optional(),
  keySize: z.number().optional(),
  issues: z.number().optional(),
  revocationStatus: z.number().optional(),
});
/** A certificate. */
export type SslLabsCert = z.infer<typeof SslLabsCert>;

/**
 * `GET analyze`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsHost } from "./ssllabs_schema.ts";
 * assert.equal(SslLabsHost.parse({ host: "example.com", status: "IN_PROGRESS" }).status, "IN_PROGRESS");
 * assert.equal(SslLabsHost.safeParse({ host: "example.com", status: "PENDING" }).success, false);
 * ```
 */
export const SslLabsHost = z.looseObject({
  host: z.string(),
  port: z.number().optional(),
  status: z.enum(["DNS", "IN_PROGRESS", "READY", "ERROR"]),
  statusMessage: z.string().optional(),
  startTime: z.number().optional(),
  testTime: z.number().optional(),
  endpoints: z.array(SslLabsEndpoint).optional(),
  certs: z.array(SslLabsCert).optional(),
});
/** `GET analyze`. */
export type SslLabsHost = z.infer<typeof SslLabsHost>;

/**
 * Bits of `Cert.issues` (API v4).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { CERT_ISSUES } from "./ssllabs_schema.ts";
 * const issues = 72; // as Cert.issues says it
 * assert.equal((issues & CERT_ISSUES.selfSigned) !== 0, true);
 * assert.equal((issues & CERT_ISSUES.hostnameMismatch) !== 0, true); // 72 = 64 + 8
 * ```
 */
export const CERT_ISSUES = {
  noChainOfTrust: 1,
  notBefore: 2,
  notAfter: 4,
  hostnameMismatch: 8,
  revoked: 16,
  badCommonName: 32,
  selfSigned: 64,
  blacklisted: 128,
  insecureSignature: 256,
  insecureKey: 512,
} as const;
