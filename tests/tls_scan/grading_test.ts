import assert from "node:assert/strict";
import {
  caps,
  cipherScore,
  gradeEndpoint,
  keyExchangeScore,
  type Posture,
  protocolScore,
  scoreGrade,
} from "../../src/tls_scan/grading.ts";
import { postureProblems } from "../../src/tls_scan/problems.ts";
import { Features, type Suite, worstGrade } from "../../src/tls_scan/report.ts";

function suite(name: string, changes: Partial<Suite> = {}): Suite {
  return {
    protocol: "TLS 1.2",
    name,
    bits: 256,
    kex: "ECDH",
    kex_bits: 253,
    forward_secrecy: true,
    aead: true,
    ...changes,
  };
}

const STRONG = [
  suite("TLS_AES_256_GCM_SHA384", { protocol: "TLS 1.3" }),
  suite("ECDHE-RSA-AES256-GCM-SHA384"),
];
const RSA_CBC = suite("AES128-SHA", {
  bits: 128,
  kex: "RSA",
  kex_bits: null,
  forward_secrecy: false,
  aead: false,
});

const GOOD: Posture = {
  protocols: ["TLS 1.2", "TLS 1.3"],
  key: { algorithm: "RSA", bits: 2048 },
  suites: STRONG,
  features: Features.parse({ secure_renegotiation: true, fallback_scsv: true }),
  certificate: {
    chainTrusted: true,
    expired: false,
    notYetValid: false,
    selfSigned: false,
    revoked: false,
    nameMatch: true,
    signatureHash: "sha256",
  },
  hstsMaxAge: null,
};

function withCert(changes: Partial<Posture["certificate"]>): Posture {
  return { ...GOOD, certificate: { ...GOOD.certificate, ...changes } };
}

Deno.test("the guide's score tables", () => {
  assert.equal(protocolScore(["TLS 1.2", "TLS 1.3"]), 100);
  assert.equal(protocolScore(["TLS 1.0", "TLS 1.3"]), 95);
  assert.equal(protocolScore(["TLS 1.0", "TLS 1.1"]), 92.5);
  assert.equal(protocolScore(["SSL 2.0", "TLS 1.2"]), 50);
  assert.equal(protocolScore([]), 0);
  assert.deepEqual(
    [511, 1023, 2047, 4095, 4096].map((bits) => keyExchangeScore({ algorithm: "RSA", bits })),
    [20, 40, 80, 90, 100],
  );
  assert.deepEqual(
    [109, 122, 162, 224, 256].map((bits) => keyExchangeScore({ algorithm: "EC", bits })),
    [20, 40, 80, 90, 100],
  );
  assert.deepEqual([0, 56, 112, 128, 256].map(cipherScore), [0, 20, 20, 80, 100]);
  assert.deepEqual([80, 79, 65, 64, 50, 35, 20, 19].map(scoreGrade), [
    "A",
    "B",
    "B",
    "C",
    "C",
    "D",
    "E",
    "F",
  ]);
});

Deno.test("a good configuration is A, and A+ with a long HSTS max-age only", () => {
  assert.deepEqual(gradeEndpoint(GOOD).grade, "A");
  assert.equal(gradeEndpoint(GOOD).score, 97, "0.3 × 100 + 0.3 × 90 (RSA 2048) + 0.4 × 100");
  assert.equal(gradeEndpoint({ ...GOOD, hstsMaxAge: 15_552_000 }).grade, "A+");
  assert.equal(gradeEndpoint({ ...GOOD, hstsMaxAge: 15_551_999 }).grade, "A");
  // A+ lifts only an A: a capped grade keeps its cap.
  const noAead = [suite("ECDHE-RSA-AES256-SHA384", { protocol: "TLS 1.2", aead: false })];
  assert.equal(
    gradeEndpoint({ ...GOOD, protocols: ["TLS 1.2"], suites: noAead, hstsMaxAge: 31_536_000 })
      .grade,
    "B",
  );
});

