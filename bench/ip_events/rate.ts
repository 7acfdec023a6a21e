/**
 * The collector's rate and memory, with the sender in its own process (tools/ip_events/client.ts
 * as a subprocess, sendmmsg through FFI) and the collector as `deno task start` runs it:
 *
 * 1. sustained: 33 000 datagrams/s for 5 minutes (~10 M events): counted share, exact lists,
 *    the collector's CPU and its RSS over time (flat?), receive-buffer overruns;
 * 2. ceiling: rising rates for 10 s each until more than 0.1 % is lost; CPU per 10 000
 *    datagrams at each;
 * 3. flood: 200 000 distinct shas (one event each) at the default caps and with room for all:
 *    RSS after, apps tracked, events dropped for capacity.
 *
 * With `--store redis --instances N` the same runs go to N collectors sharing a redis-server of
 * their own (IP_EVENTS_STORE=redis), the client splitting every app's datagrams between them:
 * the total rate, the CPU of each process, and Redis commands per datagram (bench/ip_events/
 * fleet.ts). The flood phase is the memory store's (RSS of one process).
 *
 *   flock /tmp/edr-cpu.lock deno task bench:ip-events [--phases sustained,ceiling,flood]
 *     [--seconds 300] [--rate 33000] [--ceiling 50000,100000,…] [--step-seconds 10]
 *     [--flood 200000] [--receiver auto|dgram] [--store memory|redis] [--instances N]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fixed, int, mb, table } from "../common/figures.ts";
import { machineBusySeconds, machineLine } from "../common/machine.ts";
import { ProcSampler, readProc } from "../common/proc_sampler.ts";
import type { ClientReport } from "../../tools/ip_events/client.ts";
import type { CollectorProcess } from "../../tools/ip_events/collector_process.ts";
import { metricTotals } from "../../tools/common/metrics_text.ts";
import { noUpdateCheck } from "../../tools/common/no_update_check.ts";
import { parseSnmpUdp } from "../../src/ip_events/proc_net.ts";
import { makeScenario } from "../../tools/ip_events/scenario.ts";
import { type Fleet, fleetUsage, startFleet } from "./fleet.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    phases: { type: "string", default: "sustained,ceiling,flood" },
    seconds: { type: "string", default: "300" },
    rate: { type: "string", default: "33000" },
    ceiling: { type: "string", default: "50000,100000,150000,200000,250000,300000,400000" },
    "step-seconds": { type: "string", default: "10" },
    flood: { type: "string", default: "200000" },
    receiver: { type: "string", default: "auto" },
    store: { type: "string", default: "memory" },
    instances: { type: "string", default: "1" },
  },
});
const phases = new Set(values.phases.split(","));
const store = values.store === "redis" ? "redis" : "memory";
const instances = Number(values.instances);
if (values.store !== store || !(instances >= 1) || (instances > 1 && store !== "redis")) {
  throw new Error("--store is memory or redis; --instances > 1 needs --store redis");
}
const CLIENT = new URL("../../tools/ip_events/client.ts", import.meta.url).pathname;

/** Runs the client in its own process against the fleet and returns its JSON report. */
async function client(fleet: Fleet, args: string[]): Promise<ClientReport> {
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      "--allow-ffi",
      CLIENT,
      "--json",
      ...fleet.clientArgs(),
      "--max-loss",
      "1",
      ...args,
    ],
    env: noUpdateCheck(),
    stdin: "null",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  if (!output.success && text === "") throw new Error(`the client failed (${output.code})`);
  return JSON.parse(text.split("\n").at(-1)!) as ClientReport;
}

/** Machine-wide UDP receive-buffer overruns (`cat`: Deno reads /proc/self/… only with -A). */
async function udpOverruns(): Promise<number> {
  const output = await new Deno.Command("cat", { args: ["/proc/net/snmp"], stderr: "null" })
    .output();
  return parseSnmpUdp(new TextDecoder().decode(output.stdout))?.rcvbufErrors ?? NaN;
}

