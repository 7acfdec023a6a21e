/**
 * The probe's report from what it saw of each endpoint: a grade per endpoint, the host's grade
 * the worst of them, the certificate of the first endpoint that answered, the problems of every
 * endpoint together; the suites and features of the first endpoint that answered, with what
 * this openssl could not test. No endpoint answering makes a finished ERROR report naming why.
 * Revocation is not observed by the probe and is reported `unknown`, never `good`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildProbeReport } from "./probe_report.ts";
 * const report = buildProbeReport({ host: "example.com", port: 443 }, [], new Date());
 * assert.equal(report.status, "ERROR");
 * ```
 *
 * @module
 */
import { gradeEndpoint } from "./grading.ts";
import { postureProblems } from "./problems.ts";
import type { EndpointFailed, EndpointSeen } from "./probe_endpoint.ts";
import { NOT_TESTABLE } from "./suite_catalog.ts";
import {
  daysRemaining,
  type Endpoint,
  errorReport,
  type ProblemCode,
  sortProblems,
  type TlsReport,
  worstGrade,
} from "./report.ts";

/**
 * Builds the report of `target` from its endpoints' observations (in address order).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildProbeReport } from "./probe_report.ts";
 * const report = buildProbeReport({ host: "a.test", port: 443 }, [{
 *   ok: false,
 *   address: "192.0.2.1",
 *   failure: { kind: "timeout", message: "No TLS answer within 8 s" },
 *   connections: 1,
 * }], new Date());
 * assert.deepEqual([report.status, report.status_message], ["ERROR", "No TLS answer within 8 s"]);
 * report.endpoints.map((e) => e.ip_address); // ["192.0.2.1"]
 * ```
 */
export function buildProbeReport(
  target: { readonly host: string; readonly port: number },
  seen: readonly (EndpointSeen | EndpointFailed)[],
  now: Date,
): TlsReport {
  const endpoints: Endpoint[] = [];
  const problems: ProblemCode[] = [];
  let first: EndpointSeen | undefined;
  for (const observation of seen) {
    if (!observation.ok) {
      endpoints.push({
        ip_address: observation.address,
        grade: null,
        has_warnings: false,
        protocols: [],
        status_message: observation.failure.message,
      });
      continue;
    }
    first ??= observation;
    const days = daysRemaining(observation.leaf.notAfter, now);
    problems.push(...postureProblems(observation.posture, days));
    const grading = gradeEndpoint(observation.posture);
    endpoints.push({
      ip_address: observation.address,
      grade: grading.grade,
      has_warnings: grading.warnings.length > 0,
      protocols: observation.protocols,
      status_message: "Ready",
    });
  }
  if (!first) {
    const failed = seen.find((s): s is EndpointFailed => !s.ok);
    return errorReport({
      host: target.host,
      port: target.port,
      engine: "probe",
      message: failed?.failure.message ?? "No address to scan",
      endpoints,
      scannedAt: now,
    });
  }
  const { leaf, posture } = first;
  const c = posture.certificate;
  return {
    host: target.host,
    port: target.port,
    engine: "probe",
    status: "READY",
    status_message: "Ready",
    grade: worstGrade(endpoints.map((e) => e.grade)),
    scanned_at: now.toISOString(),
    from_cache: false,
    endpoints,
    certificate: {
      subject: leaf.subject,
      issuer: leaf.issuer,
      not_before: leaf.notBefore.toISOString(),
      not_after: leaf.notAfter.toISOString(),
      days_remaining: daysRemaining(leaf.notAfter, now),
      key_algorithm: leaf.keyAlgorithm,
      key_size: leaf.keySize,
      trusted: c.chainTrusted && !c.expired && !c.notYetValid,
      name_match: leaf.nameMatch,
      revocation_status: "unknown",
    },
    problems: sortProblems(problems),
    suites: first.suites,
    not_tested: [...NOT_TESTABLE],
    features: first.features,
  };
}
