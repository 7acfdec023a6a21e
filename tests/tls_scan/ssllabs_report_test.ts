import assert from "node:assert/strict";
import { TlsReport } from "../../src/tls_scan/report.ts";
import { buildSslLabsReport } from "../../src/tls_scan/ssllabs_report.ts";
import { SslLabsHost } from "../../src/tls_scan/ssllabs_schema.ts";
import { readyHost } from "../../tools/tls_scan/ssllabs_fixtures.ts";

const NOW = Date.parse("2026-06-01T00:00:00Z");

function build(fixture: unknown, fromCache = false) {
  return TlsReport.parse(
    buildSslLabsReport(SslLabsHost.parse(fixture), { port: 443, fromCache, now: new Date(NOW) }),
  );
}

Deno.test("a READY host: grades, protocols, the leaf through certChains, ms timestamps", () => {
  const report = build(readyHost("www.example.com", { now: NOW, notAfterDays: 90 }), true);
  assert.equal(report.status, "READY");
  assert.equal(report.engine, "ssllabs");
  assert.equal(report.grade, "A");
  assert.equal(report.from_cache, true);
  assert.equal(report.scanned_at, new Date(NOW).toISOString());
  assert.deepEqual(report.endpoints, [{
    ip_address: "192.0.2.10",
    grade: "A",
    has_warnings: false,
    protocols: ["TLS 1.2", "TLS 1.3"],
    status_message: "Ready",
  }]);
  const cert = report.certificate!;
  assert.equal(cert.subject, "CN=www.example.com, O=Example Org, L=Springfield, ST=State, C=US");
  assert.equal(cert.issuer, "CN=Example Issuing CA, O=Example Trust, C=US");
  assert.equal(cert.days_remaining, 90);
  assert.deepEqual([cert.key_algorithm, cert.key_size, cert.trusted, cert.name_match], [
    "RSA",
    2048,
    true,
    true,
  ]);
  assert.equal(cert.revocation_status, "good");
  assert.deepEqual(report.problems, []);
});

Deno.test("the worst endpoint's grade; failed endpoints have none", () => {
  const fixture = readyHost("multi.example", {
    now: NOW,
    addresses: ["192.0.2.1", "192.0.2.2", "2001:db8::1"],
  });
  fixture.endpoints[1]!.grade = "B";
  fixture.endpoints[2]!.statusMessage = "Unable to connect to the server";
  const report = build(fixture);
  assert.equal(report.grade, "B");
  assert.deepEqual(report.endpoints.map((e) => e.grade), ["A", "B", null]);
});

Deno.test("problems from issues bits, dates, protocols, forward secrecy, AEAD and revocation", () => {
  const report = build(readyHost("bad.example", {
    now: NOW,
    grade: "T",
    protocols: ["1.0", "1.1"],
    notAfterDays: 12,
    issues: 1 | 8 | 64 | 256 | 512,
    keySize: 1024,
    sigAlg: "SHA1withRSA",
    forwardSecrecy: 0,
    supportsAead: false,
    revocationStatus: 1,
  }));
  assert.deepEqual(report.problems, [
    "expiring_soon",
    "untrusted",
    "self_signed",
    "name_mismatch",
    "revoked",
    "weak_key",
    "weak_signature",
    "tls1_0",
    "tls1_1",
    "legacy_only",
    "no_tls1_3",
    "no_forward_secrecy",
    "no_aead",
  ]);
  assert.equal(report.certificate!.revocation_status, "revoked");
  assert.equal(report.certificate!.trusted, false);
  assert.equal(report.certificate!.name_match, false);
});

Deno.test("an expired leaf of a trusted chain is expired, not untrusted", () => {
  const report = build(
    readyHost("old.example", { now: NOW, notAfterDays: -3, issues: 4, grade: "T" }),
  );
  assert.deepEqual(report.problems, ["expired"]);
  assert.equal(report.certificate!.days_remaining, -3);
  assert.equal(report.certificate!.trusted, false);
});

Deno.test("READY with no endpoint ready is a finished ERROR report", () => {
  const fixture = readyHost("down.example", { now: NOW });
  fixture.endpoints[0]!.statusMessage = "Unable to connect to the server";
  const report = build(fixture);
  assert.equal(report.status, "ERROR");
  assert.equal(report.status_message, "Unable to connect to the server");
  assert.equal(report.certificate, null);
});

Deno.test("SSL Labs' suite list becomes suites; weak DH, fallback and renegotiation map too", () => {
  const report = build(readyHost("dh.example", { now: NOW, dhBits: 1024, fallbackScsv: false }));
  assert.deepEqual(report.suites.filter((s) => s.protocol === "TLS 1.2"), [
    {
      protocol: "TLS 1.2",
      name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      bits: 128,
      kex: "ECDH",
      kex_bits: 253,
      forward_secrecy: true,
      aead: true,
    },
    {
      protocol: "TLS 1.2",
      name: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
      bits: 128,
      kex: "DH",
      kex_bits: 1024,
      forward_secrecy: true,
      aead: true,
    },
    {
      protocol: "TLS 1.2",
      name: "TLS_RSA_WITH_AES_128_CBC_SHA",
      bits: 128,
      kex: "RSA",
      kex_bits: null,
      forward_secrecy: false,
      aead: false,
    },
  ]);
  assert.equal(report.suites.filter((s) => s.protocol === "TLS 1.3").length, 2);
  assert.deepEqual(report.problems, ["weak_dh", "no_fallback_scsv"]);
  assert.deepEqual(report.features, {
    secure_renegotiation: true,
    fallback_scsv: false,
    ocsp_stapling: false,
    chain_length: 2,
    chain_issues: [],
  });
  assert.deepEqual(report.not_tested, [], "SSL Labs tests SSL 2/3, RC4 and 3DES itself");
});
