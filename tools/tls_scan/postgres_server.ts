/**
 * A real PostgreSQL (Debian's `postgresql`) for tests and the benchmark: a cluster made with
 * `initdb` in a temporary folder, its server run in the foreground as this process's child on a
 * free loopback port (its socket in the folder too), as the `postgres` OS user when we are root
 * (initdb refuses root), dying with us (`setpriv --pdeathsig`). It can be stopped and started
 * again on the same port and data (the database going down mid-run); disposing of it stops the
 * server and removes the folder.
 *
 * @example
 * ```ts
 * import { startPostgres } from "./postgres_server.ts";
 * await using server = await startPostgres();
 * const url = await server.createDatabase("contract_1");
 * // url: "postgres://postgres:postgres@127.0.0.1:<port>/contract_1"
 * ```
 *
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { within } from "../../src/app/deadline.ts";

/** A running PostgreSQL. */
export interface PostgresServer extends AsyncDisposable {
  readonly port: number;
  /** The temporary folder (data, socket), removed by `close`. */
  readonly dir: string;
  /** The server's process id while it runs (its backends are its children). */
  readonly pid: number | undefined;
  /** The URL of the `postgres` database. */
  readonly url: string;
  /** Makes an empty database; its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: connections are cut). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

/**
 * The folder of the PostgreSQL server binaries (initdb, postgres, pg_isready): the newest
 * Debian version under /usr/lib/postgresql (they are not on PATH there), else where `initdb`
 * resolves on PATH (symbolic links followed).
 *
 * ```ts
 * import { postgresBinaries } from "./postgres_server.ts";
 * const bin = await postgresBinaries(); // e.g. "/usr/lib/postgresql/15/bin"
 * ```
 */
export async function postgresBinaries(): Promise<string> {
  const versions: number[] = [];
  try {
    for await (const entry of Deno.readDir("/usr/lib/postgresql")) {
      if (/^\d+$/.test(entry.name)) versions.push(Number(entry.name));
    }
  } catch {
    // Not Debian's layout: PATH below.
  }
  const newest = versions.sort((a, b) => b - a)[0];
  if (newest !== undefined) return `/usr/lib/postgresql/${newest}/bin`;
  const which = await new Deno.Command("sh", {
    args: ["-c", "command -v initdb"],
    stdout: "piped",
    stderr: "null",
  }).output();
  const onPath = new TextDecoder().decode(which.stdout).trim();
  if (!which.success || !onPath) {
    throw new Error("PostgreSQL is not installed (bash tools/test_deps.sh installs it)");
  }
  return (await Deno.realPath(onPath)).replace(/\/initdb$/, "");
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function run(command: string[], what: string): Promise<void> {
  const output = await new Deno.Command(command[0]!, {
    args: command.slice(1),
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    throw new Error(`${what} failed: ${text.trim().slice(-2_000)}`);
  }
}

/** Starts a PostgreSQL in a new temporary folder. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = await postgresBinaries();
  const dir = await Deno.makeTempDir({ prefix: "tls-pg-" });
  const root = Deno.uid() === 0;
  // As root, every command runs as `postgres`; the server also dies with this process.
  const asUser = (args: string[], pdeath = false) =>
    root
      ? [
        "setpriv",
        "--reuid=postgres",
        "--regid=postgres",
        "--init-groups",
        ...(pdeath ? ["--pdeathsig", "SIGKILL"] : []),
        ...args,
      ]
      : args;
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  try {
    if (root) await run(["chown", "postgres:postgres", dir], "chown");
    await run(
      asUser([
        `${bin}/initdb`,
        "-D",
        `${dir}/data`,
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
      ]),
      "initdb",
    );
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;

  async function start(): Promise<void> {
    const command = asUser([
      `${bin}/postgres`,
      "-D",
      `${dir}/data`,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ], true);
    child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const exited = child.status.then(() => true);
    for (let i = 0; i < 300; i++) {
      const ready = await new Deno.Command(`${bin}/pg_isready`, {
        args: ["-h", "127.0.0.1", "-p", String(port), "-t", "1"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (ready.success) return;
      const gone = await Promise.race([exited, new Promise((r) => setTimeout(r, 100, false))]);
      if (gone) throw new Error(`postgres exited at start (port ${port})`);
    }
    throw new Error(`postgres not ready on port ${port} within 30 s`);
  }

  async function stop(): Promise<void> {
    const running = child;
    child = undefined;
    if (!running) return;
    try {
      running.kill("SIGINT"); // fast shutdown: sessions cut, data kept
    } catch {
      // Already gone.
    }
    if (!await within(running.status, 15_000)) {
      running.kill("SIGKILL");
      await running.status;
    }
  }

  let closed: Promise<void> | undefined;
  const close = () =>
    closed ??= stop().finally(() => Deno.remove(dir, { recursive: true }).catch(() => {}));

  try {
    await start();
  } catch (error) {
    await close();
    throw error;
  }
  return {
    port,
    dir,
    url,
    get pid() {
      return child?.pid;
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop,
    start,
    close,
    [Symbol.asyncDispose]: close,
  };
}
