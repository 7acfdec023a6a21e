/**
 * The collector as `deno run main.ts` with `COMPONENTS=ip-events` and the start task's
 * permissions (tools/common/service_process.ts), on free loopback ports read back from its JSON
 * log, so the caller (a test, the benchmark, the demo) is the sender in another process.
 *
 * @module
 */
import { type ServiceProcess, startService } from "../common/service_process.ts";
import { replaceFlag, SERVICE_COMMAND } from "../common/start_task.ts";

/** Options of {@linkcode startCollectorProcess}. */
export interface CollectorProcessOptions {
  /** Settings over the defaults (free ports on 127.0.0.1, LOG_LEVEL info). */
  readonly env?: Record<string, string>;
  /** Keep --allow-ffi (as the start task does). Default true; false tests the fallback. */
  readonly ffi?: boolean;
}

/** A running collector process. */
export interface CollectorProcess extends AsyncDisposable {
  /** The process id (its /proc/<pid> is the collector). */
  readonly pid: number;
  readonly httpPort: number;
  readonly udpPort: number;
  /** `http://127.0.0.1:<httpPort>`. */
  readonly base: string;
  /** The service process. */
  readonly service: ServiceProcess;
  /** The log lines up to "listening" (the receive path, its buffer, any fallback). */
  readonly startup: readonly Record<string, unknown>[];
  /** Every JSON log line written so far (complete once the process has exited). */
  logs(): Promise<Record<string, unknown>[]>;
  /** SIGTERM (SIGKILL after 20 s) and the exit code. */
  terminate(): Promise<number>;
}

/**
 * Starts the collector and waits for its "listening" log line.
 *
 * @example
 * ```ts ignore
 * await using collector = await startCollectorProcess();
 * console.log(collector.udpPort, collector.base);
 * ```
 */
export async function startCollectorProcess(
  options: CollectorProcessOptions = {},
): Promise<CollectorProcess> {
  const logPath = await Deno.makeTempFile({ prefix: "ip-events-", suffix: ".log" });
  const command = (options.ffi ?? true)
    ? SERVICE_COMMAND
    : replaceFlag(SERVICE_COMMAND, "--allow-ffi");
  const service = await startService(
    {
      COMPONENTS: "ip-events",
      HTTP_PORT: "0",
      LOG_LEVEL: "info",
      IP_EVENTS_UDP_PORT: "0",
      IP_EVENTS_UDP_HOST: "127.0.0.1",
      ...options.env,
    },
    logPath,
    30_000,
    command,
  ).catch(async (error) => {
    await Deno.remove(logPath);
    throw error;
  });
  const startup = service.lastLines().map(parse);
  const udpLine = startup.find((record) => record.path !== undefined);
  const udpPort = Number(udpLine?.port);
  if (!Number.isInteger(udpPort)) {
    await service.kill();
    throw new Error(`no UDP port in the log: ${service.lastLines().join("\n")}`);
  }
  const logs = async () =>
    (await Deno.readTextFile(logPath)).split("\n").filter(Boolean).map(parse);
  return {
    pid: service.pid,
    httpPort: service.port,
    udpPort,
    base: `http://127.0.0.1:${service.port}`,
    service,
    startup,
    logs,
    terminate: async () => (await service.terminate(20_000)).code,
    async [Symbol.asyncDispose]() {
      await service.kill();
      await Deno.remove(logPath).catch(() => {});
    },
  };
}

function parse(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line);
  } catch {
    return { message: line };
  }
}
