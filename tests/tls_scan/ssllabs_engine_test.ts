import assert from "node:assert/strict";
import type { EngineResult, ScanEngine } from "../../src/tls_scan/engine.ts";
import { TlsReport } from "../../src/tls_scan/report.ts";
import { createSslLabsEngine } from "../../src/tls_scan/ssllabs_engine.ts";
import { type FakeOptions, startFakeSslLabs } from "../../tools/tls_scan/fake_ssllabs.ts";
import { errorHost, readyHost } from "../../tools/tls_scan/ssllabs_fixtures.ts";

const EMAIL = "security@example.org";
const SCALE = 0.001; // polls 5 / 10 ms, 503 pause 0.9 s

async function withEngine(
  fakeOptions: Omit<FakeOptions, "email"> & { email?: string },
  run: (engine: ScanEngine, fake: Awaited<ReturnType<typeof startFakeSslLabs>>) => Promise<void>,
  engineOptions: { email?: string; timeScale?: number } = {},
) {
  await using fake = await startFakeSslLabs({ email: EMAIL, ...fakeOptions });
  const engine = createSslLabsEngine({
    baseUrl: fake.url,
    email: engineOptions.email ?? EMAIL,
    maxAgeHours: 24,
    timeScale: engineOptions.timeScale ?? SCALE,
    random: () => 0.5,
  });
  await engine.start(AbortSignal.timeout(5_000));
  await run(engine, fake);
}

function scan(engine: ScanEngine, host: string, fresh = false): Promise<EngineResult> {
  return engine.scan(
    { host, port: 443, kind: "name", addresses: ["192.0.2.10"] },
    { fresh, signal: new AbortController().signal },
  );
}

function reportOf(result: EngineResult): TlsReport {
  assert.equal(result.kind, "report", JSON.stringify(result));
  return TlsReport.parse((result as { report: TlsReport }).report);
}

Deno.test("the cache is asked first: one call, from_cache, the assessment's own testTime", async () => {
  const host = "cached.example";
  await withEngine(
    { hosts: { [host]: { result: readyHost(host), cachedHoursAgo: 3 } } },
    async (engine, fake) => {
      const report = reportOf(await scan(engine, host));
      assert.equal(report.from_cache, true);
      assert.equal(report.grade, "A");
      const age = Date.now() - Date.parse(report.scanned_at);
      assert.ok(age > 2.9 * 3_600_000 && age < 3.1 * 3_600_000, String(age));
      const calls = fake.callsFor(host);
      assert.equal(calls.length, 1);
      assert.deepEqual(calls[0]!.params, { host, fromCache: "on", maxAge: "24", all: "done" });
      assert.ok(fake.calls.every((c) => c.email === EMAIL), "the email header on every call");
      assert.deepEqual(fake.calls.map((c) => c.call), ["info", "analyze"]);
    },
  );
});

Deno.test("a new assessment: started by the cache read, polled 5 s then 10 s (scaled), never restarted", async () => {
  const host = "new.example";
  const flow = ["DNS", "DNS", "IN_PROGRESS", "IN_PROGRESS"] as const;
  await withEngine(
    { hosts: { [host]: { result: readyHost(host, { grade: "B" }), flow } } },
    async (engine, fake) => {
      const report = reportOf(await scan(engine, host));
      assert.equal(report.grade, "B");
      assert.equal(report.from_cache, false);
      const calls = fake.callsFor(host);
      assert.equal(calls.length, 1 + flow.length, "one call per step, no extra");
      assert.equal(calls[0]!.started, true);
      assert.equal(calls.filter((c) => c.started).length, 1);
      for (const poll of calls.slice(1)) assert.deepEqual(poll.params, { host, all: "done" });
      const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
      // Statuses seen before each poll: DNS, DNS, IN_PROGRESS, IN_PROGRESS.
      const expected = [5, 5, 10, 10, 10].map((s) => s * 1_000 * SCALE);
      gaps.forEach((gap, i) => assert.ok(gap >= expected[i]! - 1, `poll ${i}: ${gap} ms`));
    },
  );
});

Deno.test("fresh=true: startNew exactly once, then plain polls", async () => {
  const host = "fresh.example";
  await withEngine(
    { hosts: { [host]: { result: readyHost(host), cachedHoursAgo: 1 } } },
    async (engine, fake) => {
      const report = reportOf(await scan(engine, host, true));
      assert.equal(report.from_cache, false);
      const calls = fake.callsFor(host);
      assert.deepEqual(calls[0]!.params, { host, startNew: "on", all: "done" });
      assert.equal(calls.filter((c) => c.params.startNew === "on").length, 1);
      assert.ok(
        calls.slice(1).every((c) => !("startNew" in c.params) && !("fromCache" in c.params)),
      );
    },
  );
});

