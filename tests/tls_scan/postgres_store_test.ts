/**
 * The store contract on a real PostgreSQL (a fresh database per test), and what only a shared
 * store has: the schema made once by racing instances, claims racing across pools, reports held
 * while the server is down and written when it is back.
 */
import assert from "node:assert/strict";
import { ConfigError, readSettings } from "../../src/app/settings.ts";
import { PostgresStore } from "../../src/tls_scan/postgres_store.ts";
import { configure, SETTINGS } from "../../src/tls_scan/settings.ts";
import { StoreUnavailableError } from "../../src/tls_scan/store.ts";
import { type PostgresServer, startPostgres } from "../../tools/tls_scan/postgres_server.ts";
import { readyReport, storeContract } from "./store_contract.ts";

// One server for the module, started outside any test (its process outlives each of them).
const server: PostgresServer = await startPostgres();
let databases = 0;
const database = () => server.createDatabase(`contract_${++databases}`);
const open = (url: string, maxReports = 1_000) =>
  PostgresStore.open({ url, poolMax: 4, maxReports, connectTimeoutMs: 2_000 });

storeContract("postgres", async ({ maxReports }) => open(await database(), maxReports));

Deno.test("postgres: instances starting together make the schema once; it is there after", async () => {
  const url = await database();
  const stores = Array.from({ length: 4 }, () => open(url));
  try {
    const checks = await Promise.allSettled(
      stores.map((s) => s.check(AbortSignal.timeout(10_000))),
    );
    assert.deepEqual(checks.map((c) => c.status), [
      "fulfilled",
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    await stores[0]!.watch([{ host: "a.test", port: 443 }], 10);
    assert.equal(await stores[3]!.watchedCount(), 1, "one database of record");
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
  const again = open(url);
  assert.equal(await again.watchedCount(), 1, "a restart migrates nothing and keeps the data");
  await again.close();
});

Deno.test("postgres: two instances claiming at once split the due hosts, never sharing one", async () => {
  const url = await database();
  const [one, two] = [open(url), open(url)];
  try {
    const hosts = Array.from({ length: 200 }, (_, i) => ({ host: `h${i}.test`, port: 443 }));
    await one.watch(hosts, 1_000);
    const due = {
      staleBeforeMs: Date.now() - 3_600_000,
      expiringBeforeMs: 0,
      recheckBeforeMs: 0,
      limit: 16,
    };
    const claimed: string[][] = [[], []];
    await Promise.all([one, two].map(async (store, i) => {
      for (;;) {
        const got = await store.claimDue("probe", due, {
          owner: `owner-${i}`,
          leaseMs: 60_000,
          nowMs: Date.now(),
        });
        if (got.length === 0) break;
        claimed[i]!.push(...got.map((t) => t.host));
        for (const target of got) { // scanned: not due any more, the claim let go
          await store.save(readyReport(target.host, "A", Date.now()));
          await store.release(target, "probe", `owner-${i}`);
        }
      }
    }));
    const all = [...claimed[0]!, ...claimed[1]!];
    assert.equal(all.length, 200, "every due host claimed");
    assert.equal(new Set(all).size, 200, "none claimed twice");
  } finally {
    await Promise.all([one.close(), two.close()]);
  }
});

Deno.test("postgres: the server down: 503-worthy errors, reports held then written, watch list intact", async () => {
  const url = await database();
  const store = open(url);
  try {
    await store.watch([{ host: "a.test", port: 443 }], 10);
    await server.stop();
    await assert.rejects(store.watchedCount(), StoreUnavailableError);
    await assert.rejects(store.check(AbortSignal.timeout(5_000)), StoreUnavailableError);
    assert.deepEqual(await store.save(readyReport("a.test", "B")), {
      previousGrade: undefined,
      evicted: 0,
    });
    assert.equal(store.pendingReports, 1, "held, not lost");
    await server.start();
    for (let i = 0; i < 200 && store.pendingReports > 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(store.pendingReports, 0, "written once the server is back");
    assert.equal(await store.watchedCount(), 1);
    const rows = await store.listWatched("probe", 10);
    assert.equal(rows[0]?.grade, "B");
  } finally {
    await store.close();
  }
});

Deno.test("postgres settings: a URL is required, and a bad one is named without its password", () => {
  const derive = (env: Record<string, string>) => {
    try {
      configure(readSettings(SETTINGS, { TLS_SCAN_STORE: "postgres", ...env }), {});
    } catch (error) {
      assert.ok(error instanceof ConfigError);
      return error.message;
    }
    return "accepted";
  };
  assert.equal(derive({}), "TLS_SCAN_DATABASE_URL must be set when TLS_SCAN_STORE=postgres");
  const wrong = derive({ TLS_SCAN_DATABASE_URL: "mysql://scanner:hunter2@db:3306/tls" });
  assert.match(wrong, /got "mysql:\/\/scanner:\*\*\*@db:3306\/tls"/);
  assert.ok(!wrong.includes("hunter2"));
  assert.ok(!derive({ TLS_SCAN_DATABASE_URL: "hunter2 not a url" }).includes("hunter2"));
  assert.equal(
    derive({ TLS_SCAN_DATABASE_URL: "postgres://scanner:hunter2@db:5432/tls" }),
    "accepted",
  );
});

Deno.test("postgres: the URL's password is never shown", () => {
  const store = PostgresStore.open({
    url: "postgres://scanner:hunter2@127.0.0.1:1/tls",
    poolMax: 1,
    maxReports: 10,
  });
  assert.equal(store.where, "postgres://scanner:***@127.0.0.1:1/tls");
  return store.close();
});

// Teardown: the server's process was made outside any test, so this one may end it.
Deno.test({
  name: "postgres: the test server stops and its folder goes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await server.close();
    await assert.rejects(Deno.stat(server.dir), Deno.errors.NotFound);
  },
});
