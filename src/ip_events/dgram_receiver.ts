/**
 * The fallback receive path, when FFI is not permitted or not available: node:dgram with the
 * kernel's default receive buffer. It needs only --allow-net, but costs one event-loop turn per
 * datagram and loses datagrams from ~33 000/s (BENCHMARKS.md). Its `recvBufferSize` option is
 * not used: in Deno 2.9.6 it sets no `SO_RCVBUF` and makes every receive ~100× slower.
 *
 * @module
 */
import dgram from "node:dgram";
import { MAX_DATAGRAM_BYTES, type UdpReceiver, type UdpReceiverOptions } from "./udp_receiver.ts";

/**
 * Opens the node:dgram receive path (the buffer size option is ignored: see the module doc).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openDgramReceiver } from "./dgram_receiver.ts";
 * const receiver = await openDgramReceiver({
 *   host: "127.0.0.1", port: 0, receiveBufferBytes: 0, sink: (d) => console.log(d.length),
 * });
 * // this path does not read the buffer size
 * assert.equal(receiver.receiveBufferBytes, undefined);
 * await receiver.close();
 * ```
 */
export async function openDgramReceiver(options: UdpReceiverOptions): Promise<UdpReceiver> {
  const socket = dgram.createSocket({ type: "udp4" });
  const bound = Promise.withResolvers<void>();
  socket.once("error", bound.reject);
  socket.bind(options.port, options.host, () => bound.resolve());
  await bound.promise;
  socket.off("error", bound.reject);
  let received = 0;
  socket.on("message", (message: Uint8Array) => {
    received++;
    if (message.length > MAX_DATAGRAM_BYTES) options.sink([], 1);
    else options.sink([message], 0);
  });
  socket.on("error", (error: Error) => options.onError?.(error));
  return {
    path: "dgram",
    port: socket.address().port,
    receiveBufferBytes: undefined,
    async drain() {
      // Datagrams reach JavaScript one event-loop turn each: let turns pass until one brings
      // nothing (bounded, so a flood cannot hold a GET).
      for (let turn = 0; turn < 50; turn++) {
        const before = received;
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (received === before) break;
      }
    },
    close() {
      return new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
