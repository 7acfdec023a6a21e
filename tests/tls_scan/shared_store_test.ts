/**
 * Several tls-scan instances on one PostgreSQL (a real server this module starts): the watch
 * list and reports shared, a due host scanned once across instances and two requests for one
 * host served by one scan (both counted at the target: the test servers count connections),
 * an instance killed mid-scan and the other finishing the round, the database stopped and
 * started mid-run with nothing lost.
 */
import assert from "node:assert/strict";
import { startService as startProcess } from "../../tools/common/service_process.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { type PostgresServer, startPostgres } from "../../tools/tls_scan/postgres_server.ts";
import { startService, type TestService } from "./service_harness.ts";

// One database server for the module, started outside any test (its process outlives each of
// them); each test has a database of its own, and its own test servers.
const server: PostgresServer = await startPostgres();
let databases = 0;
const PASSWORD = "never-in-a-log-7c1f";

async function sharedEnv(caFile: string, extra: Record<string, string> = {}) {
  return {
    TLS_SCAN_STORE: "postgres",
    // The test server trusts loopback: any password connects, and this one must never be logged.
    TLS_SCAN_DATABASE_URL: (await server.createDatabase(`shared_${++databases}`))
      .replace(":postgres@", `:${PASSWORD}@`),
    TLS_SCAN_DATABASE_POOL_MAX: "4",
    TLS_SCAN_FRESH_MIN_AGE_SECONDS: "0", // fresh=true always rescans: one scan's cost
    TLS_SCAN_CA_FILE: caFile,
    ...extra,
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000) {
  const end = performance.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function post(base: string, hosts: unknown[]): Promise<Response> {
  return fetch(`${base}/scans`, { method: "POST", body: JSON.stringify({ hosts }) });
}

type Row = { port: number; status: string | null; grade: string | null };
async function rows(service: TestService): Promise<Row[]> {
  return (await service.json("/scans")).body.hosts as Row[];
}

/** The sum of a series over instances' /metrics (0 when absent). */
async function metric(services: TestService[], series: string): Promise<number> {
  let sum = 0;
  for (const service of services) {
    const text = await (await service.get("/metrics")).text();
    for (const line of text.split("\n")) {
      if (line.startsWith(`${series} `)) sum += Number(line.slice(series.length + 1));
    }
  }
  return sum;
}

Deno.test("two instances share the watch list and the reports; asked at once, they scan once", async () => {
  await using fleet = await startFleet({ only: ["good", "expired"] });
  const env = await sharedEnv(fleet.caFile);
  await using a = await startService(env);
  await using b = await startService(env);
  const [good, expired] = [fleet.target("good"), fleet.target("expired")];
  const hosts = [good, expired].map((t) => ({ host: "localhost", port: t.port }));
  const watched = await post(a.base, hosts);
  assert.equal((await watched.json()).added, 2);
  assert.equal((await b.json("/scans")).body.total, 2, "watched through a, seen by b");

  const path = `/scan?host=localhost&port=${good.port}`;
  const before = good.connections();
  const answers = await Promise.all([a.json(path), b.json(path)]);
  const together = good.connections() - before;
  const ready = 'edr_tls_scan_scans_total{engine="probe",outcome="ready"}';
  assert.equal(await metric([a, b], ready), 1, "one scan between the two instances");
  assert.deepEqual(answers.map((r) => [r.status, r.body.grade]), [[200, "A"], [200, "A"]]);
  assert.deepEqual(
    answers.map((r) => r.body.from_cache).sort(),
    [false, true],
    "one scanned, the other answered with its report",
  );
  const alone = good.connections();
  assert.equal((await a.json(`${path}&fresh=true`)).body.grade, "A");
  const single = good.connections() - alone;
  // A scan's connection count varies a little (a handshake retried); two would double it.
  assert.ok(
    together < 1.5 * single,
    `two requests cost the target one scan: ${together} vs ${single}`,
  );

  const quiet = good.connections();
  const cached = await b.json(path);
  assert.equal(cached.body.from_cache, true, "b answers from the shared cache");
  assert.equal(good.connections(), quiet, "without touching the host");

  const removed = await fetch(`${b.base}/scans/localhost?port=${expired.port}`, {
    method: "DELETE",
  });
  assert.deepEqual(await removed.json(), { removed: 1 });
  assert.deepEqual((await rows(a)).map((r) => r.port), [good.port], "unwatched through b");
});

Deno.test("a due host is scanned once across two instances' schedulers (counted at the target)", async () => {
  await using fleet = await startFleet({ only: ["good", "expiring", "expired"] });
  const env = await sharedEnv(fleet.caFile, { TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "1" });
  await using a = await startService(env);
  await using b = await startService(env);
  const targets = ["good", "expiring", "expired"].map((name) => fleet.target(name));
  const before = targets.map((t) => t.connections());
  const hosts = targets.map((t) => ({ host: "localhost", port: t.port }));
  await (await post(a.base, hosts)).body?.cancel();
  await until("every watched host scanned", async () => {
    const list = await rows(b);
    return list.length === 3 && list.every((r) => r.grade !== null) ? list : undefined;
  });
  // A few more rounds of both schedulers: nothing is due, nothing is scanned again.
  await new Promise((r) => setTimeout(r, 2_500));
  await until(
    "no scan in flight",
    async () => await metric([a, b], "edr_tls_scan_scans_in_flight") === 0 ? true : undefined,
  );
  const scans = await metric([a, b], 'edr_tls_scan_scans_total{engine="probe",outcome="ready"}');
  assert.equal(scans, 3, "three hosts, three scans between the two instances");
  for (const [i, target] of targets.entries()) {
    const round = target.connections() - before[i]!;
    const alone = target.connections();
    await a.json(`/scan?host=localhost&port=${target.port}&fresh=true`);
    const single = target.connections() - alone;
    assert.ok(round < 1.5 * single, `${target.name}: the round cost ${round}, one scan ${single}`);
  }
});

Deno.test("an instance killed mid-scan: the other takes its claims over when they expire and finishes the round", async () => {
  await using fleet = await startFleet({ only: ["good", "silent"] });
  const env = await sharedEnv(fleet.caFile, {
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "1",
    TLS_SCAN_ALLOW_PRIVATE: "true",
    TLS_SCAN_TIMEOUT_SECONDS: "2",
  });
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "tls-killed-" });
  const processEnv: Record<string, string> = {
    COMPONENTS: "tls-scan",
    HTTP_PORT: "0",
    TLS_SCAN_DB: `${dir}/unused.db`,
    ...env,
  };
  for (const name of Object.keys(Deno.env.toObject())) {
    if (name.startsWith("AWS_")) processEnv[name] = "";
  }
  const killed = await startProcess(processEnv, `${dir}/service.log`);
  try {
    const silent = fleet.target("silent");
    const seen = silent.connections();
    const hosts = [silent, fleet.target("good")].map((t) => ({ host: "localhost", port: t.port }));
    await (await post(`http://127.0.0.1:${killed.port}`, hosts)).body?.cancel();
    await until(
      "the first instance scanning the silent host",
      () => Promise.resolve(silent.connections() > seen ? true : undefined),
    );
    await killed.kill(); // SIGKILL: its claims stay in the database until they expire
    const killedAt = performance.now();
    await using other = await startService(env);
    const list = await until("both hosts with a report", async () => {
      const list = await rows(other);
      return list.every((r) => r.status !== null) ? list : undefined;
    });
    const byPort = new Map(list.map((r) => [r.port, r]));
    assert.equal(byPort.get(silent.port)?.status, "ERROR", "no TLS answer: an ERROR report");
    assert.equal(byPort.get(fleet.target("good").port)?.grade, "A");
    const errors = await metric(
      [other],
      'edr_tls_scan_scans_total{engine="probe",outcome="error"}',
    );
    assert.equal(errors, 1, "the silent host's scan was finished by the other instance");
    // The lease is 3 × TLS_SCAN_TIMEOUT_SECONDS: taken over after it expired, not before.
    assert.ok(performance.now() - killedAt >= 4_000, "claim honoured until it expired");
    const log = await Deno.readTextFile(`${dir}/service.log`);
    assert.match(
      log,
      /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/shared_\d+/,
      "the URL, redacted",
    );
    assert.ok(!log.includes(PASSWORD), "the database password is never logged");
  } finally {
    await killed.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the database stopped and started mid-run: 503s and readiness false, the scan in flight kept, nothing lost", async () => {
  await using fleet = await startFleet({ only: ["silent"] });
  const env = await sharedEnv(fleet.caFile, {
    TLS_SCAN_ALLOW_PRIVATE: "true",
    TLS_SCAN_TIMEOUT_SECONDS: "2",
  });
  await using service = await startService(env);
  const silent = fleet.target("silent");
  const hosts = [{ host: "localhost", port: silent.port }, { host: "localhost", port: 9 }];
  await (await post(service.base, hosts)).body?.cancel();

  const seen = silent.connections();
  const inFlight = service.json(`/scan?host=localhost&port=${silent.port}`);
  await until(
    "the scan under way",
    () => Promise.resolve(silent.connections() > seen ? true : undefined),
  );
  await server.stop();
  try {
    const list = await service.json("/scans");
    assert.equal(list.status, 503);
    assert.match(String(list.body.error), /^database unavailable: /);
    assert.ok(list.headers.get("retry-after"));
    const added = await post(service.base, [{ host: "localhost", port: 1 }]);
    assert.equal(added.status, 503, "a change refused, not lost silently");
    await added.body?.cancel();
    const ready = await until("readiness false", async () => {
      const response = await service.get("/readyz");
      const body = await response.json();
      return response.status === 503 ? body : undefined;
    });
    assert.equal(ready.components["tls-scan"].checks.database, false);
    const scanned = await inFlight;
    assert.equal(scanned.status, 200, "the scan in flight finished and answered");
    assert.equal(scanned.body.status, "ERROR");
    assert.equal(await metric([service], "edr_tls_scan_store_pending_reports"), 1, "held");
  } finally {
    await server.start();
  }
  await until("readiness back by itself", async () => {
    const response = await service.get("/readyz");
    await response.body?.cancel();
    return response.status === 200 ? true : undefined;
  });
  await until(
    "the held report written",
    async () =>
      await metric([service], "edr_tls_scan_store_pending_reports") === 0 ? true : undefined,
  );
  const list = await rows(service);
  assert.deepEqual(list.map((r) => r.port).sort(), [9, silent.port].sort(), "watch list intact");
  assert.equal(list.find((r) => r.port === silent.port)?.status, "ERROR", "its report stored");
});

// Teardown: the server's process was made outside any test, so this one may end it.
Deno.test({
  name: "the test PostgreSQL stops and its folder goes",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await server.close();
    await assert.rejects(Deno.stat(server.dir), Deno.errors.NotFound);
  },
});
