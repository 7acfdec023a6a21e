import assert from "node:assert/strict";
import { createProbeEngine } from "../../src/tls_scan/probe_engine.ts";
import { TlsReport } from "../../src/tls_scan/report.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";

interface Expected {
  readonly grade: string | null;
  readonly protocols: readonly string[];
  readonly problems: readonly string[];
  readonly message?: RegExp;
}

const MODERN = ["TLS 1.2", "TLS 1.3"];

/** What the probe must see of each fleet server: exact protocols, problems and grade. */
const EXPECTED: Readonly<Record<string, Expected>> = {
  good: { grade: "A", protocols: MODERN, problems: [] },
  hsts: { grade: "A+", protocols: MODERN, problems: [] },
  expiring: { grade: "A", protocols: MODERN, problems: ["expiring_soon"] },
  expired: { grade: "T", protocols: MODERN, problems: ["expired"] },
  not_yet_valid: { grade: "T", protocols: MODERN, problems: ["not_yet_valid"] },
  self_signed: { grade: "T", protocols: MODERN, problems: ["untrusted", "self_signed"] },
  // Without AIA fetching a missing intermediate and an unknown CA look the same: the chain as
  // sent stops short of a root nobody could find.
  unknown_ca: { grade: "T", protocols: MODERN, problems: ["untrusted", "incomplete_chain"] },
  mismatch: { grade: "M", protocols: MODERN, problems: ["name_mismatch"] },
  // s_server's automatic DH group follows the key size: 1024 bits beside an RSA-1024 leaf.
  weak_key: { grade: "B", protocols: MODERN, problems: ["weak_key", "weak_dh"] },
  ecdsa: { grade: "A", protocols: MODERN, problems: [] },
  sha1: { grade: "T", protocols: MODERN, problems: ["weak_signature"] },
  legacy: {
    grade: "B",
    protocols: ["TLS 1.0", "TLS 1.1", ...MODERN],
    problems: ["tls1_0", "tls1_1"],
  },
  legacy_only: {
    grade: "C",
    protocols: ["TLS 1.0", "TLS 1.1"],
    problems: ["tls1_0", "tls1_1", "legacy_only", "no_tls1_3", "no_aead"],
  },
  tls13_only: { grade: "A", protocols: ["TLS 1.3"], problems: [] },
  tls12_only: { grade: "A", protocols: ["TLS 1.2"], problems: ["no_tls1_3"] },
  no_fs: { grade: "B", protocols: ["TLS 1.2"], problems: ["no_tls1_3", "no_forward_secrecy"] },
  no_aead: { grade: "B", protocols: ["TLS 1.2"], problems: ["no_tls1_3", "no_aead"] },
  weak_dh: { grade: "B", protocols: ["TLS 1.2"], problems: ["no_tls1_3", "weak_dh"] },
  strong_dh: { grade: "A", protocols: MODERN, problems: [] },
  mixed: { grade: "A", protocols: MODERN, problems: [] },
  chacha: { grade: "A", protocols: MODERN, problems: [] },
  p384: { grade: "A", protocols: MODERN, problems: [] },
  rsa4096: { grade: "A", protocols: MODERN, problems: [] },
  many: {
    grade: "B",
    protocols: ["TLS 1.0", "TLS 1.1", ...MODERN],
    problems: ["tls1_0", "tls1_1"],
  },
  chain_ok: { grade: "A", protocols: MODERN, problems: [] },
  incomplete: { grade: "T", protocols: MODERN, problems: ["untrusted", "incomplete_chain"] },
  misordered: { grade: "A-", protocols: MODERN, problems: ["chain_issues"] },
  plain: { grade: null, protocols: [], problems: [], message: /does not speak TLS/ },
  closed: { grade: null, protocols: [], problems: [], message: /Connection refused/ },
  silent: { grade: null, protocols: [], problems: [], message: /No TLS answer within 2 s/ },
};

