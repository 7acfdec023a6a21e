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
 *   flock /tmp/edr-cpu.lock deno task bench:ip-events [--phases sustained,ceiling,flood]
 *     [--seconds 300] [--rate 33000] [--ceiling 50000,100000,…] [--step-seconds 10]
 *     [--flood 200000] [--receiver auto|dgram]
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  fixed,
  int,
  machineBusySeconds,
  machineLine,
  mb,
  ProcSampler,
  readProc,
  table,
} from "../submissions/_harness.ts";
import type { ClientReport } from "../../tools/ip_events/client.ts";
import {
  type CollectorProcess,
  startCollectorProcess,
} from "../../tools/ip_events/collector_process.ts";
import { metricTotals } from "../../tools/common/metrics_text.ts";
import { parseSnmpUdp } from "../../src/ip_events/proc_net.ts";
import { makeScenario } from "../../tools/ip_events/scenario.ts";

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
  },
});
const phases = new Set(values.phases.split(","));
const CLIENT = new URL("../../tools/ip_events/client.ts", import.meta.url).pathname;

/** Runs the client in its own process and returns its JSON report. */
async function client(collector: CollectorProcess, args: string[]): Promise<ClientReport> {
  const output = await new Deno.Command("deno", {
    args: [
      "run",
      "--no-prompt",
      "--allow-net=127.0.0.1",
      "--allow-ffi",
      CLIENT,
      "--json",
      "--tcp",
      String(collector.httpPort),
      "--udp",
      String(collector.udpPort),
      "--max-loss",
      "1",
      ...args,
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
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

async function cpuSeconds(pid: number): Promise<number> {
  return (await readProc(pid))?.cpuSeconds ?? NaN;
}

function collectorEnv(extra: Record<string, string> = {}) {
  return { env: { IP_EVENTS_UDP_RECEIVER: values.receiver, ...extra } };
}

function counted(report: ClientReport): number {
  return report.apps.reduce((sum, app) => sum + app.counted, 0);
}

console.log(`# ip-events rate and memory (${new Date().toISOString()})\n\n${machineLine()}\n`);

if (phases.has("sustained")) {
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  await using collector = await startCollectorProcess(collectorEnv());
  const path = collector.startup.find((l) => l.path !== undefined);
  console.log(
    `## sustained: ${int(rate)}/s for ${seconds} s (receive path ${path?.path ?? "?"}, ` +
      `buffer ${path?.receiveBufferBytes ?? "kernel default"})\n`,
  );
  const sampler = new ProcSampler(collector.pid, 5_000);
  const overruns = await udpOverruns();
  const busy = await machineBusySeconds();
  const cpu = await cpuSeconds(collector.pid);
  const gets = sampleGets(collector, 1, 1_000);
  const report = await client(collector, [
    "--events",
    String(rate * seconds),
    "--rate",
    String(rate),
    "--seed",
    "1",
  ]);
  const getLatency = await gets.stop();
  const cpuUsed = await cpuSeconds(collector.pid) - cpu;
  const busyUsed = await machineBusySeconds() - busy;
  await sampler.sample();
  sampler.stop();
  const metrics = metricTotals(await (await fetch(`${collector.base}/metrics`)).text());
  const steady = sampler.samples.filter((s) => s.at - sampler.samples[0]!.at >= 30_000);
  const rss = steady.map((s) => s.rssBytes);
  console.log(table(
    [
      "sent",
      "counted",
      "counted %",
      "lists",
      "send rate",
      "collector CPU",
      "CPU / 10k",
      "overruns",
    ],
    [[
      int(report.sent),
      int(counted(report)),
      fixed(counted(report) / report.sent * 100, 3),
      report.apps.every((a) => a.exact) ? "exact (3 apps)" : "WRONG",
      `${int(report.ratePerSecond)}/s`,
      `${fixed(cpuUsed / report.seconds * 100)} % of a core`,
      `${fixed(cpuUsed / (report.sent / 10_000) * 1000, 2)} ms`,
      int(await udpOverruns() - overruns),
    ]],
  ));
  console.log(
    `\nRSS: ${mb(sampler.samples[0]?.rssBytes ?? NaN)} at start; from 30 s on min ` +
      `${mb(Math.min(...rss))}, max ${mb(Math.max(...rss))}, last ${mb(rss.at(-1) ?? NaN)} ` +
      `(${rss.length} samples every 5 s). GET during the run (p50 / p99 / max, one a second): ${getLatency}; after it: ${
        report.apps.map((a) => `${fixed(a.getMs)} ms`).join(", ")
      }. Machine busy ${fixed(busyUsed / report.seconds * 100)} % of a core on average ` +
      `(collector, sender and anything else). Datagrams received (metric): ${
        int(metrics.get("edr_ip_events_datagrams_received_total") ?? NaN)
      }.\n`,
  );
}

if (phases.has("ceiling")) {
  const steps = values.ceiling.split(",").map(Number);
  const stepSeconds = Number(values["step-seconds"]);
  await using collector = await startCollectorProcess(collectorEnv());
  console.log(`## ceiling: ${stepSeconds} s per rate, stop past 0.1 % lost\n`);
  const rows: string[][] = [];
  let ceiling = 0;
  for (const rate of steps) {
    const overruns = await udpOverruns();
    const cpu = await cpuSeconds(collector.pid);
    const gets = sampleGets(collector, rate, 250);
    const report = await client(collector, [
      "--events",
      String(rate * stepSeconds),
      "--rate",
      String(rate),
      "--seed",
      String(rate),
    ]);
    const getLatency = await gets.stop();
    const cpuUsed = await cpuSeconds(collector.pid) - cpu;
    const lost = 1 - counted(report) / report.sent;
    rows.push([
      `${int(rate)}/s`,
      `${int(report.ratePerSecond)}/s`,
      fixed(lost * 100, 3),
      report.apps.every((a) => a.exact) ? "exact" : "wrong",
      `${fixed(cpuUsed / report.seconds * 100)} %`,
      `${fixed(cpuUsed / (report.sent / 10_000) * 1000, 2)} ms`,
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
      "collector CPU",
      "CPU / 10k",
      "overruns",
      "GET p50 / p99 / max under load",
    ],
    rows,
  ));
  console.log(`\nceiling (highest rate with ≤ 0.1 % lost): ${int(ceiling)}/s\n`);
}

if (phases.has("flood")) {
  const shas = Number(values.flood);
  console.log(`## flood: ${int(shas)} distinct shas, one event each, at 33 000/s\n`);
  const rows: string[][] = [];
  // At the default cap the flood runs twice (new shas the second time): the cap, not the
  // machine, must take it.
  for (const [maxApps, floods] of [[100_000, 2], [shas, 1]] as const) {
    await using collector = await startCollectorProcess(
      collectorEnv({ IP_EVENTS_MAX_APPS: String(maxApps) }),
    );
    let before = (await readProc(collector.pid))?.rssBytes ?? NaN;
    for (let flood = 1; flood <= floods; flood++) {
      await client(collector, [
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
