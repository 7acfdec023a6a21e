/**
 * What strangers cannot grow or starve (issue 20): request scans run in a lane of their own,
 * so requests for hosts that never answer neither delay watched rescans nor wait in a queue (a
 * full one answers 503 with Retry-After at once); a watched name that comes to resolve to
 * loopback is flagged and backs off, and is forgotten when unwatched; the scheduler's failure
 * map is bounded; per-host series exist for watched hosts only.
 */
import assert from "node:assert/strict";
import client from "prom-client";
import { getLogger } from "../../src/app/logging.ts";
import type { ScanCoordinator } from "../../src/tls_scan/coordinator.ts";
import type { ScanEngine } from "../../src/tls_scan/engine.ts";
import { registerSchedulerGauges } from "../../src/tls_scan/metrics.ts";
import { Scheduler } from "../../src/tls_scan/scheduler.ts";
import { SqliteStore } from "../../src/tls_scan/sqlite_store.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { startService } from "./service_harness.ts";

/** Listeners that accept TCP connections and never answer (hosts that never complete TLS). */
function silentHosts(count: number) {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const held: Deno.Conn[] = [];
  const accepting = listeners.map(async (listener) => {
    try {
      for await (const conn of listener) held.push(conn);
    } catch {
      // closed
    }
  });
  return {
    ports: listeners.map((l) => (l.addr as Deno.NetAddr).port),
    async close() {
      for (const listener of listeners) listener.close();
      for (const conn of held) conn.close();
      await Promise.all(accepting);
    },
  };
}

function metric(text: string, name: string): number {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return match ? Number(match[1]) : NaN;
}

Deno.test("requests for silent hosts: 503 + Retry-After at once when full, and a watched host is rescanned meanwhile", async () => {
  await using fleet = await startFleet({ only: ["good"] });
  const silent = silentHosts(8);
  await using service = await startService({
    TLS_SCAN_CA_FILE: fleet.caFile,
    TLS_SCAN_CONCURRENCY: "2",
    TLS_SCAN_REQUEST_CONCURRENCY: "2",
    TLS_SCAN_MAX_PENDING: "6",
    TLS_SCAN_WAIT_SECONDS: "0",
    TLS_SCAN_TIMEOUT_SECONDS: "3",
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "1",
  });
  try {
    const answers = [];
    for (const port of silent.ports) {
      const started = performance.now();
      const answer = await service.json(`/scan?host=127.0.0.1&port=${port}`);
      answers.push({ ...answer, ms: performance.now() - started });
    }
    // Six accepted (202: still running), then the queue is full: 503 with Retry-After, at once.
    assert.deepEqual(answers.map((a) => a.status), [202, 202, 202, 202, 202, 202, 503, 503]);
    for (const busy of answers.slice(6)) {
      assert.ok(Number(busy.headers.get("retry-after")) >= 1);
      assert.match(String(busy.body.error), /too many scans in progress/);
    }
    // The six silent scans hold the request lane (2 at once, 3 s each at least): ≥ 9 s of
    // backlog. A host watched now is rescanned in the scheduler's own lane meanwhile.
    const started = performance.now();
    const good = fleet.target("good");
    const posted = await fetch(`${service.base}/scans`, {
      method: "POST",
      body: JSON.stringify({ hosts: [{ host: "localhost", port: good.port }] }),
    });
    assert.equal(posted.status, 202);
    await posted.body?.cancel();
    let row: Record<string, unknown> | undefined;
    for (let i = 0; i < 600 && !row?.grade; i++) {
      row = ((await service.json("/scans")).body.hosts as Record<string, unknown>[])[0];
      if (!row?.grade) await new Promise((r) => setTimeout(r, 50));
    }
    const seconds = (performance.now() - started) / 1000;
    assert.equal(row?.grade, "A");
    const metrics = await (await service.get("/metrics")).text();
    const inFlight = metric(metrics, "edr_tls_scan_scans_in_flight");
    console.log(
      `watched host rescanned in ${seconds.toFixed(2)} s with ${inFlight} silent request ` +
        `scans still in flight`,
    );
    assert.ok(inFlight >= 1, "the silent request scans were still running");
  } finally {
    await silent.close();
  }
});