Deno.test("the probe against every fleet server: exact protocols, problems and grade", async () => {
  await using fleet = await startFleet();
  const engine = createProbeEngine({ timeoutMs: 2_000, concurrency: 4, caFile: fleet.caFile });
  await engine.start(AbortSignal.timeout(5_000));
  assert.deepEqual(fleet.targets.map((t) => t.name).sort(), Object.keys(EXPECTED).sort());
  const signal = new AbortController().signal;
  const reports = await Promise.all(fleet.targets.map(async (target) => {
    const before = target.connections();
    const result = await engine.scan(
      { host: target.host, port: target.port, kind: "name", addresses: ["127.0.0.1"] },
      { fresh: false, signal },
    );
    assert.equal(result.kind, "report");
    return {
      target,
      report: (result as { report: TlsReport }).report,
      connections: target.connections() - before,
    };
  }));
  for (const { target, report, connections } of reports) {
    const expected = EXPECTED[target.name]!;
    const label = `${target.name}: ${JSON.stringify(report)}`;
    TlsReport.parse(report);
    assert.equal(report.grade, expected.grade, label);
    assert.deepEqual(report.problems, expected.problems, label);
    assert.deepEqual(report.endpoints.flatMap((e) => e.protocols), expected.protocols, label);
    if (expected.grade === null) {
      assert.equal(report.status, "ERROR", label);
      assert.match(report.status_message, expected.message!, label);
      assert.equal(report.certificate, null);
    } else {
      assert.equal(report.status, "READY", label);
      assert.equal(report.certificate?.revocation_status, "unknown", "revocation is never claimed");
    }
    // The budget: the showcerts run, one per accepted suite, one per elimination chain (at
    // most 4 per protocol), the fallback check, HSTS for an A, a retry per timeout.
    if (target.tls) {
      const floor = report.suites.length + 1;
      assert.ok(connections >= floor && connections <= floor + 24, `${label}: ${connections}`);
    }
    if (target.name === "plain" || target.name === "silent") assert.equal(connections, 1, label);
  }
  const byName = Object.fromEntries(reports.map((r) => [r.target.name, r.report]));
  const good = byName.good!.certificate!;
  assert.equal(good.subject, "CN=localhost, O=edr tests");
  assert.equal(good.issuer, "CN=edr-tls-scan test CA, O=edr-preprocessor tests");
  assert.deepEqual([good.key_algorithm, good.key_size, good.trusted, good.name_match], [
    "RSA",
    2048,
    true,
    true,
  ]);
  assert.ok(
    good.days_remaining === 364 || good.days_remaining === 365,
    String(good.days_remaining),
  );
  assert.deepEqual(
    [byName.ecdsa!.certificate!.key_algorithm, byName.ecdsa!.certificate!.key_size],
    ["EC", 256],
  );
  assert.equal(byName.weak_key!.certificate!.key_size, 1024);
  assert.equal(byName.expired!.certificate!.trusted, false, "an expired leaf is not trusted …");
  assert.equal(byName.expired!.certificate!.days_remaining, -30);
  assert.equal(byName.mismatch!.certificate!.trusted, true, "… while the name is judged apart");
  assert.equal(byName.mismatch!.certificate!.name_match, false);
  assert.equal(byName.expiring!.certificate!.days_remaining, 10);
  assert.deepEqual(
    [byName.p384!.certificate!.key_algorithm, byName.p384!.certificate!.key_size],
    ["EC", 384],
  );
  assert.equal(byName.rsa4096!.certificate!.key_size, 4096);
  // What the probe observes beside the suites, and says it could not test.
  assert.deepEqual(byName.good!.features, {
    secure_renegotiation: true,
    fallback_scsv: true,
    ocsp_stapling: false,
    chain_length: 1,
    chain_issues: [],
  });
  assert.equal(byName.tls13_only!.features.secure_renegotiation, null, "no renegotiation in 1.3");
  assert.equal(byName.tls12_only!.features.fallback_scsv, null, "one protocol: nothing to fall to");
  assert.ok(
    byName.good!.not_tested.includes("SSL 3.0") && byName.good!.not_tested.includes("RC4 suites"),
  );
  assert.equal(byName.good!.endpoints[0]!.has_warnings, false);
  // The chain as sent: two certificates in order; a lone leaf; an unrelated CA in between.
  assert.deepEqual(
    [byName.chain_ok!.features.chain_length, byName.chain_ok!.features.chain_issues],
    [2, []],
  );
  assert.deepEqual(byName.incomplete!.features.chain_issues, ["incomplete"]);
  assert.equal(byName.chain_ok!.features.ocsp_stapling, true, "s_server -status_file staples");
  assert.deepEqual(byName.misordered!.features.chain_issues, ["extra", "order"]);
  assert.equal(byName.misordered!.endpoints[0]!.has_warnings, true, "A- comes with warnings");
  // s_server serves one connection at a time: a probe that left one open would block it.
  for (const target of fleet.targets.filter((t) => t.tls)) {
    assert.ok(await fleet.handshakes(target), `${target.name} still completes a handshake`);
  }
});

Deno.test("without the test CA the fleet's leaves are untrusted (system roots only)", async () => {
  await using fleet = await startFleet({ only: ["good"] });
  const engine = createProbeEngine({ timeoutMs: 2_000, concurrency: 1 });
  await engine.start(AbortSignal.timeout(5_000));
  const target = fleet.target("good");
  const result = await engine.scan(
    { host: "localhost", port: target.port, kind: "name", addresses: ["127.0.0.1"] },
    { fresh: false, signal: new AbortController().signal },
  );
  assert.equal(result.kind, "report");
  if (result.kind !== "report") return;
  assert.equal(result.report.grade, "T");
  // The leaf alone, its issuer found nowhere: also what a missing intermediate looks like.
  assert.deepEqual(result.report.problems, ["untrusted", "incomplete_chain"]);
});

Deno.test("an IP-literal target is checked against the certificate's IP SAN, without SNI", async () => {
  await using fleet = await startFleet({ only: ["good", "mismatch"] });
  const engine = createProbeEngine({ timeoutMs: 2_000, concurrency: 2, caFile: fleet.caFile });
  await engine.start(AbortSignal.timeout(5_000));
  const scan = (name: string) =>
    engine.scan(
      { host: "127.0.0.1", port: fleet.target(name).port, kind: "ipv4", addresses: ["127.0.0.1"] },
      { fresh: false, signal: new AbortController().signal },
    );
  const [good, mismatch] = await Promise.all([scan("good"), scan("mismatch")]);
  assert.equal(good.kind === "report" && good.report.grade, "A");
  assert.equal(mismatch.kind === "report" && mismatch.report.grade, "M");
});

Deno.test("aborting a scan kills its openssl process at once (a silent server)", async () => {
  await using fleet = await startFleet({ only: ["silent"] });
  const engine = createProbeEngine({ timeoutMs: 30_000, concurrency: 1 });
  const controller = new AbortController();
  const started = performance.now();
  const scanning = engine.scan(
    {
      host: "localhost",
      port: fleet.target("silent").port,
      kind: "name",
      addresses: ["127.0.0.1"],
    },
    { fresh: false, signal: controller.signal },
  );
  setTimeout(() => controller.abort(), 200);
  const result = await scanning;
  assert.equal(result.kind, "failed");
  assert.ok(performance.now() - started < 10_000, "well before the 30 s process timeout");
});
