/**
 * What the collector needs from a UDP receive path, whichever it is: datagrams handed over in
 * batches, a drain (take what the socket holds now, so a `GET` counts every datagram received
 * before it), and a close. Two paths implement it: recvmmsg_receiver.ts (FFI, the fast path) and
 * dgram_receiver.ts (node:dgram, the fallback needing no permission beyond --allow-net).
 *
 * @module
 */

/** The receive paths, as logged and as the `IP_EVENTS_UDP_RECEIVER` setting names them. */
export const RECEIVE_PATHS = ["recvmmsg", "dgram"] as const;

/**
 * A receive path.
 *
 * @example
 * ```ts
 * import type { ReceivePath } from "./udp_receiver.ts";
 * const path: ReceivePath = "recvmmsg";
 * ```
 */
export type ReceivePath = typeof RECEIVE_PATHS[number];

/** Longest datagram taken whole; longer ones are counted as truncated. */
export const MAX_DATAGRAM_BYTES = 1024;

/**
 * Receives one batch: `datagrams` are views valid only during the call (their memory is reused
 * for the next batch); `oversized` counts datagrams longer than {@linkcode MAX_DATAGRAM_BYTES},
 * not included.
 */
export type DatagramSink = (datagrams: readonly Uint8Array[], oversized: number) => void;

/** Options common to both receive paths. */
export interface UdpReceiverOptions {
  /** IPv4 address to bind. */
  readonly host: string;
  /** Port to bind; 0 picks a free one. */
  readonly port: number;
  /** `SO_RCVBUF` to ask for, in bytes (the kernel doubles it and caps it at rmem_max). */
  readonly receiveBufferBytes: number;
  /** Where the datagrams go. */
  readonly sink: DatagramSink;
  /** Called when receiving fails (the receiver pauses and tries again). */
  readonly onError?: (error: Error) => void;
}

/** A bound socket delivering datagrams to its sink. */
export interface UdpReceiver {
  /** Which path this is. */
  readonly path: ReceivePath;
  /** The bound port. */
  readonly port: number;
  /** The receive buffer as the kernel reports it, or `undefined` when it cannot be read. */
  readonly receiveBufferBytes: number | undefined;
  /** Hands every datagram the socket holds now to the sink before resolving. */
  drain(): Promise<void>;
  /** Stops receiving and closes the socket. */
  close(): Promise<void>;
}
