/**
 * The kernel's UDP loss counters (Linux): receive-buffer overruns are how UDP loses datagrams,
 * and the only place they show. `/proc/net/snmp` `Udp: RcvbufErrors` counts them machine-wide,
 * `/proc/net/udp`'s `drops` column for one socket. `/proc/net` is a link to `/proc/self/net`,
 * which Deno lets only `--allow-all` read, so the files are read through libc (FFI, already
 * granted for the fast receive path); without FFI the counters are absent.
 *
 * @module
 */
import { type OpenedLibc, openLibc } from "./libc.ts";

/** The UDP counters of `/proc/net/snmp` this component reports. */
export interface UdpCounters {
  /** Datagrams delivered to sockets. */
  readonly inDatagrams: number;
  /** Datagrams dropped because a socket's receive buffer was full (machine-wide). */
  readonly rcvbufErrors: number;
}

/**
 * Parses the two `Udp:` lines of `/proc/net/snmp` (names, then values).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSnmpUdp } from "./proc_net.ts";
 * assert.deepEqual(parseSnmpUdp("Udp: InDatagrams RcvbufErrors\nUdp: 10 2\n"), {
 *   inDatagrams: 10,
 *   rcvbufErrors: 2,
 * });
 * ```
 */
export function parseSnmpUdp(text: string): UdpCounters | undefined {
  const lines = text.split("\n").filter((line) => line.startsWith("Udp: "));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.trim().split(/\s+/).slice(1);
  const values = lines[1]!.trim().split(/\s+/).slice(1).map(Number);
  const field = (name: string) => {
    const index = names.indexOf(name);
    return index < 0 ? undefined : values[index];
  };
  const inDatagrams = field("InDatagrams");
  const rcvbufErrors = field("RcvbufErrors");
  if (inDatagrams === undefined || rcvbufErrors === undefined) return undefined;
  return { inDatagrams, rcvbufErrors };
}

/**
 * The `drops` of the IPv4 UDP socket bound to `port`, from `/proc/net/udp` (the last column).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSocketDrops } from "./proc_net.ts";
 * const text = "  sl  local_address …\n   7: 00000000:0BB9 00000000:0000 07 … 12345 2 0 42\n";
 * assert.equal(parseSocketDrops(text, 3001), 42);
 * ```
 */
export function parseSocketDrops(text: string, port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const line of text.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields[1]?.endsWith(`:${hexPort}`)) return Number(fields.at(-1));
  }
  return undefined;
}

/** Reads the counters; `undefined` values when they cannot be read. */
export interface ProcNet {
  /** Machine-wide UDP counters. */
  udpCounters(): UdpCounters | undefined;
  /** Drops of the socket bound to `port`. */
  socketDrops(port: number): number | undefined;
  /** Unloads libc. */
  close(): void;
}

/**
 * Opens the reader, or `undefined` when FFI is not permitted or libc is not there.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openProcNet } from "./proc_net.ts";
 * const proc = openProcNet(); // undefined without --allow-ffi
 * const counters = proc?.udpCounters(); // the host's UDP counters, e.g. InDatagrams
 * if (counters) assert.ok(counters.rcvbufErrors >= 0);
 * proc?.close();
 * ```
 */
export function openProcNet(): ProcNet | undefined {
  if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return undefined;
  let libc: OpenedLibc;
  try {
    libc = openLibc();
  } catch {
    return undefined;
  }
  const buffer = new Uint8Array(1 << 16);
  const read = (path: string): string | undefined => {
    const fd = libc.symbols.open(new TextEncoder().encode(`${path}\0`), 0);
    if (fd < 0) return undefined;
    try {
      let text = "";
      const decoder = new TextDecoder();
      for (let chunk = 0; chunk < 256; chunk++) {
        const n = Number(libc.symbols.read(fd, buffer, BigInt(buffer.length)));
        if (n <= 0) break;
        text += decoder.decode(buffer.subarray(0, n), { stream: true });
      }
      return text;
    } finally {
      libc.symbols.close(fd);
    }
  };
  return {
    udpCounters: () => {
      const text = read("/proc/net/snmp");
      return text === undefined ? undefined : parseSnmpUdp(text);
    },
    socketDrops: (port) => {
      const text = read("/proc/net/udp");
      return text === undefined ? undefined : parseSocketDrops(text, port);
    },
    close: () => libc.close(),
  };
}
