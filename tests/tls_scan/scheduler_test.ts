import assert from "node:assert/strict";
import client from "prom-client";
import { getLogger } from "../../src/app/logging.ts";
import { ScanCoordinator } from "../../src/tls_scan/coordinator.ts";
import { createTlsScanMetrics } from "../../src/tls_scan/metrics.ts";
import { Scheduler } from "../../src/tls_scan/scheduler.ts";
import { SqliteStore } from "../../src/tls_scan/sqlite_store.ts";
import { standInEngine, syntheticReport } from "../../tools/tls_scan/synthetic_reports.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** An engine that records its scans; certificates expire `expiresInDays[host]` after "now". */
function recordingEngine(
  clock: { now: number },
  expiresInDays: Record<string, number>,
  parallelism = 2,
) {
  return standInEngine({
    delayMs: 5,
    parallelism,
    report: (target) =>
      syntheticReport({
        host: target.host,
        port: target.port,
        scannedAtMs: clock.now,
        days: expiresInDays[target.host] ?? 300,
      }),
  });
}

function setup(expiresInDays: Record<string, number>, maxAgeHours: number) {
  const clock = { now: Date.parse("2026-03-01T00:00:00Z") };
  const store = SqliteStore.open(":memory:", { maxReports: 1_000 });
  const claims = { owner: "test", leaseMs: 30_000 };
  const { engine, scans, peak } = recordingEngine(clock, expiresInDays);
  const now = () => new Date(clock.now);
  const logger = getLogger("tls-scan");
  const coordinator = new ScanCoordinator({
    engine,
    store,
    metrics: createTlsScanMetrics(new client.Registry()),
    logger,
    maxAgeMs: maxAgeHours * HOUR,
    waitMs: 1_000,
    maxPending: 10,
    allowPrivate: false,
    resolve: () => Promise.resolve(["93.184.215.14"]),
    ...claims,
    now,
  });
  const scheduler = new Scheduler({
    coordinator,
    store,
    engine,
    logger,
    intervalMs: 0,
    maxAgeMs: maxAgeHours * HOUR,
    warnDays: 30,
    ...claims,
    now,
  });
  return { clock, store, scans, peak, scheduler };
}

Deno.test("due: never scanned, older than the max age, and daily when expiring within the warn window", async () => {
  const { clock, store, scans, scheduler } = setup({ "soon.example": 10 }, 7 * 24);
  await store.watch(
    ["calm.example", "soon.example"].map((host) => ({ host, port: 443 })),
    100,
    clock.now,
  );
  assert.equal(await scheduler.tick(), 2, "both never scanned");
  assert.equal(await scheduler.tick(), 0, "nothing due right after");
  clock.now += 23 * HOUR;
  assert.equal(await scheduler.tick(), 0);
  clock.now += 2 * HOUR; // 25 h: the expiring one is rechecked daily, the other waits a week
  assert.equal(await scheduler.tick(), 1);
  assert.deepEqual(scans.slice(2), ["soon.example"]);
  clock.now += 7 * DAY;
  assert.equal(await scheduler.tick(), 2, "both past the max age");
  await store.close();
});

Deno.test("the scheduler keeps to the engine's parallelism and scans the oldest first", async () => {
  const { clock, store, scans, peak, scheduler } = setup({}, 24);
  const hosts = Array.from(
    { length: 12 },
    (_, i) => ({ host: `h${String(i).padStart(2, "0")}.example`, port: 443 }),
  );
  await store.watch(hosts, 100, clock.now);
  let total = 0;
  for (let round = 0; round < 5; round++) total += await scheduler.tick();
  assert.equal(total, 12);
  assert.equal(peak(), 2, "parallelism() of the engine");
  clock.now += 25 * HOUR;
  // Make h11 the oldest report by rescanning everything else first.
  await scheduler.tick();
  assert.deepEqual(
    scans.slice(12, 14),
    ["h00.example", "h01.example"],
    "oldest first, then by name",
  );
  await store.close();
});
