/**
 * End-to-end throughput: the local stack in this process, N fleet submissions preloaded into the
 * queue, the service as a subprocess draining them into the stream. Next to it, on the same
 * data, two references: a naive consumer (receive 10 → one `PutRecord` per event in order →
 * `DeleteMessage` each) and the emulator's ceiling (a bare loop of full 500-record `PutRecords`,
 * no SQS, in a subprocess of its own like the service; one call at a time as specified, and four
 * at a time, which saturates the emulator).
 *
 * ```sh
 * deno task bench:e2e                              # 20 000 submissions, ours + both references
 * deno task bench:e2e --sweep                      # WORKERS × SQS_MAX_MESSAGES curve
 * deno task bench:e2e --error-probability 0.1      # ours without and with injected errors
 * deno task bench:e2e --throttle --no-references   # a stream throttled like Kinesis: the shard
 *                                                  # limiter off (today) and on, side by side
 * deno task bench:e2e --env PUBLISH_LINGER_MS=20   # any service setting
 * deno task bench:e2e --cpu-prof .bench/prof       # V8 CPU profile of the service
 * ```
 *
 * Every run checks the stream against the fleet's manifest (all events present, in order
 * within each submission) and prints figures; nothing fails on speed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { PutRecordCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient, createSqsClient } from "../../src/submissions/aws_clients.ts";
import { decodeMessage, type OutgoingRecord } from "../../src/submissions/codec.ts";
import { sendMessages } from "../../tools/submissions/fleet/mod.ts";
import { REGION } from "../../tools/submissions/local_stack.ts";
import { getQueueDepth } from "../../tools/submissions/queue_depth.ts";
import { readStream } from "../../tools/submissions/read_stream.ts";
import { reconcile } from "../../tools/submissions/reconcile.ts";
import { fixed, int, mb, ms, percentile, table } from "../common/figures.ts";
import { onInterrupt, runBench } from "../common/lifecycle.ts";
import { loadAverage, machineBusySeconds, machineLine } from "../common/machine.ts";
import { ProcSampler } from "../common/proc_sampler.ts";
import {
  type BenchData,
  completionTimes,
  envFlags,
  generateData,
  latencies,
  REPO_ROOT,
  sendStamped,
  spawnService,
  withStack,
} from "./_harness.ts";
import { histogramQuantile } from "../../tools/common/metrics_text.ts";

/** Where logs and profiles go (git-ignored). */
const OUT_DIR = `${REPO_ROOT}.bench`;
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

