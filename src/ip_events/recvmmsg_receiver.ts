/**
 * The fast receive path: a UDP socket of our own through libc, with a large `SO_RCVBUF`, read
 * with `recvmmsg` (up to 512 datagrams per call). Deno's own UDP APIs cost one event-loop turn
 * per datagram and top out near 35–55 000/s; this reaches 150 000/s at well under a core
 * (BENCHMARKS.md).
 *
 * The loop: wait on a `nonblocking` FFI `poll` (Deno's thread pool, off the event loop: the
 * HTTP server keeps running), then one synchronous `recvmmsg(MSG_DONTWAIT)` whose datagrams are
 * decoded and recorded before anything else runs. So no datagram ever waits in our memory
 * across an `await`: what is not counted yet is in the kernel buffer, and {@linkcode drain}
 * takes it synchronously. After a partial batch the loop pauses ~1 ms to let datagrams gather
 * (a 4 MB buffer holds ~0.3 s at 33 000/s), which keeps the calls per second, and the CPU, low.
 *
 * @module
 */
import {
  AF_INET,
  EAGAIN,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EINTR,
  getIntOption,
  MSG_DONTWAIT,
  MSG_TRUNC,
  type OpenedLibc,
  openLibc,
  POLLIN,
  setIntOption,
  SO_RCVBUF,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  sockaddrIn,
  sockaddrPort,
  SOL_SOCKET,
} from "./libc.ts";
import {
  type DatagramSink,
  MAX_DATAGRAM_BYTES,
  type UdpReceiver,
  type UdpReceiverOptions,
} from "./udp_receiver.ts";

/** Options of {@linkcode openRecvmmsgReceiver}. */
export interface RecvmmsgReceiverOptions extends UdpReceiverOptions {
  /** Datagrams per `recvmmsg` call. Default 512. */
  readonly batchSize?: number;
  /** Pause after a partial batch, in ms. Default 1. */
  readonly pauseMs?: number;
  /** Batches a drain takes at most (bounds a GET's work under a flood). Default 64. */
  readonly maxDrainBatches?: number;
}

// struct mmsghdr on 64-bit Linux: struct msghdr (56 bytes) + unsigned int msg_len + padding.
const MMSGHDR_BYTES = 64;
const IOVEC_BYTES = 16;
const MSG_IOV = 16;
const MSG_IOVLEN = 24;
const MSG_FLAGS = 48;
const MSG_LEN = 56;

/**
 * Opens the FFI receive path; throws when FFI is not permitted or available, or the socket
 * cannot be bound.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openRecvmmsgReceiver } from "./recvmmsg_receiver.ts";
 * const receiver = openRecvmmsgReceiver({
 *   host: "127.0.0.1", port: 0, receiveBufferBytes: 4 << 20,
 *   sink: (datagrams) => console.log(datagrams.length),
 * });
 * // twice what was asked (at most twice rmem_max)
 * assert.equal(receiver.receiveBufferBytes, 8388608);
 * await receiver.close();
 * ```
 */
export function openRecvmmsgReceiver(options: RecvmmsgReceiverOptions): UdpReceiver {
  const libc = openLibc();
  try {
    return new RecvmmsgReceiver(libc, options);
  } catch (error) {
    libc.close();
    throw error;
  }
}

class RecvmmsgReceiver implements UdpReceiver {
  readonly path = "recvmmsg";
  readonly port: number;
  readonly receiveBufferBytes: number;
  readonly #libc: OpenedLibc;
  readonly #sink: DatagramSink;
  readonly #onError: (error: Error) => void;
  readonly #fd: number;
  readonly #wake: number;
  readonly #batchSize: number;
  readonly #pauseMs: number;
  readonly #maxDrainBatches: number;
  readonly #headers: Uint8Array;
  readonly #headerView: DataView;
  readonly #slots: Uint8Array;
  readonly #views: Uint8Array[];
  readonly #pollFds = new Uint8Array(16);
  readonly #loop: Promise<void>;
  #closing = false;

