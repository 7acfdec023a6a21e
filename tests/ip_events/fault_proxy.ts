/**
 * A TCP proxy in front of Redis that can lose one reply: armed, it lets the next request
 * through to Redis (which runs it) and, when Redis answers, drops the reply and cuts the
 * client's connection. That is "a batch Redis applied whose reply was lost", on demand.
 *
 * @module
 */

/** A running proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  /** Loses the next reply that contains `marker` (the request is still served). */
  loseNextReply(marker?: string): void;
  /** Replies lost so far. */
  readonly lost: number;
}

/** Starts a proxy on a free loopback port forwarding to `127.0.0.1:<targetPort>`. */
export function startFaultProxy(targetPort: number): FaultProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let armed: { marker: string | undefined } | undefined;
  let lost = 0;
  const links = new Set<{ close(): void; done: Promise<void> }>();
  const accepting = (async () => {
    for await (const client of listener) {
      let server: Deno.TcpConn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: targetPort });
      } catch {
        client.close();
        continue;
      }
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        for (const conn of [client, server]) {
          try {
            conn.close();
          } catch { /* closed */ }
        }
      };
      // A request seen while armed makes its reply the one to lose.
      let doomed = false;
      const up = pump(client, server, (bytes) => {
        if (armed && (armed.marker === undefined || text(bytes).includes(armed.marker))) {
          armed = undefined;
          doomed = true;
        }
        return true;
      }).finally(close);
      const down = pump(server, client, () => {
        if (!doomed) return true;
        lost++;
        close();
        return false;
      }).finally(close);
      const link = { close, done: Promise.all([up, down]).then(() => {}) };
      links.add(link);
      link.done.finally(() => links.delete(link));
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    loseNextReply(marker) {
      armed = { marker };
    },
    get lost() {
      return lost;
    },
    async [Symbol.asyncDispose]() {
      listener.close();
      await accepting.catch(() => {});
      for (const link of links) link.close();
      await Promise.all([...links].map((link) => link.done));
    },
  };
}

function text(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/** Copies `from` to `to` while `pass(chunk)` says so. */
async function pump(
  from: Deno.TcpConn,
  to: Deno.TcpConn,
  pass: (chunk: Uint8Array) => boolean,
): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buffer);
      if (n === null) return;
      const chunk = buffer.subarray(0, n);
      if (!pass(chunk)) return;
      let written = 0;
      while (written < n) written += await to.write(chunk.subarray(written));
    }
  } catch {
    // a side closed
  }
}
