/**
 * What the end-to-end benchmarks share: cleanup on every exit path, fleet data with send times,
 * the service as a subprocess with its RSS and CPU sampled from /proc, its metrics,
 * the stream read back with arrival times, percentiles and tables.
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
import type { StreamRecord } from "../../tools/submissions/read_stream.ts";
import { MetricsSnapshot } from "../../tools/common/metrics_text.ts";

/** The repository root: the service runs from here. */
export const REPO_ROOT: string = new URL("../..", import.meta.url).pathname;

// ---------------------------------------------------------------------------------------------
// Cleanup on every exit path

const cleanups: (() => Promise<void>)[] = [];
let signalsInstalled = false;

/**
 * Registers `fn` to run if the process is interrupted (SIGINT/SIGTERM); returns the function that
 * unregisters it. Normal paths clean up with `try/finally`; this covers Ctrl-C, when `finally`
 * blocks never run because the signal ends the process.
 */
export function onInterrupt(fn: () => Promise<void>): () => void {
  if (!signalsInstalled) {
    signalsInstalled = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, async () => {
        console.error(`\n${signal}: cleaning up`);
        // Last registered first: the service goes before the stack it talks to.
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
        Deno.exit(130);
      });
    }
  }
  cleanups.push(fn);
  return () => {
    const index = cleanups.indexOf(fn);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

/** Starts the local stack and makes sure it stops on interruption too. */
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
export interface ServiceProcess {
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

/** Runs `deno run --allow-net --allow-env --allow-sys=osRelease main.ts` from the repository. */
export async function spawnService(options: SpawnServiceOptions): Promise<ServiceProcess> {
  const port = freePort();
  const args = ["run", "--allow-net", "--allow-env", "--allow-sys=osRelease"];
  if (options.cpuProfDir !== undefined) {
    await Deno.mkdir(options.cpuProfDir, { recursive: true });
    args.push("--cpu-prof", `--cpu-prof-dir=${options.cpuProfDir}`);
  }
  args.push("main.ts");
  const child = new Deno.Command("deno", {
    args,
    cwd: REPO_ROOT,
    env: { LOG_LEVEL: "info", ...options.env, HTTP_PORT: String(port) },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const log = await Deno.open(options.logPath, { write: true, create: true, truncate: true });
  const logged = child.stderr.pipeTo(log.writable).catch(() => {});
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  let stopping: Promise<number> | undefined;
  const stop = (graceMs = 30_000) =>
    stopping ??= (async () => {
      if (!exited) {
        try {
          child.kill("SIGTERM");
        } catch { /* already gone */ }
        const timer = setTimeout(() => {
          try {
            child.kill("SIGKILL");
          } catch { /* already gone */ }
        }, graceMs);
        await status;
        clearTimeout(timer);
      }
      await logged;
      return (await status).code;
    })();
  const forget = onInterrupt(async () => {
    await stop(5_000);
  });
  status.finally(forget);
  const base = `http://127.0.0.1:${port}`;
  return {
    pid: child.pid,
    port,
    async metrics() {
      const response = await fetch(`${base}/metrics`);
      return new MetricsSnapshot(await response.text());
    },
    async healthy(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (exited) throw new Error(`the service exited early; see ${options.logPath}`);
        try {
          const response = await fetch(`${base}/healthz`);
          await response.body?.cancel();
          if (response.ok) return Date.now();
        } catch { /* not listening yet */ }
        await sleep(20);
      }
      throw new Error(`the service did not answer /healthz within ${timeoutMs} ms`);
    },
    stop,
  };
}

/** A port free right now (the kernel's pick). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

// ---------------------------------------------------------------------------------------------
// /proc sampling

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/** One reading of a process. */
export interface ProcSample {
  /** Epoch milliseconds. */
  readonly at: number;
  /** Resident set size in bytes (VmRSS). */
  readonly rssBytes: number;
  /** User plus system CPU time so far, in seconds. */
  readonly cpuSeconds: number;
}

/**
 * Reads a process's VmRSS and utime+stime; `undefined` once it is gone. Deno lets only
 * `--allow-all` read /proc directly, so `cat` (under `--allow-run`) reads it for us: about a
 * millisecond of CPU per sample.
 */
export async function readProc(pid: number): Promise<ProcSample | undefined> {
  try {
    const output = await new Deno.Command("cat", {
      args: [`/proc/${pid}/status`, `/proc/${pid}/stat`],
      stdin: "null",
      stderr: "null",
    }).output();
    if (!output.success) return undefined;
    const text = new TextDecoder().decode(output.stdout);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? NaN);
    // /proc/<pid>/stat is the last line; the command name (2nd field) may hold spaces, so count
    // fields after its closing parenthesis: utime and stime are the 14th and 15th fields.
    const stat = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const utime = Number(stat[11]);
    const stime = Number(stat[12]);
    if (!Number.isFinite(rssKb) || !Number.isFinite(utime)) return undefined;
    return { at: Date.now(), rssBytes: rssKb * 1024, cpuSeconds: (utime + stime) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds the whole machine has spent busy since boot (all cores; /proc/stat's first line
 * minus idle and iowait). Compared with our own processes' CPU over a run, it tells how much
 * other work (another engineer's test suite) shared the machine with the measurement.
 */
export async function machineBusySeconds(): Promise<number> {
  const output = await new Deno.Command("cat", {
    args: ["/proc/stat"],
    stdin: "null",
    stderr: "null",
  }).output();
  const line = new TextDecoder().decode(output.stdout).split("\n")[0] ?? "";
  const [, ...fields] = line.trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((a, b) => a + b, 0) - idle) / CLOCK_TICKS;
}

/** Samples a process every `intervalMs` until stopped. */
export class ProcSampler {
  readonly #pid: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #busy = false;
  /** Every sample taken, in order. */
  readonly samples: ProcSample[] = [];

  /** Starts sampling `pid` (`Deno.pid` for this process) at once. */
  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.#timer = setInterval(() => {
      // A slow sample (busy machine) is skipped rather than queued behind.
      if (this.#busy) return;
      this.#busy = true;
      this.sample().finally(() => this.#busy = false);
    }, intervalMs);
  }

  /** Takes one sample now (also called by the timer); returns it. */
  async sample(): Promise<ProcSample | undefined> {
    const sample = await readProc(this.#pid);
    if (sample !== undefined) this.samples.push(sample);
    return sample;
  }

  /** The highest RSS seen, in bytes. */
  get peakRssBytes(): number {
    return this.samples.reduce((max, s) => Math.max(max, s.rssBytes), 0);
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }
}

// ---------------------------------------------------------------------------------------------
// The stream, read back

const utf8 = new TextDecoder();

/**
 * Per submission, the epoch ms its last event arrived: a submission is done only when all its
 * events are in, so that is its end-to-end completion time.
 */
export function completionTimes(records: Iterable<StreamRecord>): Map<string, number> {
  const done = new Map<string, number>();
  for (const record of records) {
    const { submission_id: id } = JSON.parse(utf8.decode(record.data)) as {
      submission_id: string;
    };
    const key = id.toLowerCase();
    done.set(key, Math.max(done.get(key) ?? 0, record.arrivalTime?.getTime() ?? NaN));
  }
  return done;
}

/** End-to-end latencies in ms: completion minus send time, for submissions with both. */
export function latencies(
  sentAt: ReadonlyMap<string, number>,
  completed: ReadonlyMap<string, number>,
): number[] {
  const out: number[] = [];
  for (const [id, at] of completed) {
    const sent = sentAt.get(id);
    if (sent !== undefined) out.push(Math.max(0, at - sent));
  }
  return out.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// Figures

/** The `p`-th percentile (0–100) of ascending `sorted` (nearest rank); NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** A markdown table, columns padded so it also reads well in a terminal. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

/** `12,345`. */
export function int(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–";
}

/** `n` with `digits` decimals, or `–`. */
export function fixed(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "–";
}

/** Milliseconds, readable: `850 ms`, `2.41 s`. */
export function ms(n: number): string {
  if (!Number.isFinite(n)) return "–";
  return n < 1_000 ? `${Math.round(n)} ms` : `${(n / 1_000).toFixed(2)} s`;
}

/** Bytes as MB (10^6), one decimal. */
export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** The load averages (1, 5, 15 min). */
export function loadAverage(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

/**
 * The `--env KEY=VALUE` flags of a benchmark (repeatable) as an environment for the service.
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

/** One line about the machine, for the report's head. */
export function machineLine(): string {
  const memory = `${(Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1)} GiB`;
  return `${navigator.hardwareConcurrency} cores, ${memory} RAM, deno ${Deno.version.deno}, ` +
    `load average ${loadAverage()}`;
}
