/**
 * What the shared store costs and where PostgreSQL becomes the limit: a real PostgreSQL (started
 * here, in a temporary folder), `--hosts` watched hosts (10 000 by default, never scanned), then
 * one scheduler round over all of them by 1 and by 2 instances — separate processes, each with
 * its own pool, coordinator and scheduler, as replicas would run — with a stand-in engine that
 * answers a READY report after `--engine-ms` (20 ms by default; no network), so the figures are
 * the store's and the coordination's, not a TLS server's. Prints, per instance count: scans per
 * minute, database statements per scan, the scans each instance made (none twice: the report
 * count equals the hosts), and the CPU seconds PostgreSQL spent.
 *
 *   deno task bench:tls-scan:store [--hosts 10000] [--engine-ms 20] [--parallelism 16]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { getLogger } from "../../src/app/logging.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import { ScanCoordinator } from "../../src/tls_scan/coordinator.ts";
import { createTlsScanMetrics } from "../../src/tls_scan/metrics.ts";
import { PostgresStore } from "../../src/tls_scan/postgres_store.ts";
import { Scheduler } from "../../src/tls_scan/scheduler.ts";
import { startPostgres } from "../../tools/tls_scan/postgres_server.ts";
import { standInEngine, syntheticTargets } from "../../tools/tls_scan/synthetic_reports.ts";
import { fixed, int, table } from "../common/figures.ts";
import { runBench } from "../common/lifecycle.ts";
import { loadAverage, machineLine } from "../common/machine.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    hosts: { type: "string", default: "10000" },
    "engine-ms": { type: "string", default: "20" },
    parallelism: { type: "string", default: "16" },
    instances: { type: "string", default: "1,2" },
    child: { type: "string" }, // the database URL: run as one instance
  },
});
const engineMs = Number(values["engine-ms"]);
const parallelism = Number(values.parallelism);

/** One instance: scheduler rounds until nothing is left to claim; prints its figures. */
async function child(url: string): Promise<void> {
  let queries = 0;
  const store = PostgresStore.open({
    url,
    poolMax: 10,
    maxReports: 1_000_000,
    onQuery: () => queries++,
  });
  const { engine } = standInEngine({ delayMs: engineMs, parallelism });
  const logger = getLogger("tls-scan");
  const claims = { owner: `bench-${Deno.pid}`, leaseMs: 24_000 };
  const coordinator = new ScanCoordinator({
    engine,
    store,
    logger,
    metrics: createTlsScanMetrics(createRegistry().registry),
    maxAgeMs: 86_400_000,
    waitMs: 10_000,
    maxPending: 100,
    allowPrivate: false,
    resolve: () => Promise.resolve(["93.184.215.14"]), // public, and never the network
    ...claims,
  });
  const scheduler = new Scheduler({
    coordinator,
    store,
    engine,
    logger,
    intervalMs: 1_000,
    maxAgeMs: 86_400_000,
    warnDays: 30,
    ...claims,
  });
  await store.check(AbortSignal.timeout(10_000)); // connected, schema in place
  console.log("ready");
  await readLine(); // "go"
  queries = 0;
  let scans = 0;
  for (let scanned = await scheduler.tick(); scanned > 0; scanned = await scheduler.tick()) {
    scans += scanned;
  }
  console.log(JSON.stringify({ scans, queries }));
  await coordinator.stop(performance.now() + 5_000);
  await store.close();
}

async function readLine(): Promise<string> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value ?? "";
}

/** CPU seconds of the server and its exited backends (utime, stime, cutime, cstime). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return ticks / 100;
}

async function round(url: string, instances: number, pid: number) {
  const children = Array.from({ length: instances }, () =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        new URL(import.meta.url).pathname,
        "--child",
        url,
        "--engine-ms",
        String(engineMs),
        "--parallelism",
        String(parallelism),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn());
  const lines = children.map((c) => c.stdout.pipeThrough(new TextDecoderStream()).getReader());
  for (const reader of lines) {
    const { value } = await reader.read();
    if (!value?.includes("ready")) throw new Error(`an instance did not start: ${value}`);
  }
  const cpuBefore = await cpuSeconds(pid);
  const started = performance.now();
  const writers = children.map((c) => c.stdin.getWriter());
  await Promise.all(writers.map((w) => w.write(new TextEncoder().encode("go\n"))));
  const results = await Promise.all(lines.map(async (reader) => {
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      if (text.includes("}")) break;
    }
    return JSON.parse(text.slice(text.indexOf("{"), text.indexOf("}") + 1)) as {
      scans: number;
      queries: number;
    };
  }));
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(writers.map((w) => w.close()));
  await Promise.all(lines.map((reader) => reader.cancel()));
  await Promise.all(children.map((c) => c.status));
  const cpu = await cpuSeconds(pid) - cpuBefore;
  return { seconds, results, cpu };
}

async function main(): Promise<void> {
  const hosts = Number(values.hosts);
  await using server = await startPostgres();
  console.log(machineLine());
  console.log(
    `${int(hosts)} watched hosts, never scanned; stand-in engine ${engineMs} ms per scan, ` +
      `${parallelism} at once per instance; PostgreSQL 15 on loopback (fsync off)`,
  );
  const rows: string[][] = [];
  for (const instances of values.instances.split(",").map(Number)) {
    const url = await server.createDatabase(`bench_${instances}`);
    const seed = PostgresStore.open({ url, poolMax: 2, maxReports: 1_000_000 });
    const targets = syntheticTargets(hosts);
    await seed.watch(targets, hosts);
    const { seconds, results, cpu } = await round(url, instances, server.pid!);
    const stats = await seed.watchStats("probe");
    await seed.close();
    const scans = results.reduce((sum, r) => sum + r.scans, 0);
    const queries = results.reduce((sum, r) => sum + r.queries, 0);
    rows.push([
      String(instances),
      int(scans),
      results.map((r) => int(r.scans)).join(" + "),
      `${int(stats.reports)} (${stats.reports === hosts ? "each once" : "MISMATCH"})`,
      fixed(seconds),
      int(scans / seconds * 60),
      fixed(queries / scans, 2),
      fixed(cpu),
      fixed(cpu / scans * 1e6 / 1000, 2),
    ]);
  }
  console.log(table([
    "instances",
    "scans",
    "per instance",
    "reports",
    "seconds",
    "scans/min",
    "queries/scan",
    "PG CPU s",
    "PG CPU ms/scan",
  ], rows));
  console.log(`load average at the end: ${loadAverage()}`);
}

if (import.meta.main) {
  if (values.child) await child(values.child);
  else await runBench("bench:tls-scan:store", main);
}
