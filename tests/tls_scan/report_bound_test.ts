/**
 * Issue 20's bound on what strangers can make the service store: 2 000 distinct GET /scan
 * targets (names that do not resolve, each an ERROR report) leave at most TLS_SCAN_MAX_REPORTS
 * reports, and watched hosts keep theirs.
 */
import assert from "node:assert/strict";
import { startService } from "./service_harness.ts";

Deno.test("2 000 distinct GET /scan targets leave at most TLS_SCAN_MAX_REPORTS reports; watched hosts keep theirs", async () => {
  // No name resolves: every scan is an ERROR report, made without a connection.
  const resolve = () => Promise.reject(Object.assign(new Error("NXDOMAIN"), { code: "ENOTFOUND" }));
  await using service = await startService({
    TLS_SCAN_ALLOW_PRIVATE: "false",
    TLS_SCAN_MAX_REPORTS: "100",
    TLS_SCAN_MAX_WATCHED: "10",
    TLS_SCAN_MAX_PENDING: "50",
  }, { resolve });
  const watched = await fetch(`${service.base}/scans`, {
    method: "POST",
    body: JSON.stringify({ hosts: ["kept.example"] }),
  });
  assert.equal((await watched.json()).added, 1);
  const first = await service.json("/scan?host=kept.example");
  assert.equal(first.body.status, "ERROR", JSON.stringify(first.body));

  const names = Array.from({ length: 2_000 }, (_, i) => `stranger-${i}.example`);
  for (let i = 0; i < names.length; i += 20) {
    await Promise.all(
      names.slice(i, i + 20).map(async (name) => {
        const answer = await service.json(`/scan?host=${name}`);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
      }),
    );
  }
  let metrics = "";
  for (let i = 0; i < 100; i++) {
    metrics = await (await service.get("/metrics")).text();
    if (/^edr_tls_scan_reports 100$/m.test(metrics)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(metrics, /^edr_tls_scan_reports 100$/m, "at most TLS_SCAN_MAX_REPORTS");
  assert.match(metrics, /^edr_tls_scan_reports_evicted_total 1901$/m, "2 001 made, 100 kept");
  const kept = await service.json("/scans");
  assert.equal((kept.body.hosts as { status: string }[])[0]?.status, "ERROR", "the watched report");
  const cached = await service.json("/scan?host=kept.example");
  assert.equal(cached.body.from_cache, true, "the watched host's report was not evicted");
});
