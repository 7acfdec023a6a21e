/**
 * The whole pipeline in one command, with nothing but Deno: a local SQS and Kinesis in this
 * process ({@link ../local_stack.ts}), the preprocessor as a `deno run main.ts` subprocess (its
 * JSON logs go to a temp file), a sensor fleet sending a few submissions per second, and a tail
 * of the `events` stream, with a status line refreshed every second. On Ctrl-C (or after
 * `--seconds`), the fleet stops, the service drains and is stopped with SIGTERM, and the whole
 * stream is reconciled with the fleet's manifest: the exit code is 0 only when nothing was lost,
 * reordered, or published from an invalid submission.
 *
 * ```sh
 * deno task demo                                         # until Ctrl-C
 * KINESIS_ERROR_PROBABILITY=0.1 deno task demo --seconds 20
 * deno task demo --rate 20 --invalid-ratio 0.2 --seconds 30
 * ```
 *
 * The task's permissions: `--allow-net=127.0.0.1,0.0.0.0` (the stack, the service's /metrics),
 * `--allow-env` (the AWS SDK), `--allow-sys` (as `deno task stack`), `--allow-run=deno` (the
 * service) and `--allow-write` (the log file in the OS temp dir, whose path differs per OS).
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
  createFleet,
  generateMessages,
  type ManifestEntry,
  randomSeed,
  sendMessages,
} from "../fleet/mod.ts";
import { sleep } from "../../../src/app/backoff.ts";
import { type LocalStack, startLocalStack } from "../local_stack.ts";
import { followStream, formatRecord, type ShardRecord } from "../tail.ts";
import {
  getQueueDepth,
  type QueueDepth,
  readStream,
  reconcile,
  type ReconcileReport,
} from "../verify.ts";

/** The repository root: the service runs `main.ts` from here, with the project's deno.json. */
const ROOT = new URL("../../../", import.meta.url);

/** Exactly the permissions of `deno task start`: the demo runs the service as users do. */
export const SERVICE_COMMAND = [
  "deno",
  "run",
  "--allow-net",
  "--allow-env",
  "--allow-sys=osRelease",
  "main.ts",
] as const;

// ---------------------------------------------------------------------------------------------
// Options

/** What the demo does; see {@linkcode parseDemoArgs}. */
export interface DemoOptions {
  /** Stop by itself after this many seconds; `undefined`: only on Ctrl-C. */
  readonly seconds: number | undefined;
  /** Submissions per second sent by the fleet. */
  readonly rate: number;
  /** Devices of the fleet. */
  readonly fleetSize: number;
  /** Extra fraction of deliberately invalid submissions (the fleet's `invalidRatio`). */
  readonly invalidRatio: number;
  /** The fleet's seed; `undefined`: random (printed, so a run can be repeated). */
  readonly seed: number | undefined;
  /** Stream records shown per refresh. */
  readonly tail: number;
  /** Longest wait for the service to drain after the fleet stops. */
  readonly drainTimeoutSeconds: number;
  /** LocalStack's `KINESIS_ERROR_PROBABILITY`, injected by the stack's Kinesis proxy. */
  readonly errorProbability: number;
  /** Per-record `PutRecords` failures, injected by the stack's Kinesis proxy. */
  readonly partialFailureProbability: number;
}

/** A usage error: its message is one line, printed with the usage text. */
export class DemoUsageError extends Error {
  /** Makes an error with a one-line `message`. */
  constructor(message: string) {
    super(message);
    this.name = "DemoUsageError";
  }
}

/** The `--help` text. */
export const USAGE = `Usage: deno task demo [options]

Runs a local SQS + Kinesis (in this process), the preprocessor (deno run main.ts), a sensor
fleet and a tail of the stream, with a live status line; on Ctrl-C (or after --seconds) drains,
stops the service and reconciles the stream with what the fleet sent. Exit code 0 = nothing lost.

  --seconds N              stop by itself after N seconds (default: run until Ctrl-C)
  --rate R                 submissions per second (default 5; the real fleet sends 10 per 30-45 s)
  --fleet-size N           devices (default 10)
  --invalid-ratio R        extra fraction of invalid submissions, 0..1 (default 0; the fleet's own
                           1 % faults per field are always on)
  --seed N                 the fleet's seed (default: random, printed)
  --tail N                 stream records shown per second (default 2; 0 hides them)
  --drain-timeout N        longest wait, in seconds, for the service to drain (default 60)
  --kinesis-error-probability P          [KINESIS_ERROR_PROBABILITY] LocalStack's injected
                                         PutRecords errors (default 0)
  --kinesis-partial-failure-probability P [KINESIS_PARTIAL_FAILURE_PROBABILITY] per record

Ctrl-C stops the fleet, then the service drains and stops, and the stream is reconciled. Ctrl-C
while it drains: stop waiting for the drain. Ctrl-C while the service stops: kill it.`;

