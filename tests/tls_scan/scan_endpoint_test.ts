import assert from "node:assert/strict";
import { TlsReport } from "../../src/tls_scan/report.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { startService } from "./service_harness.ts";

Deno.test("GET /scan: a report, then the store (no connection); fresh=true scans again only past TLS_SCAN_FRESH_MIN_AGE_SECONDS", async () => {
  await using fleet = await startFleet({ only: ["good"] });
  let clock = Date.now();
  await using service = await startService(
    { TLS_SCAN_CA_FILE: fleet.caFile, TLS_SCAN_FRESH_MIN_AGE_SECONDS: "300" },
    { now: () => new Date(clock) },
  );
  const good = fleet.target("good");
  const path = `/scan?host=localhost&port=${good.port}`;
  const first = await service.json(path);
  assert.equal(first.status, 200);
  const report = TlsReport.parse(first.body);
  assert.deepEqual([report.grade, report.status, report.from_cache], ["A", "READY", false]);
  const perScan = good.connections();
  // Full enumeration: one connection per accepted suite (23 here) plus the per-protocol budget.
  assert.ok(perScan >= 20 && perScan <= 60, String(perScan));

  const cached = await service.json(path);
  assert.equal(cached.body.from_cache, true);
  assert.equal(cached.body.scanned_at, report.scanned_at);
  assert.equal(good.connections(), perScan, "answered from the store: no connection");

  // fresh=true on a report younger than the minimum age: the store's report, no connection.
  clock += 299_000;
  const declined = await service.json(`${path}&fresh=true`);
  assert.equal(declined.body.from_cache, true);
  assert.equal(good.connections(), perScan, "fresh declined: no connection");
  const metrics = await (await service.get("/metrics")).text();
  assert.match(metrics, /^edr_tls_scan_fresh_declined_total 1$/m);

  clock += 2_000;
  const again = await service.json(`${path}&fresh=true`);
  assert.equal(again.body.from_cache, false);
  assert.ok(good.connections() >= 2 * perScan - 4, `${good.connections()} after two scans`);
  assert.ok(await fleet.handshakes(good));
});

Deno.test("concurrent calls for one host:port join one scan (fresh=true too)", async () => {
  await using fleet = await startFleet({ only: ["good"] });
  await using service = await startService({ TLS_SCAN_CA_FILE: fleet.caFile });
  const good = fleet.target("good");
  const answers = await Promise.all(
    Array.from(
      { length: 12 },
      (_, i) => service.json(`/scan?host=localhost&port=${good.port}${i % 2 ? "&fresh=true" : ""}`),
    ),
  );
  assert.ok(answers.every((a) => a.status === 200));
  assert.equal(new Set(answers.map((a) => a.body.scanned_at)).size, 1, "one scan");
  assert.ok(good.connections() <= 60, `${good.connections()} connections: one scan's worth`);
});

Deno.test("Accept: text/plain gives the email-ready text", async () => {
  await using fleet = await startFleet({ only: ["expiring"] });
  await using service = await startService({ TLS_SCAN_CA_FILE: fleet.caFile });
  const response = await service.get(`/scan?host=localhost&port=${fleet.target("expiring").port}`, {
    accept: "text/plain",
  });
  assert.match(response.headers.get("content-type")!, /^text\/plain/);
  const text = await response.text();
  for (
    const line of [
      /^TLS report for localhost:\d+$/m,
      /^Grade: +A$/m,
      /^ {2}- expiring_soon: the certificate expires within 30 days$/m,
      /^ {2}Subject: +CN=localhost, O=edr tests$/m,
      /^ {2}Issuer: +CN=edr-tls-scan test CA, O=edr-preprocessor tests$/m,
      /^ {2}Expires: +\d{4}-\d\d-\d\d \(10 days left\)$/m,
      /^Protocols: +TLS 1\.2, TLS 1\.3$/m,
    ]
  ) assert.match(text, line);
});

