/**
 * The behaviour every {@linkcode TlsScanStore} must have, as tests registered for one
 * implementation: sqlite_store_test.ts runs them on SQLite, postgres_store_test.ts on a real
 * PostgreSQL, each with its own factory.
 *
 * @module
 */
import assert from "node:assert/strict";
import { errorReport, type Grade, type TlsReport } from "../../src/tls_scan/report.ts";
import type { Lease, TlsScanStore } from "../../src/tls_scan/store.ts";
import { syntheticReport } from "../../tools/tls_scan/synthetic_reports.ts";

/** Makes an empty store keeping at most `maxReports` reports; the contract closes it. */
export type StoreFactory = (options: { maxReports: number }) => Promise<TlsScanStore>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.parse("2026-03-01T00:00:00Z");

/** A READY report of `host` graded `grade`, scanned at `atMs`, its certificate ending in `days`;
 * every field filled, as every field of the report survives the store (stored as its JSON). */
export function readyReport(host: string, grade: Grade, atMs = T0, days = 300): TlsReport {
  return syntheticReport({ host, grade, scannedAtMs: atMs, days, detailed: true });
}

const t = (host: string, port = 443) => ({ host, port });
const lease = (owner: string, nowMs = T0, leaseMs = 30_000): Lease => ({ owner, leaseMs, nowMs });
const due = (nowMs: number, limit = 100) => ({
  staleBeforeMs: nowMs - DAY,
  expiringBeforeMs: nowMs + 30 * DAY,
  recheckBeforeMs: nowMs - DAY,
  limit,
});

