/**
 * The collector as `deno run main.ts` with `COMPONENTS=ip-events`, as `deno task start` runs it
 * (its permissions, an environment without any AWS variable), on free loopback ports read back
 * from its JSON log, so the caller (a test, the benchmark, the demo) is the sender in another
 * process.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url);

/** Options of {@linkcode startCollectorProcess}. */
export interface CollectorProcessOptions {
  /** Settings over the defaults (free ports on 127.0.0.1). */
  readonly env?: Record<string, string>;
  /** Grant --allow-ffi and --allow-read=/proc/net/snmp (as the start task does). Default true. */
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
  /** Every JSON log line so far. */
  readonly logs: readonly Record<string, unknown>[];
  /** Sends `signal` and resolves with the exit code. */
  kill(signal?: Deno.Signal): Promise<number>;
}

/** Starts the collector and waits for its "listening" log line. */
export async function startCollectorProcess(
  options: CollectorProcessOptions = {},
): Promise<CollectorProcess> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(Deno.env.toObject())) {
    if (!name.startsWith("AWS_") && !name.startsWith("IP_EVENTS_")) env[name] = value;
  }
  Object.assign(env, {
    DENO_NO_UPDATE_CHECK: "1",
    COMPONENTS: "ip-events",
    HTTP_PORT: "0",
    LOG_LEVEL: "info",
    IP_EVENTS_UDP_PORT: "0",
    IP_EVENTS_UDP_HOST: "127.0.0.1",
    ...options.env,
  });
  const permissions = ["--allow-net", "--allow-env", "--allow-sys=osRelease"];
  if (options.ffi ?? true) permissions.push("--allow-ffi", "--allow-read=/proc/net/snmp");
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...permissions, "main.ts"],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const logs: Record<string, unknown>[] = [];
  const listening = Promise.withResolvers<{ httpPort: number; udpPort: number }>();
  let udpPort: number | undefined;
  const reading = (async () => {
    let buffered = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line);
        } catch {
          record = { message: line };
        }
        logs.push(record);
        if (typeof record.path === "string" && typeof record.port === "number") {
          udpPort = record.port;
        }
        if (record.message_template === "listening on :{port}; {description}") {
          listening.resolve({ httpPort: record.port as number, udpPort: udpPort ?? -1 });
        }
      }
    }
  })();
  const status = child.status;
  status.then((s) => listening.reject(new Error(`the collector exited (${s.code}) early`)));
  const timer = setTimeout(() => listening.reject(new Error("no listening line in 30 s")), 30_000);
  let ports;
  try {
    ports = await listening.promise;
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await status;
    await reading;
    throw new Error(`${(error as Error).message}: ${JSON.stringify(logs)}`);
  } finally {
    clearTimeout(timer);
  }
  let exit: Promise<number> | undefined;
  const kill = (signal: Deno.Signal = "SIGTERM") =>
    exit ??= (async () => {
      try {
        child.kill(signal);
      } catch { /* gone */ }
      const { code } = await status;
      await reading;
      return code;
    })();
  return {
    ...ports,
    pid: child.pid,
    base: `http://127.0.0.1:${ports.httpPort}`,
    logs,
    kill,
    [Symbol.asyncDispose]: async () => void await kill("SIGKILL"),
  };
}
