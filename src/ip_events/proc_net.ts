/**
 * The kernel's UDP counters from `/proc/net/snmp` (Linux; needs `--allow-read=/proc/net/snmp`):
 * receive-buffer overruns are how UDP loses datagrams, and the only place they show.
 *
 * @module
 */

/** The UDP counters this component reports. */
export interface UdpCounters {
  /** Datagrams delivered to sockets. */
  readonly inDatagrams: number;
  /** Datagrams dropped because a socket's receive buffer was full. */
  readonly rcvbufErrors: number;
}

/**
 * Parses the two `Udp:` lines of `/proc/net/snmp` (names, then values).
 *
 * @example
 * ```ts
 * import { parseSnmpUdp } from "./proc_net.ts";
 * parseSnmpUdp("Udp: InDatagrams RcvbufErrors\nUdp: 10 2\n"); // { inDatagrams: 10, rcvbufErrors: 2 }
 * ```
 */
export function parseSnmpUdp(text: string): UdpCounters | undefined {
  const lines = text.split("\n").filter((line) => line.startsWith("Udp: "));
  if (lines.length < 2) return undefined;
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  const field = (name: string) => values[names.indexOf(name)];
  const inDatagrams = field("InDatagrams");
  const rcvbufErrors = field("RcvbufErrors");
  if (inDatagrams === undefined || rcvbufErrors === undefined) return undefined;
  return { inDatagrams, rcvbufErrors };
}

/**
 * Reads the UDP counters, or `undefined` when the file cannot be read (not Linux, no permission).
 *
 * @example
 * ```ts ignore
 * import { readUdpCounters } from "./proc_net.ts";
 * console.log(await readUdpCounters());
 * ```
 */
export async function readUdpCounters(): Promise<UdpCounters | undefined> {
  try {
    return parseSnmpUdp(await Deno.readTextFile("/proc/net/snmp"));
  } catch {
    return undefined;
  }
}