/** Settings of one run of the service. */
interface OursSettings {
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
interface OursResult {
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

/** A reference's throughput. */
interface ReferenceResult {
  readonly label: string;
  readonly events: number;
  readonly messages: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly calls: number;
  readonly note: string;
}

// ---------------------------------------------------------------------------------------------
// Ours

async function runOurs(data: BenchData, settings: OursSettings): Promise<OursResult> {
  const faults = {
    kinesis: {
      ...(settings.errorProbability > 0 ? { errorProbability: settings.errorProbability } : {}),
      ...(settings.throttle ? { throttle: true } : {}),
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
            const inFlight = (await service.metrics()).value("edr_messages_in_flight");
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
      const processing = m.histogram("edr_message_processing_seconds");
      const sqsCalls: Record<string, number> = {};
      for (const [op, n] of Object.entries(measured.after.sqs.requests)) {
        const delta = n - (before.sqs.requests[op] ?? 0);
        if (delta > 0) sqsCalls[op] = delta;
      }
      if (settings.progress) {
        const heap = ["heap_size_total", "heap_size_used", "external_memory"]
          .map((n) => `${n} ${mb(m.value(`edr_nodejs_${n}_bytes`))}`).join(", ");
        console.error(`    service at the end: ${heap}`);
      }
      const putRecordsCalls = m.value("edr_put_records_calls_total");
      const records_ = m.histogram("edr_put_records_records");
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
        recordRetries: m.value("edr_record_retries_total"),
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
      clients.sqs.destroy();
      clients.kinesis.destroy();
    }
  });
}

/**
 * Runs `repeat` times on fresh stacks and returns the median run by events/s, with every run's
 * figure: on a machine shared with other work one run can be off by a third.
 */
async function runRepeated(
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

// ---------------------------------------------------------------------------------------------
// The naive consumer (in this process, as a first implementation would be written)

async function runNaive(data: BenchData, count: number, maxSeconds: number) {
  const messages = data.messages.slice(0, count);
  return await withStack({}, async (stack): Promise<ReferenceResult> => {
    const common = { region: REGION, credentials: CREDENTIALS };
    const sqs = createSqsClient({ ...common, endpoint: stack.endpoints.sqs });
    const kinesis = createKinesisClient({ ...common, endpoint: stack.endpoints.kinesis });
    try {
      await sendMessages(sqs, stack.queueUrl, messages, { concurrency: 8 });
      const started = performance.now();
      const deadline = started + maxSeconds * 1000;
      let done = 0;
      let events = 0;
      let calls = 0;
      while (done < messages.length && performance.now() < deadline) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 60,
          }),
        );
        calls++;
        for (const message of Messages) {
          if (performance.now() >= deadline) break;
          const decoded = decodeMessage(message.Body ?? "", { processedAt: new Date() });
          if (decoded.ok) {
            // One at a time, each awaited: the obvious way to keep a submission's order.
            for (const record of decoded.records) {
              await kinesis.send(
                new PutRecordCommand({
                  StreamName: stack.streamName,
                  Data: record.data,
                  PartitionKey: record.partitionKey,
                }),
              );
              calls++;
              events++;
            }
          }
          await sqs.send(
            new DeleteMessageCommand({
              QueueUrl: stack.queueUrl,
              ReceiptHandle: message.ReceiptHandle!,
            }),
          );
          calls++;
          done++;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      return {
        label: "naive consumer",
        events,
        messages: done,
        seconds,
        eventsPerSecond: events / seconds,
        calls,
        note: `${done} of ${messages.length} messages in the ${maxSeconds} s budget`,
      };
    } finally {
      sqs.destroy();
      kinesis.destroy();
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The emulator's ceiling

/** What the ceiling subprocess prints (one JSON line). */
interface CeilingOutput {
  records: number;
  calls: number;
  failed: number;
  seconds: number;
}

async function runCeiling(
  seed: number,
  count: number,
  concurrency: number,
  maxSeconds: number,
): Promise<ReferenceResult> {
  return await withStack({}, async (stack) => {
    const child = new Deno.Command("deno", {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        new URL(import.meta.url).pathname,
        "--ceiling-child",
        "--kinesis-endpoint",
        stack.endpoints.kinesis,
        "--stream",
        stack.streamName,
        "--seed",
        String(seed),
        "--count",
        String(count),
        "--concurrency",
        String(concurrency),
        "--seconds",
        String(maxSeconds),
      ],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const forget = onInterrupt(async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    });
    try {
      const output = await child.output();
      if (!output.success) throw new Error(`the ceiling subprocess failed (${output.code})`);
      const result = JSON.parse(new TextDecoder().decode(output.stdout)) as CeilingOutput;
      return {
        label: `emulator ceiling (500-record PutRecords, ${concurrency} in flight)`,
        events: result.records,
        messages: 0,
        seconds: result.seconds,
        eventsPerSecond: result.records / result.seconds,
        calls: result.calls,
        note: `${result.calls} calls, ${result.failed} records failed`,
      };
    } finally {
      forget();
    }
  });
}

/** The ceiling subprocess: the same records, full 500-record calls, nothing else. */
async function ceilingChild(values: Record<string, string | boolean | string[] | undefined>) {
  const seed = Number(values.seed);
  const count = Number(values.count);
  const concurrency = Number(values.concurrency ?? 1);
  const maxSeconds = Number(values.seconds ?? 60);
  const data = generateData(count, seed);
  const processedAt = new Date();
  const records: OutgoingRecord[] = [];
  for (const message of data.messages) {
    const decoded = decodeMessage(message.body, { processedAt });
    if (decoded.ok) records.push(...decoded.records);
  }
  const kinesis = createKinesisClient({
    region: REGION,
    credentials: CREDENTIALS,
    endpoint: String(values["kinesis-endpoint"]),
  });
  const streamName = String(values.stream);
  let next = 0;
  let calls = 0;
  let failed = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  const loop = async () => {
    while (next < records.length && performance.now() < deadline) {
      const batch = records.slice(next, next + 500);
      next += batch.length;
      const output = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: batch.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
        }),
      );
      calls++;
      failed += output.FailedRecordCount ?? 0;
      sent += batch.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  kinesis.destroy();
  const output: CeilingOutput = { records: sent - failed, calls, failed, seconds };
  console.log(JSON.stringify(output));
}

// ---------------------------------------------------------------------------------------------
// Reporting

function oursRows(results: readonly OursResult[]): string {
  const rows = results.map((r) => [
    r.label,
    r.repetitions === undefined
      ? int(r.eventsPerSecond)
      : `${int(r.eventsPerSecond)} (${r.repetitions.map(int).join(", ")})`,
    int(r.messagesPerSecond),
    fixed(r.seconds, 1),
    `${ms(r.processingMs.p50)} / ${ms(r.processingMs.p95)} / ${ms(r.processingMs.p99)}`,
    `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p95)} / ${ms(r.latencyMs.p99)}`,
    int(r.putRecordsCalls),
    fixed(r.recordsPerCall, 1),
    int(r.recordRetries),
    fixed(r.sqsCallsPerMessage, 3),
    mb(r.peakRssBytes),
    `${fixed(r.cpuSeconds, 1)} (${fixed(r.cpuSecondsTotal, 1)})`,
    fixed(r.stackCpuSeconds, 1),
    `${fixed(100 * r.othersCpuShare, 0)} %`,
    !r.finished
      ? `TIMED OUT: ${r.problems.join("; ")}`
      : r.verified
      ? "ok"
      : `NOT OK: ${r.problems.join("; ")}`,
  ]);
  return table([
    "run",
    "events/s",
    "msgs/s",
    "drain s",
    "processing p50/p95/p99",
    "e2e latency p50/p95/p99",
    "PutRecords",
    "rec/call",
    "retries",
    "SQS calls/msg",
    "peak RSS",
    "CPU s (total)",
    "stack CPU s",
    "others' CPU",
    "stream check",
  ], rows);
}

/** The throttled-stream comparison: what the shard limiter changes. */
function throttleRows(results: readonly OursResult[]): string {
  const allowed = 2_000; // records/s: 2 shards at Kinesis's 1 000
  return table(
    [
      "run",
      "events/s",
      "of the 2 000/s allowed",
      "drain s",
      "busiest shard's own minimum",
      "records sent",
      "throttled",
      "PutRecords",
      "calls per 1 000 events",
      "e2e latency p50 / p99",
      "stream check",
    ],
    results.map((r) => [
      r.label,
      int(r.eventsPerSecond),
      `${fixed((100 * r.eventsPerSecond) / allowed, 1)} %`,
      fixed(r.seconds, 1),
      `${fixed(r.busiestShardEvents / 1_000, 1)} s (${int(r.busiestShardEvents)} events)`,
      int(r.recordsSent),
      `${int(r.recordsThrottled)} (${fixed((100 * r.recordsThrottled) / r.recordsSent, 1)} %)`,
      int(r.putRecordsCalls),
      fixed((1_000 * r.putRecordsCalls) / r.expectedEvents, 1),
      `${ms(r.latencyMs.p50)} / ${ms(r.latencyMs.p99)}`,
      !r.finished ? "TIMED OUT" : r.verified ? "ok" : `NOT OK: ${r.problems.join("; ")}`,
    ]),
  );
}

function sqsBreakdown(r: OursResult): string {
  return Object.entries(r.sqsCalls)
    .sort((a, b) => b[1] - a[1])
    .map(([op, n]) => `${op} ${int(n)} (${fixed(n / r.messages, 3)}/msg)`)
    .join(", ");
}

// ---------------------------------------------------------------------------------------------
// Main

const USAGE = `Usage: deno task bench:e2e [options]

  --count N                 submissions to preload (default 20000; 5000 with --sweep)
  --seed N                  fleet seed (default 7)
  --workers N               WORKERS of the service (default: the service's default)
  --max-messages N          SQS_MAX_MESSAGES of the service (default: the service's default)
  --env KEY=VALUE           any other service setting (repeatable)
  --error-probability P     also run with KINESIS_ERROR_PROBABILITY=P, next to the no-fault run
  --throttle                the stream throttles per shard like Kinesis (1 000 records/s,
                            1 MiB/s): ours with the shard limiter off (KINESIS_SHARD_RATE_LIMIT=0,
                            as before it) and on (the default), side by side. Without it
                            the emulator has no limits and the service runs with the limiter
                            off (its own ceiling; --env KINESIS_SHARD_RATE_LIMIT=100 to change)
  --sweep                   vary WORKERS (1,2,4,8) × SQS_MAX_MESSAGES (1,5,10); no references
  --no-references           skip the naive consumer and the emulator's ceiling
  --naive-seconds S         time budget of the naive consumer (default 20)
  --ceiling-concurrency L   PutRecords in flight in the ceiling loop, a list (default 1,4:
                            the bare loop, and the emulator saturated)
  --cpu-prof DIR            write a V8 CPU profile of the service into DIR
  --json PATH               also write every figure as JSON
  --repeat N                run ours (and the ceiling) N times on fresh stacks; show the
                            median and every run's events/s (default 1)
  --progress                print records/s, messages in flight and RSS every second`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string" },
      seed: { type: "string" },
      workers: { type: "string" },
      "max-messages": { type: "string" },
      env: { type: "string", multiple: true },
      "error-probability": { type: "string" },
      throttle: { type: "boolean" },
      sweep: { type: "boolean" },
      "no-references": { type: "boolean" },
      "naive-seconds": { type: "string" },
      "ceiling-concurrency": { type: "string" },
      "cpu-prof": { type: "string" },
      json: { type: "string" },
      progress: { type: "boolean" },
      repeat: { type: "string" },
      help: { type: "boolean", short: "h" },
      // The ceiling subprocess's own flags.
      "ceiling-child": { type: "boolean" },
      "kinesis-endpoint": { type: "string" },
      stream: { type: "string" },
      concurrency: { type: "string" },
      seconds: { type: "string" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values["ceiling-child"]) return await ceilingChild(values);

  const number = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, got ${value}`);
    return n;
  };
  const count = number("count", values.count, values.sweep ? 5_000 : 20_000);
  const seed = number("seed", values.seed, 7);
  const errorProbability = number("error-probability", values["error-probability"], 0);
  const repeat = Math.max(1, Math.floor(number("repeat", values.repeat, 1)));
  const workers = values.workers === undefined ? undefined : number("workers", values.workers, 4);
  const maxMessages = values["max-messages"] === undefined
    ? undefined
    : number("max-messages", values["max-messages"], 10);
  const env = envFlags(values.env);

  console.log(`# bench:e2e — ${machineLine()}`);
  const data = generateData(count, seed);
  console.log(
    `data: ${int(count)} submissions (seed ${seed}, 1000 devices), ${int(data.validMessages)} ` +
      `valid, ${int(data.expectedEvents)} events (${
        fixed(data.expectedEvents / data.validMessages, 2)
      }` +
      `/valid submission)`,
  );
  const envLabel = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ");
  const results: OursResult[] = [];
  const references: ReferenceResult[] = [];
  const print = (r: OursResult) =>
    console.log(
      `  ${r.label}: ${int(r.eventsPerSecond)} events/s, ${int(r.messagesPerSecond)} msgs/s in ` +
        `${fixed(r.seconds, 1)} s (preload ${fixed(r.preloadSeconds, 1)} s); stream ` +
        `${r.verified ? "ok" : "NOT OK"}; others used ${fixed(100 * r.othersCpuShare, 0)} % ` +
        `of the CPU; load ${r.load}`,
    );

  if (values.sweep) {
    for (const w of [1, 2, 4, 8]) {
      for (const mm of [1, 5, 10]) {
        const r = await runOurs(data, {
          label: `WORKERS=${w} SQS_MAX_MESSAGES=${mm}`,
          workers: w,
          maxMessages: mm,
          errorProbability,
          env,
        });
        print(r);
        results.push(r);
      }
    }
    console.log(`\n## sweep (${int(count)} submissions each)\n`);
    console.log(
      table(
        ["WORKERS", "SQS_MAX_MESSAGES", "events/s", "msgs/s", "SQS calls/msg", "rec/call", "CPU s"],
        results.map((r) => [
          String(r.settings.workers),
          String(r.settings.maxMessages),
          int(r.eventsPerSecond),
          int(r.messagesPerSecond),
          fixed(r.sqsCallsPerMessage, 3),
          fixed(r.recordsPerCall, 1),
          fixed(r.cpuSeconds, 1),
        ]),
      ),
    );
  } else if (values.throttle) {
    const base = {
      workers,
      maxMessages,
      errorProbability,
      throttle: true,
      progress: values.progress,
    };
    for (const [label, percent] of [["limiter off", "0"], ["limiter on", undefined]] as const) {
      const limit: Record<string, string> = percent === undefined
        ? {}
        : { KINESIS_SHARD_RATE_LIMIT: percent };
      const r = await runRepeated(data, {
        ...base,
        label: `${label}${envLabel ? ` ${envLabel}` : ""}`,
        env: { ...env, ...limit },
      }, repeat);
      print(r);
      results.push(r);
    }
    console.log(`
## against a stream throttled like Kinesis (2 shards, 2 000 records/s)
`);
    console.log(throttleRows(results));
  } else {
    const base = {
      workers,
      maxMessages,
      env,
      cpuProfDir: values["cpu-prof"],
      progress: values.progress,
    };
    const ours = await runRepeated(data, {
      ...base,
      label: `ours${envLabel ? ` ${envLabel}` : ""}`,
      errorProbability: 0,
    }, repeat);
    print(ours);
    results.push(ours);
    if (errorProbability > 0) {
      const faulty = await runRepeated(data, {
        ...base,
        cpuProfDir: undefined,
        label: `ours, KINESIS_ERROR_PROBABILITY=${errorProbability}`,
        errorProbability,
      }, repeat);
      print(faulty);
      results.push(faulty);
    }
    if (!values["no-references"]) {
      const naiveSeconds = number("naive-seconds", values["naive-seconds"], 20);
      const naive = await runNaive(data, count, naiveSeconds);
      console.log(`  naive: ${int(naive.eventsPerSecond)} events/s (${naive.note})`);
      references.push(naive);
      // The bare loop as specified (one call at a time), and the emulator saturated (as many
      // calls in flight as the service's default PUBLISH_MAX_CONCURRENCY): the stricter one.
      const concurrencies = (values["ceiling-concurrency"] ?? "1,4").split(",").map((c) =>
        Math.max(1, Math.floor(number("ceiling-concurrency", c, 1)))
      );
      for (const concurrency of concurrencies) {
        const ceilings: ReferenceResult[] = [];
        for (let i = 0; i < repeat; i++) {
          ceilings.push(await runCeiling(seed, count, concurrency, 60));
        }
        ceilings.sort((a, b) => a.eventsPerSecond - b.eventsPerSecond);
        const ceiling = ceilings[Math.floor((ceilings.length - 1) / 2)]!;
        console.log(`  ceiling: ${int(ceiling.eventsPerSecond)} events/s (${ceiling.label})`);
        references.push(ceiling);
      }
    }
  }

  console.log(`\n## ours\n`);
  console.log(oursRows(results));
  for (const r of results) console.log(`SQS calls, ${r.label}: ${sqsBreakdown(r)}`);
  console.log(
    "\nprocessing = receipt → delete (service histogram, bucket-interpolated); e2e latency = " +
      "send → last event's ApproximateArrivalTimestamp, which on a preloaded backlog is " +
      "mostly queueing (see bench:sustained for latency at a steady rate).",
  );
  if (references.length > 0) {
    const ours = results[0]!;
    console.log(`\n## references (same data)\n`);
    console.log(
      table(
        ["consumer", "events/s", "ours / it", "calls", "note"],
        [
          ["ours", int(ours.eventsPerSecond), "1.00", int(ours.putRecordsCalls), ours.label],
          ...references.map((r) => [
            r.label,
            int(r.eventsPerSecond),
            fixed(ours.eventsPerSecond / r.eventsPerSecond, 2),
            int(r.calls),
            r.note,
          ]),
        ],
      ),
    );
    console.log("\ntargets (figures only, nothing fails):");
    for (const r of references) {
      const ratio = ours.eventsPerSecond / r.eventsPerSecond;
      const target = r.label.startsWith("naive") ? 10 : 0.6;
      console.log(
        `  ours / ${r.label}: ${fixed(ratio, 2)} (target ≥ ${target}: ` +
          `${ratio >= target ? "met" : "missed"})`,
      );
    }
  }
  console.log(`\nload average at the end: ${loadAverage()}`);
  if (values.json !== undefined) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify({ machine: machineLine(), count, seed, results, references }, null, 2),
    );
  }
}

if (import.meta.main) await runBench("bench:e2e", main);
