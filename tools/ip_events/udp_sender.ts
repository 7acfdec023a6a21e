/**
 * The load generator's UDP side: a connected socket with a 1 MB send buffer (as the original
 * client), sending in batches with `sendmmsg` through FFI when it is permitted (well over
 * 300 000 datagrams/s here, enough to find the collector's ceiling), else node:dgram (~100 000/s).
 * Transient send errors are retried with back-off and counted, as the original client retries
 * ENOBUFS: node:dgram under load also fails sends with EAGAIN, or `send UNKNOWN` (an errno
 * Deno's node:dgram does not name), which used to escape as an unhandled rejection, kill the
 * demo and orphan its collector.
 *
 * @module
 */
import dgram from "node:dgram";
import {
  AF_INET,
  EAGAIN,
  ENOBUFS,
  type OpenedLibc,
  openLibc,
  setIntOption,
  SO_SNDBUF,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  sockaddrIn,
  SOL_SOCKET,
} from "../../src/ip_events/libc.ts";

/** Sends batches of datagrams to one address. */
export interface UdpSender {
  /** `sendmmsg` or `dgram`. */
  readonly kind: string;
  /** Sends every datagram of `batch` (retrying transient errors: {@linkcode isTransientSendError}). */
  send(batch: readonly Uint8Array[]): Promise<void>;
  /** Sends retried after a transient error so far. */
  readonly retries: number;
  /** Closes the socket. */
  close(): Promise<void>;
}

const SLOT = 1024;
const MAX_BATCH = 256;
/** Attempts of one datagram over node:dgram: back-off 1, 2, 4 … 100 ms, ~1.5 s in all. */
const MAX_ATTEMPTS = 20;

/**
 * Whether a send failed for a reason that passes (a full socket buffer), so it is retried:
 * ENOBUFS, EAGAIN / EWOULDBLOCK, and node:dgram's `UNKNOWN` (what it reports for those under
 * Deno). ECONNREFUSED (nobody listening) is not transient: the spread sender counts it as lost.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isTransientSendError } from "./udp_sender.ts";
 * assert.equal(isTransientSendError(Object.assign(new Error("send UNKNOWN"), { code: "UNKNOWN" })), true);
 * assert.equal(isTransientSendError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })), false);
 * ```
 */
export function isTransientSendError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return code === "ENOBUFS" || code === "EAGAIN" || code === "EWOULDBLOCK" || code === "UNKNOWN";
}

/**
 * Opens a sender to `host:port`: FFI when permitted, else node:dgram.
 *
 * @example
 * ```ts ignore
 * const sender = await openUdpSender("127.0.0.1", 3001);
 * await sender.send([bytes]);
 * await sender.close();
 * ```
 */
export async function openUdpSender(host: string, port: number): Promise<UdpSender> {
  if (Deno.permissions.querySync({ name: "ffi" }).state === "granted") {
    try {
      return new MmsgSender(openLibc(), host, port);
    } catch {
      // not Linux/glibc: node:dgram below
    }
  }
  const socket = dgram.createSocket({ type: "udp4", sendBufferSize: 1 << 20 });
  await new Promise<void>((resolve) => socket.connect(port, host, () => resolve()));
  const sendOne = (datagram: Uint8Array) =>
    new Promise<void>((resolve, reject) =>
      socket.send(datagram, (error) => error ? reject(error) : resolve())
    );
  let retries = 0;
  const sendRetrying = async (datagram: Uint8Array) => {
    for (let attempt = 1;; attempt++) {
      try {
        return await sendOne(datagram);
      } catch (error) {
        if (!isTransientSendError(error) || attempt === MAX_ATTEMPTS) throw error;
        retries++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(100, 2 ** (attempt - 1))));
      }
    }
  };
  return {
    kind: "dgram",
    get retries() {
      return retries;
    },
    async send(batch) {
      // Every send awaited (a failure of any one, not only the last, is this call's failure).
      await Promise.all(batch.map(sendRetrying));
    },
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

class MmsgSender implements UdpSender {
  readonly kind = "sendmmsg";
  retries = 0;
  readonly #libc: OpenedLibc;
  readonly #fd: number;
  readonly #headers = new Uint8Array(MAX_BATCH * 64);
  readonly #headerView = new DataView(this.#headers.buffer);
  readonly #iovecs = new Uint8Array(MAX_BATCH * 16);
  readonly #iovecView = new DataView(this.#iovecs.buffer);
  readonly #slots = new Uint8Array(MAX_BATCH * SLOT);

  constructor(libc: OpenedLibc, host: string, port: number) {
    this.#libc = libc;
    const fd = libc.symbols.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw libc.error("socket");
    setIntOption(libc, fd, SOL_SOCKET, SO_SNDBUF, 1 << 20);
    const address = sockaddrIn(host, port);
    if (libc.symbols.connect(fd, address, address.length) !== 0) throw libc.error("connect");
    this.#fd = fd;
    const slots = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#slots)));
    const iovecs = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#iovecs)));
    for (let i = 0; i < MAX_BATCH; i++) {
      this.#iovecView.setBigUint64(i * 16, slots + BigInt(i * SLOT), true);
      this.#headerView.setBigUint64(i * 64 + 16, iovecs + BigInt(i * 16), true);
      this.#headerView.setBigUint64(i * 64 + 24, 1n, true);
    }
  }

  async send(batch: readonly Uint8Array[]): Promise<void> {
    for (let start = 0; start < batch.length; start += MAX_BATCH) {
      const n = Math.min(MAX_BATCH, batch.length - start);
      for (let i = 0; i < n; i++) {
        const datagram = batch[start + i]!;
        this.#slots.set(datagram.subarray(0, SLOT), i * SLOT);
        this.#iovecView.setBigUint64(i * 16 + 8, BigInt(Math.min(datagram.length, SLOT)), true);
      }
      let sent = 0;
      while (sent < n) {
        const result = this.#libc.symbols.sendmmsg(
          this.#fd,
          this.#headers.subarray(sent * 64),
          n - sent,
          0,
        );
        if (result > 0) {
          sent += result;
          continue;
        }
        const errno = this.#libc.errno();
        if (errno !== ENOBUFS && errno !== EAGAIN) throw this.#libc.error("sendmmsg");
        this.retries++;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
  }

  close(): Promise<void> {
    this.#libc.symbols.close(this.#fd);
    this.#libc.close();
    return Promise.resolve();
  }
}
