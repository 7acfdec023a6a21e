/**
 * Sustained load: the fleet sends at a fixed rate (default 2 000 events/s) for several minutes
 * while the service (a subprocess) keeps up; the stream is followed as it fills. Per 30 s window
 * it prints end-to-end latency percentiles (send → the submission's last event in Kinesis) and
 * the service's RSS and CPU, to show whether both stay flat.
 *
 * ```sh
 * deno task bench:sustained                               # 2 000 events/s for 3 minutes
 * deno task bench:sustained --minutes 10 --events-per-second 5000
 * ```
 *
 * Figures only: nothing here fails on speed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  createFleet,
  type FleetMessage,
  nextSubmission,
  sendMessages,
} from "../../tools/submissions/fleet/mod.ts";
import { getQueueDepth } from "../../tools/submissions/queue_depth.ts";
import { sleep } from "../../src/app/backoff.ts";
import { runBench } from "../common/lifecycle.ts";
import { fixed, int, mb, ms, percentile, table } from "../common/figures.ts";
import { loadAverage, machineBusySeconds, machineLine } from "../common/machine.ts";
import { type ProcSample, ProcSampler, readProc } from "../common/proc_sampler.ts";
import { envFlags, generateData, REPO_ROOT, spawnService, withStack } from "./_harness.ts";
import { followCompletions, type PendingSubmission } from "./completions.ts";
import { histogramQuantile } from "../../tools/common/metrics_text.ts";

const WINDOW_MS = 30_000;

const USAGE = `Usage: deno task bench:sustained [options]

  --minutes M               how long the fleet sends (default 3)
  --events-per-second N     target event rate (default 2000); the submission rate follows from
                            the fleet's mean events per submission (invalid ones included)
  --rate N                  submissions per second instead (wins over --events-per-second)
  --seed N                  fleet seed (default 11)
  --env KEY=VALUE           any service setting (repeatable)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      minutes: { type: "string" },
      "events-per-second": { type: "string" },
      rate: { type: "string" },
      seed: { type: "string" },
      env: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const minutes = Number(values.minutes ?? 3);
  const seed = Number(values.seed ?? 11);
  // The fleet's mean, measured on a sample of the same seed: ~8 events per valid submission,
  // ~10 % of submissions invalid (the original simulator's 1 % faults).
  const sample = generateData(5_000, seed);
  const eventsPerMessage = sample.expectedEvents / sample.messages.length;
  const rate = values.rate !== undefined
    ? Number(values.rate)
    : Number(values["events-per-second"] ?? 2_000) / eventsPerMessage;
  if (!(rate > 0 && minutes > 0)) throw new Error("--rate/--events-per-second and --minutes > 0");
  const env = envFlags(values.env);

  console.log(`# bench:sustained — ${machineLine()}`);
  console.log(
    `fleet: ${fixed(rate, 1)} submissions/s ≈ ${int(rate * eventsPerMessage)} events/s ` +
      `(${fixed(eventsPerMessage, 2)} events per submission sent) for ${minutes} min, seed ${seed}`,
  );

  await withStack({}, async (stack) => {
    const clients = stack.createClients();
    const stop = new AbortController();
    await Deno.mkdir(`${REPO_ROOT}.bench`, { recursive: true });
    const service = await spawnService({
      // The emulator has no shard limits; the limiter (1 000 records/s per shard) would make
      // 2 000 events/s on 2 shards a stream at its limit. Off, as the figures were measured.
      env: { ...stack.env(), KINESIS_SHARD_RATE_LIMIT: "0", ...env },
      logPath: `${REPO_ROOT}.bench/service-sustained.log`,
    });
    const sampler = new ProcSampler(service.pid, 1_000);
    const pending = new Map<string, PendingSubmission>();
    /** Latencies (ms) by the window their submission was sent in. */
    const windows: number[][] = [];
    let expectedEvents = 0;
    let arrived = 0;
    let following: Promise<void> | undefined;
    try {
      await service.healthy();
      const started = Date.now();
      // Our processes' CPU against the whole machine's: what is left is other people's work.
      const busyAtStart = await machineBusySeconds();
      const oursAtStart = await ourCpuSeconds(service.pid);
      following = followCompletions(clients.kinesis, {
        streamName: stack.streamName,
        pending,
        signal: stop.signal,
        onRecord: () => arrived++,
        onComplete(submission, at) {
          const window = Math.floor((submission.sentAt - started) / WINDOW_MS);
          (windows[window] ??= []).push(Math.max(0, at - submission.sentAt));
        },
      });

      // The fleet, paced: every tick sends what is due, stamping each submission just before.
      const fleet = createFleet({ seed, fleetSize: 1_000 });
      const durationMs = minutes * 60_000;
      let sent = 0;
      let nextReport = started + WINDOW_MS;
      while (Date.now() - started < durationMs) {
        const due = Math.floor(((Date.now() - started) * rate) / 1000) - sent;
        if (due > 0) {
          const batch: FleetMessage[] = [];
          for (let i = 0; i < due; i++) batch.push(nextSubmission(fleet));
          for (const { manifestEntry: m } of batch) {
            if (!m.valid || m.events === 0) continue;
            pending.set(m.submission_id.toLowerCase(), { sentAt: Date.now(), remaining: m.events });
            expectedEvents += m.events;
          }
          // Stamped before the send: a slow send counts against the latency, as for a sensor.
          await sendMessages(clients.sqs, stack.queueUrl, batch, { concurrency: 4 });
          sent += due;
        }
        if (Date.now() >= nextReport) {
          const w = Math.floor((nextReport - started) / WINDOW_MS) - 1;
          const last = sampler.samples.at(-1);
          console.log(
            `  ${fixed((Date.now() - started) / 1000, 0)} s: sent ${int(sent)}, ` +
              `${int(arrived)} records in, window ${w + 1} p99 so far ` +
              `${ms(percentile([...(windows[w] ?? [])].sort((a, b) => a - b), 99))}, RSS ` +
              `${last ? mb(last.rssBytes) : "?"}, load ${loadAverage()}`,
          );
          nextReport += WINDOW_MS;
        }
        await sleep(20);
      }
      const sendingEnded = Date.now();
      const othersShare = Math.max(
        0,
        (await machineBusySeconds()) - busyAtStart -
          ((await ourCpuSeconds(service.pid)) - oursAtStart),
      ) / (((sendingEnded - started) / 1000) * navigator.hardwareConcurrency);
      // Drain: the last submissions complete within a few seconds when the service keeps up.
      const drainDeadline = Date.now() + 60_000;
      while (pending.size > 0 && Date.now() < drainDeadline) await sleep(100);
      const depth = await getQueueDepth(clients.sqs, stack.queueUrl);
      const actualSeconds = (sendingEnded - started) / 1000;
      const m = await service.metrics();
      const perCall = m.histogram("edr_submissions_put_records_records");
      const callSeconds = m.histogram("edr_submissions_put_records_duration_seconds");
      const processing = m.histogram("edr_submissions_message_processing_seconds");
      // The fleet's SendMessageBatch calls are not the service's.
      const sqsCalls = Object.entries(stack.faults.stats().sqs.requests)
        .filter(([op]) => op !== "SendMessageBatch")
        .reduce((sum, [, n]) => sum + n, 0);

      console.log(
        `\n## sustained: ${int(sent / actualSeconds)} submissions/s, ` +
          `${int(expectedEvents / actualSeconds)} events/s for ${fixed(actualSeconds, 0)} s\n`,
      );
      const rows: string[][] = [];
      for (let w = 0; w * WINDOW_MS < durationMs; w++) {
        const lat = [...(windows[w] ?? [])].sort((a, b) => a - b);
        const from = started + w * WINDOW_MS;
        const inWindow = sampler.samples.filter((s) => s.at >= from && s.at < from + WINDOW_MS);
        rows.push([
          `${w * 30}–${(w + 1) * 30} s`,
          int(lat.length),
          ms(percentile(lat, 50)),
          ms(percentile(lat, 95)),
          ms(percentile(lat, 99)),
          ms(lat.at(-1) ?? NaN),
          rssRange(inWindow),
          cpuPercent(inWindow),
        ]);
      }
      console.log(table(
        ["window", "submissions", "p50", "p95", "p99", "max", "service RSS min–max", "CPU %"],
        rows,
      ));
      const all = windows.flat().sort((a, b) => a - b);
      console.log(
        `\nwhole run: p50 ${ms(percentile(all, 50))}, p95 ${ms(percentile(all, 95))}, p99 ` +
          `${ms(percentile(all, 99))}, max ${ms(all.at(-1) ?? NaN)}; ` +
          `${int(pending.size)} submissions incomplete; queue after drain: ${depth.visible} ` +
          `visible + ${depth.inFlight} in flight`,
      );
      const rss = sampler.samples;
      console.log(
        `service RSS: peak ${mb(sampler.peakRssBytes)}, first minute ` +
          `${rssRange(rss.filter((s) => s.at < started + 60_000))}, last minute ` +
          `${rssRange(rss.filter((s) => s.at >= sendingEnded - 60_000 && s.at < sendingEnded))}; ` +
          `samples every 10 s (MB): ${
            rss.filter((_, i) => i % 10 === 0).map((s) => fixed(s.rssBytes / 1e6, 0)).join(" ")
          }`,
      );
      console.log(
        `service: ${int(perCall.count)} PutRecords (${fixed(perCall.sum / perCall.count, 1)} ` +
          `records each, p50 ${ms(histogramQuantile(callSeconds, 0.5) * 1000)}, p99 ` +
          `${ms(histogramQuantile(callSeconds, 0.99) * 1000)}), receipt → delete p50 ` +
          `${ms(histogramQuantile(processing, 0.5) * 1000)}, p99 ` +
          `${ms(histogramQuantile(processing, 0.99) * 1000)}; ${fixed(sqsCalls / sent, 2)} ` +
          "SQS calls per submission",
      );
      console.log(
        `other processes used ${fixed(100 * othersShare, 0)} % of the machine's CPU while the ` +
          `fleet ran; load average at the end: ${loadAverage()}`,
      );
    } finally {
      stop.abort();
      sampler.stop();
      await service.stop();
      await following;
      clients.destroy();
    }
  });
}

/** CPU seconds of the service and of this process (the stack and the fleet). */
async function ourCpuSeconds(servicePid: number): Promise<number> {
  const [service, self] = await Promise.all([readProc(servicePid), readProc(Deno.pid)]);
  return (service?.cpuSeconds ?? 0) + (self?.cpuSeconds ?? 0);
}

function rssRange(samples: readonly ProcSample[]): string {
  if (samples.length === 0) return "–";
  const values = samples.map((s) => s.rssBytes);
  return `${mb(Math.min(...values))}–${mb(Math.max(...values))}`;
}

function cpuPercent(samples: readonly ProcSample[]): string {
  const first = samples[0];
  const last = samples.at(-1);
  if (first === undefined || last === undefined || last.at === first.at) return "–";
  return fixed((100 * (last.cpuSeconds - first.cpuSeconds)) / ((last.at - first.at) / 1000), 0);
}

if (import.meta.main) await runBench("bench:sustained", main);
