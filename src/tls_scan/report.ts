/**
 * The report: the JSON contract consumers rely on (issue 11), as a zod schema; its types are
 * inferred from it. Both engines build it, the store keeps it, the endpoint answers it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorReport, TlsReport } from "./report.ts";
 * const report = errorReport({ host: "example.com", port: 443, engine: "probe", message: "Connection refused" });
 * const valid = TlsReport.parse(report); // throws on a report the contract does not allow
 * assert.deepEqual([valid.status, valid.grade], ["ERROR", null]);
 * ```
 *
 * @module
 */
import { z } from "zod";
import { PROTOCOLS } from "./protocols.ts";

/**
 * Grades, best first; `T` (not trusted) and `M` (name mismatch) rank below `F`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { GRADES } from "./report.ts";
 * assert.equal(GRADES.indexOf("F") < GRADES.indexOf("T"), true); // untrusted ranks below F
 * ```
 */
export const GRADES = ["A+", "A", "A-", "B", "C", "D", "E", "F", "T", "M"] as const;

/**
 * A grade.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Grade } from "./report.ts";
 * assert.equal(Grade.parse("A+"), "A+");
 * assert.equal(Grade.safeParse("A++").success, false);
 * ```
 */
export const Grade = z.enum(GRADES);
/** A grade. */
export type Grade = z.infer<typeof Grade>;

/**
 * Every problem code, in the order reports list them.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROBLEM_CODES } from "./report.ts";
 * assert.deepEqual(PROBLEM_CODES.slice(0, 3), ["expired", "not_yet_valid", "expiring_soon"]);
 * ```
 */
export const PROBLEM_CODES = [
  "expired",
  "not_yet_valid",
  "expiring_soon",
  "untrusted",
  "self_signed",
  "name_mismatch",
  "revoked",
  "weak_key",
  "weak_signature",
  "ssl2",
  "ssl3",
  "tls1_0",
  "tls1_1",
  "legacy_only",
  "no_tls1_3",
  "no_forward_secrecy",
  "no_aead",
  "weak_dh",
  "weak_cipher",
  "anonymous_suite",
  "incomplete_chain",
  "chain_issues",
  "insecure_renegotiation",
  "no_fallback_scsv",
] as const;

/**
 * A problem code.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProblemCode } from "./report.ts";
 * assert.equal(ProblemCode.safeParse("weak_key").success, true);
 * assert.equal(ProblemCode.safeParse("heartbleed").success, false); // not a code the contract has
 * ```
 */
export const ProblemCode = z.enum(PROBLEM_CODES);
/** A problem code. */
export type ProblemCode = z.infer<typeof ProblemCode>;

/**
 * A protocol name as SSL Labs writes it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Protocol } from "./report.ts";
 * assert.equal(Protocol.safeParse("TLS 1.3").success, true);
 * assert.equal(Protocol.safeParse("TLSv1.3").success, false); // OpenSSL's spelling (see protocolName)
 * ```
 */
export const Protocol = z.enum(PROTOCOLS);

/**
 * One accepted cipher suite: its protocol, name (OpenSSL's, as `openssl ciphers` and sslscan
 * print it; SSL Labs' IANA name from the `ssllabs` engine), symmetric strength, key exchange
 * and its size (curve or DH group bits; null for RSA key exchange).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Suite } from "./report.ts";
 * assert.equal(Suite.parse({
 *   protocol: "TLS 1.2",
 *   name: "DHE-RSA-AES128-GCM-SHA256",
 *   bits: 128,
 *   kex: "DH",
 *   kex_bits: 1024,
 *   forward_secrecy: true,
 *   aead: true,
 * }).kex_bits, 1024);
 * ```
 */
export const Suite = z.object({
  protocol: Protocol,
  name: z.string(),
  bits: z.int(),
  kex: z.string(),
  kex_bits: z.int().nullable(),
  forward_secrecy: z.boolean(),
  aead: z.boolean(),
});
/** One accepted cipher suite. */
export type Suite = z.infer<typeof Suite>;

/**
 * What a probe observed of the server beside its suites; null where it could not tell.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Features } from "./report.ts";
 * // Reports stored before these checks existed: every field null, no chain issue.
 * const { chain_issues, ...checks } = Features.parse({});
 * assert.deepEqual(chain_issues, []);
 * assert.ok(Object.values(checks).every((value) => value === null));
 * ```
 */
export const Features = z.object({
  /** RFC 5746 secure renegotiation (null: TLS 1.3 only, where renegotiation does not exist). */
  secure_renegotiation: z.boolean().nullable().default(null),
  /** The server refuses a downgraded retry (RFC 7507); null with a single protocol. */
  fallback_scsv: z.boolean().nullable().default(null),
  ocsp_stapling: z.boolean().nullable().default(null),
  /** Certificates the server sent, leaf first. */
  chain_length: z.int().nullable().default(null),
  /** `incomplete` (an intermediate is missing), `extra` (unrelated certs), `order`. */
  chain_issues: z.array(z.enum(["incomplete", "extra", "order"])).default([]),
});
/** What a probe observed of the server beside its suites. */
export type Features = z.infer<typeof Features>;

/**
 * One endpoint (IP address) of the host.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Endpoint } from "./report.ts";
 * assert.equal(Endpoint.parse({
 *   ip_address: "93.184.215.14",
 *   grade: "A",
 *   has_warnings: false,
 *   protocols: ["TLS 1.2", "TLS 1.3"],
 *   status_message: "Ready",
 * }).grade, "A");
 * ```
 */
export const Endpoint = z.object({
  ip_address: z.string(),
  grade: Grade.nullable(),
  has_warnings: z.boolean(),
  protocols: z.array(Protocol),
  /** "Ready", or why this endpoint could not be assessed. */
  status_message: z.string(),
});
/** One endpoint of the host. */
export type Endpoint = z.infer<typeof Endpoint>;

