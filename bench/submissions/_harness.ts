/**
 * What the submissions pipeline's end-to-end benchmarks (e2e.ts, sustained.ts, hot_device.ts)
 * share: the local stack stopped on every exit path, fleet data with send times, and the service
 * as a subprocess with its metrics. When submissions complete in the stream is completions.ts;
 * what every component's benchmarks share (/proc readings, the machine, figures and tables, the
 * process's lifecycle) is in bench/common/.
 *
 * Not a benchmark itself (the leading underscore keeps `deno bench` from picking it up).
 *
 * @module
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sleep } from "../../src/app/backoff.ts";
import {
  createFleet,
  type FleetMessage,
  generateMessages,
  sendMessages,
} from "../../tools/submissions/fleet/mod.ts";
import {
  type LocalStack,
  type LocalStackOptions,
  startLocalStack,
} from "../../tools/submissions/local_stack.ts";
import { MetricsSnapshot } from "../../tools/common/metrics_text.ts";
import { serviceGet, startService } from "../../tools/common/service_process.ts";
import { onInterrupt } from "../common/lifecycle.ts";

/**
 * The repository root (with a trailing slash): the service runs from here, logs go to its
 * git-ignored `.bench/`.
 *
 * @example
 * ```ts
 * import { REPO_ROOT } from "./_harness.ts";
 *
 * `${REPO_ROOT}.bench/service.log`; // "/…/edr-preprocessor/.bench/service.log"
 * ```
 */
export const REPO_ROOT: string = new URL("../..", import.meta.url).pathname;

// ---------------------------------------------------------------------------------------------
// The stack, stopped on every exit path

/**
 * Starts the local stack and makes sure it stops on interruption too.
 *
 * @example
 * ```ts
 * import { withStack } from "./_harness.ts";
 *
 * const streamName = await withStack({ shardCount: 1 }, (stack) => Promise.resolve(stack.streamName));
 * streamName; // "events" (the stack is stopped again)
 * ```
 */
