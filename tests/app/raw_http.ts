/**
 * HTTP/1.1 by hand over TCP, for what `fetch` will not send: malformed request lines and
 * headers, a request that never finishes, a body that stalls. Loopback only.
 *
 * @module
 */

/** What came back on one connection. */
export interface RawAnswer {
  /** The status of the first answer (0: none before the connection closed or the wait ended). */
  readonly status: number;
  /** Everything read (at most 64 KiB). */
  readonly text: string;
  /** Whether the server closed the connection (else the wait ended first). */
  readonly closed: boolean;
  /** Milliseconds from the last byte sent to the close (or to the end of the wait). */
  readonly ms: number;
}

/**
 * Sends `parts` on a new connection to `127.0.0.1:port` (each part after `pauseMs`), then reads
 * until the server closes the connection or `waitMs` has passed.
 */
export async function rawExchange(
  port: number,
  parts: readonly (string | Uint8Array)[],
  options: { readonly waitMs?: number; readonly pauseMs?: number } = {},
): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    for (const [index, part] of parts.entries()) {
      if (index > 0 && options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
      try {
        await writeAll(conn, typeof part === "string" ? new TextEncoder().encode(part) : part);
      } catch {
        break; // the server closed first (a 413 or a 400 before the rest was sent)
      }
    }
    return await readUntilClose(conn, options.waitMs ?? 5_000);
  } finally {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
}

/** Reads `conn` until it closes or `waitMs` has passed. */
export async function readUntilClose(conn: Deno.Conn, waitMs: number): Promise<RawAnswer> {
  const started = performance.now();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let closed = false;
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }, waitMs);
  try {
    const buffer = new Uint8Array(16 * 1024);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) {
        closed = true;
        break;
      }
      if (size < 64 * 1024) chunks.push(buffer.slice(0, n));
      size += n;
    }
  } catch (error) {
    // A reset is a close by the server; our own close (the wait ended) is not.
    closed = !(error instanceof Deno.errors.BadResource) &&
      !(error instanceof Deno.errors.Interrupted);
  } finally {
    clearTimeout(timer);
  }
  const text = new TextDecoder().decode(concat(chunks));
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, text, closed, ms: performance.now() - started };
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The number of open file descriptors of process `pid` (Linux). */
export async function fdCount(pid: number): Promise<number> {
  let count = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) count++;
  return count;
}

/** The resident set size of process `pid`, in bytes (Linux). */
export async function rssBytes(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
}
