/**
 * A TCP front for a test server that counts the connections it is given, so tests and the
 * demo can say how many connections a scan cost the server. Bytes are copied both ways
 * untouched; each side's end is passed on as a half-close, and both sockets are closed when
 * both directions are done (or at `close()`), so nothing is left open on any path.
 *
 * @example
 * ```ts
 * import { startCountingProxy } from "./counting_proxy.ts";
 * const proxy = startCountingProxy({ upstream: { transport: "tcp", hostname: "127.0.0.1", port: 4433 } });
 * proxy.port; // connect here (127.0.0.1)
 * proxy.connections; // how many were accepted
 * await proxy.close();
 * ```
 *
 * @module
 */

/** Where the proxy forwards to. */
export interface Upstream {
  readonly transport: "tcp";
  readonly hostname: string;
  readonly port: number;
}

/** A running proxy. */
export interface CountingProxy {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/** Starts a proxy on 127.0.0.1 (a free port). */
export function startCountingProxy(options: { readonly upstream: Upstream }): CountingProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const sessions = new Set<Promise<void>>();
  let connections = 0;

  async function serve(client: Deno.Conn): Promise<void> {
    open.add(client);
    let server: Deno.Conn | undefined;
    try {
      server = await Deno.connect(options.upstream);
      open.add(server);
      await Promise.all([copy(client, server), copy(server, client)]);
    } catch {
      // upstream down: the client sees its connection closed
    } finally {
      for (const conn of [client, server]) {
        if (!conn) continue;
        open.delete(conn);
        closeQuietly(conn);
      }
    }
  }

  const accepting = (async () => {
    try {
      for await (const client of listener) {
        connections++;
        const session = serve(client);
        sessions.add(session);
        session.finally(() => sessions.delete(session));
      }
    } catch {
      // listener closed
    }
  })();

  return {
    port: (listener.addr as Deno.NetAddr).port,
    get connections() {
      return connections;
    },
    async close() {
      closeQuietly(listener);
      for (const conn of open) closeQuietly(conn);
      await accepting;
      await Promise.all([...sessions]);
    },
  };
}

async function copy(from: Deno.Conn, to: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      let written = 0;
      while (written < n) written += await to.write(buffer.subarray(written, n));
    }
  } catch {
    // either side closed
  }
  try {
    await to.closeWrite();
  } catch {
    // already closed
  }
}

function closeQuietly(resource: { close(): void }): void {
  try {
    resource.close();
  } catch {
    // already closed
  }
}