/** GETs one app's answer every `everyMs` while the load runs; `stop()` gives the latencies. */
function sampleGets(collector: CollectorProcess, seed: number, everyMs: number) {
  const sha = makeScenario({ seed, apps: 3 }).shas[0]!;
  const latencies: number[] = [];
  let stopped = false;
  const running = (async () => {
    while (!stopped) {
      await new Promise((resolve) => setTimeout(resolve, everyMs));
      const started = performance.now();
      const response = await fetch(`${collector.base}/events/${sha}`);
      await response.body?.cancel();
      latencies.push(performance.now() - started);
    }
  })();
  return {
    async stop(): Promise<string> {
      stopped = true;
      await running;
      const sorted = latencies.sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
      return `${fixed(at(0.5) ?? NaN)} / ${fixed(at(0.99) ?? NaN)} / ${
        fixed(sorted.at(-1) ?? NaN)
      } ms (${sorted.length})`;
    },
  };
}

function collectorEnv(extra: Record<string, string> = {}) {
  return { env: { IP_EVENTS_UDP_RECEIVER: values.receiver, ...extra } };
}

function fleetOf() {
  return startFleet({ store, instances, env: collectorEnv().env });
}

/** "12.3 + 11.9 %" per collector, and Redis's share and commands per datagram. */
function usageCells(usage: ReturnType<typeof fleetUsage>): string[] {
  const cells = [usage.collectorsCore.map((c) => fixed(c * 100)).join(" + ") + " %"];
  if (store === "redis") {
    cells.push(
      `${fixed(usage.redisCore! * 100)} %`,
      fixed(usage.commandsPerDatagram!, 4),
      int(usage.evalshaPerDatagram! * 1_000_000),
    );
  }
  return cells;
}

const USAGE_HEADERS = store === "redis"
  ? ["CPU per collector", "redis CPU", "Redis cmds / datagram", "EVALSHA / 10⁶ datagrams"]
  : ["collector CPU"];

function counted(report: ClientReport): number {
  return report.apps.reduce((sum, app) => sum + app.counted, 0);
}

console.log(`# ip-events rate and memory (${new Date().toISOString()})\n\n${machineLine()}\n`);
if (store === "redis" || instances > 1) {
  console.log(`${instances} collector(s) sharing one redis-server (IP_EVENTS_STORE=redis)\n`);
}

if (phases.has("sustained")) {
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  await using fleet = await fleetOf();
  const first = fleet.collectors[0]!;
  const path = first.startup.find((l) => l.path !== undefined);
  console.log(
    `## sustained: ${int(rate)}/s for ${seconds} s, ${fleet.describe()} (receive path ${
      path?.path ?? "?"
    }, buffer ${path?.receiveBufferBytes ?? "kernel default"})\n`,
  );
  const sampler = new ProcSampler(first.pid, 5_000);
  const overruns = await udpOverruns();
  const busy = await machineBusySeconds();
  const before = await fleet.read();
  const gets = sampleGets(first, 1, 1_000);
  const report = await client(fleet, [
    "--events",
    String(rate * seconds),
    "--rate",
    String(rate),
    "--seed",
    "1",
  ]);
  const getLatency = await gets.stop();
  const usage = fleetUsage(before, await fleet.read(), report.sent, report.seconds);
  const busyUsed = await machineBusySeconds() - busy;
  await sampler.sample();
  sampler.stop();
  let received = 0;
  for (const collector of fleet.collectors) {
    const metrics = metricTotals(await (await fetch(`${collector.base}/metrics`)).text());
    received += metrics.get("edr_ip_events_datagrams_received_total") ?? NaN;
  }
  const steady = sampler.samples.filter((s) => s.at - sampler.samples[0]!.at >= 30_000);
  const rss = steady.map((s) => s.rssBytes);
  console.log(table(
    [
      "sent",
      "counted",
      "counted %",
      "lists",
      "send rate",
      ...USAGE_HEADERS,
      "CPU / 10k",
      "overruns",
    ],
    [[
      int(report.sent),
      int(counted(report)),
      fixed(counted(report) / report.sent * 100, 3),
      report.apps.every((a) => a.exact) ? "exact (3 apps)" : "WRONG",
      `${int(report.ratePerSecond)}/s`,
      ...usageCells(usage),
      `${fixed(usage.cpuSeconds / (report.sent / 10_000) * 1000, 2)} ms`,
      int(await udpOverruns() - overruns),
    ]],
  ));
  console.log(
    `\nRSS (first collector): ${mb(sampler.samples[0]?.rssBytes ?? NaN)} at start; from 30 s ` +
      `on min ${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}, last ${
        mb(rss.at(-1) ?? NaN)
      } (${rss.length} samples every 5 s). GET during the run (p50 / p99 / max, one a second): ${getLatency}; after it: ${
        report.apps.map((a) => `${fixed(a.getMs)} ms`).join(", ")
      }. Machine busy ${fixed(busyUsed / report.seconds * 100)} % of a core on average ` +
      `(collectors, Redis, sender and anything else). Datagrams received (metric, all ` +
      `collectors): ${int(received)}. CPU / 10k: collectors and Redis together.\n`,
  );
}

