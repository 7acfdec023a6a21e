import assert from "node:assert/strict";
import { suiteFacts } from "../../src/tls_scan/cipher_suite.ts";
import { parseHstsMaxAge } from "../../src/tls_scan/probe_endpoint.ts";
import {
  classifyFailure,
  MAX_PARSED_CHARS,
  parseSession,
} from "../../src/tls_scan/s_client_output.ts";

// Shapes of real OpenSSL 3.0.19 s_client output (certificate bodies shortened).
const TLS13 = `CONNECTED(00000003)
---
Certificate chain
 0 s:CN = localhost
   i:CN = Test CA
   a:PKEY: rsaEncryption, 2048 (bit); sigalg: RSA-SHA256
-----BEGIN CERTIFICATE-----
MIIB
-----END CERTIFICATE-----
---
Verification: OK
---
New, TLSv1.3, Cipher is TLS_AES_256_GCM_SHA384
Server public key is 2048 bit
Verify return code: 0 (ok)
---
`;

const TLS11 = `CONNECTED(00000003)
---
Certificate chain
-----BEGIN CERTIFICATE-----
AAAA
-----END CERTIFICATE-----
-----BEGIN CERTIFICATE-----
BBBB
-----END CERTIFICATE-----
New, TLSv1.0, Cipher is ECDHE-RSA-AES256-SHA
SSL-Session:
    Protocol  : TLSv1.1
    Cipher    : ECDHE-RSA-AES256-SHA
    Verify return code: 20 (unable to get local issuer certificate)
`;

Deno.test("showcerts: chain, protocol, suite and verify code", () => {
  const shown = parseSession(TLS13);
  assert.equal(shown.chain.length, 1);
  assert.equal(shown.protocol, "TLS 1.3");
  assert.equal(shown.cipher, "TLS_AES_256_GCM_SHA384");
  assert.equal(shown.verifyCode, 0);
});

Deno.test("showcerts: the session's protocol wins over the record version", () => {
  const shown = parseSession(TLS11);
  assert.equal(shown.chain.length, 2);
  assert.equal(shown.protocol, "TLS 1.1");
  assert.equal(shown.verifyCode, 20);
  assert.equal(shown.verifyText, "unable to get local issuer certificate");
});

Deno.test("brief: the negotiated protocol, or nothing", () => {
  const brief = parseSession(
    "CONNECTION ESTABLISHED\nProtocol version: TLSv1\nCiphersuite: ECDHE-RSA-AES256-SHA\n" +
      "Server Temp Key: ECDH, prime256v1, 256 bits\n",
  );
  assert.deepEqual([brief.protocol, brief.cipher], ["TLS 1.0", "ECDHE-RSA-AES256-SHA"]);
  assert.deepEqual(brief.tempKey, { type: "ECDH", bits: 256 });
  const failed = parseSession("error:0A000438:SSL routines::tlsv1 alert internal error");
  assert.deepEqual([failed.protocol, failed.cipher], [undefined, undefined]);
});

Deno.test("a stapled OCSP response's signer certificate is not the chain", () => {
  const seen = parseSession(
    "CONNECTED(00000003)\nOCSP response: \n======\nOCSP Response Data:\n" +
      "    OCSP Response Status: successful (0x0)\nCertificate:\n" +
      "-----BEGIN CERTIFICATE-----\nSIGNER\n-----END CERTIFICATE-----\n======\n---\n" +
      "Certificate chain\n 0 s:CN = localhost\n-----BEGIN CERTIFICATE-----\nLEAF\n" +
      "-----END CERTIFICATE-----\n---\nNew, TLSv1.3, Cipher is TLS_AES_128_GCM_SHA256\n",
  );
  assert.deepEqual(seen.chain, [
    "-----BEGIN CERTIFICATE-----\nLEAF\n-----END CERTIFICATE-----",
  ]);
  assert.equal(seen.ocspStapled, true);
});

Deno.test("a failed handshake's session block names no protocol", () => {
  // s_client prints the SSL-Session block even after an alert, with cipher 0000.
  const failed = parseSession(
    "CONNECTED(00000003)\nNew, (NONE), Cipher is (NONE)\nSSL-Session:\n" +
      "    Protocol  : TLSv1.2\n    Cipher    : 0000\n",
  );
  assert.deepEqual([failed.protocol, failed.cipher], [undefined, undefined]);
});

