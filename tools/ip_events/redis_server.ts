/**
 * A real `redis-server` (the Debian package) for tests, benchmarks and the demo: on a free
 * loopback port, its files in a temporary directory removed on dispose, stoppable and
 * restartable on the same port (an outage the collector must ride out).
 *
 * No persistence by default (`--save ""`, no AOF): a stop forgets everything. With
 * `appendOnly`, every write is in the append-only file before Redis replies
 * (`appendfsync always`), so a SIGKILL of Redis loses nothing it acknowledged and a restart
 * comes back with the same state: what the outage tests need to tell "lost" from "doubled".
 *
 * @module
 */
import { dieWithParent } from "../common/parent_death.ts";

/** Options of {@linkcode startRedisServer}. */
export interface RedisServerOptions {
  /** `requirepass`; none by default. */
  readonly password?: string;
  /** Keep every write in an append-only file (fsync before each reply). Default false. */
  readonly appendOnly?: boolean;
  /** The executable. Default `$REDIS_SERVER` or `redis-server` on the PATH. */
  readonly executable?: string;
}

/** A running (or stopped, restartable) redis-server. */
export interface RedisServer extends AsyncDisposable {
  /** The loopback port, kept across restarts. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (with the password when one is set). */
  readonly url: string;
  /** The process id of the current run (undefined while stopped). */
  readonly pid: number | undefined;
  /** Stops it: `SIGTERM` (a clean shutdown) or `SIGKILL` (a crash). */
  stop(signal?: "SIGTERM" | "SIGKILL"): Promise<void>;
  /** Starts it again on the same port and directory. */
  restart(): Promise<void>;
}

const READY = "Ready to accept connections";
const START_TIMEOUT_MS = 10_000;

/**
 * Starts `redis-server` on a free loopback port and waits until it accepts connections.
 *
 * @example
 * ```ts ignore
 * import { startRedisServer } from "./redis_server.ts";
 * await using redis = await startRedisServer();
 * console.log(redis.url); // redis://127.0.0.1:40123
 * ```
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const executable = options.executable ?? Deno.env.get("REDIS_SERVER") ?? "redis-server";
  const dir = await Deno.makeTempDir({ prefix: "edr-redis-" });
  let run: Run | undefined;
  let port = 0;
  try {
    // A port found free may be taken before Redis binds it: try a few.
    for (let attempt = 1;; attempt++) {
      port = freePort();
      try {
        run = await launch(executable, dir, port, options);
        break;
      } catch (error) {
        if (!(error instanceof PortTaken) || attempt === 5) throw error;
      }
    }
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const auth = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
  const stop = async (signal: "SIGTERM" | "SIGKILL" = "SIGTERM") => {
    const current = run;
    run = undefined;
    if (current) await current.stop(signal);
  };
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get pid() {
      return run?.pid;
    },
    stop,
    async restart() {
      await stop();
      run = await launch(executable, dir, port, options);
    },
    async [Symbol.asyncDispose]() {
      await stop("SIGKILL");
      await Deno.remove(dir, { recursive: true });
    },
  };
}

class PortTaken extends Error {}

interface Run {
  readonly pid: number;
  stop(signal: "SIGTERM" | "SIGKILL"): Promise<void>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

async function launch(
  executable: string,
  dir: string,
  port: number,
  options: RedisServerOptions,
): Promise<Run> {
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    options.appendOnly ? "yes" : "no",
    "--appendfsync",
    "always",
    "--daemonize",
    "no",
    "--logfile",
    "",
    "--loglevel",
    "notice",
    // Tests may slow Redis down (DEBUG SLEEP) from loopback.
    "--enable-debug-command",
    "local",
  ];
  if (options.password !== undefined) args.push("--requirepass", options.password);
  let child: Deno.ChildProcess;
  try {
    // Killed by the kernel if this process dies first (no orphaned Redis after a failed run).
    const wrapped = dieWithParent(executable, args);
    child = new Deno.Command(wrapped.command, {
      args: wrapped.args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Error(
        `${executable} is not installed (apt-get install -y redis-server; .ci/run does it)`,
      );
    }
    throw error;
  }
  const output: string[] = [];
  const ready = Promise.withResolvers<void>();
  const reading = (async () => {
    const lines = readLines(child.stdout);
    for await (const line of lines) {
      output.push(line);
      if (line.includes(READY)) ready.resolve();
    }
  })();
  const errors = new Response(child.stderr).text();
  const status = child.status;
  status.then(async () => {
    await reading;
    const text = [...output, await errors].join("\n");
    ready.reject(
      /Address already in use/.test(text)
        ? new PortTaken(`port ${port} is taken`)
        : new Error(`redis-server exited before it was ready:\n${text}`),
    );
  });
  const timer = setTimeout(
    () => ready.reject(new Error(`redis-server not ready in ${START_TIMEOUT_MS} ms`)),
    START_TIMEOUT_MS,
  );
  const stop = async (signal: "SIGTERM" | "SIGKILL") => {
    try {
      child.kill(signal);
    } catch { /* gone */ }
    await status;
    await reading;
    await errors;
  };
  try {
    await ready.promise;
  } catch (error) {
    await stop("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return { pid: child.pid, stop };
}

async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    yield* lines;
  }
  if (buffered !== "") yield buffered;
}
