/**
 * The end-to-end harness: a local stack (fauxqs + kinesalite behind fault proxies), the service
 * run in-process or as a `deno run main.ts` subprocess against it, a queue preloaded from a
 * seeded fleet, and the reconciliation of the whole stream with the fleet's manifest.
 *
 * A module, not a test: the `e2e_*_test.ts` files build their scenarios from it (the set-up they
 * share, in one call: e2e_scenario.ts). Everything it starts has a `stop()`/`close()` that frees
 * every resource, so the sanitizers stay on.
 *
 * ```ts
 * import {
 *   assertReconciled,
 *   createLoad,
 *   preload,
 *   startE2eStack,
 *   startInProcessService,
 *   verify,
 *   waitDrained,
 * } from "./e2e_harness.ts";
 *
 * await using e2e = await startE2eStack();
 * const load = createLoad({ seed: 1, count: 2_000 });
 * await preload(e2e, load.messages);
 * const service = await startInProcessService(e2e);
 * await waitDrained(e2e, [service]);
 * await service.stop();
 * const { report } = await verify(e2e, load.manifest);
 * assertReconciled(report);
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ChangeMessageVisibilityBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { App } from "../../src/app/app.ts";
import { loadConfig, settingNames } from "../../src/app/app_config.ts";
import { getLogger } from "../../src/app/logging.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import { COMPONENTS } from "../../src/components.ts";
import type { RecordSink } from "../../src/submissions/kinesis_sink.ts";
import {
  createSubmissions,
  type SubmissionsConfig,
  type SubmissionsService,
} from "../../src/submissions/mod.ts";
import {
  createFleet,
  type FleetMessage,
  generateMessages,
  type ManifestEntry,
  SeededRandom,
  sendMessages,
} from "../../tools/submissions/fleet/mod.ts";
import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from "../../tools/submissions/local_stack.ts";
import type { FaultStats } from "../../tools/submissions/fault_stats.ts";
import { MetricsSnapshot } from "../../tools/common/metrics_text.ts";
import { listeningPort, scanLines } from "../../tools/common/service_process.ts";
import { formatReport } from "../../tools/submissions/format_report.ts";
import { getQueueDepth, type QueueDepth } from "../../tools/submissions/queue_depth.ts";
import { readStream, type StreamRecord } from "../../tools/submissions/read_stream.ts";
import { reconcile, type ReconcileReport } from "../../tools/submissions/reconcile.ts";
import { dieWithParent } from "../../tools/common/parent_death.ts";

/** The repository root: subprocesses run `main.ts` from here, with this project's deno.json. */
const ROOT = new URL("../../", import.meta.url);

/** The devices' clock of every load: fixed, so that a seed reproduces every byte of a body. */
const FLEET_CLOCK = () => new Date(2021, 2, 28, 15, 44, 18, 592);

// ---------------------------------------------------------------------------------------------
// Polling

/** Options of {@linkcode pollUntil}. */
export interface PollOptions {
  /** Give up after this many milliseconds. Default 30 000. */
  readonly timeoutMs?: number;
  /** Pause between two checks, in milliseconds. Default 100. */
  readonly intervalMs?: number;
}

/**
 * Checks `condition` until it holds, then returns its last truthy value; throws naming `what`
 * after the timeout. Tests poll a condition with a deadline instead of sleeping a guessed time.
 */
export async function pollUntil<T>(
  what: string,
  condition: () => T | Promise<T>,
  options: PollOptions = {},
): Promise<Exclude<T, false | 0 | "" | null | undefined>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = performance.now() + timeoutMs;
  let lastError: unknown;
  while (true) {
    try {
      const value = await condition();
      if (value) return value as Exclude<T, false | 0 | "" | null | undefined>;
      lastError = undefined;
    } catch (error) {
      // A check may fail while a dependency is down or restarting: that is not yet an answer.
      lastError = error;
    }
    if (performance.now() >= deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await delay(options.intervalMs ?? 100);
  }
}

/** Resolves after `ms` milliseconds (between two polls only, never in place of a condition). */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ---------------------------------------------------------------------------------------------
// The stack

/** A local stack with the harness's own clients; `stop()` frees all of it. */
export interface E2eStack extends AsyncDisposable {
  /** The local stack: endpoints, queue URLs, fault control. */
  readonly stack: LocalStack;
  /** An SQS client of the harness (preloading, queue depth, the invalid queue). */
  readonly sqs: SQSClient;
  /** A Kinesis client of the harness (reading the stream). */
  readonly kinesis: KinesisClient;
  /** Destroys the clients and stops the stack. Idempotent. */
  stop(): Promise<void>;
}

