/**
 * One end-to-end run of the service for bench:e2e (e2e.ts): a fresh local stack, the data
 * preloaded into the queue, the service as a subprocess draining it into the stream while its
 * CPU and RSS are sampled, then the stream reconciled with the data's manifest and the figures
 * gathered (throughput, latencies, PutRecords, SQS calls, CPU, the others' share of the machine).
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runOurs } from "./e2e_run.ts";
 *
 * const result = await runOurs(generateData(2_000, 7), { label: "ours", errorProbability: 0, env: {} });
 * console.log(result.eventsPerSecond, result.verified); // e.g. 7555 true
 * ```
 *
 * @module
 */
import { getQueueDepth } from "../../tools/submissions/queue_depth.ts";
import { readStream } from "../../tools/submissions/read_stream.ts";
import { reconcile } from "../../tools/submissions/reconcile.ts";
import { histogramQuantile } from "../../tools/common/metrics_text.ts";
import { fixed, int, mb, percentile } from "../common/figures.ts";
import { loadAverage, machineBusySeconds } from "../common/machine.ts";
import { ProcSampler } from "../common/proc_sampler.ts";
import { type BenchData, REPO_ROOT, sendStamped, spawnService, withStack } from "./_harness.ts";
import { completionTimes, latencies } from "./completions.ts";

/** Where logs and profiles go (git-ignored). */
const OUT_DIR = `${REPO_ROOT}.bench`;

/** Settings of one run of the service. */
export interface OursSettings {
  /** The run's name in the tables. */
  readonly label: string;
  readonly workers?: number | undefined;
  readonly maxMessages?: number | undefined;
  readonly errorProbability: number;
  /** The stream throttles per shard like Kinesis, at the real limits. */
  readonly throttle?: boolean | undefined;
  readonly env: Record<string, string>;
  readonly cpuProfDir?: string | undefined;
  readonly progress?: boolean | undefined;
}

/** What one run of the service measured. */
export interface OursResult {
  readonly label: string;
  readonly settings: OursSettings;
  readonly messages: number;
  readonly expectedEvents: number;
  readonly finished: boolean;
  readonly verified: boolean;
  readonly problems: readonly string[];
  readonly duplicates: number;
  readonly preloadSeconds: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly messagesPerSecond: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  readonly processingMs: { p50: number; p95: number; p99: number };
  readonly putRecordsCalls: number;
  readonly recordsPerCall: number;
  /** Records the Kinesis proxy received (written, throttled or failed). */
  readonly recordsSent: number;
  /** Records the proxy refused for their shard's budget. */
  readonly recordsThrottled: number;
  /** Distinct events of the busiest shard (its first copies). */
  readonly busiestShardEvents: number;
  readonly recordRetries: number;
  readonly sqsCalls: Record<string, number>;
  readonly sqsCallsPerMessage: number;
  readonly peakRssBytes: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsTotal: number;
  readonly stackCpuSeconds: number;
  /** The share of the machine's CPU other processes used during the run (0–1). */
  readonly othersCpuShare: number;
  readonly load: string;
  /** Events/s of every repetition, when repeated (the result shown is the median one). */
  readonly repetitions?: readonly number[];
}

/**
 * One run on a fresh stack: preloads `data`, starts the service with `settings`, waits until
 * every event passed the Kinesis proxy and the queue is empty (or the deadline), then reads the
 * stream back and reconciles it.
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runOurs } from "./e2e_run.ts";
 *
 * const result = await runOurs(generateData(2_000, 7), {
 *   label: "ours, WORKERS=2",
 *   workers: 2,
 *   errorProbability: 0.1,
 *   env: {},
 * });
 * result.verified; // true: every event in the stream, in order, despite the injected errors
 * ```
 */