Deno.test("an unreachable, non-TLS or unresolvable host is a finished 200 ERROR report", async () => {
  await using fleet = await startFleet({ only: ["plain", "closed"] });
  // No real DNS query leaves the machine: the resolver says what a name server would.
  const resolve = (host: string) =>
    host === "localhost" ? Promise.resolve(["127.0.0.1"]) : Promise.reject(
      Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }),
    );
  await using service = await startService({}, { resolve });
  for (
    const [path, message] of [
      [`/scan?host=localhost&port=${fleet.target("plain").port}`, /does not speak TLS/],
      [`/scan?host=localhost&port=${fleet.target("closed").port}`, /Connection refused/],
      ["/scan?host=nonexistent.invalid", /Unable to resolve domain name/],
    ] as const
  ) {
    const answer = await service.json(path);
    assert.equal(answer.status, 200, path);
    assert.equal(answer.body.status, "ERROR");
    assert.equal(answer.body.grade, null);
    assert.match(String(answer.body.status_message), message);
  }
});

Deno.test("past TLS_SCAN_WAIT_SECONDS: 202 IN_PROGRESS with an integer Retry-After, then the report", async () => {
  await using fleet = await startFleet({ only: ["silent"] });
  await using service = await startService({
    TLS_SCAN_WAIT_SECONDS: "0",
    TLS_SCAN_TIMEOUT_SECONDS: "1",
  });
  const path = `/scan?host=localhost&port=${fleet.target("silent").port}`;
  const pending = await service.json(path);
  assert.equal(pending.status, 202);
  assert.deepEqual(pending.body, { status: "IN_PROGRESS" });
  assert.match(pending.headers.get("retry-after")!, /^\d+$/);
  const joined = await service.json(path);
  assert.equal(joined.status, 202, "still the same scan");
  await new Promise((r) => setTimeout(r, 1_500));
  const done = await service.json(path);
  assert.equal(done.status, 200);
  assert.equal(done.body.status, "ERROR");
  assert.equal(fleet.target("silent").connections(), 1, "one scan, one connection");
});

Deno.test("400 for malformed hosts, ports and flags, with the field and what is wrong", async () => {
  await using service = await startService({});
  const cases: [string, RegExp, string][] = [
    ["/scan", /host is required/, "host"],
    ["/scan?host=", /empty/, "host"],
    ["/scan?host=https://example.com", /not a URL/, "host"],
    ["/scan?host=example.com:443", /port/, "host"],
    ["/scan?host=a_b.example", /"_"/, "host"],
    [`/scan?host=${encodeURIComponent("bücher.example")}`, /punycode/, "host"],
    ["/scan?host=example.com&port=0", /port must be/, "port"],
    ["/scan?host=example.com&port=https", /port must be/, "port"],
    ["/scan?host=example.com&fresh=yes", /fresh must be true or false/, "fresh"],
  ];
  for (const [path, error, field] of cases) {
    const answer = await service.json(path);
    assert.equal(answer.status, 400, path);
    assert.match(String(answer.body.error), error, path);
    assert.equal(answer.body.field, field, path);
  }
});

Deno.test("the store survives a restart: the cached report is answered with no connection", async () => {
  await using fleet = await startFleet({ only: ["good"] });
  const good = fleet.target("good");
  const dir = await Deno.makeTempDir({ prefix: "tls-db-" });
  const env = { TLS_SCAN_CA_FILE: fleet.caFile, TLS_SCAN_DB: `${dir}/nested/folder/reports.db` };
  const path = `/scan?host=localhost&port=${good.port}`;
  {
    await using first = await startService(env);
    assert.equal((await first.json(path)).body.grade, "A");
    const watched = await fetch(`${first.base}/scans`, {
      method: "POST",
      body: JSON.stringify({ hosts: [{ host: "localhost", port: good.port }] }),
    });
    assert.equal(watched.status, 202);
    await watched.body?.cancel();
  }
  const before = good.connections();
  await using second = await startService(env);
  const answer = await second.json(path);
  assert.equal(answer.body.from_cache, true);
  assert.equal(answer.body.grade, "A");
  assert.equal(good.connections(), before, "no connection after the restart");
  const list = await second.json("/scans");
  assert.equal(list.body.total, 1);
  await Deno.remove(dir, { recursive: true });
});
