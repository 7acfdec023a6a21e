/**
 * The report from a finished SSL Labs assessment (`Host` with status READY or ERROR): SSL Labs'
 * own grades per endpoint, the leaf of the first ready endpoint's first chain (looked up in
 * `Host.certs`), problems from the certificate's `issues` bits, its dates and the endpoints'
 * protocols, forward secrecy and AEAD. Pure.
 *
 * @example
 * ```ts
 * import { buildSslLabsReport } from "./ssllabs_report.ts";
 * const report = buildSslLabsReport(
 *   { host: "example.com", status: "ERROR", statusMessage: "Unable to resolve domain name" },
 *   { port: 443, fromCache: false, now: new Date() },
 * );
 * report.status; // "ERROR"
 * ```
 *
 * @module
 */
import { signatureHash } from "./certificate.ts";
import { isWeakKey } from "./grading.ts";
import { suiteFacts } from "./cipher_suite.ts";
import { warnings } from "./grading.ts";
import { EXPIRING_SOON_DAYS, protocolProblems, suiteProblems } from "./problems.ts";
import {
  type Certificate,
  daysRemaining,
  type Endpoint,
  errorReport,
  type Features,
  Grade,
  type ProblemCode,
  Protocol,
  sortProblems,
  type Suite,
  type TlsReport,
  worstGrade,
} from "./report.ts";
import {
  CERT_ISSUES,
  CHAIN_ISSUES,
  type SslLabsCert,
  type SslLabsEndpoint,
  type SslLabsHost,
} from "./ssllabs_schema.ts";

/** Context of {@linkcode buildSslLabsReport}. */
export interface SslLabsReportContext {
  readonly port: number;
  /** SSL Labs answered from its cache. */
  readonly fromCache: boolean;
  readonly now: Date;
}

/**
 * Builds the report of a finished assessment.
 *
 * ```ts
 * import { buildSslLabsReport } from "./ssllabs_report.ts";
 * const report = buildSslLabsReport({
 *   host: "example.com",
 *   status: "READY",
 *   testTime: Date.parse("2026-01-01T00:00:00Z"),
 *   endpoints: [{
 *     ipAddress: "93.184.215.14",
 *     statusMessage: "Ready",
 *     grade: "A+",
 *     details: { protocols: [{ name: "TLS", version: "1.2" }, { name: "TLS", version: "1.3" }] },
 *   }],
 * }, { port: 443, fromCache: true, now: new Date("2026-01-01T00:00:05Z") });
 * [report.grade, report.problems, report.scanned_at]; // ["A+", [], "2026-01-01T00:00:00.000Z"]
 * ```
 */
export function buildSslLabsReport(host: SslLabsHost, context: SslLabsReportContext): TlsReport {
  const scannedAt = new Date(host.testTime ?? context.now.getTime());
  const base = {
    host: host.host,
    port: context.port,
    engine: "ssllabs" as const,
    scannedAt,
    fromCache: context.fromCache,
  };
  if (host.status !== "READY") {
    return errorReport({ ...base, message: host.statusMessage ?? "Assessment failed" });
  }
  const endpoints = (host.endpoints ?? []).map(toEndpoint);
  const ready = (host.endpoints ?? []).filter((e) => e.statusMessage === "Ready");
  if (ready.length === 0) {
    const message = endpoints[0]?.status_message ?? host.statusMessage ?? "No endpoint assessed";
    return errorReport({ ...base, message, endpoints });
  }
  const leafId = ready[0]!.details?.certChains?.[0]?.certIds[0];
  const leaf = host.certs?.find((c) => c.id === leafId);
  const problems: ProblemCode[] = [];
  const protocols = new Set(endpoints.filter((e) => e.grade !== null).flatMap((e) => e.protocols));
  problems.push(...protocolProblems([...protocols]));
  if (ready.some((e) => e.details?.forwardSecrecy === 0)) problems.push("no_forward_secrecy");
  if (ready.some((e) => e.details?.supportsAead === false)) problems.push("no_aead");
  const suites = toSuites(ready[0]!);
  problems.push(...suiteProblems({ protocols: [...protocols], suites }));
  const features = toFeatures(ready[0]!);
  if (features.chain_issues.includes("incomplete")) problems.push("incomplete_chain");
  for (const warning of warnings(features)) problems.push(warning as ProblemCode);
  const certificate = leaf ? toCertificate(leaf, context.now, problems) : null;
  return {
    host: host.host,
    port: context.port,
    engine: "ssllabs",
    status: "READY",
    status_message: host.statusMessage ?? "Ready",
    grade: worstGrade(endpoints.map((e) => e.grade)),
    scanned_at: scannedAt.toISOString(),
    from_cache: context.fromCache,
    endpoints,
    certificate,
    problems: sortProblems(problems),
    suites,
    // SSL Labs tests SSL 2/3, RC4 and 3DES itself: nothing is left untested by this engine.
    not_tested: [],
    features,
  };
}

/**
 * SSL Labs' suite lists as the report's `suites` (IANA names, as SSL Labs gives them).
 *
 * @example
 * ```ts
 * toSuites({ ipAddress: "192.0.2.1", details: {
 *   protocols: [{ id: 771, name: "TLS", version: "1.2" }],
 *   suites: [{ protocol: 771, list: [{ name: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
 *     cipherStrength: 128, kxType: "DH", kxStrength: 1024 }] }],
 * } });
 * // [{ protocol: "TLS 1.2", name: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", bits: 128, kex: "DH",
 * //    kex_bits: 1024, forward_secrecy: true, aead: true }]
 * ```
 */
