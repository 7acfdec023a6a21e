/**
 * One hot device: 63 devices send at a steady, normal pace while one device sends far above a
 * shard's limit, against a 2-shard stream throttled like Kinesis (1 000 records/s and 1 MiB/s
 * per shard). The question is what the hot device costs the others: their latency (send → their
 * submission's last event in Kinesis), with the shard limiter on, next to the same 63 devices
 * without the hot device, and next to the hot device with the limiter off (as before it).
 *
 * ```sh
 * deno task bench:hot                              # 20 s of sending per run, 3 runs
 * deno task bench:hot --hot-factor 5 --seconds 30  # the hot device at 5× a shard's limit
 * ```
 *
 * After the sending, each run waits until every submission is in the stream (the hot device's
 * backlog drains at its shard's limit), then reconciles the whole stream with what was sent.
 * Figures only: nothing here fails on speed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ShardMap } from "../../src/submissions/shard_map.ts";
import { listShards } from "../../src/submissions/list_shards.ts";
import { sleep } from "../../src/app/backoff.ts";
import {
  createFleet,
  type FleetMessage,
  generateMessage,
  type ManifestEntry,
  sendMessages,
} from "../../tools/submissions/fleet/mod.ts";
import { readStream } from "../../tools/submissions/read_stream.ts";
import { reconcile } from "../../tools/submissions/reconcile.ts";
import { runBench } from "../common/lifecycle.ts";
import { fixed, int, ms, percentile, table } from "../common/figures.ts";
import { loadAverage, machineLine } from "../common/machine.ts";
import { envFlags, generateData, REPO_ROOT, spawnService, withStack } from "./_harness.ts";
import { followCompletions, type PendingSubmission } from "./completions.ts";

const DEVICES = 64;

/** One run's settings. */
interface RunSettings {
  readonly label: string;
  readonly hot: boolean;
  readonly env: Record<string, string>;
}

/** A submission sent and not yet complete in the stream, with the device that sent it. */
interface Pending extends PendingSubmission {
  readonly device: number;
}

/** What one run measured. */
interface RunResult {
  readonly label: string;
  /** Latencies (ms) of the 63 normal devices' submissions, by the shard of their device. */
  readonly normal: {
    readonly all: number[];
    readonly hotShard: number[];
    readonly other: number[];
  };
  readonly hot: number[];
  readonly hotSent: number;
  readonly normalSent: number;
  readonly incomplete: number;
  readonly recordsSent: number;
  readonly recordsThrottled: number;
  readonly putRecordsCalls: number;
  readonly maxInFlight: number;
  readonly deferred: number;
  readonly duplicates: number;
  readonly verified: string;
}

const USAGE = `Usage: deno task bench:hot [options]

  --seconds S                   how long the devices send, per run (default 20)
  --normal-events-per-second N  the 63 normal devices together (default 500)
  --hot-factor F                the hot device's rate in shard limits (default 3: 3 000 events/s)
  --seed N                      fleet seed (default 13)
  --no-limiter-off              skip the run with the hot device and the limiter off
  --env KEY=VALUE               any service setting, every run (repeatable)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      seconds: { type: "string" },
      "normal-events-per-second": { type: "string" },
      "hot-factor": { type: "string" },
      seed: { type: "string" },
      "no-limiter-off": { type: "boolean" },
      env: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(USAGE);
  const seconds = Number(values.seconds ?? 20);
  const seed = Number(values.seed ?? 13);
  // The fleet's mean events per submission sent, invalid ones included (as bench:sustained).
  const sample = generateData(5_000, seed, DEVICES);
  const eventsPerSubmission = sample.expectedEvents / sample.messages.length;
  const normalRate = Number(values["normal-events-per-second"] ?? 500) / eventsPerSubmission;
  const hotRate = (Number(values["hot-factor"] ?? 3) * 1_000) / eventsPerSubmission;
  if (!(seconds > 0 && normalRate > 0 && hotRate > 0)) throw new Error("rates and time > 0");
  const env = envFlags(values.env);
  console.log(`# bench:hot — ${machineLine()}`);
  console.log(
    `63 devices at ${fixed(normalRate, 1)} submissions/s together (≈ ` +
      `${int(normalRate * eventsPerSubmission)} events/s); the hot device at ` +
      `${fixed(hotRate, 1)} submissions/s (≈ ${int(hotRate * eventsPerSubmission)} events/s); ` +
      `${seconds} s of sending per run; 2 shards at 1 000 records/s`,
  );
  const runs: RunSettings[] = [
    { label: "63 devices, limiter on", hot: false, env },
    { label: "63 devices + hot device, limiter on", hot: true, env },
  ];
  if (!values["no-limiter-off"]) {
    runs.push({
      label: "63 devices + hot device, limiter off",
      hot: true,
      env: { ...env, KINESIS_SHARD_RATE_LIMIT: "0" },
    });
  }
  const results: RunResult[] = [];
  for (const settings of runs) {
    const result = await run(settings, { seconds, normalRate, hotRate, seed, eventsPerSubmission });
    console.log(
      `  ${result.label}: normal p50 ${ms(percentile(result.normal.all, 50))}, p99 ` +
        `${
          ms(percentile(result.normal.all, 99))
        }; stream ${result.verified}; load ${loadAverage()}`,
    );
    results.push(result);
  }
  report(results);
}