if (phases.has("ceiling")) {
  const steps = values.ceiling.split(",").map(Number);
  const stepSeconds = Number(values["step-seconds"]);
  await using fleet = await fleetOf();
  console.log(
    `## ceiling: ${fleet.describe()}, ${stepSeconds} s per rate, stop past 0.1 % lost\n`,
  );
  const rows: string[][] = [];
  let ceiling = 0;
  for (const rate of steps) {
    const overruns = await udpOverruns();
    const busy = await machineBusySeconds();
    const before = await fleet.read();
    const gets = sampleGets(fleet.collectors[0]!, rate, 250);
    const report = await client(fleet, [
      "--events",
      String(rate * stepSeconds),
      "--rate",
      String(rate),
      "--seed",
      String(rate),
    ]);
    const getLatency = await gets.stop();
    const usage = fleetUsage(before, await fleet.read(), report.sent, report.seconds);
    const busyUsed = await machineBusySeconds() - busy;
    const lost = 1 - counted(report) / report.sent;
    rows.push([
      `${int(rate)}/s`,
      `${int(report.ratePerSecond)}/s`,
      fixed(lost * 100, 3),
      report.apps.every((a) => a.exact) ? "exact" : "wrong",
      ...usageCells(usage),
      `${fixed(usage.cpuSeconds / (report.sent / 10_000) * 1000, 2)} ms`,
      `${fixed(busyUsed / report.seconds * 100)} %`,
      int(await udpOverruns() - overruns),
      getLatency,
    ]);
    if (lost > 0.001) break;
    ceiling = rate;
  }
  console.log(table(
    [
      "rate asked",
      "rate sent",
      "lost %",
      "lists",
      ...USAGE_HEADERS,
      "CPU / 10k",
      "machine busy",
      "overruns",
      "GET p50 / p99 / max under load",
    ],
    rows,
  ));
  console.log(
    `\nceiling (highest rate with ≤ 0.1 % lost): ${int(ceiling)}/s in all. CPU / 10k: ` +
      `collectors and Redis together; machine busy: both cores, the sender included.\n`,
  );
}

if (phases.has("flood") && store === "redis") {
  console.log("## flood: measured with the memory store only (RSS of one process)\n");
} else if (phases.has("flood")) {
  const shas = Number(values.flood);
  console.log(`## flood: ${int(shas)} distinct shas, one event each, at 33 000/s\n`);
  const rows: string[][] = [];
  // At the default cap the flood runs twice (new shas the second time): the cap, not the
  // machine, must take it.
  for (const [maxApps, floods] of [[100_000, 2], [shas, 1]] as const) {
    await using fleet = await startFleet({
      store: "memory",
      instances: 1,
      env: collectorEnv({ IP_EVENTS_MAX_APPS: String(maxApps) }).env,
    });
    const collector = fleet.collectors[0]!;
    let before = (await readProc(collector.pid))?.rssBytes ?? NaN;
    for (let flood = 1; flood <= floods; flood++) {
      await client(fleet, [
        "--events",
        String(shas),
        "--apps",
        String(shas),
        "--rate",
        "33000",
        "--check",
        "3",
        "--seed",
        String(7 * flood),
      ]);
      const after = (await readProc(collector.pid))?.rssBytes ?? NaN;
      const metrics = metricTotals(await (await fetch(`${collector.base}/metrics`)).text());
      rows.push([
        int(maxApps),
        `${flood}`,
        int(metrics.get("edr_ip_events_apps_tracked") ?? NaN),
        int(metrics.get("edr_ip_events_dropped_total") ?? NaN),
        mb(before),
        mb(after),
        `${after >= before ? "+" : ""}${mb(after - before)}`,
      ]);
      before = after;
    }
  }
  console.log(table(
    [
      "IP_EVENTS_MAX_APPS",
      "flood",
      "apps tracked",
      "dropped (capacity)",
      "RSS before",
      "RSS after",
      "growth",
    ],
    rows,
  ));
}
