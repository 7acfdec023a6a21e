/**
 * Chooses and opens the UDP receive path: `recvmmsg` through FFI when FFI is permitted and
 * works here, else node:dgram (`auto`, the default); or the one `IP_EVENTS_UDP_RECEIVER` names.
 *
 * @module
 */
import { openDgramReceiver } from "./dgram_receiver.ts";
import { openRecvmmsgReceiver } from "./recvmmsg_receiver.ts";
import type { ReceivePath, UdpReceiver, UdpReceiverOptions } from "./udp_receiver.ts";

/** Which receive path to use: one of them, or the fastest available. */
export type ReceiverChoice = ReceivePath | "auto";

/** A receiver, and why the fast path was not taken when it was not. */
export interface OpenedReceiver {
  /** The receiver. */
  readonly receiver: UdpReceiver;
  /** Why `auto` fell back to node:dgram (`undefined` when it did not). */
  readonly fallbackReason?: string;
}

/**
 * Opens the receive path `choice` names. A forced `recvmmsg` that cannot open throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openReceiver } from "./open_receiver.ts";
 * const { receiver, fallbackReason } = await openReceiver("auto", {
 *   host: "127.0.0.1",
 *   port: 0,
 *   receiveBufferBytes: 4 << 20,
 *   sink: (datagrams) => console.log(datagrams.length),
 * });
 * // with --allow-ffi; else "dgram", and fallbackReason says why
 * assert.equal(receiver.path, "recvmmsg");
 * await receiver.close();
 * ```
 */
export async function openReceiver(
  choice: ReceiverChoice,
  options: UdpReceiverOptions,
): Promise<OpenedReceiver> {
  if (choice === "dgram") return { receiver: await openDgramReceiver(options) };
  if (choice === "recvmmsg") return { receiver: openRecvmmsgReceiver(options) };
  const ffi = Deno.permissions.querySync({ name: "ffi" }).state;
  if (ffi !== "granted") {
    return {
      receiver: await openDgramReceiver(options),
      fallbackReason: "FFI is not permitted (run with --allow-ffi for recvmmsg)",
    };
  }
  try {
    return { receiver: openRecvmmsgReceiver(options) };
  } catch (error) {
    // A port already taken fails the same way on either path: report it, do not hide it.
    if (error instanceof Error && /EADDRINUSE|errno 98\)/.test(error.message)) throw error;
    return {
      receiver: await openDgramReceiver(options),
      fallbackReason: `recvmmsg through FFI is not available: ${(error as Error).message}`,
    };
  }
}