/** Registers the contract's tests for one store implementation. */
export function storeContract(name: string, make: StoreFactory): void {
  const test = (title: string, body: (store: TlsScanStore) => Promise<void>, maxReports = 1_000) =>
    Deno.test(`${name}: ${title}`, async () => {
      const store = await make({ maxReports });
      try {
        await body(store);
      } finally {
        await store.close();
      }
    });

  test("a report is kept whole per target and engine, and replacing it tells the old grade", async (store) => {
    assert.equal(await store.latest(t("a.test"), "probe"), undefined);
    const first = readyReport("a.test", "A");
    assert.deepEqual(await store.save(first), { previousGrade: undefined, evicted: 0 });
    const stored = await store.latest(t("a.test"), "probe");
    assert.deepEqual(stored, { report: first, scannedAtMs: T0 });
    assert.equal(await store.latest(t("a.test"), "ssllabs"), undefined, "per engine");
    assert.equal(await store.latest(t("a.test", 8443), "probe"), undefined, "per port");
    const second = readyReport("a.test", "C", T0 + HOUR);
    assert.deepEqual(await store.save(second), { previousGrade: "A", evicted: 0 });
    assert.deepEqual((await store.latest(t("a.test"), "probe"))?.report, second);
    const error = errorReport({ host: "a.test", port: 443, engine: "probe", message: "Refused" });
    assert.deepEqual(await store.save(error), { previousGrade: "C", evicted: 0 });
    assert.deepEqual((await store.latest(t("a.test"), "probe"))?.report, error);
  });

  test("watch adds up to the bound, idempotently; unwatch by host or by port", async (store) => {
    assert.deepEqual(await store.watch([t("a.test"), t("a.test", 8443)], 3, T0), {
      added: 2,
      already: 0,
      full: [],
    });
    assert.deepEqual(await store.watch([t("a.test"), t("b.test"), t("c.test")], 3, T0), {
      added: 1,
      already: 1,
      full: [t("c.test")],
    });
    assert.equal(await store.watchedCount(), 3);
    assert.equal(await store.unwatch("a.test", 8443), 1);
    assert.equal(await store.unwatch("a.test", 8443), 0);
    await store.watch([t("a.test", 8443)], 3, T0);
    assert.equal(await store.unwatch("a.test"), 2, "every port");
    assert.equal(await store.watchedCount(), 1);
  });

  test("the watch list pages in host:port order, each row with its last report", async (store) => {
    await store.watch([t("c.test"), t("a.test", 8443), t("a.test"), t("b.test")], 10, T0);
    await store.save(readyReport("b.test", "B", T0 + HOUR, 10));
    const first = await store.listWatched("probe", 2);
    assert.deepEqual(first.map((r) => `${r.host}:${r.port}`), ["a.test:443", "a.test:8443"]);
    assert.deepEqual(first[0], {
      host: "a.test",
      port: 443,
      addedAtMs: T0,
      status: null,
      grade: null,
      problems: [],
      notAfterMs: null,
      scannedAtMs: null,
    });
    const second = await store.listWatched("probe", 2, first[1]);
    assert.deepEqual(second.map((r) => r.host), ["b.test", "c.test"]);
    assert.deepEqual(
      [second[0]!.status, second[0]!.grade, second[0]!.problems, second[0]!.scannedAtMs],
      ["READY", "B", ["expiring_soon"], T0 + HOUR],
    );
    assert.equal(second[0]!.notAfterMs, T0 + HOUR + 10 * DAY);
    assert.deepEqual(await store.listWatched("probe", 2, second[1]), []);
  });

  test("claimDue: never scanned, stale, expiring and not rechecked today; oldest first", async (store) => {
    await store.watch(["b", "a", "calm", "stale", "soon"].map((h) => t(`${h}.test`)), 10, T0);
    await store.save(readyReport("calm.test", "A", T0 - HOUR));
    await store.save(readyReport("stale.test", "A", T0 - 2 * DAY));
    await store.save(readyReport("soon.test", "A", T0 - 25 * HOUR, 20));
    const claimed = await store.claimDue("probe", due(T0), lease("one"));
    assert.deepEqual(claimed, [t("a.test"), t("b.test"), t("stale.test"), t("soon.test")]);
    assert.deepEqual(await store.claimDue("probe", due(T0), lease("two")), [], "all held by one");
    assert.deepEqual(
      await store.claimDue("probe", due(T0, 2), lease("one")),
      [t("a.test"), t("b.test")],
      "its own claims come back to the same owner, within the limit",
    );
    assert.deepEqual(
      await store.claimDue("probe", due(T0 + 60_000), lease("two", T0 + 60_000)),
      [t("a.test"), t("b.test"), t("stale.test"), t("soon.test")],
      "expired claims (their owner gone) are taken over",
    );
    assert.deepEqual(await store.claimDue("probe", due(T0), lease("two")), claimed.slice(0, 4));
    await store.save(readyReport("a.test", "A", T0));
    await store.release(t("a.test"), "probe", "two");
    assert.deepEqual(
      await store.claimDue("probe", due(T0), lease("three", T0 + 60_000 + 1)),
      [t("b.test"), t("stale.test"), t("soon.test")],
      "a scanned host is not due again",
    );
  });

  test("claim, renew and release: one owner at a time until the claim expires", async (store) => {
    assert.equal(await store.claim(t("a.test"), "probe", lease("one")), true);
    assert.equal(await store.claim(t("a.test"), "probe", lease("two")), false);
    assert.equal(await store.claim(t("a.test"), "ssllabs", lease("two")), true, "per engine");
    assert.equal(await store.claim(t("a.test"), "probe", lease("one")), true, "ours again");
    assert.equal(await store.renew(t("a.test"), "probe", lease("one", T0 + 20_000)), true);
    assert.equal(await store.renew(t("a.test"), "probe", lease("two", T0 + 20_000)), false);
    assert.equal(
      await store.claim(t("a.test"), "probe", lease("two", T0 + 40_000)),
      false,
      "renewed at +20 s for 30 s: still held at +40 s",
    );
    assert.equal(await store.claim(t("a.test"), "probe", lease("two", T0 + 50_000)), true);
    assert.equal(await store.renew(t("a.test"), "probe", lease("one", T0 + 50_000)), false);
    await store.release(t("a.test"), "probe", "one"); // not its claim any more: nothing happens
    assert.equal(await store.claim(t("a.test"), "probe", lease("three", T0 + 50_000)), false);
    await store.release(t("a.test"), "probe", "two");
    assert.equal(await store.claim(t("a.test"), "probe", lease("three", T0 + 50_000)), true);
  });

  test(
    "2 000 distinct targets leave at most maxReports reports, the oldest unwatched evicted first",
    async (store) => {
      await store.watch([t("w1.test"), t("w2.test")], 10, T0);
      await store.save(readyReport("w1.test", "A", T0 - 10 * DAY)); // the oldest of all
      await store.save(readyReport("w2.test", "A", T0 - 9 * DAY));
      let evicted = 0;
      for (let i = 0; i < 2_000; i++) {
        const report = errorReport({
          host: `n${i}.invalid`,
          port: 443,
          engine: "probe",
          message: "unresolvable",
          scannedAt: new Date(T0 + i * 1_000),
        });
        evicted += (await store.save(report)).evicted;
      }
      const stats = await store.watchStats("probe");
      assert.equal(stats.reports, 100);
      assert.equal(evicted, 2_002 - 100);
      assert.ok(await store.latest(t("w1.test"), "probe"), "watched hosts keep theirs");
      assert.ok(await store.latest(t("w2.test"), "probe"));
      assert.equal(await store.latest(t("n1901.invalid"), "probe"), undefined, "older ones went");
      assert.ok(await store.latest(t("n1902.invalid"), "probe"), "the 98 newest stay");
      assert.ok(await store.latest(t("n1999.invalid"), "probe"));
    },
    100,
  );

  test("watchStats: watched count, reports, grades and expiries of watched hosts", async (store) => {
    await store.watch([t("a.test"), t("b.test"), t("c.test"), t("d.test")], 10, T0);
    await store.save(readyReport("a.test", "A", T0, 10));
    await store.save(readyReport("b.test", "A"));
    await store.save(readyReport("c.test", "T"));
    await store.save(readyReport("other.test", "F")); // not watched: a report, not a host
    const stats = await store.watchStats("probe");
    assert.equal(stats.watched, 4);
    assert.equal(stats.reports, 4);
    assert.deepEqual(stats.byGrade, { A: 2, T: 1, none: 1 });
    const hosts = [...stats.hosts].sort((x, y) => x.host.localeCompare(y.host));
    assert.deepEqual(hosts, [
      { host: "a.test", port: 443, grade: "A", notAfterMs: T0 + 10 * DAY },
      { host: "b.test", port: 443, grade: "A", notAfterMs: T0 + 300 * DAY },
      { host: "c.test", port: 443, grade: "T", notAfterMs: T0 + 300 * DAY },
    ]);
  });

  test("check resolves while the database answers", async (store) => {
    await store.check(AbortSignal.timeout(5_000));
  });
}