Deno.test("never over the max, cool-off respected, no 429 under 6 concurrent scans", async () => {
  const hosts = Object.fromEntries(
    ["a", "b", "c", "d", "e", "f"].map((
      n,
    ) => [`${n}.example`, { result: readyHost(`${n}.example`) }]),
  );
  await withEngine({ hosts, maxAssessments: 2, coolOffMs: 60 }, async (engine, fake) => {
    const reports = await Promise.all(Object.keys(hosts).map((h) => scan(engine, h)));
    reports.forEach(reportOf);
    assert.ok(fake.peakCurrent <= 2, `peak ${fake.peakCurrent}`);
    assert.equal(
      fake.calls.filter((c) => c.status === 429).length,
      0,
      "a well-written client never gets a 429",
    );
    const starts = fake.calls.filter((c) => c.started).map((c) => c.at);
    assert.equal(starts.length, 6);
    for (let i = 1; i < starts.length; i++) {
      assert.ok(
        starts[i]! - starts[i - 1]! >= 60,
        `start ${i} after ${starts[i]! - starts[i - 1]!} ms`,
      );
    }
  });
});

Deno.test("two callers for one host share the running assessment (the API answers its status)", async () => {
  // Two engines' worth of callers on one engine: the API itself answers the in-progress status.
  const host = "shared.example";
  await withEngine({ hosts: { [host]: { result: readyHost(host) } } }, async (engine, fake) => {
    const [one, two] = await Promise.all([scan(engine, host), scan(engine, host)]);
    assert.equal(reportOf(one).grade, "A");
    assert.equal(reportOf(two).grade, "A");
    assert.equal(
      fake.calls.filter((c) => c.started).length,
      1,
      "the second start joined the running one",
    );
  });
});

Deno.test("429: concurrency cut, the cool-off waited, the start retried", async () => {
  const host = "limited.example";
  await withEngine({
    hosts: { [host]: { result: readyHost(host), failures: [429] } },
    coolOffMs: 80,
  }, async (engine, fake) => {
    reportOf(await scan(engine, host));
    const calls = fake.callsFor(host);
    assert.equal(calls[0]!.status, 429);
    assert.equal(calls[1]!.started, true);
    assert.ok(calls[1]!.at - calls[0]!.at >= 80, `${calls[1]!.at - calls[0]!.at} ms`);
  });
});

Deno.test("503 and 529 pause every call ~15 and ~30 minutes (scaled), then the same call again", async () => {
  const host = "busy.example";
  const scale = 0.0002; // 15 min → 180 ms, 30 min → 360 ms (+10 % with random 0.5)
  await withEngine(
    { hosts: { [host]: { result: readyHost(host), failures: [503, 529] } } },
    async (engine, fake) => {
      reportOf(await scan(engine, host));
      const calls = fake.callsFor(host);
      assert.deepEqual(calls.slice(0, 3).map((c) => c.status), [503, 529, 200]);
      assert.ok(calls[1]!.at - calls[0]!.at >= 15 * 60_000 * scale * 1.1 - 2);
      assert.ok(calls[2]!.at - calls[1]!.at >= 30 * 60_000 * scale * 1.1 - 2);
      assert.deepEqual(calls[2]!.params, calls[0]!.params, "the same call, retried");
    },
    { timeScale: scale },
  );
});

Deno.test("a 500 fails that assessment (502); repeated 500s make the engine give up without calling", async () => {
  const hosts = {
    "one.example": { result: readyHost("one.example"), failures: [500] },
    "two.example": { result: readyHost("two.example"), failures: [500] },
    "three.example": { result: readyHost("three.example"), failures: [500] },
    "four.example": { result: readyHost("four.example") },
  };
  await withEngine({ hosts }, async (engine, fake) => {
    const first = await scan(engine, "one.example");
    assert.deepEqual(first, {
      kind: "failed",
      reason: "SSL Labs internal error (500): assessment failed",
      status: 502,
    });
    await scan(engine, "two.example");
    const third = await scan(engine, "three.example");
    assert.equal(
      third.kind === "failed" && third.reason,
      "SSL Labs keeps failing (repeated 500 responses)",
    );
    const before = fake.calls.length;
    const fourth = await scan(engine, "four.example");
    assert.equal(fourth.kind, "failed");
    assert.equal(fake.calls.length, before, "no call while given up");
    await assert.rejects(engine.check(AbortSignal.timeout(1_000)), /keeps failing/);
  });
});

Deno.test("441 (unregistered email): refused with the reason, and no more calls", async () => {
  await withEngine(
    { hosts: { "x.example": { result: readyHost("x.example") } } },
    async (engine, fake) => {
      const result = await scan(engine, "x.example");
      assert.equal(result.kind, "failed");
      assert.match((result as { reason: string }).reason, /441.*SSLLABS_EMAIL/);
      assert.deepEqual(fake.calls.map((c) => c.status), [441], "only info was called");
      await assert.rejects(engine.check(AbortSignal.timeout(1_000)), /441/);
    },
    { email: "someone-else@example.org" },
  );
});

Deno.test("an assessment that ends in ERROR is a finished report with SSL Labs' message", async () => {
  const host = "nx.example";
  await withEngine({
    hosts: { [host]: { result: errorHost(host, "Unable to resolve domain name") } },
  }, async (engine) => {
    const report = reportOf(await scan(engine, host));
    assert.equal(report.status, "ERROR");
    assert.equal(report.grade, null);
    assert.equal(report.status_message, "Unable to resolve domain name");
  });
});
