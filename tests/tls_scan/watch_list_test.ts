import assert from "node:assert/strict";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { startService } from "./service_harness.ts";

function post(base: string, body: unknown) {
  return fetch(`${base}/scans`, { method: "POST", body: JSON.stringify(body) });
}

Deno.test("POST /scans: accepted and rejected with the reasons; idempotent; bounded", async () => {
  await using service = await startService({ TLS_SCAN_MAX_WATCHED: "4" });
  const response = await post(service.base, {
    hosts: [
      "a.example",
      "B.example.",
      { host: "c.example", port: 8443 },
      "bad_host.example",
      { host: "d.example", port: 0 },
      42,
      "example.com:443",
      "a.example",
    ],
  });
  assert.equal(response.status, 202);
  const body = await response.json();
  assert.deepEqual(
    {
      accepted: body.accepted,
      added: body.added,
      already: body.already_watched,
      rejected: body.rejected,
    },
    { accepted: 4, added: 3, already: 1, rejected: 4 },
  );
  assert.deepEqual(body.rejections.map((r: { index: number }) => r.index), [3, 4, 5, 6]);
  assert.match(body.rejections[0].error, /contains "_"/);
  assert.match(body.rejections[1].error, /port must be/);
  assert.match(body.rejections[3].error, /port/);

  const full = await (await post(service.base, { hosts: ["e.example", "f.example"] })).json();
  assert.equal(full.added, 1);
  assert.deepEqual(full.rejections, [{
    index: 1,
    host: "f.example:443",
    error: "watch list full (4 hosts)",
  }]);

  const notArray = await post(service.base, { hosts: "a.example" });
  assert.equal(notArray.status, 400);
  assert.match((await notArray.json()).error, /hosts must be an array/);
  const notJson = await fetch(`${service.base}/scans`, { method: "POST", body: "{" });
  assert.equal(notJson.status, 400);
  await notJson.body?.cancel();
  const many = await post(service.base, {
    hosts: Array.from({ length: 10_001 }, (_, i) => `h${i}.example`),
  });
  assert.equal(many.status, 413);
  assert.match((await many.json()).error, /at most 10000 hosts/);
  const huge = await fetch(`${service.base}/scans`, {
    method: "POST",
    body: "x".repeat(5 * 1024 * 1024),
  });
  assert.equal(huge.status, 413);
  await huge.body?.cancel();
});

Deno.test("10 000 hosts in one POST are accepted", async () => {
  await using service = await startService({});
  const hosts = Array.from({ length: 10_000 }, (_, i) => `host-${i}.example`);
  const body = await (await post(service.base, { hosts })).json();
  assert.equal(body.added, 10_000);
  assert.equal((await service.json("/scans?limit=1")).body.total, 10_000);
});

Deno.test("GET /scans pages in host order; DELETE /scans/{host} stops watching", async () => {
  await using service = await startService({});
  await (await post(service.base, {
    hosts: ["c.example", "a.example", "b.example", { host: "a.example", port: 8443 }],
  })).body?.cancel();
  const first = await service.json("/scans?limit=2");
  assert.equal(first.body.total, 4);
  assert.deepEqual(
    (first.body.hosts as { host: string; port: number }[]).map((h) => `${h.host}:${h.port}`),
    [
      "a.example:443",
      "a.example:8443",
    ],
  );
  assert.equal(first.body.next, "a.example:8443");
  const second = await service.json(`/scans?limit=2&after=${first.body.next}`);
  assert.deepEqual((second.body.hosts as { host: string }[]).map((h) => h.host), [
    "b.example",
    "c.example",
  ]);
  assert.equal(second.body.next, null);
  const unscanned = (second.body.hosts as Record<string, unknown>[])[0]!;
  assert.deepEqual(
    [unscanned.grade, unscanned.status, unscanned.not_after, unscanned.days_remaining],
    [null, null, null, null],
  );
  assert.equal((await service.json("/scans?limit=0")).status, 400);
  assert.equal((await service.json("/scans?limit=1001")).status, 400);
  assert.equal((await service.json("/scans?after=nonsense")).status, 400);

  const one = await fetch(`${service.base}/scans/a.example?port=8443`, { method: "DELETE" });
  assert.deepEqual(await one.json(), { removed: 1 });
  const all = await fetch(`${service.base}/scans/A.example`, { method: "DELETE" });
  assert.deepEqual(await all.json(), { removed: 1 });
  const none = await fetch(`${service.base}/scans/a.example`, { method: "DELETE" });
  assert.equal(none.status, 404);
  await none.body?.cancel();
  assert.equal((await service.json("/scans")).body.total, 2);
});

Deno.test("the scheduler scans what was added, and the watch gauges show it", async () => {
  await using fleet = await startFleet({ only: ["good", "expiring", "expired"] });
  await using service = await startService({
    TLS_SCAN_CA_FILE: fleet.caFile,
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "1",
  });
  const hosts = fleet.targets.map((t) => ({ host: "localhost", port: t.port }));
  await (await post(service.base, { hosts })).body?.cancel();
  let rows: Record<string, unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    rows = (await service.json("/scans")).body.hosts as Record<string, unknown>[];
    if (rows.every((r) => r.grade !== null)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const byPort = new Map(rows.map((r) => [r.port, r]));
  const row = (name: string) => byPort.get(fleet.target(name).port)!;
  assert.equal(row("good").grade, "A");
  assert.equal(row("expiring").days_remaining, 10);
  assert.deepEqual(row("expiring").problems, ["expiring_soon"]);
  assert.equal(row("expired").grade, "T");
  assert.equal(row("expired").days_remaining, -30);
  // The watch gauges read a summary refreshed off the scrape path, within a second of a change.
  let metrics = "";
  for (let i = 0; i < 100; i++) {
    metrics = await (await service.get("/metrics")).text();
    if (/^edr_tls_scan_hosts_by_grade\{grade="A"\} 2$/m.test(metrics)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(metrics, /^edr_tls_scan_watched_hosts 3$/m);
  assert.match(metrics, /^edr_tls_scan_hosts_by_grade\{grade="A"\} 2$/m);
  assert.match(metrics, /^edr_tls_scan_hosts_by_grade\{grade="T"\} 1$/m);
  assert.match(metrics, /^edr_tls_scan_hosts_expiring 2$/m, "expiring within 30 days, and expired");
  const expiry = new RegExp(
    `^edr_tls_scan_certificate_expiry_timestamp_seconds\\{host="localhost",port="${
      fleet.target("expiring").port
    }"\\} (\\S+)$`,
    "m",
  ).exec(metrics);
  assert.ok(expiry, "the expiring host's notAfter as a timestamp");
  const daysLeft = (Number(expiry[1]) - Date.now() / 1000) / 86_400;
  assert.ok(daysLeft > 9 && daysLeft <= 11, `expires in ${daysLeft} days`);
  assert.match(metrics, /^edr_tls_scan_scans_total\{engine="probe",outcome="ready"\} 3$/m);
  assert.match(metrics, /^edr_tls_scan_grade_rank\{host="localhost",port="\d+"\} 8$/m, "T ranks 8");
  assert.match(metrics, /^edr_tls_scan_probe_connections_count 3$/m);
});