async function run(
  settings: RunSettings,
  load: {
    seconds: number;
    normalRate: number;
    hotRate: number;
    seed: number;
    eventsPerSubmission: number;
  },
): Promise<RunResult> {
  return await withStack({ faults: { kinesis: { throttle: true } } }, async (stack) => {
    const clients = stack.createClients();
    const stop = new AbortController();
    await Deno.mkdir(`${REPO_ROOT}.bench`, { recursive: true });
    const service = await spawnService({
      env: { ...stack.env(), ...settings.env },
      logPath: `${REPO_ROOT}.bench/service-hot-${settings.label.replace(/\W+/g, "_")}.log`,
    });
    const fleet = createFleet({ seed: load.seed, fleetSize: DEVICES });
    const map = ShardMap.fromListShards(await listShards(clients.kinesis, stack.streamName));
    const shardOf = fleet.devices.map((d) => map.shardOf(d.deviceId));
    const pending = new Map<string, Pending>();
    const latencies = new Map<number, number[]>(); // device → latencies (ms)
    const manifest: ManifestEntry[] = [];
    let following: Promise<void> | undefined;
    let maxInFlight = 0;
    try {
      await service.healthy();
      following = followCompletions(clients.kinesis, {
        streamName: stack.streamName,
        pending,
        signal: stop.signal,
        onComplete(submission, at) {
          const list = latencies.get(submission.device) ?? [];
          latencies.set(submission.device, list);
          list.push(Math.max(0, at - submission.sentAt));
        },
      });

      // Device 0 is the hot one; devices 1..63 take turns at the normal rate.
      const started = Date.now();
      let normalSent = 0;
      let hotSent = 0;
      let nextNormal = 1;
      let nextScrape = started;
      while (Date.now() - started < load.seconds * 1_000) {
        const elapsed = Date.now() - started;
        const batch: { message: FleetMessage; device: number }[] = [];
        for (; normalSent < Math.floor((elapsed * load.normalRate) / 1000); normalSent++) {
          batch.push({ message: generateMessage(fleet, nextNormal), device: nextNormal });
          nextNormal = nextNormal % (DEVICES - 1) + 1;
        }
        if (settings.hot) {
          for (; hotSent < Math.floor((elapsed * load.hotRate) / 1000); hotSent++) {
            batch.push({ message: generateMessage(fleet, 0), device: 0 });
          }
        }
        for (const { message, device } of batch) {
          const m = message.manifestEntry;
          manifest.push(m);
          if (m.valid && m.events > 0) {
            pending.set(m.submission_id.toLowerCase(), {
              sentAt: Date.now(),
              device,
              remaining: m.events,
            });
          }
        }
        // Stamped before the send: a slow send counts against the latency, as for a sensor.
        await sendMessages(clients.sqs, stack.queueUrl, batch.map((b) => b.message), {
          concurrency: 4,
        });
        if (Date.now() >= nextScrape) {
          const m = await service.metrics();
          maxInFlight = Math.max(maxInFlight, m.value("edr_submissions_messages_in_flight"));
          nextScrape += 1_000;
        }
        await sleep(20);
      }
      // Every submission in: the hot device's backlog drains at its shard's 1 000 records/s.
      const drainDeadline = Date.now() + 60_000 + hotSent * load.eventsPerSubmission;
      while (pending.size > 0 && Date.now() < drainDeadline) await sleep(200);
      const incomplete = pending.size;
      stop.abort();
      await following;
      const metrics = await service.metrics();
      const stats = stack.faults.stats().kinesis;
      const records = await readStream(clients.kinesis, stack.streamName);
      const reconciled = reconcile(manifest, records);
      const hotShard = shardOf[0];
      const normal = { all: [] as number[], hotShard: [] as number[], other: [] as number[] };
      for (const [device, list] of latencies) {
        if (device === 0) continue;
        normal.all.push(...list);
        (shardOf[device] === hotShard ? normal.hotShard : normal.other).push(...list);
      }
      for (const list of Object.values(normal)) list.sort((a, b) => a - b);
      return {
        label: settings.label,
        normal,
        hot: [...latencies.get(0) ?? []].sort((a, b) => a - b),
        hotSent,
        normalSent,
        incomplete,
        recordsSent: stats.recordsReceived,
        recordsThrottled: stats.recordsThrottled,
        putRecordsCalls: metrics.value("edr_submissions_put_records_calls_total"),
        maxInFlight,
        deferred: metrics.value("edr_submissions_messages_deferred_total"),
        duplicates: reconciled.duplicates,
        verified: reconciled.ok ? "ok" : `NOT OK: ${reconciled.problems.join("; ")}`,
      };
    } finally {
      stop.abort();
      await service.stop();
      await following;
      clients.destroy();
    }
  });
}