export async function withStack<T>(
  options: LocalStackOptions,
  use: (stack: LocalStack) => Promise<T>,
): Promise<T> {
  const stack = await startLocalStack(options);
  const forget = onInterrupt(() => stack.stop());
  try {
    return await use(stack);
  } finally {
    forget();
    await stack.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Fleet data

/** Generated submissions and what the service must publish for them. */
export interface BenchData {
  /** The messages, in send order. */
  readonly messages: readonly FleetMessage[];
  /** Of them, valid ones. */
  readonly validMessages: number;
  /** Events the valid ones carry: what must reach the stream. */
  readonly expectedEvents: number;
}

/**
 * `count` messages of a seeded fleet of `fleetSize` devices with the original simulator's 1 %
 * faults (so about 10 % of the messages are invalid, as in the original environment).
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 *
 * const data = generateData(2_000, 7);
 * [data.messages.length, data.validMessages, data.expectedEvents]; // [2000, 1803, 14346]
 * ```
 */
export function generateData(count: number, seed: number, fleetSize = 1_000): BenchData {
  const fleet = createFleet({ seed, fleetSize });
  const messages = [...generateMessages(fleet, count)];
  let validMessages = 0;
  let expectedEvents = 0;
  for (const { manifestEntry } of messages) {
    if (!manifestEntry.valid) continue;
    validMessages++;
    expectedEvents += manifestEntry.events;
  }
  return { messages, validMessages, expectedEvents };
}

/**
 * Sends `messages` with `SendMessageBatch` (8 calls in flight) and records, per submission id,
 * the epoch milliseconds just before its batch was handed to the SDK: at most a few ms before
 * SQS's own `SentTimestamp`, so latencies measured from it err on the long side.
 *
 * @example
 * ```ts
 * import { generateData, sendStamped, withStack } from "./_harness.ts";
 *
 * const data = generateData(100, 7);
 * const sentAt = new Map<string, number>();
 * await withStack({}, async (stack) => {
 *   const clients = stack.createClients();
 *   await sendStamped(clients.sqs, stack.queueUrl, data.messages, sentAt);
 *   clients.destroy();
 * });
 * sentAt.size; // 100: one send time per submission id
 * ```
 */
export async function sendStamped(
  sqs: SQSClient,
  queueUrl: string,
  messages: Iterable<FleetMessage>,
  sentAt: Map<string, number>,
  signal?: AbortSignal,
): Promise<void> {
  function* stamped(): Generator<FleetMessage> {
    for (const message of messages) {
      sentAt.set(message.manifestEntry.submission_id.toLowerCase(), Date.now());
      yield message;
    }
  }
  await sendMessages(sqs, queueUrl, stamped(), { concurrency: 8, signal });
}

// ---------------------------------------------------------------------------------------------
// The service as a subprocess

/** A running service subprocess. */
export interface BenchService {
  /** Its process id (the deno process itself, so /proc/<pid> is the service). */
  readonly pid: number;
  /** The port of its /metrics, /healthz and /readyz. */
  readonly port: number;
  /** GET /metrics, parsed. */
  metrics(): Promise<MetricsSnapshot>;
  /** Resolves once /healthz answers; the epoch ms when it did. Rejects if the process exits. */
  healthy(timeoutMs?: number): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with the exit code. Idempotent. */
  stop(graceMs?: number): Promise<number>;
}

/** Options of {@linkcode spawnService}. */
export interface SpawnServiceOptions {
  /** The stack's environment plus any setting (WORKERS, SQS_MAX_MESSAGES, ...). */
  readonly env: Record<string, string>;
  /** Writes a V8 CPU profile into this directory when the service exits. */
  readonly cpuProfDir?: string | undefined;
  /** The service's stderr (its JSON log lines) is written here. */
  readonly logPath: string;
}

/** Levels that still log the "listening" line (at info), which carries the port. */
const LISTENING_LEVELS = new Set(["trace", "debug", "info"]);

/**
 * Runs `deno run --allow-net --allow-env --allow-sys=osRelease main.ts` from the repository
 * (tools/common/service_process.ts), on a free port read back from its log, and stops it on
 * Ctrl-C too.
 *
 * @example
 * ```ts
 * import { REPO_ROOT, spawnService, withStack } from "./_harness.ts";
 *
 * await withStack({}, async (stack) => {
 *   const logPath = await Deno.makeTempFile({ suffix: ".log" });
 *   const service = await spawnService({ env: stack.env(), logPath });
 *   const started = await service.healthy(); // epoch ms
 *   (await service.metrics()).value("edr_submissions_messages_in_flight"); // 0: the queue is empty
 *   await service.stop(); // 0
 *   await Deno.remove(logPath);
 * });
 * ```
 */
export async function spawnService(options: SpawnServiceOptions): Promise<BenchService> {
  const env = { LOG_LEVEL: "info", ...options.env, HTTP_PORT: "0" };
  if (!LISTENING_LEVELS.has(env.LOG_LEVEL.toLowerCase())) {
    throw new Error(
      `LOG_LEVEL=${env.LOG_LEVEL}: the benchmarks read the service's port from its ` +
        `"listening" line, logged at info; use trace, debug or info`,
    );
  }
  const command = ["deno", "run", "--allow-net", "--allow-env", "--allow-sys=osRelease"];
  if (options.cpuProfDir !== undefined) {
    await Deno.mkdir(options.cpuProfDir, { recursive: true });
    command.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`);
  }
  command.push("main.ts");
  const starting = startService(env, options.logPath, 30_000, command);
  // Registered before it listens: a Ctrl-C while it starts stops it once it has started (it
  // runs in a process group of its own, so the terminal's SIGINT does not reach it).
  const forget = onInterrupt(async () => {
    await (await starting.catch(() => undefined))?.terminate(5_000);
  });
  const service = await starting.catch((error) => {
    forget();
    throw error;
  });
  service.exited.then(forget, forget);
  let stopping: Promise<number> | undefined;
  const base = `http://127.0.0.1:${service.port}`;
  return {
    pid: service.pid,
    port: service.port,
    async metrics() {
      const response = await fetch(`${base}/metrics`);
      return new MetricsSnapshot(await response.text());
    },
    async healthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (service.hasExited()) {
          throw new Error(`the service exited early; see ${options.logPath}`);
        }
        if ((await serviceGet(service.port, "/healthz"))?.status === 200) return Date.now();
        await sleep(20);
      }
      throw new Error(`the service did not answer /healthz within ${timeoutMs} ms`);
    },
    stop: (graceMs = 30_000) =>
      stopping ??= service.terminate(graceMs).then((status) => status.code),
  };
}

/**
 * The `--env KEY=VALUE` flags of a benchmark (repeatable) as an environment for the service.
 *
 * @example
 * ```ts
 * import { envFlags } from "./_harness.ts";
 *
 * envFlags(["WORKERS=8", "PUBLISH_LINGER_MS=20"]); // { WORKERS: "8", PUBLISH_LINGER_MS: "20" }
 * ```
 *
 * @throws {Error} on a flag that is not KEY=VALUE.
 */
export function envFlags(pairs: readonly string[] = []): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new Error(`--env wants KEY=VALUE, got ${pair}`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}
