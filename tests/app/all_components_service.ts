/**
 * The service with all three components as `deno task start` runs it: the start task's command
 * as a subprocess with `COMPONENTS=submissions,ip-events,tls-scan`, against a local AWS stack
 * started for it, HTTP and UDP on free ports, the SQLite store in a temporary folder and the
 * scheduler off unless `env` says otherwise. The end-to-end tests of the whole service (hostile
 * input, one process for all components, a real Prometheus scraping it) start it here.
 *
 * @module
 */
import { type ServiceProcess, startService } from "../../tools/common/service_process.ts";
import { type LocalStack, startLocalStack } from "../../tools/submissions/local_stack.ts";

/** A running service and what it runs against; dispose to stop it all. */
export interface AllComponentsService extends AsyncDisposable {
  /** The service process. */
  readonly service: ServiceProcess;
  /** `http://127.0.0.1:<port>`. */
  readonly base: string;
  /** Its JSON log file. */
  readonly logPath: string;
  /** Its JSON log so far. */
  log(): Promise<string>;
  /** The log lines at level ERROR or above. */
  errorLines(): Promise<string[]>;
}

/**
 * Starts the local stack and the service with `env` over the defaults; its temporary folder
 * is named after `prefix`. On a failure nothing is left running.
 */
export async function startAllComponents(
  env: Record<string, string> = {},
  prefix = "edr-all-components-",
): Promise<AllComponentsService> {
  const dir = await Deno.makeTempDir({ prefix });
  let stack: LocalStack | undefined;
  let service: ServiceProcess | undefined;
  const logPath = `${dir}/service.log`;
  try {
    stack = await startLocalStack();
    service = await startService({
      ...stack.env(),
      PATH: Deno.env.get("PATH") ?? "",
      COMPONENTS: "submissions,ip-events,tls-scan",
      HTTP_PORT: "0",
      SQS_WAIT_TIME_SECONDS: "1",
      IP_EVENTS_UDP_PORT: "0",
      IP_EVENTS_UDP_HOST: "127.0.0.1",
      TLS_SCAN_DB: `${dir}/tls-scan.db`,
      TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "0",
      ...env,
    }, logPath);
  } catch (error) {
    await service?.kill();
    await stack?.[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const log = () => Deno.readTextFile(logPath);
  const running = service;
  const ownStack = stack;
  return {
    service: running,
    base: `http://127.0.0.1:${running.port}`,
    logPath,
    log,
    async errorLines() {
      return (await log()).split("\n").filter((line) => /"level":"(ERROR|FATAL)"/.test(line));
    },
    async [Symbol.asyncDispose]() {
      try {
        await running.terminate(10_000);
      } finally {
        await running.kill();
        await ownStack[Symbol.asyncDispose]();
        await Deno.remove(dir, { recursive: true });
      }
    },
  };
}