Deno.test("renegotiation, OCSP stapling and the temp key from a full run", () => {
  const seen = parseSession(
    "CONNECTED(00000003)\nOCSP response: no response sent\nServer Temp Key: X25519, 253 bits\n" +
      "New, TLSv1.2, Cipher is ECDHE-RSA-AES128-GCM-SHA256\n" +
      "Secure Renegotiation IS NOT supported\n",
  );
  assert.equal(seen.secureRenegotiation, false);
  assert.equal(seen.ocspStapled, false);
  assert.deepEqual(seen.tempKey, { type: "X25519", bits: 253 });
});

Deno.test("parsing is linear and capped: hostile output of the 256 KiB cap parses at once", () => {
  // The old `^\s+Protocol` regexes took 552 ms on 16 KiB of this and ~140 s at 256 KiB; one
  // pass over lines takes milliseconds. The bound is 100× generous for a loaded machine.
  const hostile = [
    " ".repeat(MAX_PARSED_CHARS),
    `${"\n ".repeat(MAX_PARSED_CHARS / 2)}Protocol`,
    `${" \t".repeat(MAX_PARSED_CHARS / 2)}Verify return code: `,
    "-----BEGIN CERTIFICATE-----\n" + "A".repeat(MAX_PARSED_CHARS),
  ];
  for (const text of hostile) {
    const started = performance.now();
    const seen = parseSession(text + text); // past the cap: the rest is not read
    classifyFailure({ stdout: text, stderr: text, timedOut: false, timeoutMs: 1_000 });
    const ms = performance.now() - started;
    assert.equal(seen.protocol, undefined);
    assert.deepEqual(seen.chain, [], "an unterminated PEM is no certificate");
    assert.ok(ms < 2_000, `${ms} ms`);
  }
});

Deno.test("failures are named: refused, not TLS, timeout, alert", () => {
  const base = { stdout: "", stderr: "", timedOut: false, timeoutMs: 8_000 };
  assert.equal(
    classifyFailure({ ...base, stderr: "BIO_connect:Connection refused\nconnect:errno=111" }).kind,
    "refused",
  );
  assert.equal(
    classifyFailure({
      ...base,
      stdout: "CONNECTED(00000003)\n",
      stderr: "ssl3_get_record:wrong version number:../ssl/record/ssl3_record.c:350:",
    }).kind,
    "not_tls",
  );
  const timeout = classifyFailure({ ...base, timedOut: true });
  assert.equal(timeout.kind, "timeout");
  assert.match(timeout.message, /8 s/);
  const alert = classifyFailure({
    ...base,
    stdout: "CONNECTED(00000003)\n",
    stderr: "80:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure:x.c:1:",
  });
  assert.deepEqual(alert, {
    kind: "handshake_failed",
    message: "TLS handshake failed (sslv3 alert handshake failure)",
  });
});

Deno.test("suite facts from OpenSSL and IANA names", () => {
  assert.deepEqual(suiteFacts("TLS_AES_128_GCM_SHA256"), {
    bits: 128,
    forwardSecrecy: true,
    aead: true,
  });
  assert.deepEqual(suiteFacts("ECDHE-RSA-AES256-GCM-SHA384"), {
    bits: 256,
    forwardSecrecy: true,
    aead: true,
  });
  assert.deepEqual(suiteFacts("AES256-GCM-SHA384"), {
    bits: 256,
    forwardSecrecy: false,
    aead: true,
  });
  assert.deepEqual(suiteFacts("ECDHE-RSA-AES128-SHA256"), {
    bits: 128,
    forwardSecrecy: true,
    aead: false,
  });
  assert.deepEqual(suiteFacts("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"), {
    bits: 256,
    forwardSecrecy: true,
    aead: true,
  });
  assert.equal(suiteFacts("DES-CBC3-SHA").bits, 112);
  assert.equal(suiteFacts("TLS_RSA_WITH_NULL_SHA").bits, 0);
});

Deno.test("HSTS max-age from response headers only", () => {
  const ok =
    "HTTP/1.1 200 OK\r\nstrict-transport-security: max-age=31536000; includeSubDomains\r\n\r\n";
  assert.equal(parseHstsMaxAge(ok), 31_536_000);
  assert.equal(
    parseHstsMaxAge('HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age="600"\r\n\r\n'),
    600,
  );
  assert.equal(parseHstsMaxAge("HTTP/1.0 200 ok\r\nContent-type: text/html\r\n\r\n"), null);
  assert.equal(
    parseHstsMaxAge("HTTP/1.1 200 OK\r\n\r\nStrict-Transport-Security: max-age=99999999\r\n"),
    null,
    "a header-like line in the body is not a header",
  );
  assert.equal(parseHstsMaxAge("garbage"), null);
});
