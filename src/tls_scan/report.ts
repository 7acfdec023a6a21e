/**
 * The report: the JSON contract consumers rely on (issue 11), as a zod schema; its types are
 * inferred from it. Both engines build it, the store keeps it, the endpoint answers it.
 *
 * @example
 * ```ts
 * import { errorReport, TlsReport } from "./report.ts";
 * const report = errorReport({ host: "example.com", port: 443, engine: "probe", message: "Connection refused" });
 * TlsReport.parse(report); // valid: status "ERROR", grade null
 * ```
 *
 * @module
 */
import { z } from "zod";

/** Grades, best first; `T` (not trusted) and `M` (name mismatch) rank below `F`. */
export const GRADES = ["A+", "A", "A-", "B", "C", "D", "E", "F", "T", "M"] as const;

/** A grade. */
export const Grade = z.enum(GRADES);
/** A grade. */
export type Grade = z.infer<typeof Grade>;

/** Every problem code, in the order reports list them. */
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
] as const;

/** A problem code. */
export const ProblemCode = z.enum(PROBLEM_CODES);
/** A problem code. */
export type ProblemCode = z.infer<typeof ProblemCode>;

/** A protocol name as SSL Labs writes it. */
export const Protocol = z.enum(["SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]);

/** One endpoint (IP address) of the host. */
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

/** The leaf certificate. */
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

/** The report. */
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
});
/** The report. */
export type TlsReport = z.infer<typeof TlsReport>;

/** The engine that made a report. */
export type EngineName = TlsReport["engine"];

/** 0 for A+ … 9 for M: a larger rank is a worse grade. */
export function gradeRank(grade: Grade): number {
  return GRADES.indexOf(grade);
}

/**
 * The worst of `grades` (A+ > … > F > T > M), ignoring nulls; null when none is left.
 *
 * @example
 * ```ts
 * worstGrade(["A", "T", null]); // "T"
 * ```
 */
export function worstGrade(grades: readonly (Grade | null)[]): Grade | null {
  let worst: Grade | null = null;
  for (const grade of grades) {
    if (grade !== null && (worst === null || gradeRank(grade) > gradeRank(worst))) worst = grade;
  }
  return worst;
}

/** Problem codes deduplicated and in the contract's order. */
export function sortProblems(codes: Iterable<ProblemCode>): ProblemCode[] {
  const set = new Set(codes);
  return PROBLEM_CODES.filter((code) => set.has(code));
}

/**
 * Whole days from `now` to `notAfter`, floored (negative once expired).
 *
 * @example
 * ```ts
 * daysRemaining(new Date("2026-01-11T00:00:00Z"), new Date("2026-01-01T12:00:00Z")); // 9
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

/** A finished scan that found no TLS to grade: unreachable, not TLS, unresolvable. */
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
  };
}