/**
 * Reads the options from the command line and the environment (a flag wins over its variable).
 * Returns `undefined` for `--help`.
 *
 * @throws {DemoUsageError} on an unknown flag or an out-of-range value.
 */
export function parseDemoArgs(
  args: readonly string[],
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): DemoOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        seconds: { type: "string" },
        rate: { type: "string" },
        "fleet-size": { type: "string" },
        "invalid-ratio": { type: "string" },
        seed: { type: "string" },
        tail: { type: "string" },
        "drain-timeout": { type: "string" },
        "kinesis-error-probability": { type: "string" },
        "kinesis-partial-failure-probability": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new DemoUsageError(error instanceof Error ? error.message.split("\n")[0]! : "bad flag");
  }
  if (values.help) return undefined;
  return {
    seconds: numberIn("--seconds", values.seconds, 1, 86_400),
    rate: numberIn("--rate", values.rate, 0.01, 1_000) ?? 5,
    fleetSize: integerIn("--fleet-size", values["fleet-size"], 1, 100_000) ?? 10,
    invalidRatio: numberIn("--invalid-ratio", values["invalid-ratio"], 0, 1) ?? 0,
    seed: integerIn("--seed", values.seed, 0, 2 ** 32 - 1),
    tail: integerIn("--tail", values.tail, 0, 50) ?? 2,
    drainTimeoutSeconds: numberIn("--drain-timeout", values["drain-timeout"], 1, 3_600) ?? 60,
    errorProbability: numberIn(
      "KINESIS_ERROR_PROBABILITY",
      values["kinesis-error-probability"] ?? env("KINESIS_ERROR_PROBABILITY"),
      0,
      1,
    ) ?? 0,
    partialFailureProbability: numberIn(
      "KINESIS_PARTIAL_FAILURE_PROBABILITY",
      values["kinesis-partial-failure-probability"] ?? env("KINESIS_PARTIAL_FAILURE_PROBABILITY"),
      0,
      1,
    ) ?? 0,
  };
}

