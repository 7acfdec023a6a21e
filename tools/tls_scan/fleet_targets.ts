/**
 * How each kind of fleet target starts (fleet.ts): an `openssl s_server` from its spec
 * (fleet_servers.ts), a Deno HTTPS server sending HSTS, each behind a counting proxy; a plain
 * TCP listener, a silent one, and a closed port. Each gives its {@linkcode FleetTarget} and how
 * to stop it.
 *
 * @module
 */
import { withTimeout } from "../../src/app/deadline.ts";
import type { Certificates } from "./certs.ts";
import { type CountingProxy, startCountingProxy } from "./counting_proxy.ts";
import type { ServerSpec } from "./fleet_servers.ts";
import { dieWithParent } from "../common/parent_death.ts";

/** One target of the fleet. */
export interface FleetTarget {
  readonly name: string;
  /** The name to scan (the leaves are for `localhost` and 127.0.0.1). */
  readonly host: string;
  readonly port: number;
  /** What this server is set up to show. */
  readonly purpose: string;
  /** Completes TLS handshakes (s_server and HTTPS targets). */
  readonly tls: boolean;
  /** Part of the enumeration fleet (compared with sslscan). */
  readonly enumeration: boolean;
  /** Connections it accepted so far. */
  connections(): number;
}

/** A started target and how to stop it. */
export interface Running {
  readonly target: FleetTarget;
  readonly stop: () => Promise<void>;
}

/** Starts `openssl s_server` as `spec` says, on a free port, behind a counting proxy. */
export async function startSServer(certs: Certificates, spec: ServerSpec): Promise<Running> {
  const leaf = certs.leaves[spec.leaf];
  // Port 0: s_server picks a free port and prints it (`ACCEPT 127.0.0.1:PORT`; not with -quiet).
  // Killed by the kernel if this process dies first (no orphaned servers after a failed run).
  const { command, args } = dieWithParent("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    leaf.cert,
    "-key",
    leaf.key,
    "-www",
    ...spec.flags.map((flag) => {
      const files: Record<string, string> = {
        "{weak_dh}": certs.dhParams.weak,
        "{strong_dh}": certs.dhParams.strong,
        "{intermediate}": certs.chains.intermediate,
        "{misordered}": certs.chains.misordered,
        "{ocsp}": certs.ocspResponse,
      };
      return files[flag] ?? flag;
    }),
  ]);
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const port = Promise.withResolvers<number>();
  // Both streams are read to their end (so the pipes never fill), keeping only a tail.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output = (output + chunk).slice(-4_000);
      const accept = /^ACCEPT 127\.0\.0\.1:(\d+)$/m.exec(output);
      if (accept) port.resolve(Number(accept[1]));
    }
  };
  const draining = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    port.reject(new Error(`s_server ${spec.name} did not start: ${output.trim()}`));
    return s;
  });
  const kill = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    await status;
    await draining;
  };
  let upstream: number;
  try {
    upstream = await withTimeout(port.promise, 5_000, () => {
      throw new Error(`s_server ${spec.name} did not start in 5 s`);
    });
  } catch (error) {
    await kill();
    throw error;
  }
  const proxy = startCountingProxy({
    upstream: { transport: "tcp", hostname: "127.0.0.1", port: upstream },
  });
  return {
    target: { ...describe(spec.name, proxy, spec.purpose, true), enumeration: !!spec.enumeration },
    stop: async () => {
      await proxy.close();
      await kill();
    },
  };
}

/** Starts a Deno HTTPS server (the good leaf) that sends HSTS, behind a counting proxy. */
export async function startHstsServer(certs: Certificates): Promise<Running> {
  const [cert, key] = await Promise.all([
    Deno.readTextFile(certs.leaves.good.cert),
    Deno.readTextFile(certs.leaves.good.key),
  ]);
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    onListen: ({ port }) => listening.resolve(port),
  }, () =>
    new Response("hsts test server\n", {
      headers: { "strict-transport-security": "max-age=31536000; includeSubDomains" },
    }));
  const port = await listening.promise;
  const proxy = startCountingProxy({ upstream: { transport: "tcp", hostname: "127.0.0.1", port } });
  return {
    target: describe("hsts", proxy, "Deno HTTPS server with HSTS max-age=31536000 (A+)", true),
    stop: async () => {
      await proxy.close();
      await server.shutdown();
    },
  };
}

/** A listener that answers anything with an HTTP 400 and closes: not TLS. */
export function startPlainListener(): Running {
  return startListener("plain", "plain TCP: answers HTTP 400 to anything", async (conn) => {
    await conn.read(new Uint8Array(4_096)).catch(() => null);
    await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")).catch(() => 0);
    conn.close();
  });
}

/** A listener that accepts and never answers (a black hole); its sockets close at stop. */
export function startSilentListener(): Running {
  return startListener("silent", "accepts and never answers", () => {});
}

function startListener(
  name: string,
  purpose: string,
  handle: (conn: Deno.Conn) => void | Promise<void>,
): Running {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let connections = 0;
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        connections++;
        open.add(conn);
        Promise.resolve(handle(conn)).catch(() => {}).finally(() => {
          if (name !== "silent") open.delete(conn);
        });
      }
    } catch {
      // closed
    }
  })();
  return {
    target: {
      name,
      host: "localhost",
      port: (listener.addr as Deno.NetAddr).port,
      purpose,
      tls: false,
      enumeration: false,
      connections: () => connections,
    },
    stop: async () => {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // closed by its handler
        }
      }
      await accepting;
    },
  };
}

/** A free port that nobody listens on (bound, read, released). */
export function closedPort(): FleetTarget {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return {
    name: "closed",
    host: "localhost",
    port,
    purpose: "closed port",
    tls: false,
    enumeration: false,
    connections: () => 0,
  };
}

function describe(name: string, proxy: CountingProxy, purpose: string, tls: boolean): FleetTarget {
  return {
    name,
    host: "localhost",
    port: proxy.port,
    purpose,
    tls,
    enumeration: false,
    connections: () => proxy.connections,
  };
}