/**
 * The leaf certificate.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Certificate } from "./report.ts";
 * const certificate = Certificate.parse({
 *   subject: "CN=example.com",
 *   issuer: "CN=R11, O=Let's Encrypt, C=US",
 *   not_before: "2026-01-01T00:00:00.000Z",
 *   not_after: "2026-04-01T00:00:00.000Z",
 *   days_remaining: 90,
 *   key_algorithm: "EC",
 *   key_size: 256,
 *   trusted: true,
 *   name_match: true,
 *   revocation_status: "unknown",
 * });
 * assert.equal(certificate.key_size, 256);
 * ```
 */
export const Certificate = z.object({
  subject: z.string(),
  issuer: z.string(),
  not_before: z.iso.datetime(),
  not_after: z.iso.datetime(),
  /** Whole days until `not_after` (floor), negative once expired. */
  days_remaining: z.int(),
  key_algorithm: z.enum(["RSA", "EC"]),
  key_size: z.int(),
  /** Chains to a trust anchor and is inside its validity; the name is judged apart. */
  trusted: z.boolean(),
  name_match: z.boolean(),
  revocation_status: z.enum(["good", "revoked", "unknown"]),
});
/** The leaf certificate. */
export type Certificate = z.infer<typeof Certificate>;

/**
 * The report.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorReport, TlsReport } from "./report.ts";
 * const report = errorReport({ host: "a.test", port: 443, engine: "probe", message: "Refused" });
 * assert.equal(TlsReport.parse(report).status, "ERROR");
 * assert.equal(TlsReport.safeParse({ ...report, grade: "Z" }).success, false);
 * ```
 */
export const TlsReport = z.object({
  host: z.string(),
  port: z.int(),
  engine: z.enum(["probe", "ssllabs"]),
  status: z.enum(["READY", "ERROR"]),
  status_message: z.string(),
  /** The worst endpoint's grade; null when no endpoint could be assessed. */
  grade: Grade.nullable(),
  scanned_at: z.iso.datetime(),
  from_cache: z.boolean(),
  endpoints: z.array(Endpoint),
  certificate: Certificate.nullable(),
  problems: z.array(ProblemCode),
  /** Every accepted suite, per protocol (empty in reports stored before enumeration). */
  suites: z.array(Suite).default([]),
  /** What this scan could not test, said rather than reported as absent-and-fine. */
  not_tested: z.array(z.string()).default([]),
  features: Features.default(Features.parse({})),
});
/** The report. */
export type TlsReport = z.infer<typeof TlsReport>;

/** The engine that made a report. */
export type EngineName = TlsReport["engine"];

/**
 * 0 for A+ … 9 for M: a larger rank is a worse grade.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradeRank } from "./report.ts";
 * assert.equal(gradeRank("A+"), 0);
 * assert.equal(gradeRank("M"), 9);
 * ```
 */
export function gradeRank(grade: Grade): number {
  return GRADES.indexOf(grade);
}

/**
 * The worst of `grades` (A+ > … > F > T > M), ignoring nulls; null when none is left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(worstGrade(["A", "T", null]), "T");
 * ```
 */
export function worstGrade(grades: readonly (Grade | null)[]): Grade | null {
  let worst: Grade | null = null;
  for (const grade of grades) {
    if (grade !== null && (worst === null || gradeRank(grade) > gradeRank(worst))) worst = grade;
  }
  return worst;
}

/**
 * Problem codes deduplicated and in the contract's order.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sortProblems } from "./report.ts";
 * assert.deepEqual(sortProblems(["no_aead", "expired", "no_aead"]), ["expired", "no_aead"]);
 * ```
 */
export function sortProblems(codes: Iterable<ProblemCode>): ProblemCode[] {
  const set = new Set(codes);
  return PROBLEM_CODES.filter((code) => set.has(code));
}

/**
 * Whole days from `now` to `notAfter`, floored (negative once expired).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(daysRemaining(new Date("2026-01-11T00:00:00Z"), new Date("2026-01-01T12:00:00Z")), 9);
 * ```
 */
export function daysRemaining(notAfter: Date, now: Date): number {
  return Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000);
}

/** Fields of {@linkcode errorReport}. */
export interface ErrorReportFields {
  readonly host: string;
  readonly port: number;
  readonly engine: EngineName;
  readonly message: string;
  readonly endpoints?: Endpoint[];
  readonly scannedAt?: Date;
  readonly fromCache?: boolean;
}

/**
 * A finished scan that found no TLS to grade: unreachable, not TLS, unresolvable.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorReport } from "./report.ts";
 * const scannedAt = new Date("2026-01-01T00:00:00Z");
 * const report = errorReport({ host: "example.com", port: 443, engine: "probe", message: "Timeout", scannedAt });
 * assert.deepEqual(
 *   [report.status, report.status_message, report.grade, report.scanned_at, report.endpoints],
 *   ["ERROR", "Timeout", null, "2026-01-01T00:00:00.000Z", []],
 * );
 * assert.deepEqual([report.certificate, report.problems, report.suites], [null, [], []]);
 * ```
 */
export function errorReport(fields: ErrorReportFields): TlsReport {
  return {
    host: fields.host,
    port: fields.port,
    engine: fields.engine,
    status: "ERROR",
    status_message: fields.message,
    grade: null,
    scanned_at: (fields.scannedAt ?? new Date()).toISOString(),
    from_cache: fields.fromCache ?? false,
    endpoints: fields.endpoints ?? [],
    certificate: null,
    problems: [],
    suites: [],
    not_tested: [],
    features: Features.parse({}),
  };
}