/** Options of {@linkcode startE2eStack}. */
export interface E2eStackOptions extends LocalStackOptions {
  /**
   * Seeds the fault proxies' draws (which calls and which records fail), so that a failing run
   * replays the same sequence of faults. Default 1.
   */
  readonly faultSeed?: number;
}

/** Starts a local stack (no faults unless `options.faults`) and the harness's clients. */
export async function startE2eStack(options: E2eStackOptions = {}): Promise<E2eStack> {
  const { faultSeed = 1, ...stackOptions } = options;
  const draws = new SeededRandom(faultSeed);
  const stack = await startLocalStack({ random: () => draws.float(), ...stackOptions });
  const { sqs, kinesis } = stack.createClients();
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      sqs.destroy();
      kinesis.destroy();
      await stack.stop();
    })();
  return {
    stack,
    sqs,
    kinesis,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

// ---------------------------------------------------------------------------------------------
// Loads

/** Options of {@linkcode createLoad}. */
export interface LoadOptions {
  /** The fleet's seed: the same seed gives the same messages. */
  readonly seed: number;
  /** Messages to generate. */
  readonly count: number;
  /** Devices of the fleet. Default 20. */
  readonly fleetSize?: number;
  /** The fleet's `invalidRatio`. Default 0.04. */
  readonly invalidRatio?: number;
  /** The fleet's `adversarialRatio`. Default 0.05. */
  readonly adversarialRatio?: number;
  /** The fleet's `rawJsonRatio`. Default 0.05. */
  readonly rawJsonRatio?: number;
}

/** Generated messages with their manifest. */
export interface Load {
  /** The seed that reproduces the load. */
  readonly seed: number;
  /** The messages, in sending order. */
  readonly messages: readonly FleetMessage[];
  /** One manifest entry per message. */
  readonly manifest: readonly ManifestEntry[];
  /** Valid submissions. */
  readonly valid: number;
  /** Invalid submissions (of every kind). */
  readonly invalid: number;
  /** Events the valid submissions carry: what the stream must hold. */
  readonly events: number;
}

/**
 * Generates a seeded load. The defaults give about 15 % invalid messages of every kind: the
 * fleet's deliberate faults and adversarial kinds plus its faithful 1 % faults per field.
 */
export function createLoad(options: LoadOptions): Load {
  const fleet = createFleet({
    seed: options.seed,
    fleetSize: options.fleetSize ?? 20,
    invalidRatio: options.invalidRatio ?? 0.04,
    adversarialRatio: options.adversarialRatio ?? 0.05,
    rawJsonRatio: options.rawJsonRatio ?? 0.05,
    clock: FLEET_CLOCK,
  });
  const messages = [...generateMessages(fleet, options.count)];
  const manifest = messages.map((m) => m.manifestEntry);
  const valid = manifest.filter((e) => e.valid);
  return {
    seed: fleet.seed,
    messages,
    manifest,
    valid: valid.length,
    invalid: manifest.length - valid.length,
    events: valid.reduce((sum, e) => sum + e.events, 0),
  };
}

/** Sends every message of `messages` to the submissions queue (batched); asserts all were sent. */
export async function preload(
  e2e: E2eStack,
  messages: readonly FleetMessage[],
  queueUrl: string = e2e.stack.queueUrl,
): Promise<void> {
  const stats = await sendMessages(e2e.sqs, queueUrl, messages, { concurrency: 4 });
  assert.equal(stats.sent, messages.length, "every message must be sent");
}

// ---------------------------------------------------------------------------------------------
// The service

/** What every way of running the service offers a scenario. */
export interface ServiceHandle {
  /** A name for messages. */
  readonly name: string;
  /** The port of /healthz, /readyz and /metrics. */
  readonly port: number;
  /** A fresh scrape of /metrics. */
  metrics(): Promise<MetricsSnapshot>;
  /** The HTTP status of /readyz. */
  readyz(): Promise<number>;
  /** Messages received and not yet deleted or released. */
  inFlight(): Promise<number>;
}

/** The service's environment against `e2e`: the stack's, the harness's defaults, `overrides`. */
export function serviceEnv(
  e2e: E2eStack,
  overrides: Readonly<Record<string, string>> = {},
): Record<string, string> {
  return {
    ...e2e.stack.env(),
    HTTP_PORT: "0",
    SQS_WAIT_TIME_SECONDS: "1",
    LOG_LEVEL: "warning",
    // The shard limiter on, its budget at 5 000 records/s per shard: about what the emulator
    // takes (it has no limits of its own), so the fault scenarios run through the limiter's
    // queues at the emulator's pace. At Kinesis's own 1 000 they pass too, in twice the time;
    // e2e_throttling_test.ts runs the limiter against a stream that throttles.
    KINESIS_SHARD_RATE_LIMIT: "500",
    ...overrides,
  };
}

async function httpGet(port: number, path: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
}

/**
 * The service run in this process: the app with the submissions component, made as main.ts
 * makes it (through its definition's config and factory), the Kinesis sink replaceable.
 */
export class InProcessService implements ServiceHandle {
  /** Always "in-process". */
  readonly name = "in-process";
  /** The app: HTTP, registry, readiness, lifecycle. */
  readonly app: App;
  /** The submissions pipeline inside it. */
  readonly service: SubmissionsService;
  /** Its configuration. */
  readonly config: SubmissionsConfig;

  /** Makes a service (not started) from its environment; prefer {@linkcode startInProcessService}. */
  constructor(env: Readonly<Record<string, string>>, sink?: RecordSink) {
    const loaded = loadConfig(COMPONENTS, { ...env, COMPONENTS: "submissions" });
    this.config = loaded.enabled[0]!.config as SubmissionsConfig;
    const metrics = createRegistry();
    this.service = createSubmissions(
      this.config,
      { registry: metrics.registry, logger: getLogger("submissions") },
      sink === undefined ? {} : { sink },
    );
    this.app = new App({
      config: loaded.app,
      components: [{ name: "submissions", component: this.service }],
      metrics,
    });
  }

  /** The HTTP port. */
  get port(): number {
    return this.app.port;
  }

  /** The app's registry, rendered as text and parsed like a scrape. */
  async metrics(): Promise<MetricsSnapshot> {
    return new MetricsSnapshot(await this.app.metrics.registry.metrics());
  }

  /** /readyz over HTTP, as an orchestrator sees it. */
  async readyz(): Promise<number> {
    return (await httpGet(this.port, "/readyz")).status;
  }

  /** Messages in progress over all workers. */
  inFlight(): Promise<number> {
    return Promise.resolve(this.service.inFlight);
  }

  /** Graceful stop of the app (which destroys the clients, as in main.ts). Idempotent. */
  stop(timeoutMs?: number): Promise<void> {
    return this.app.stop(timeoutMs);
  }
}

/**
 * Starts the service in this process with the configuration of `serviceEnv(e2e, overrides)`.
 *
 * The stack's dummy keys are left out of the configuration's input: given
 * `AWS_ACCESS_KEY_ID`, the service leaves credentials to the SDK's provider chain, which reads
 * the *process* environment, and this process has none. Without them the configuration picks
 * the dummy keys of loopback endpoints with nothing configured: the keys the subprocess signs
 * with too.
 */
export async function startInProcessService(
  e2e: E2eStack,
  overrides: Readonly<Record<string, string>> = {},
  options: { readonly sink?: RecordSink } = {},
): Promise<InProcessService> {
  const { AWS_ACCESS_KEY_ID: _, AWS_SECRET_ACCESS_KEY: __, ...env } = serviceEnv(e2e, overrides);
  const running = new InProcessService(env, options.sink);
  await running.app.start();
  return running;
}

/** What {@linkcode runInProcessUntilDrained} found. */
export interface DrainedRun {
  /** The service's metrics just before it stopped. */
  readonly metrics: MetricsSnapshot;
  /** The Kinesis fault proxy's counters (the faults are reset afterwards). */
  readonly kinesisStats: FaultStats;
  /** The stream reconciled with the load's manifest. */
  readonly report: ReconcileReport;
}

/**
 * Preloads `load`, runs an in-process service until the queue is drained, stops it, clears the
 * faults (so the stream can be read) and reconciles: the common shape of the fault scenarios.
 */
export async function runInProcessUntilDrained(
  e2e: E2eStack,
  load: Load,
  overrides: Readonly<Record<string, string>> = {},
): Promise<DrainedRun> {
  await preload(e2e, load.messages);
  const service = await startInProcessService(e2e, overrides);
  let metrics: MetricsSnapshot;
  try {
    await waitDrained(e2e, [service]);
    metrics = await service.metrics();
  } finally {
    await service.stop();
  }
  const kinesisStats = e2e.stack.faults.stats().kinesis;
  e2e.stack.faults.reset();
  const { report } = await verify(e2e, load.manifest);
  return { metrics, kinesisStats, report };
}

/** How a service subprocess ended. */
export interface ProcessExit {
  /** Its status. */
  readonly status: Deno.CommandStatus;
  /** Milliseconds from the signal to the exit. */
  readonly elapsedMs: number;
}

/**
 * The service as a `deno run main.ts` subprocess, its stderr (JSON log lines) collected.
 *
 * Not tools/common's `startService` (whose line scanner and "listening" parser it shares): a
 * test's service gets a clean environment (no setting leaks in from the shell), stays in the
 * test runner's process group (a Ctrl-C on the tests stops it too) and keeps every log line in
 * memory for the assertions.
 */
export class ServiceProcess implements ServiceHandle {
  /** A name for messages. */
  readonly name: string;
  /** The operations port, read from the "listening" log line. */
  readonly port: number;
  /** Every log line written so far. */
  readonly lines: readonly string[];
  /** Resolves when the process has exited and its stderr is fully read. */
  readonly exited: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  #done = false;

  /** Wraps a started child; use {@linkcode startServiceProcess}. */
  constructor(
    name: string,
    child: Deno.ChildProcess,
    port: number,
    lines: string[],
    exited: Promise<Deno.CommandStatus>,
  ) {
    this.name = name;
    this.#child = child;
    this.port = port;
    this.lines = lines;
    this.exited = exited.finally(() => this.#done = true);
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Whether the process has exited. */
  get hasExited(): boolean {
    return this.#done;
  }

  /** A scrape of /metrics over HTTP. */
  async metrics(): Promise<MetricsSnapshot> {
    return new MetricsSnapshot((await httpGet(this.port, "/metrics")).text);
  }

  /** The status of /readyz. */
  async readyz(): Promise<number> {
    return (await httpGet(this.port, "/readyz")).status;
  }

  /** The edr_submissions_messages_in_flight gauge. */
  async inFlight(): Promise<number> {
    return (await this.metrics()).value("edr_submissions_messages_in_flight");
  }

  /** The log lines (parsed) whose message template starts with `prefix`. */
  logs(prefix: string): Record<string, unknown>[] {
    const found: Record<string, unknown>[] = [];
    for (const line of this.lines) {
      if (!line.includes(prefix)) continue;
      try {
        const record = JSON.parse(line);
        const template = record.message_template;
        if (typeof template === "string" && template.startsWith(prefix)) {
          found.push(record);
        }
      } catch {
        // Not a log line (a panic, say): kept in `lines` for the failure message only.
      }
    }
    return found;
  }

  /** Sends `signal` and waits for the exit. */
  async signal(signal: Deno.Signal): Promise<ProcessExit> {
    const started = performance.now();
    if (!this.#done) this.#child.kill(signal);
    const status = await this.exited;
    return { status, elapsedMs: performance.now() - started };
  }

  /** Kills the process if it still runs and waits for it: for `finally` blocks. */
  async close(): Promise<void> {
    if (!this.#done) {
      try {
        this.#child.kill("SIGKILL");
      } catch {
        // It exited between the check and the kill.
      }
    }
    await this.exited;
  }

  /** The last log lines, for failure messages. */
  tail(count = 20): string {
    return this.lines.slice(-count).join("\n");
  }
}

/**
 * Starts `deno run --allow-net --allow-env --allow-sys=osRelease main.ts` with
 * `serviceEnv(e2e, overrides)` and waits for its "listening" log line, which carries the port
 * (so `LOG_LEVEL` is `info` unless overridden: the line is logged at info). Rejects, killing
 * the child, when it exits or does not listen within `timeoutMs`.
 */
export async function startServiceProcess(
  e2e: E2eStack,
  overrides: Readonly<Record<string, string>> = {},
  options: { readonly name?: string; readonly timeoutMs?: number } = {},
): Promise<ServiceProcess> {
  const name = options.name ?? "service";
  // The service reads every setting from its environment: none may leak in from the shell
  // that runs the tests, or a run would depend on it.
  const settings = new Set(settingNames(COMPONENTS));
  const inherited = Object.entries(Deno.env.toObject()).filter(([variable]) =>
    !settings.has(variable) && !variable.startsWith("AWS_")
  );
  // Killed by the kernel if the test runner dies first.
  const { command, args } = dieWithParent(Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-env",
    "--allow-sys=osRelease",
    "main.ts",
  ]);
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    clearEnv: true,
    env: {
      ...Object.fromEntries(inherited),
      ...serviceEnv(e2e, { LOG_LEVEL: "info", ...overrides }),
    },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const listening = Promise.withResolvers<number>();
  const pump = scanLines(child.stderr, (line) => {
    lines.push(line);
    const port = listeningPort(line);
    if (port !== undefined) listening.resolve(port);
  });
  const exited = Promise.all([child.status, pump]).then(([status]) => status);
  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const port = await Promise.race([
      listening.promise,
      exited.then((status) => {
        throw new Error(`${name} exited with code ${status.code} before listening`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${name} did not listen within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
    return new ServiceProcess(name, child, port, lines, exited);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await exited;
    throw new Error(`${(error as Error).message}\n${lines.slice(-20).join("\n")}`);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Draining and verifying

/**
 * Waits until the queue is empty (nothing visible, nothing in flight) and no service holds a
 * message: every message has been deleted, so every valid one was fully published.
 */
export async function waitDrained(
  e2e: E2eStack,
  services: readonly ServiceHandle[],
  options: PollOptions & { readonly queueUrl?: string } = {},
): Promise<void> {
  const queueUrl = options.queueUrl ?? e2e.stack.queueUrl;
  let depth: QueueDepth | undefined;
  try {
    await pollUntil("the queue to drain", async () => {
      depth = await getQueueDepth(e2e.sqs, queueUrl);
      if (depth.visible + depth.inFlight > 0) return false;
      for (const service of services) if (await service.inFlight() > 0) return false;
      return true;
    }, { timeoutMs: 90_000, ...options });
  } catch (error) {
    const last = depth ? ` (last depth ${depth.visible} visible, ${depth.inFlight} in flight)` : "";
    throw new Error(`${(error as Error).message}${last}`);
  }
}

/** The stream and the queue's depth, reconciled with `manifest` (tools/submissions/reconcile.ts). */
export async function verify(
  e2e: E2eStack,
  manifest: readonly ManifestEntry[],
): Promise<{ report: ReconcileReport; records: StreamRecord[] }> {
  const queueDepth = await getQueueDepth(e2e.sqs, e2e.stack.queueUrl);
  const records = await readStream(e2e.kinesis, e2e.stack.streamName);
  return { report: reconcile(manifest, records, { queueDepth }), records };
}

/**
 * Asserts the service's guarantees on a report: nothing missing, order kept, nothing from an
 * invalid submission, nothing malformed or unknown, the queue empty; and no duplicate at all
 * unless the scenario implies redelivery (`allowDuplicates`).
 */
export function assertReconciled(
  report: ReconcileReport,
  options: { readonly allowDuplicates?: boolean } = {},
): void {
  assert.ok(report.ok, formatReport(report));
  assert.equal(report.missingEvents, 0);
  assert.equal(report.orderViolations, 0);
  assert.equal(report.invalidSubmissionRecords, 0);
  assert.ok(report.presentEvents > 0, "the stream must hold events");
  if (!options.allowDuplicates) {
    assert.equal(report.duplicates, 0, `unexpected duplicates\n${formatReport(report)}`);
  }
  // Every record is one expected event or a copy of one with the same event_id.
  assert.equal(report.records, report.expectedEvents + report.duplicates);
}

// ---------------------------------------------------------------------------------------------
// Reading a queue

/**
 * Receives every message of `queueUrl` until `expected` were seen (or, without `expected`,
 * until a receive comes back empty), holding them for `visibilitySeconds`. The messages stay in
 * the queue; {@linkcode releaseMessages} makes them visible again.
 */
export async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  options: PollOptions & { readonly expected?: number; readonly visibilitySeconds?: number } = {},
): Promise<Message[]> {
  const messages: Message[] = [];
  await pollUntil(`${options.expected ?? "all"} messages of ${queueUrl}`, async () => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: options.visibilitySeconds ?? 60,
        // Waiting for an expected count: a long poll, so the wait is not a busy loop.
        WaitTimeSeconds: options.expected === undefined ? 0 : 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    messages.push(...Messages);
    if (options.expected !== undefined) return messages.length >= options.expected;
    return Messages.length === 0;
  }, { intervalMs: 0, ...options });
  return messages;
}

/** Makes `messages` visible again at once. */
export async function releaseMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Message[],
): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const output = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: batch.map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    assert.equal(output.Failed?.length ?? 0, 0, "releasing messages must not fail");
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting

/** Seconds since `started` (a `performance.now()`), with one decimal. */
export function secondsSince(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}

/**
 * Prints the one-line summary of a scenario (`e2e <scenario>: key=value ...`), the numbers the
 * README's reliability section quotes.
 */
export function printSummary(
  scenario: string,
  fields: Readonly<Record<string, string | number>>,
): void {
  const parts = Object.entries(fields).map(([key, value]) => `${key}=${value}`);
  console.log(`e2e ${scenario}: ${parts.join(" ")}`);
}
