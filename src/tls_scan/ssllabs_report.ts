/**
 * The report from a finished SSL Labs assessment (`Host` with status READY or ERROR): SSL Labs'
 * own grades per endpoint, the leaf of the first ready endpoint's first chain (looked up in
 * `Host.certs`), and problems: the certificate's `issues` bits and dates, the endpoints'
 * protocols, suites, forward secrecy and AEAD mapped into the observation problems.ts derives
 * the probe's problems from too ({@linkcode problemsOf}). Pure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildSslLabsReport } from "./ssllabs_report.ts";
 * const report = buildSslLabsReport(
 *   { host: "example.com", status: "ERROR", statusMessage: "Unable to resolve domain name" },
 *   { port: 443, fromCache: false, now: new Date() },
 * );
 * assert.equal(report.status, "ERROR");
 * ```
 *
 * @module
 */
import { signatureHash } from "./certificate.ts";
import { suiteFacts } from "./cipher_suite.ts";
import { type LeafObservation, problemsOf } from "./problems.ts";
import {
  type Certificate,
  daysRemaining,
  type Endpoint,
  errorReport,
  type Features,
  Grade,
  Protocol,
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
 * import assert from "node:assert/strict";
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
 * assert.deepEqual([report.grade, report.problems, report.scanned_at], ["A+", [], "2026-01-01T00:00:00.000Z"]);
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
  const cert = host.certs?.find((c) => c.id === leafId);
  const leaf = cert ? observeLeaf(cert, context.now) : null;
  const suites = toSuites(ready[0]!);
  const features = toFeatures(ready[0]!);
  const problems = problemsOf({
    protocols: [
      ...new Set(endpoints.filter((e) => e.grade !== null).flatMap((e) => e.protocols)),
    ],
    suites,
    features,
    leaf,
    forwardSecrecy: !ready.some((e) => e.details?.forwardSecrecy === 0),
    aead: !ready.some((e) => e.details?.supportsAead === false),
  });
  const certificate = cert && leaf ? toCertificate(cert, leaf) : null;
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
    problems,
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
 * import assert from "node:assert/strict";
 * import { toSuites } from "./ssllabs_report.ts";
 * const suites = toSuites({ ipAddress: "192.0.2.1", details: {
 *   protocols: [{ id: 771, name: "TLS", version: "1.2" }],
 *   suites: [{ protocol: 771, list: [{ name: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
 *     cipherStrength: 128, kxType: "DH", kxStrength: 1024 }] }],
 * } });
 * assert.deepEqual(suites, [{ protocol: "TLS 1.2", name: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
 *   bits: 128, kex: "DH", kex_bits: 1024, forward_secrecy: true, aead: true }]);
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

/** What SSL Labs says of the leaf, in the shape both engines' problems are derived from. */
function observeLeaf(cert: SslLabsCert, now: Date): LeafObservation {
  const issues = cert.issues ?? 0;
  const has = (bit: number) => (issues & bit) !== 0;
  const notAfter = new Date(cert.notAfter);
  return {
    certificate: {
      chainTrusted: !has(CERT_ISSUES.noChainOfTrust),
      expired: has(CERT_ISSUES.notAfter) || now > notAfter,
      notYetValid: has(CERT_ISSUES.notBefore) || now < new Date(cert.notBefore),
      selfSigned: has(CERT_ISSUES.selfSigned),
      revoked: has(CERT_ISSUES.revoked) || cert.revocationStatus === 1,
      nameMatch: !has(CERT_ISSUES.hostnameMismatch),
      signatureHash: signatureHash(cert.sigAlg ?? ""),
    },
    key: { algorithm: /EC/i.test(cert.keyAlg ?? "") ? "EC" : "RSA", bits: cert.keySize ?? 0 },
    daysRemaining: daysRemaining(notAfter, now),
    insecureKey: has(CERT_ISSUES.insecureKey),
    insecureSignature: has(CERT_ISSUES.insecureSignature),
  };
}

/** The leaf as the report shows it. */
function toCertificate(cert: SslLabsCert, leaf: LeafObservation): Certificate {
  const c = leaf.certificate;
  return {
    subject: cert.subject,
    issuer: cert.issuerSubject ?? "",
    not_before: new Date(cert.notBefore).toISOString(),
    not_after: new Date(cert.notAfter).toISOString(),
    days_remaining: leaf.daysRemaining,
    key_algorithm: leaf.key.algorithm,
    key_size: leaf.key.bits,
    trusted: c.chainTrusted && !c.expired && !c.notYetValid,
    name_match: c.nameMatch,
    revocation_status: c.revoked ? "revoked" : cert.revocationStatus === 2 ? "good" : "unknown",
  };
}