export function toSuites(endpoint: SslLabsEndpoint): Suite[] {
  const names = new Map(
    (endpoint.details?.protocols ?? []).flatMap((p) => p.id === undefined ? [] : [[p.id, p]]),
  );
  const suites: Suite[] = [];
  for (const group of endpoint.details?.suites ?? []) {
    const known = names.get(group.protocol);
    const protocol = Protocol.safeParse(known ? `${known.name} ${known.version}` : "");
    if (!protocol.success) continue;
    for (const suite of group.list ?? []) {
      const facts = suiteFacts(suite.name);
      const kex = suite.kxType ?? (protocol.data === "TLS 1.3" ? "ECDH" : "RSA");
      const ephemeral = kex === "ECDH" || kex === "DH";
      suites.push({
        protocol: protocol.data,
        name: suite.name,
        bits: suite.cipherStrength ?? facts.bits,
        kex,
        kex_bits: kex === "DH"
          ? suite.kxStrength ?? null
          : kex === "ECDH"
          ? suite.namedGroupBits ?? null
          : null,
        forward_secrecy: ephemeral && facts.forwardSecrecy,
        aead: facts.aead,
      });
    }
  }
  return suites;
}

function toFeatures(endpoint: SslLabsEndpoint): Features {
  const details = endpoint.details;
  const chainBits = details?.certChains?.[0]?.issues ?? 0;
  const chainIssues: Features["chain_issues"] = [];
  if (chainBits & CHAIN_ISSUES.incomplete) chainIssues.push("incomplete");
  if (chainBits & CHAIN_ISSUES.unrelated) chainIssues.push("extra");
  if (chainBits & CHAIN_ISSUES.order) chainIssues.push("order");
  const reneg = details?.renegSupport;
  return {
    secure_renegotiation: reneg === undefined ? null : (reneg & 2) !== 0,
    fallback_scsv: details?.fallbackScsv ?? null,
    ocsp_stapling: details?.ocspStapling ?? null,
    chain_length: details?.certChains?.[0]?.certIds.length ?? null,
    chain_issues: chainIssues,
  };
}

function toEndpoint(endpoint: SslLabsEndpoint): Endpoint {
  const ready = endpoint.statusMessage === "Ready";
  const grade = Grade.safeParse(endpoint.grade);
  const protocols = (endpoint.details?.protocols ?? [])
    .map((p) => Protocol.safeParse(`${p.name} ${p.version}`))
    .flatMap((p) => (p.success ? [p.data] : []));
  return {
    ip_address: endpoint.ipAddress,
    grade: ready && grade.success ? grade.data : null,
    has_warnings: endpoint.hasWarnings ?? false,
    protocols,
    status_message: endpoint.statusMessage ?? "Unknown",
  };
}

/** The leaf as the report shows it; pushes the certificate's problems onto `problems`. */
function toCertificate(cert: SslLabsCert, now: Date, problems: ProblemCode[]): Certificate {
  const issues = cert.issues ?? 0;
  const has = (bit: number) => (issues & bit) !== 0;
  const notBefore = new Date(cert.notBefore);
  const notAfter = new Date(cert.notAfter);
  const days = daysRemaining(notAfter, now);
  const expired = has(CERT_ISSUES.notAfter) || now > notAfter;
  const notYetValid = has(CERT_ISSUES.notBefore) || now < notBefore;
  const keyAlgorithm = /EC/i.test(cert.keyAlg ?? "") ? "EC" : "RSA";
  const keySize = cert.keySize ?? 0;
  const revoked = has(CERT_ISSUES.revoked) || cert.revocationStatus === 1;
  const hash = signatureHash(cert.sigAlg ?? "");
  if (expired) problems.push("expired");
  if (notYetValid) problems.push("not_yet_valid");
  if (!expired && !notYetValid && days >= 0 && days < EXPIRING_SOON_DAYS) {
    problems.push("expiring_soon");
  }
  if (has(CERT_ISSUES.noChainOfTrust)) problems.push("untrusted");
  if (has(CERT_ISSUES.selfSigned)) problems.push("self_signed");
  if (has(CERT_ISSUES.hostnameMismatch)) problems.push("name_mismatch");
  if (revoked) problems.push("revoked");
  if (has(CERT_ISSUES.insecureKey) || isWeakKey({ algorithm: keyAlgorithm, bits: keySize })) {
    problems.push("weak_key");
  }
  if (has(CERT_ISSUES.insecureSignature) || hash === "md5" || hash === "sha1") {
    problems.push("weak_signature");
  }
  return {
    subject: cert.subject,
    issuer: cert.issuerSubject ?? "",
    not_before: notBefore.toISOString(),
    not_after: notAfter.toISOString(),
    days_remaining: days,
    key_algorithm: keyAlgorithm,
    key_size: keySize,
    trusted: !has(CERT_ISSUES.noChainOfTrust) && !expired && !notYetValid,
    name_match: !has(CERT_ISSUES.hostnameMismatch),
    revocation_status: revoked ? "revoked" : cert.revocationStatus === 2 ? "good" : "unknown",
  };
}
