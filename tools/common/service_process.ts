/**
 * The service as the demos run it: `deno run main.ts` with exactly the permissions of
 * `deno task start` (start_task.ts), its JSON log written to a file, its port read from the
 * "listening" line.
 *
 * ```ts
 * import { startService, waitReady } from "./service_process.ts";
 *
 * const log = await Deno.makeTempFile({ suffix: ".log" });
 * const env = { COMPONENTS: "ip-events", HTTP_PORT: "0", IP_EVENTS_UDP_PORT: "0" };
 * const service = await startService({ ...env, IP_EVENTS_UDP_HOST: "127.0.0.1" }, log);
 * await waitReady(service);
 * await service.terminate(20_000);
 * await Deno.remove(log);
 * ```
 *
 * @module
 */
import { sleep } from "../../src/app/backoff.ts";
import { withTimeout } from "../../src/app/deadline.ts";
import { noUpdateCheck } from "./no_update_check.ts";
import { dieWithParent } from "./parent_death.ts";
import { SERVICE_COMMAND } from "./start_task.ts";

/** The repository root: the service runs `main.ts` from here, with the project's deno.json. */
const ROOT = new URL("../../", import.meta.url);

/** The preprocessor running as a subprocess. */
export interface ServiceProcess {
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
 * written to `logPath`, and waits for its "listening" line. `serviceCommand` replaces the start
 * task's command (a test of fewer permissions).
 *
 * It runs detached (its own process group): a Ctrl-C in the terminal reaches the whole foreground
 * group, and the service must keep working while the demo drains it; the demo stops it itself.
 *
 * @example
 * ```ts
 * import { startService } from "./service_process.ts";
 *
 * // The IP-event collector needs nothing else running; UDP and HTTP on free ports.
 * const env = { COMPONENTS: "ip-events", HTTP_PORT: "0", IP_EVENTS_UDP_PORT: "0" };
 * const log = await Deno.makeTempFile({ suffix: ".log" });
 * const service = await startService({ ...env, IP_EVENTS_UDP_HOST: "127.0.0.1" }, log);
 * service.port > 0; // true: read from its "listening" line
 * await service.terminate(20_000); // { success: true, code: 0, signal: null }
 * await Deno.remove(log);
 * ```
 */
export async function startService(
  env: Record<string, string>,
  logPath: string,
  timeoutMs = 30_000,
  serviceCommand: readonly string[] = SERVICE_COMMAND,
): Promise<ServiceProcess> {
  // Opened first: a failure here must not leave a service running.
  const log = await Deno.open(logPath, { write: true, create: true, truncate: true });
  // Killed by the kernel if this process dies first (a failed test run leaves nothing behind).
  const { command, args } = dieWithParent(serviceCommand[0]!, serviceCommand.slice(1));
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    env: noUpdateCheck(env),
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
    const port = await withTimeout(
      Promise.race([
        listening.promise,
        exited.then((status): never => {
          throw new Error(`the service exited with code ${status.code} before listening`);
        }),
      ]),
      timeoutMs,
      () => {
        throw new Error(`the service did not listen within ${timeoutMs / 1000} s`);
      },
    );
    return { ...service, port };
  } catch (error) {
    await service.kill();
    throw error;
  }
}

/**
 * The port of the service's `listening on :{port}` JSON log line, if `line` is that line.
 *
 * @example
 * ```ts
 * import { listeningPort } from "./service_process.ts";
 *
 * listeningPort('{"message_template":"listening on :{port}; ...","port":8080}'); // 8080
 * listeningPort('{"message_template":"stopping"}'); // undefined
 * ```
 */
export function listeningPort(line: string): number | undefined {
  if (!line.includes('"listening on :{port}')) return undefined;
  try {
    const port = JSON.parse(line).port;
    return typeof port === "number" ? port : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Feeds every line of `stream` (a child's stderr, say) to `onLine`; resolves when it ends.
 *
 * @example
 * ```ts
 * import { scanLines } from "./service_process.ts";
 *
 * const lines: string[] = [];
 * await scanLines(new Blob(["a\nb"]).stream(), (line) => lines.push(line)); // ["a", "b"]
 * ```
 */
export async function scanLines(
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

/**
 * GETs `path` on the service; `undefined` when it does not answer within 2 s.
 *
 * @example
 * ```ts
 * import { serviceGet, startService } from "./service_process.ts";
 *
 * // The IP-event collector needs nothing else running; UDP and HTTP on free ports.
 * const env = { COMPONENTS: "ip-events", HTTP_PORT: "0", IP_EVENTS_UDP_PORT: "0" };
 * const log = await Deno.makeTempFile({ suffix: ".log" });
 * const service = await startService({ ...env, IP_EVENTS_UDP_HOST: "127.0.0.1" }, log);
 * (await serviceGet(service.port, "/healthz"))?.status; // 200
 * await service.terminate(20_000); // { success: true, code: 0, signal: null }
 * await Deno.remove(log);
 * ```
 */
export async function serviceGet(
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

/**
 * Waits until /readyz answers 200 (every enabled component ready: SQS and Kinesis reachable,
 * for submissions).
 *
 * @example
 * ```ts
 * import { startService, waitReady } from "./service_process.ts";
 *
 * // The IP-event collector needs nothing else running; UDP and HTTP on free ports.
 * const env = { COMPONENTS: "ip-events", HTTP_PORT: "0", IP_EVENTS_UDP_PORT: "0" };
 * const log = await Deno.makeTempFile({ suffix: ".log" });
 * const service = await startService({ ...env, IP_EVENTS_UDP_HOST: "127.0.0.1" }, log);
 * await waitReady(service); // resolves: /readyz answers 200
 * await service.terminate(20_000); // { success: true, code: 0, signal: null }
 * await Deno.remove(log);
 * ```
 */
export async function waitReady(service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (service.hasExited()) throw new Error("the service exited before it was ready");
    if ((await serviceGet(service.port, "/readyz"))?.status === 200) return;
    await sleep(200);
  }
  throw new Error(`the service was not ready within ${timeoutMs / 1000} s`);
}
