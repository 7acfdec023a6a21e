import assert from "node:assert/strict";
import pLimit from "p-limit";
import { probeEndpoint } from "../../src/tls_scan/probe_endpoint.ts";
import { createProbeEngine } from "../../src/tls_scan/probe_engine.ts";
import type { Suite, TlsReport } from "../../src/tls_scan/report.ts";
import { loadCatalog } from "../../src/tls_scan/suite_catalog.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { SERVERS } from "../../tools/tls_scan/fleet_servers.ts";
import { runSslscan, type SslscanSuite } from "../../tools/tls_scan/sslscan.ts";

const ENUMERATION = SERVERS.filter((s) => s.enumeration).map((s) => s.name);

const ours = (suites: readonly Suite[]) =>
  suites.map((s) => `${s.protocol} ${s.name} ${s.kex_bits ?? "-"}`).sort();
const theirs = (suites: readonly SslscanSuite[]) =>
  suites.map((s) => `${s.protocol} ${s.name} ${s.kexBits ?? "-"}`).sort();

Deno.test("suites equal what sslscan lists, suite for suite and key-exchange size for size", async () => {
  assert.ok(ENUMERATION.length >= 10, ENUMERATION.join(", "));
  await using fleet = await startFleet({ only: ENUMERATION });
  const engine = createProbeEngine({ timeoutMs: 5_000, concurrency: 3, caFile: fleet.caFile });
  await engine.start(AbortSignal.timeout(10_000));
  const signal = new AbortController().signal;
  // One target at a time per server (s_server serves one connection at a time), three at once.
  const limit = pLimit(3);
  const results = await Promise.all(fleet.targets.map((target) =>
    limit(async () => {
      const result = await engine.scan(
        { host: target.host, port: target.port, kind: "name", addresses: ["127.0.0.1"] },
        { fresh: false, signal },
      );
      assert.equal(result.kind, "report", target.name);
      const scan = await runSslscan("127.0.0.1", target.port, {
        timeoutMs: 60_000,
        sniName: "localhost",
      });
      return { target, report: (result as { report: TlsReport }).report, scan };
    })
  ));
  let compared = 0;
  let renegotiation = 0;
  for (const { target, report, scan } of results) {
    const label = target.name;
    assert.deepEqual(ours(report.suites), theirs(scan.suites), label);
    assert.deepEqual(report.endpoints[0]!.protocols, scan.protocols, label);
    if (scan.secureRenegotiation !== null) {
      assert.equal(report.features.secure_renegotiation, scan.secureRenegotiation, label);
      renegotiation++;
    }
    for (const suite of report.suites) {
      const bits = scan.suites.find((s) => s.protocol === suite.protocol && s.name === suite.name)
        ?.bits;
      assert.equal(suite.bits, bits, `${label} ${suite.name}: cipher bits`);
    }
    compared += report.suites.length;
  }
  const byName = Object.fromEntries(results.map((r) => [r.target.name, r.report]));
  assert.ok(byName.many!.suites.length >= 30, `many: ${byName.many!.suites.length} suites`);
  assert.deepEqual(
    new Set(byName.many!.suites.map((s) => s.protocol)),
    new Set(["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]),
  );
  // Issue 16's server: 1024-bit DH behind the only suite. SSL Labs' guide caps it at B.
  assert.deepEqual(byName.weak_dh!.suites, [{
    protocol: "TLS 1.2",
    name: "DHE-RSA-AES128-GCM-SHA256",
    bits: 128,
    kex: "DH",
    kex_bits: 1024,
    forward_secrecy: true,
    aead: true,
  }]);
  assert.equal(byName.weak_dh!.grade, "B");
  assert.ok(byName.strong_dh!.suites.some((s) => s.kex === "DH" && s.kex_bits === 3072));
  // An ECDSA leaf: every TLS 1.2 suite accepted is an ECDSA one.
  const p384 = byName.p384!.suites.filter((s) => s.protocol === "TLS 1.2");
  assert.ok(p384.length > 0 && p384.every((s) => s.name.includes("ECDSA")), ours(p384).join());
  // Strong preferred, RSA key exchange and CBC accepted too: still A (the best protocol has FS
  // and AEAD), and the RSA-kex suites are listed with no group size.
  assert.equal(byName.mixed!.grade, "A");
  assert.ok(byName.mixed!.suites.some((s) => s.name === "AES128-SHA" && s.kex_bits === null));
  assert.ok(byName.chacha!.suites.every((s) => s.name.includes("CHACHA20")));
  assert.equal(byName.sha1!.grade, "T");
  assert.ok(renegotiation >= 2, `renegotiation compared on ${renegotiation}`);
  console.log(`compared ${compared} suites on ${results.length} servers with sslscan`);
  for (const target of fleet.targets) {
    assert.ok(await fleet.handshakes(target), `${target.name} still completes a handshake`);
  }
});

Deno.test("openssl s_client processes and in-process libssl enumerate the same suites", async () => {
  await using fleet = await startFleet({ only: ["mixed"] });
  const catalog = await loadCatalog(AbortSignal.timeout(10_000));
  const target = fleet.target("mixed");
  const probe = (inProcess: boolean) =>
    probeEndpoint(
      { host: "localhost", kind: "name", port: target.port, address: "127.0.0.1" },
      { timeoutMs: 5_000, catalog, inProcess, signal: AbortSignal.timeout(60_000) },
    );
  const viaProcesses = await probe(false);
  const inProcess = await probe(true);
  assert.ok(viaProcesses.ok && inProcess.ok);
  assert.deepEqual(viaProcesses.suites, inProcess.suites);
  assert.deepEqual(viaProcesses.features, inProcess.features);
  assert.ok(inProcess.suites.length >= 5);
});