function numberIn(name: string, raw: string | undefined, min: number, max: number) {
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new DemoUsageError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function integerIn(name: string, raw: string | undefined, min: number, max: number) {
  const value = numberIn(name, raw, min, max);
  if (value !== undefined && !Number.isInteger(value)) {
    throw new DemoUsageError(`${name} must be an integer, got "${raw}"`);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Metrics and the status line

/**
 * Sums every series of each metric in a Prometheus text exposition, by metric name
 * (`edr_messages_invalid_total{reason="…"}` lines add up to one total).
 */
export function metricTotals(text: string): Map<string, number> {
  const totals = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{.*\})?\s+(\S+)/.exec(line);
    if (match === null) continue;
    const value = Number(match[2]);
    if (!Number.isFinite(value)) continue;
    totals.set(match[1]!, (totals.get(match[1]!) ?? 0) + value);
  }
  return totals;
}

/** The service's counters the demo shows, read from /metrics. */
export interface ServiceCounters {
  /** SQS messages received, redeliveries included. */
  readonly received: number;
  /** Events acknowledged by Kinesis. */
  readonly published: number;
  /** Invalid messages dropped, every reason. */
  readonly invalid: number;
  /** Records retried after a failure, every error code. */
  readonly retries: number;
  /** Messages held by the service right now. */
  readonly inFlight: number;
}

/** The counters from a /metrics scrape (see {@linkcode metricTotals}). */
export function serviceCounters(totals: ReadonlyMap<string, number>): ServiceCounters {
  const get = (name: string) => totals.get(name) ?? 0;
  return {
    received: get("edr_messages_received_total"),
    published: get("edr_events_published_total"),
    invalid: get("edr_messages_invalid_total"),
    retries: get("edr_record_retries_total"),
    inFlight: get("edr_messages_in_flight"),
  };
}

/** One refresh of the status line. */
export interface DemoStatus {
  /** Seconds since the fleet started. */
  readonly elapsedSeconds: number;
  /** What the status is about: `running` or `draining`. */
  readonly phase: string;
  /** Submissions the fleet got confirmed by SQS. */
  readonly sent: number;
  /** The service's counters; `undefined` when /metrics did not answer. */
  readonly counters: ServiceCounters | undefined;
  /** Events published per second since the previous refresh. */
  readonly eventsPerSecond: number | undefined;
  /** The queue's depth; `undefined` when SQS did not answer. */
  readonly queue: QueueDepth | undefined;
}

/** The status line: `[  8s] sent 40  received 40  published 301  invalid 0  retries 21 …`. */
export function formatStatus(status: DemoStatus): string {
  const parts = [`[${String(Math.floor(status.elapsedSeconds)).padStart(3)}s]`];
  if (status.phase !== "running") parts.push(status.phase);
  parts.push(`sent ${status.sent}`);
  const c = status.counters;
  parts.push(
    c === undefined ? "metrics unavailable" : `received ${c.received}  published ${c.published}  ` +
      `invalid ${c.invalid}  retries ${c.retries}`,
  );
  if (status.eventsPerSecond !== undefined) {
    parts.push(`${status.eventsPerSecond.toFixed(1)} events/s`);
  }
  const q = status.queue;
  parts.push(q === undefined ? "queue ?" : `queue ${q.visible} (${q.inFlight} in flight)`);
  return parts.join("  ");
}

/** The short reconciliation printed at the end. */
export function formatReconciliation(report: ReconcileReport): string {
  const lines = [
    `reconciliation: ${report.ok ? "OK" : "NOT OK"}`,
    `  sent      ${report.messages} submissions: ${report.validSubmissions} valid, ` +
    `${report.invalidSubmissions} invalid`,
    `  events    ${report.expectedEvents} expected, ${report.presentEvents} present, ` +
    `${report.missingEvents} missing`,
    `  stream    ${report.records} records: ${report.orderViolations} order violations, ` +
    `${report.duplicates} duplicates, ${report.invalidSubmissionRecords} from invalid submissions`,
  ];
  for (const problem of report.problems) lines.push(`  problem:  ${problem}`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// The terminal

/**
 * Where the demo writes. On a terminal the status line is rewritten in place (`\r`, cut to the
 * terminal's width so it never wraps) and permanent lines are printed above it; elsewhere every
 * status is a plain line, so logs and tests read the same text.
 */
class Screen {
  readonly #encoder = new TextEncoder();
  readonly #tty = Deno.stdout.isTerminal();
  #statusShown = false;

  /** Prints a permanent line (above the status line, on a terminal). */
  line(text: string): void {
    this.#write(this.#tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    this.#statusShown = false;
  }

  /** Shows the status line: rewritten in place on a terminal, a new line elsewhere. */
  status(text: string): void {
    if (!this.#tty) return this.line(text);
    this.#write(`\r\x1b[2K${text.slice(0, this.#columns() - 1)}`);
    this.#statusShown = true;
  }

  /** Ends a status line left in place, so what follows starts on a line of its own. */
  endStatus(): void {
    if (this.#statusShown) this.#write("\n");
    this.#statusShown = false;
  }

  #columns(): number {
    try {
      return Deno.consoleSize().columns;
    } catch {
      return 120;
    }
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    // writeSync may write less than asked.
    for (let offset = 0; offset < bytes.length;) {
      offset += Deno.stdout.writeSync(bytes.subarray(offset));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The service subprocess

/** The preprocessor running as a subprocess. */
interface ServiceProcess {
  /** Its process id. */
  readonly pid: number;
  /** The port of /healthz, /readyz and /metrics, read from its "listening" log line. */
  readonly port: number;
  /** Resolves once it has exited and its log is fully written. */
  readonly exited: Promise<Deno.CommandStatus>;
  /** Whether it has exited. */
  hasExited(): boolean;
  /** Its last log lines, for error messages. */
  lastLines(): string[];
  /** SIGTERM, then SIGKILL if it is still running after `timeoutMs`. */
  terminate(timeoutMs: number): Promise<Deno.CommandStatus>;
  /** SIGKILL if it still runs, then waits for it: for cleanup on every path. */
  kill(): Promise<void>;
}

/**
 * Spawns the service with `env` (added to this process's environment), its stderr (the JSON log)
 * written to `logPath`, and waits for its "listening" line.
 *
 * It runs detached (its own process group): a Ctrl-C in the terminal reaches the whole foreground
 * group, and the service must keep working while the demo drains it; the demo stops it itself.
 */
async function startService(
  env: Record<string, string>,
  logPath: string,
  timeoutMs = 30_000,
): Promise<ServiceProcess> {
  // Opened first: a failure here must not leave a service running.
  const log = await Deno.open(logPath, { write: true, create: true, truncate: true });
  const [command, ...args] = SERVICE_COMMAND;
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env,
    detached: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const [toFile, toScan] = child.stderr.tee();
  const written = toFile.pipeTo(log.writable);
  const listening = Promise.withResolvers<number>();
  const recent: string[] = [];
  const scanned = scanLines(toScan, (line) => {
    recent.push(line);
    if (recent.length > 20) recent.shift();
    const port = listeningPort(line);
    if (port !== undefined) listening.resolve(port);
  });
  let done = false;
  const exited = Promise.all([child.status, written, scanned]).then(([status]) => status)
    .finally(() => done = true);
  const kill = (signal: Deno.Signal) => {
    try {
      if (!done) child.kill(signal);
    } catch {
      // It exited between the check and the kill.
    }
  };
  const service = {
    pid: child.pid,
    port: 0,
    exited,
    hasExited: () => done,
    lastLines: () => [...recent],
    async terminate(timeoutMs: number) {
      kill("SIGTERM");
      const timer = setTimeout(() => kill("SIGKILL"), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      kill("SIGKILL");
      await exited;
    },
  };
  try {
    const port = await raceTimeout(
      Promise.race([
        listening.promise,
        exited.then((status): never => {
          throw new Error(`the service exited with code ${status.code} before listening`);
        }),
      ]),
      timeoutMs,
      `the service did not listen within ${timeoutMs / 1000} s`,
    );
    return { ...service, port };
  } catch (error) {
    await service.kill();
    throw error;
  }
}

/** The port of the service's `listening on :{port}` JSON log line, if `line` is that line. */
function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening on :{port}')) return undefined;
  try {
    const port = JSON.parse(line).port;
    return typeof port === "number" ? port : undefined;
  } catch {
    return undefined;
  }
}

/** Feeds every line of `stream` to `onLine`; resolves when the stream ends. */
async function scanLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let rest = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (rest + chunk).split("\n");
    rest = lines.pop()!;
    lines.forEach(onLine);
  }
  if (rest !== "") onLine(rest);
}

/** `promise`, or a rejection with `message` after `ms`; the timer never outlives the race. */
async function raceTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(message)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** GETs `path` on the service; `undefined` when it does not answer within 2 s. */
async function serviceGet(
  port: number,
  path: string,
): Promise<{ status: number; text: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      signal: AbortSignal.timeout(2_000),
    });
    return { status: response.status, text: await response.text() };
  } catch {
    return undefined;
  }
}

/** The service's counters, or `undefined` when /metrics does not answer. */
async function scrapeCounters(port: number): Promise<ServiceCounters | undefined> {
  const response = await serviceGet(port, "/metrics");
  if (response?.status !== 200) return undefined;
  return serviceCounters(metricTotals(response.text));
}

/** Waits until /readyz answers 200 (SQS and Kinesis reachable). */
async function waitReady(service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (service.hasExited()) throw new Error("the service exited before it was ready");
    if ((await serviceGet(service.port, "/readyz"))?.status === 200) return;
    await sleep(200);
  }
  throw new Error(`the service was not ready within ${timeoutMs / 1000} s`);
}

// ---------------------------------------------------------------------------------------------
// The fleet

/** The fleet, sending in the background. */
interface FleetRun {
  /** The seed; pass it with `--seed` to send the same submissions again. */
  readonly seed: number;
  /** One entry per message SQS confirmed, in confirmation order. */
  readonly manifest: readonly ManifestEntry[];
  /** Resolves when the fleet stops sending (stopped, or failed): with its error, if any. */
  readonly ended: Promise<unknown>;
  /** Stops sending; resolves once the send in progress is confirmed, like `ended`. */
  stop(): Promise<unknown>;
}

/**
 * Sends `rate` submissions per second, paced, with the fleet's faithful faults. Its own loop
 * rather than `runFleet`, whose abort cuts a `SendMessageBatch` short: a message SQS took but never
 * confirmed would then be in the queue and not in the manifest, and reconcile would flag it.
 * Here a stop only ends the pause between two sends.
 */
function startFleet(sqs: SQSClient, queueUrl: string, options: DemoOptions): FleetRun {
  const fleet = createFleet({
    fleetSize: options.fleetSize,
    seed: options.seed ?? randomSeed(),
    invalidRatio: options.invalidRatio,
  });
  const manifest: ManifestEntry[] = [];
  const stopping = new AbortController();
  const run = async () => {
    const started = performance.now();
    let generated = 0;
    while (!stopping.signal.aborted) {
      // Everything due by now goes out together, so a slow send is caught up, not dropped.
      const due = Math.floor(((performance.now() - started) * options.rate) / 1000) + 1;
      if (due > generated) {
        const messages = [...generateMessages(fleet, due - generated)];
        generated = due;
        await sendMessages(sqs, queueUrl, messages, {
          onSent: (message) => manifest.push(message.manifestEntry),
        });
      }
      const next = started + (generated * 1000) / options.rate;
      await sleep(Math.max(1, next - performance.now()), stopping.signal);
    }
  };
  const ended = run().then(() => undefined, (error: unknown) => error ?? new Error("fleet failed"));
  return {
    seed: fleet.seed,
    manifest,
    ended,
    stop() {
      stopping.abort();
      return ended;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The tail

/** The stream, followed in the background. */
interface TailRun {
  /** The newest records since the previous call, formatted; at most `max`. */
  take(max: number): string[];
  /** Stops following; never rejects (the tail is for show, the reconciliation is the check). */
  stop(): Promise<void>;
}

/** Follows every shard of the stream from LATEST, keeping the newest few records. */
function startTail(kinesis: KinesisClient, streamName: string, keep: number): TailRun {
  const controller = new AbortController();
  let newest: ShardRecord[] = [];
  const following = followStream(kinesis, {
    streamName,
    from: "LATEST",
    signal: controller.signal,
    onRecords(records) {
      if (keep === 0) return;
      newest = [...newest, ...records].slice(-keep);
    },
  }).catch(() => {
    // A tail that stops early only shows less.
  });
  return {
    take(max) {
      const taken = newest.slice(-max);
      newest = [];
      // Pages of the two shards interleave arbitrarily: show the records in arrival order.
      taken.sort((a, b) => (a.arrivalTime?.getTime() ?? 0) - (b.arrivalTime?.getTime() ?? 0));
      return taken.map(formatRecord);
    },
    async stop() {
      controller.abort();
      await following;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The run

/** Everything running, for the refresh loop. */
interface Running {
  readonly screen: Screen;
  readonly stack: LocalStack;
  readonly sqs: SQSClient;
  readonly service: ServiceProcess;
  readonly fleet: FleetRun;
  readonly tail: TailRun;
  readonly options: DemoOptions;
  readonly started: number;
  /** The previous refresh's published count and time, for events/s. */
  last: { published: number; at: number } | undefined;
}

/** Scrapes the service and the queue and shows the status line and the newest records. */
async function refresh(running: Running, phase: string): Promise<DemoStatus> {
  const [counters, queue] = await Promise.all([
    scrapeCounters(running.service.port),
    getQueueDepth(running.sqs, running.stack.queueUrl).catch(() => undefined),
  ]);
  const now = performance.now();
  let eventsPerSecond: number | undefined;
  if (counters !== undefined) {
    const last = running.last;
    if (last !== undefined && now > last.at) {
      eventsPerSecond = ((counters.published - last.published) * 1000) / (now - last.at);
    }
    running.last = { published: counters.published, at: now };
  }
  const status: DemoStatus = {
    elapsedSeconds: (now - running.started) / 1000,
    phase,
    sent: running.fleet.manifest.length,
    counters,
    eventsPerSecond,
    queue,
  };
  for (const line of running.tail.take(running.options.tail)) running.screen.line(`  ${line}`);
  running.screen.status(formatStatus(status));
  return status;
}

/** Refreshes every second until `signal` aborts. */
async function runUntil(running: Running, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await refresh(running, "running");
    await sleep(1_000, signal);
  }
}

/**
 * Refreshes until the queue is empty and the service holds nothing (every message deleted, so
 * every valid one fully published), `timeoutMs` passes or `signal` aborts. Returns whether it
 * drained.
 */
async function drain(running: Running, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!signal.aborted && !running.service.hasExited()) {
    const { counters, queue } = await refresh(running, "draining");
    if (
      counters !== undefined && counters.inFlight === 0 &&
      queue !== undefined && queue.visible + queue.inFlight === 0
    ) return true;
    if (performance.now() >= deadline) return false;
    await sleep(500, signal);
  }
  return false;
}

/**
 * Ctrl-C ends the current phase, whatever it is: the run (the fleet stops and the service
 * drains), then the drain (stop waiting for it), then the service's graceful stop (kill it).
 */
class CtrlC implements Disposable {
  #phase = new AbortController();
  #lastPress = -Infinity;
  readonly #onSigint = () => {
    // Under `deno task` one Ctrl-C arrives twice, milliseconds apart: the terminal signals the
    // whole foreground group, and `deno task` forwards its own copy to us. Count it once.
    const now = performance.now();
    if (now - this.#lastPress < 500) return;
    this.#lastPress = now;
    this.#phase.abort();
  };

  /** Starts listening for SIGINT; the first phase starts now. */
  constructor() {
    Deno.addSignalListener("SIGINT", this.#onSigint);
  }

  /** Aborted when Ctrl-C ends the current phase. */
  get signal(): AbortSignal {
    return this.#phase.signal;
  }

  /** Starts the next phase: from now on Ctrl-C ends this one. */
  next(): AbortSignal {
    this.#phase = new AbortController();
    return this.#phase.signal;
  }

  /** Stops listening. */
  [Symbol.dispose](): void {
    Deno.removeSignalListener("SIGINT", this.#onSigint);
  }
}

/** Runs the demo; resolves with the exit code. Everything it starts is stopped on every path. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const screen = new Screen();
  await using cleanup = new AsyncDisposableStack();
  const ctrlC = cleanup.use(new CtrlC());

  const logPath = await Deno.makeTempFile({ prefix: "edr-demo-service-", suffix: ".log" });
  const kinesisFaults = {
    errorProbability: options.errorProbability,
    partialFailureProbability: options.partialFailureProbability,
  };
  const stack = await startLocalStack({ faults: { kinesis: kinesisFaults } });
  cleanup.defer(() => stack.stop());
  const { sqs, kinesis } = stack.createClients();
  cleanup.defer(() => {
    sqs.destroy();
    kinesis.destroy();
  });
  screen.line(
    `local AWS in this process: SQS ${stack.endpoints.sqs}, Kinesis ${stack.endpoints.kinesis} ` +
      `(stream ${stack.streamName}, 2 shards); KINESIS_ERROR_PROBABILITY=` +
      `${options.errorProbability}, KINESIS_PARTIAL_FAILURE_PROBABILITY=` +
      `${options.partialFailureProbability}`,
  );

  const service = await startService(
    { ...stack.env(), HTTP_PORT: "0", LOG_LEVEL: "info" },
    logPath,
  );
  cleanup.defer(() => service.kill());
  screen.line(`service: ${SERVICE_COMMAND.join(" ")} (pid ${service.pid}, :${service.port})`);
  screen.line(`service logs: ${logPath}`);
  await waitReady(service);

  const tail = startTail(kinesis, stack.streamName, options.tail);
  cleanup.defer(() => tail.stop());
  const fleet = startFleet(sqs, stack.queueUrl, options);
  cleanup.defer(async () => {
    await fleet.stop();
  });
  screen.line(
    `fleet: ${options.fleetSize} devices, ${options.rate} submissions/s, 1 % faults per field` +
      `${options.invalidRatio > 0 ? ` + ${options.invalidRatio} invalid` : ""}, ` +
      `seed ${fleet.seed}`,
  );
  screen.line(
    options.seconds === undefined
      ? "running until Ctrl-C"
      : `running for ${options.seconds} s (Ctrl-C stops earlier)`,
  );

  const running: Running = {
    screen,
    stack,
    sqs,
    service,
    fleet,
    tail,
    options,
    started: performance.now(),
    last: undefined,
  };
  // The run ends on Ctrl-C, after --seconds, or when the service or the fleet fails.
  const runEnded = new AbortController();
  const timer = options.seconds === undefined
    ? undefined
    : setTimeout(() => runEnded.abort(), options.seconds * 1000);
  cleanup.defer(() => clearTimeout(timer));
  service.exited.then(() => runEnded.abort());
  fleet.ended.then(() => runEnded.abort());
  await runUntil(running, AbortSignal.any([ctrlC.signal, runEnded.signal]));
  clearTimeout(timer);
  return await finish(running, ctrlC, kinesis);
}

/** Stops the fleet, drains, stops the service, reconciles and prints; returns the exit code. */
async function finish(
  running: Running,
  ctrlC: CtrlC,
  kinesis: KinesisClient,
): Promise<number> {
  const { screen, service, fleet, stack, options } = running;
  const failures: string[] = [];
  const fleetError = await fleet.stop();
  screen.endStatus();
  if (fleetError !== undefined) failures.push(`the fleet failed: ${errorMessage(fleetError)}`);
  screen.line(`stopping: the fleet sent ${fleet.manifest.length} submissions; draining…`);

  const drainStarted = performance.now();
  const drainSkipped = ctrlC.next();
  const drained = await drain(running, options.drainTimeoutSeconds * 1000, drainSkipped);
  screen.endStatus();
  const counters = await scrapeCounters(service.port);
  if (drained) screen.line(`drained in ${secondsSince(drainStarted)} s`);
  else if (drainSkipped.aborted) failures.push("the drain was cut short by Ctrl-C");
  else if (!service.hasExited()) failures.push("the service did not drain");

  const crashed = service.hasExited();
  if (!crashed) screen.line("stopping the service (SIGTERM; Ctrl-C kills it)…");
  const killRequested = ctrlC.next();
  const onKill = () => service.kill();
  killRequested.addEventListener("abort", onKill, { once: true });
  const stopStarted = performance.now();
  const status = crashed ? await service.exited : await service.terminate(30_000);
  killRequested.removeEventListener("abort", onKill);
  const how = crashed ? "exited by itself" : killRequested.aborted ? "killed by Ctrl-C" : "SIGTERM";
  screen.line(
    `service stopped (${how}): exit code ${status.code} in ${secondsSince(stopStarted)} s`,
  );
  if (crashed || status.code !== 0) {
    failures.push(`the service exited with code ${status.code} (${how})`);
    for (const line of service.lastLines().slice(-5)) screen.line(`  | ${line}`);
  }
  await running.tail.stop();

  if (counters !== undefined) {
    const injected = stack.faults.stats().kinesis.injected;
    screen.line(
      `service totals: received ${counters.received}, published ${counters.published}, ` +
        `invalid ${counters.invalid}, retries ${counters.retries} ` +
        `(faults injected: ${injected.errorProbability} PutRecords failed whole, ` +
        `${injected.partialFailure} partly)`,
    );
  }
  const queueDepth = await getQueueDepth(running.sqs, stack.queueUrl);
  const records = await readStream(kinesis, stack.streamName, {
    signal: AbortSignal.timeout(60_000),
  });
  const report = reconcile(fleet.manifest, records, { queueDepth });
  screen.line(formatReconciliation(report));
  for (const failure of failures) screen.line(`failed: ${failure}`);
  return report.ok && failures.length === 0 ? 0 : 1;
}

function secondsSince(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

if (import.meta.main) {
  let options: DemoOptions | undefined;
  try {
    options = parseDemoArgs(Deno.args);
  } catch (error) {
    if (!(error instanceof DemoUsageError)) throw error;
    console.error(`demo: ${error.message}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (options === undefined) {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    Deno.exit(await runDemo(options));
  } catch (error) {
    console.error(`\ndemo: ${errorMessage(error)}`);
    Deno.exit(1);
  }
}