function report(results: readonly RunResult[]): void {
  const p = (list: readonly number[], q: number) => ms(percentile(list, q));
  console.log(`\n## the 63 normal devices' latency (send → last event in Kinesis)\n`);
  console.log(table(
    [
      "run",
      "submissions",
      "p50",
      "p95",
      "p99",
      "max",
      "on the hot device's shard p50 / p99",
      "on the other shard p50 / p99",
    ],
    results.map((r) => [
      r.label,
      int(r.normal.all.length),
      p(r.normal.all, 50),
      p(r.normal.all, 95),
      p(r.normal.all, 99),
      ms(r.normal.all.at(-1) ?? NaN),
      `${p(r.normal.hotShard, 50)} / ${p(r.normal.hotShard, 99)}`,
      `${p(r.normal.other, 50)} / ${p(r.normal.other, 99)}`,
    ]),
  ));
  console.log(`\n## the runs\n`);
  console.log(table(
    [
      "run",
      "sent (normal + hot)",
      "hot device p50 / p99",
      "records sent",
      "throttled",
      "PutRecords",
      "most messages in flight",
      "deferred",
      "incomplete",
      "duplicates",
      "stream check",
    ],
    results.map((r) => [
      r.label,
      `${int(r.normalSent)} + ${int(r.hotSent)}`,
      r.hot.length === 0 ? "–" : `${p(r.hot, 50)} / ${p(r.hot, 99)}`,
      int(r.recordsSent),
      `${int(r.recordsThrottled)} (${fixed((100 * r.recordsThrottled) / r.recordsSent, 1)} %)`,
      int(r.putRecordsCalls),
      int(r.maxInFlight),
      int(r.deferred),
      int(r.incomplete),
      int(r.duplicates),
      r.verified,
    ]),
  ));
  const base = results[0];
  if (base === undefined) return;
  for (const r of results.slice(1)) {
    const ratio = (q: number) => percentile(r.normal.all, q) / percentile(base.normal.all, q);
    console.log(
      `${r.label}: the others' p50 ${fixed(ratio(50), 2)}×, p99 ${fixed(ratio(99), 2)}× the ` +
        `run without the hot device (goal ≤ 2×)`,
    );
  }
}

if (import.meta.main) await runBench("bench:hot", main);