  constructor(libc: OpenedLibc, options: RecvmmsgReceiverOptions) {
    this.#libc = libc;
    this.#sink = options.sink;
    this.#onError = options.onError ?? (() => {});
    this.#batchSize = options.batchSize ?? 512;
    this.#pauseMs = options.pauseMs ?? 1;
    this.#maxDrainBatches = options.maxDrainBatches ?? 64;
    const c = libc.symbols;
    const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw libc.error("socket");
    try {
      setIntOption(libc, fd, SOL_SOCKET, SO_RCVBUF, options.receiveBufferBytes);
      const address = sockaddrIn(options.host, options.port);
      if (c.bind(fd, address, address.length) !== 0) throw libc.error("bind");
      const bound = new Uint8Array(16);
      if (c.getsockname(fd, bound, new Uint32Array([16])) !== 0) throw libc.error("getsockname");
      this.port = sockaddrPort(bound);
      this.receiveBufferBytes = getIntOption(libc, fd, SOL_SOCKET, SO_RCVBUF);
    } catch (error) {
      c.close(fd);
      throw error;
    }
    this.#fd = fd;
    this.#wake = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#wake < 0) {
      c.close(fd);
      throw libc.error("eventfd");
    }
    const pollView = new DataView(this.#pollFds.buffer);
    pollView.setInt32(0, fd, true);
    pollView.setInt16(4, POLLIN, true);
    pollView.setInt32(8, this.#wake, true);
    pollView.setInt16(12, POLLIN, true);

    // Large buffers live outside V8's heap and never move, so their addresses can be stored in
    // the mmsghdr array once.
    const n = this.#batchSize;
    this.#headers = new Uint8Array(n * MMSGHDR_BYTES);
    this.#headerView = new DataView(this.#headers.buffer);
    const iovecs = new Uint8Array(Math.max(n * IOVEC_BYTES, 4096));
    const iovecView = new DataView(iovecs.buffer);
    this.#slots = new Uint8Array(n * MAX_DATAGRAM_BYTES);
    const slotsAddress = Deno.UnsafePointer.value(Deno.UnsafePointer.of(this.#slots));
    const iovecsAddress = Deno.UnsafePointer.value(Deno.UnsafePointer.of(iovecs));
    for (let i = 0; i < n; i++) {
      iovecView.setBigUint64(
        i * IOVEC_BYTES,
        BigInt(slotsAddress) + BigInt(i * MAX_DATAGRAM_BYTES),
        true,
      );
      iovecView.setBigUint64(i * IOVEC_BYTES + 8, BigInt(MAX_DATAGRAM_BYTES), true);
      const h = i * MMSGHDR_BYTES;
      this.#headerView.setBigUint64(
        h + MSG_IOV,
        BigInt(iovecsAddress) + BigInt(i * IOVEC_BYTES),
        true,
      );
      this.#headerView.setBigUint64(h + MSG_IOVLEN, 1n, true);
    }
    this.#keepAlive = iovecs;
    this.#views = [];
    this.#loop = this.#run();
  }

  // Referenced from the mmsghdr array by address only: held here so it is never collected.
  readonly #keepAlive: Uint8Array;

  drain(): Promise<void> {
    for (let i = 0; i < this.#maxDrainBatches && !this.#closing; i++) {
      if (this.#receiveBatch() < this.#batchSize) break;
    }
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#closing) return this.#loop;
    this.#closing = true;
    this.#libc.symbols.write(this.#wake, new BigUint64Array([1n]), 8n);
    await this.#loop;
    this.#libc.symbols.close(this.#fd);
    this.#libc.symbols.close(this.#wake);
    this.#libc.close();
    void this.#keepAlive;
  }

  async #run(): Promise<void> {
    while (!this.#closing) {
      const ready = await this.#libc.symbols.poll(this.#pollFds, 2n, -1);
      if (this.#closing) break;
      if (ready < 0) continue; // EINTR: errno lives on the pool's thread; poll again
      const received = this.#receiveBatch();
      if (received >= 0 && received < this.#batchSize && this.#pauseMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.#pauseMs));
      }
    }
  }

  /** One synchronous recvmmsg; hands the datagrams to the sink; the count, or −1 on error. */
  #receiveBatch(): number {
    const n = this.#libc.symbols.recvmmsg(
      this.#fd,
      this.#headers,
      this.#batchSize,
      MSG_DONTWAIT,
      null,
    );
    if (n < 0) {
      const errno = this.#libc.errno();
      if (errno === EAGAIN || errno === EINTR) return 0;
      this.#onError(this.#libc.error("recvmmsg"));
      return -1;
    }
    const views = this.#views;
    views.length = 0;
    let oversized = 0;
    for (let i = 0; i < n; i++) {
      const h = i * MMSGHDR_BYTES;
      if (this.#headerView.getInt32(h + MSG_FLAGS, true) & MSG_TRUNC) {
        oversized++;
        continue;
      }
      const length = this.#headerView.getUint32(h + MSG_LEN, true);
      const start = i * MAX_DATAGRAM_BYTES;
      views.push(this.#slots.subarray(start, start + length));
    }
    if (n > 0) this.#sink(views, oversized);
    return n;
  }
}