Deno.test("a watched name that comes to resolve to loopback: flagged, backs off, forgotten on unwatch", async () => {
  // Public when watched (the first lookup), loopback from then on (a DNS change): the probe
  // never connects anywhere.
  const resolved: string[] = [];
  const resolve = (host: string) => {
    resolved.push(host);
    if (host !== "flip.example") return Promise.resolve([]);
    return Promise.resolve(resolved.length === 1 ? ["93.184.215.14"] : ["127.0.0.1"]);
  };
  await using service = await startService({
    TLS_SCAN_ALLOW_PRIVATE: "false",
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "1",
  }, { resolve });
  const posted = await fetch(`${service.base}/scans`, {
    method: "POST",
    body: JSON.stringify({ hosts: ["flip.example"] }),
  });
  assert.equal((await posted.json()).added, 1);
  let metrics = "";
  for (let i = 0; i < 200; i++) {
    metrics = await (await service.get("/metrics")).text();
    if (metric(metrics, "edr_tls_scan_watched_refused_hosts") === 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(metric(metrics, "edr_tls_scan_watched_refused_hosts"), 1);
  assert.equal(metric(metrics, "edr_tls_scan_scheduler_backoff_hosts"), 1);
  // Backing off: the next rounds (every second) do not try it again at once.
  const scans = resolved.filter((h) => h === "flip.example").length;
  await new Promise((r) => setTimeout(r, 1_500));
  assert.equal(resolved.filter((h) => h === "flip.example").length, scans);
  const removed = await fetch(`${service.base}/scans/flip.example`, { method: "DELETE" });
  assert.equal(removed.status, 200);
  await removed.body?.cancel();
  metrics = await (await service.get("/metrics")).text();
  assert.equal(metric(metrics, "edr_tls_scan_watched_refused_hosts"), 0);
  assert.equal(metric(metrics, "edr_tls_scan_scheduler_backoff_hosts"), 0);
});

Deno.test("per-host series only for watched hosts: a GET /scan adds none, an unwatch removes them", async () => {
  await using fleet = await startFleet({ only: ["good"] });
  await using service = await startService({
    TLS_SCAN_CA_FILE: fleet.caFile,
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "1",
  });
  const good = fleet.target("good");
  const perHost = async () =>
    (await (await service.get("/metrics")).text()).split("\n")
      .filter((line) => line.startsWith("edr_tls_scan") && line.includes('host="')).length;
  assert.equal((await service.json(`/scan?host=localhost&port=${good.port}`)).status, 200);
  assert.equal(await perHost(), 0, "a scanned but unwatched host has no series");
  const posted = await fetch(`${service.base}/scans`, {
    method: "POST",
    body: JSON.stringify({ hosts: [{ host: "127.0.0.1", port: good.port }] }),
  });
  await posted.body?.cancel();
  for (let i = 0; i < 200 && await perHost() < 2; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await perHost(), 2, "expiry timestamp and grade rank");
  const removed = await fetch(`${service.base}/scans/127.0.0.1`, { method: "DELETE" });
  await removed.body?.cancel();
  // The gauges read a watch summary refreshed within a second of a change, off the scrape.
  for (let i = 0; i < 200 && await perHost() > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await perHost(), 0);
});

Deno.test("the scheduler's failure map holds at most maxEntries hosts, least recently failed out first", async () => {
  const store = SqliteStore.open(":memory:", { maxReports: 100 });
  try {
    const engine = {
      name: "probe",
      parallelism: () => 2, // rounds of 8
    } as unknown as ScanEngine;
    // Every scan refused (a stand-in coordinator: the scheduler only calls scan).
    const coordinator = {
      scan: () => Promise.resolve({ kind: "refused", address: "10.0.0.1", range: "private" }),
    } as unknown as ScanCoordinator;
    const scheduler = new Scheduler({
      coordinator,
      store,
      engine,
      logger: getLogger("tls-scan"),
      intervalMs: 1_000,
      maxAgeMs: 86_400_000,
      warnDays: 30,
      maxEntries: 3,
      owner: "test",
      leaseMs: 30_000,
    });
    const registry = new client.Registry();
    registerSchedulerGauges(registry, scheduler);
    await store.watch(
      Array.from({ length: 5 }, (_, i) => ({ host: `h${i}.example`, port: 443 })),
      10,
    );
    assert.equal(await scheduler.tick(), 5);
    assert.equal(scheduler.failingHosts, 3);
    assert.equal(scheduler.refusedHosts, 3);
    const text = await registry.getSingleMetricAsString("edr_tls_scan_watched_refused_hosts");
    assert.match(text, / 3$/);
    scheduler.forget("h4.example");
    assert.equal(scheduler.failingHosts, 2);
  } finally {
    await store.close();
  }
});
