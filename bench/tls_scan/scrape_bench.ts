/**
 * What one `/metrics` scrape costs with a large watch list: a database in a temporary folder
 * with `--hosts` watched hosts (10 000 by default), each with a report (grades and certificate
 * expiries spread), the tls-scan component in an app on 127.0.0.1, then `--scrapes` GET /metrics
 * one after the other; prints the time per scrape (median, p95, max), the process's CPU time per
 * scrape (the client's share included), the body's size and the
 * series per-host gauges add. Run it under the CPU lock:
 *
 *   flock /tmp/edr-cpu.lock deno task bench:scrape [--hosts 10000] [--scrapes 50]
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { GRADES } from "../../src/tls_scan/report.ts";
import { SqliteStore } from "../../src/tls_scan/sqlite_store.ts";
import { startService } from "../../tests/tls_scan/service_harness.ts";
import { syntheticReport, syntheticTargets } from "../../tools/tls_scan/synthetic_reports.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    hosts: { type: "string", default: "10000" },
    scrapes: { type: "string", default: "50" },
  },
});
const hosts = Number(values.hosts);
const scrapes = Number(values.scrapes);

const dir = await Deno.makeTempDir({ prefix: "scrape-bench-" });
const dbPath = `${dir}/reports.db`;
const seeding = performance.now();
const targets = syntheticTargets(hosts);
const seed = SqliteStore.open(dbPath, { maxReports: 100_000 });
await seed.watch(targets, hosts);
for (const [i, { host }] of targets.entries()) {
  await seed.save(syntheticReport({ host, grade: GRADES[i % 4]!, days: 1 + (i % 120) }));
}
await seed.close();
console.error(`seeded ${hosts} watched hosts with reports in ${ms(performance.now() - seeding)}`);

// The component in an app on 127.0.0.1, as the tests run it (scheduler off).
const service = await startService({
  TLS_SCAN_DB: dbPath,
  TLS_SCAN_MAX_WATCHED: String(Math.max(hosts, 10_000)),
});
try {
  const url = `${service.base}/metrics`;
  // Until the watch-list gauges show every host (a cache may fill after start).
  let text = "";
  for (let i = 0; i < 300 && !text.includes(`edr_tls_scan_watched_hosts ${hosts}\n`); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 100));
    text = await (await fetch(url)).text();
  }
  const times: number[] = [];
  // CPU time, unlike wall time, holds on a loaded machine (the client's share included).
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < scrapes; i++) {
    const started = performance.now();
    text = await (await fetch(url)).text();
    times.push(performance.now() - started);
  }
  const cpu = process.cpuUsage(cpuBefore);
  const cpuMs = (cpu.user + cpu.system) / 1000 / scrapes;
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  const perHost = text.split("\n").filter((line) => line.includes('host="')).length;
  console.log(`GET /metrics with ${hosts} watched hosts, ${scrapes} scrapes one after the other:`);
  console.log(
    `  median ${ms(at(0.5))}, p95 ${ms(at(0.95))}, max ${ms(times.at(-1)!)}, ` +
      `CPU ${ms(cpuMs)} per scrape; ` +
      `${(text.length / 1024).toFixed(0)} KiB, ${perHost} per-host series`,
  );
} finally {
  await service.stop();
  await Deno.remove(dir, { recursive: true });
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