export async function runOurs(data: BenchData, settings: OursSettings): Promise<OursResult> {
  const faults = {
    kinesis: {
      errorProbability: settings.errorProbability,
      throttle: settings.throttle,
    },
  };
  return await withStack({ faults }, async (stack) => {
    const clients = stack.createClients();
    try {
      const sentAt = new Map<string, number>();
      const preloadStarted = performance.now();
      await sendStamped(clients.sqs, stack.queueUrl, data.messages, sentAt);
      const preloadSeconds = (performance.now() - preloadStarted) / 1000;
      const before = stack.faults.stats();
      // The emulator has no shard limits: without --throttle the pipeline's own ceiling is
      // measured, with the shard limiter off (--env KINESIS_SHARD_RATE_LIMIT=100 to see it).
      const limiterOff: Record<string, string> = settings.throttle
        ? {}
        : { KINESIS_SHARD_RATE_LIMIT: "0" };
      const env: Record<string, string> = { ...stack.env(), ...limiterOff, ...settings.env };
      if (settings.workers !== undefined) env.WORKERS = String(settings.workers);
      if (settings.maxMessages !== undefined) env.SQS_MAX_MESSAGES = String(settings.maxMessages);
      await Deno.mkdir(OUT_DIR, { recursive: true });
      const logPath = `${OUT_DIR}/service-${settings.label.replace(/\W+/g, "_")}.log`;
      const service = await spawnService({ env, logPath, cpuProfDir: settings.cpuProfDir });
      const sampler = new ProcSampler(service.pid, 200);
      const stackSampler = new ProcSampler(Deno.pid, 1_000);
      let measured;
      try {
        const started = await service.healthy();
        const cpuAtStart = (await sampler.sample())?.cpuSeconds ?? 0;
        const stackCpuAtStart = (await stackSampler.sample())?.cpuSeconds ?? 0;
        const busyAtStart = await machineBusySeconds();
        // A throttled stream takes 2 000 records/s at most (2 shards): allow 3× that.
        const deadline = started +
          Math.max(120_000, data.expectedEvents * (settings.throttle ? 1.5 : 1));
        let finished = false;
        // Done is watched from the stack's side (records through the Kinesis proxy, then the
        // queue's depth) so that the watching costs the service nothing: a /metrics scrape costs
        // it several ms.
        const passedBefore = before.kinesis.recordsPassed;
        let lastProgress = { at: started, passed: 0 };
        while (Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          const passed = stack.faults.stats().kinesis.recordsPassed - passedBefore;
          if (settings.progress && Date.now() - lastProgress.at >= 1_000) {
            const now = { at: Date.now(), passed };
            const rate = ((now.passed - lastProgress.passed) * 1000) / (now.at - lastProgress.at);
            const rss = sampler.samples.at(-1)?.rssBytes ?? NaN;
            // Diagnostics only: a scrape costs the service a few ms.
            const inFlight = (await service.metrics()).value("edr_submissions_messages_in_flight");
            console.error(
              `    ${fixed((now.at - started) / 1000)} s: ${int(rate)} records/s, ` +
                `${int(passed)} in, ${int(inFlight)} messages in flight, service RSS ${mb(rss)}`,
            );
            lastProgress = now;
          }
          if (passed < data.expectedEvents) continue;
          const depth = await getQueueDepth(clients.sqs, stack.queueUrl);
          if (depth.visible + depth.inFlight === 0) {
            finished = true;
            break;
          }
        }
        const ended = Date.now();
        const cpuAtEnd = (await sampler.sample())?.cpuSeconds ?? 0;
        const stackCpuAtEnd = (await stackSampler.sample())?.cpuSeconds ?? 0;
        const busy = (await machineBusySeconds()) - busyAtStart;
        const ours = cpuAtEnd - cpuAtStart + stackCpuAtEnd - stackCpuAtStart;
        const cores = navigator.hardwareConcurrency;
        measured = {
          finished,
          seconds: (ended - started) / 1000,
          cpuSeconds: cpuAtEnd - cpuAtStart,
          cpuSecondsTotal: cpuAtEnd,
          stackCpuSeconds: stackCpuAtEnd - stackCpuAtStart,
          othersCpuShare: Math.max(0, busy - ours) / (((ended - started) / 1000) * cores),
          metrics: await service.metrics(),
          queueDepth: await getQueueDepth(clients.sqs, stack.queueUrl),
          after: stack.faults.stats(),
        };
      } finally {
        sampler.stop();
        stackSampler.stop();
        await service.stop();
      }
      const records = await readStream(clients.kinesis, stack.streamName);
      const report = reconcile(
        data.messages.map((m) => m.manifestEntry),
        records,
        { queueDepth: measured.queueDepth },
      );
      const sorted = latencies(sentAt, completionTimes(records));
      const m = measured.metrics;
      const processing = m.histogram("edr_submissions_message_processing_seconds");
      const sqsCalls: Record<string, number> = {};
      for (const [op, n] of Object.entries(measured.after.sqs.requests)) {
        const delta = n - (before.sqs.requests[op] ?? 0);
        if (delta > 0) sqsCalls[op] = delta;
      }
      if (settings.progress) {
        const heap = ["heap_size_total", "heap_size_used", "external_memory"]
          .map((n) => `${n} ${mb(m.value(`nodejs_${n}_bytes`))}`).join(", ");
        console.error(`    service at the end: ${heap}`);
      }
      const putRecordsCalls = m.value("edr_submissions_put_records_calls_total");
      const records_ = m.histogram("edr_submissions_put_records_records");
      const firstCopies = new Map<string, Set<string>>();
      for (const record of records) {
        const { event_id: id } = JSON.parse(new TextDecoder().decode(record.data));
        const ids = firstCopies.get(record.shardId) ?? new Set<string>();
        firstCopies.set(record.shardId, ids.add(id));
      }
      return {
        label: settings.label,
        settings,
        messages: data.messages.length,
        expectedEvents: data.expectedEvents,
        finished: measured.finished,
        verified: report.ok,
        problems: report.problems,
        duplicates: report.duplicates,
        preloadSeconds,
        seconds: measured.seconds,
        eventsPerSecond: data.expectedEvents / measured.seconds,
        messagesPerSecond: data.messages.length / measured.seconds,
        latencyMs: {
          p50: percentile(sorted, 50),
          p95: percentile(sorted, 95),
          p99: percentile(sorted, 99),
          max: sorted.at(-1) ?? NaN,
        },
        processingMs: {
          p50: histogramQuantile(processing, 0.5) * 1000,
          p95: histogramQuantile(processing, 0.95) * 1000,
          p99: histogramQuantile(processing, 0.99) * 1000,
        },
        putRecordsCalls,
        recordsPerCall: records_.count === 0 ? NaN : records_.sum / records_.count,
        recordsSent: measured.after.kinesis.recordsReceived - before.kinesis.recordsReceived,
        recordsThrottled: measured.after.kinesis.recordsThrottled -
          before.kinesis.recordsThrottled,
        busiestShardEvents: Math.max(0, ...[...firstCopies.values()].map((ids) => ids.size)),
        recordRetries: m.value("edr_submissions_record_retries_total"),
        sqsCalls,
        sqsCallsPerMessage: Object.values(sqsCalls).reduce((a, b) => a + b, 0) /
          data.messages.length,
        peakRssBytes: sampler.peakRssBytes,
        cpuSeconds: measured.cpuSeconds,
        cpuSecondsTotal: measured.cpuSecondsTotal,
        stackCpuSeconds: measured.stackCpuSeconds,
        othersCpuShare: measured.othersCpuShare,
        load: loadAverage(),
      };
    } finally {
      clients.destroy();
    }
  });
}

/**
 * Runs `repeat` times on fresh stacks and returns the median run by events/s, with every run's
 * figure: on a machine shared with other work one run can be off by a third.
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runRepeated } from "./e2e_run.ts";
 *
 * const settings = { label: "ours", errorProbability: 0, env: {} };
 * const median = await runRepeated(generateData(2_000, 7), settings, 3);
 * median.repetitions?.length; // 3: every run's events/s, the median one's figures
 * ```
 */
export async function runRepeated(
  data: BenchData,
  settings: OursSettings,
  repeat: number,
): Promise<OursResult> {
  const runs: OursResult[] = [];
  for (let i = 0; i < repeat; i++) {
    runs.push(await runOurs(data, i === 0 ? settings : { ...settings, cpuProfDir: undefined }));
  }
  const sorted = [...runs].sort((a, b) => a.eventsPerSecond - b.eventsPerSecond);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return repeat === 1 ? median : { ...median, repetitions: runs.map((r) => r.eventsPerSecond) };
}