Deno.test("each cap on its own", () => {
  const cases: [string, Posture, string][] = [
    ["untrusted", withCert({ chainTrusted: false }), "T"],
    ["self-signed", withCert({ selfSigned: true, chainTrusted: false }), "T"],
    ["expired", withCert({ expired: true }), "T"],
    ["not yet valid", withCert({ notYetValid: true }), "T"],
    ["revoked", withCert({ revoked: true }), "T"],
    ["name mismatch", withCert({ nameMatch: false }), "M"],
    ["MD5 signature", withCert({ signatureHash: "md5" }), "F"],
    ["SHA-1 signature", withCert({ signatureHash: "sha1" }), "T"],
    ["SSL 2", { ...GOOD, protocols: ["SSL 2.0", "TLS 1.2"] }, "F"],
    ["SSL 3 beside TLS", { ...GOOD, protocols: ["SSL 3.0", "TLS 1.2"] }, "B"],
    ["SSL 3 as the best", { ...GOOD, protocols: ["SSL 3.0"] }, "F"],
    ["TLS 1.0", { ...GOOD, protocols: ["TLS 1.0", "TLS 1.2", "TLS 1.3"] }, "B"],
    ["TLS 1.1", { ...GOOD, protocols: ["TLS 1.1", "TLS 1.2"] }, "B"],
    ["legacy only", { ...GOOD, protocols: ["TLS 1.0", "TLS 1.1"] }, "C"],
    ["RSA 1024", { ...GOOD, key: { algorithm: "RSA", bits: 1024 } }, "B"],
    ["RSA 512", { ...GOOD, key: { algorithm: "RSA", bits: 512 } }, "F"],
    ["EC 192", { ...GOOD, key: { algorithm: "EC", bits: 192 } }, "B"],
    ["EC 256", { ...GOOD, key: { algorithm: "EC", bits: 256 } }, "A"],
    ["no forward secrecy", {
      ...GOOD,
      protocols: ["TLS 1.2"],
      suites: [suite("AES256-GCM-SHA384", { kex: "RSA", kex_bits: null, forward_secrecy: false })],
    }, "B"],
    ["no AEAD", {
      ...GOOD,
      protocols: ["TLS 1.2"],
      suites: [suite("ECDHE-RSA-AES256-SHA384", { aead: false })],
    }, "B"],
    ["a strong preferred suite beside RSA-CBC", { ...GOOD, suites: [...STRONG, RSA_CBC] }, "A"],
    ["DH 1024", {
      ...GOOD,
      suites: [...STRONG, suite("DHE-RSA-AES128-GCM-SHA256", { kex: "DH", kex_bits: 1024 })],
    }, "B"],
    ["DH 768", {
      ...GOOD,
      suites: [...STRONG, suite("DHE-RSA-AES128-GCM-SHA256", { kex: "DH", kex_bits: 768 })],
    }, "F"],
    ["DH 2048", {
      ...GOOD,
      suites: [...STRONG, suite("DHE-RSA-AES128-GCM-SHA256", { kex: "DH", kex_bits: 2048 })],
    }, "A"],
    ["3DES with TLS 1.2", {
      ...GOOD,
      suites: [...STRONG, suite("DES-CBC3-SHA", { bits: 112, aead: false })],
    }, "C"],
    ["RC4 with TLS 1.2", {
      ...GOOD,
      suites: [...STRONG, suite("RC4-SHA", { bits: 128, aead: false })],
    }, "C"],
    ["an EXPORT suite", {
      ...GOOD,
      suites: [...STRONG, suite("EXP-RC4-MD5", { bits: 40, aead: false })],
    }, "F"],
    ["an anonymous suite", { ...GOOD, suites: [...STRONG, suite("ADH-AES128-GCM-SHA256")] }, "F"],
    ["no secure renegotiation: A-", {
      ...GOOD,
      features: Features.parse({ secure_renegotiation: false }),
    }, "A-"],
    [
      "no TLS_FALLBACK_SCSV: A-",
      { ...GOOD, features: Features.parse({ fallback_scsv: false }) },
      "A-",
    ],
    ["certificates out of order: A-", {
      ...GOOD,
      features: Features.parse({ chain_issues: ["order"] }),
    }, "A-"],
    ["an incomplete chain: B", {
      ...GOOD,
      features: Features.parse({ chain_issues: ["incomplete"] }),
    }, "B"],
    ["no TLS 1.3 (no cap)", { ...GOOD, protocols: ["TLS 1.2"] }, "A"],
  ];
  for (const [name, posture, grade] of cases) {
    assert.equal(gradeEndpoint(posture).grade, grade, name);
  }
});

Deno.test("the worst cap wins; M ranks below T below F", () => {
  const both = withCert({ chainTrusted: false, nameMatch: false });
  assert.equal(gradeEndpoint(both).grade, "M");
  assert.deepEqual(caps(both).map((c) => c.rule), ["untrusted", "name_mismatch"]);
  assert.equal(
    gradeEndpoint({ ...withCert({ expired: true }), suites: [...STRONG, RSA_CBC] }).grade,
    "T",
  );
  assert.equal(worstGrade(["A+", "B", null, "A"]), "B");
  assert.equal(worstGrade(["F", "T"]), "T");
  assert.equal(worstGrade([null]), null);
});

Deno.test("a zero in any category makes the score 0 (F)", () => {
  const nullCipher = gradeEndpoint({
    ...GOOD,
    suites: [...STRONG, suite("NULL-SHA256", { bits: 0, aead: false })],
  });
  assert.equal(nullCipher.scores.cipher, 50, "(best 100 + worst 0) / 2");
  assert.equal(nullCipher.grade, "F", "a NULL suite caps at F");
  const anonymous = gradeEndpoint({ ...GOOD, suites: [suite("ADH-AES256-GCM-SHA384")] });
  assert.equal(anonymous.score, 0, "anonymous key exchange scores 0");
});

Deno.test("cipher strength is the mean of the best and the worst suite", () => {
  const mixed = gradeEndpoint({ ...GOOD, suites: [...STRONG, RSA_CBC] });
  assert.equal(mixed.scores.cipher, 90, "(100 + 80) / 2");
  const dh = gradeEndpoint({
    ...GOOD,
    suites: [...STRONG, suite("DHE-RSA-AES256-GCM-SHA384", { kex: "DH", kex_bits: 1024 })],
  });
  assert.equal(dh.scores.keyExchange, 80, "the weakest group: DH 1024 → 80");
});

Deno.test("problems: each only when it holds", () => {
  assert.deepEqual(postureProblems(GOOD, 200), []);
  assert.deepEqual(postureProblems(GOOD, 29), ["expiring_soon"]);
  assert.deepEqual(postureProblems(GOOD, 30), []);
  assert.deepEqual(postureProblems(withCert({ expired: true }), -3), ["expired"]);
  assert.deepEqual(postureProblems(withCert({ notYetValid: true }), 300), ["not_yet_valid"]);
  assert.deepEqual(postureProblems(withCert({ chainTrusted: false, selfSigned: true }), 300), [
    "untrusted",
    "self_signed",
  ]);
  assert.deepEqual(
    postureProblems({
      ...GOOD,
      protocols: ["TLS 1.0", "TLS 1.1"],
      suites: [suite("ECDHE-RSA-AES256-SHA", { protocol: "TLS 1.1", aead: false })],
    }, 300),
    ["tls1_0", "tls1_1", "legacy_only", "no_tls1_3", "no_aead"],
  );
  assert.deepEqual(postureProblems({ ...GOOD, suites: [...STRONG, RSA_CBC] }, 300), []);
  assert.deepEqual(
    postureProblems({
      ...GOOD,
      suites: [...STRONG, suite("DHE-RSA-AES128-GCM-SHA256", { kex: "DH", kex_bits: 1024 })],
      features: Features.parse({ secure_renegotiation: false, fallback_scsv: false }),
    }, 300),
    ["weak_dh", "insecure_renegotiation", "no_fallback_scsv"],
  );
  assert.deepEqual(
    postureProblems(
      { ...withCert({ signatureHash: "sha1" }), key: { algorithm: "EC", bits: 192 } },
      300,
    ),
    ["weak_key", "weak_signature"],
  );
});
