/**
 * The few libc calls the fast receive path makes through Deno's FFI (`--allow-ffi`): a UDP
 * socket we own (socket, setsockopt, bind: no lookup of a Deno socket's fd through /proc),
 * `recvmmsg` to take up to hundreds of datagrams per call, and `poll` (declared `nonblocking`,
 * so it waits on Deno's thread pool, off the event loop) with an `eventfd` to wake it on stop.
 * `sendmmsg` serves the load generator. Linux (glibc) on a 64-bit CPU only; elsewhere
 * {@linkcode openLibc} throws and the collector falls back to node:dgram.
 *
 * @module
 */

// Linux values (asm-generic, the same on x86_64 and aarch64).
/** The IPv4 address family (`socket` domain, `sin_family`). */
export const AF_INET = 2;

/** The datagram socket type (UDP over `AF_INET`). */
export const SOCK_DGRAM = 2;

/** `socket` type flag: the socket is non-blocking (`O_NONBLOCK`). */
export const SOCK_NONBLOCK = 0o4000;

/** `socket` type flag: the socket is closed on `exec` (`O_CLOEXEC`). */
export const SOCK_CLOEXEC = 0o2000000;

/** The socket-level option level of `getsockopt` and `setsockopt`. */
export const SOL_SOCKET = 1;

/** The send buffer size option (the kernel doubles what is set). */
export const SO_SNDBUF = 7;

/** The receive buffer size option (the kernel doubles what is set). */
export const SO_RCVBUF = 8;

/** `recvmmsg`/`sendmmsg` flag: this call does not block (`EAGAIN` instead). */
export const MSG_DONTWAIT = 0x40;

/** Set in a received `msg_flags` when the datagram was longer than its buffer. */
export const MSG_TRUNC = 0x20;

/** `poll` event: there is data to read. */
export const POLLIN = 1;

/** errno: nothing to receive (or no room to send) on a non-blocking socket. */
export const EAGAIN = 11;

/** errno: the call was interrupted by a signal. */
export const EINTR = 4;

/** errno: no buffer space (a send while the interface queue is full). */
export const ENOBUFS = 105;

/** `eventfd` flag: reads and writes do not block (`O_NONBLOCK`). */
export const EFD_NONBLOCK = 0o4000;

/** `eventfd` flag: closed on `exec` (`O_CLOEXEC`). */
export const EFD_CLOEXEC = 0o2000000;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  // The load generator's side (tools/ip_events/udp_sender.ts).
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendmmsg: { parameters: ["i32", "buffer", "u32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32", nonblocking: true },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  close: { parameters: ["i32"], result: "i32" },
  // /proc/net is /proc/self/net, which Deno lets only --allow-all read: read it through libc.
  open: { parameters: ["buffer", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound libc functions. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/**
 * A failed libc call: the function, errno and its text.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { LibcError } from "./libc.ts";
 * const error = new LibcError("bind", 98, "Address already in use");
 * assert.equal(error.message, "bind failed: Address already in use (errno 98)");
 * assert.equal(error.errno, 98);
 * ```
 */
export class LibcError extends Error {
  /** The errno value. */
  readonly errno: number;

  /** Makes the error for `call` failing with `errno`. */
  constructor(call: string, errno: number, text: string) {
    super(`${call} failed: ${text} (errno ${errno})`);
    this.name = "LibcError";
    this.errno = errno;
  }
}

/** An opened libc: its symbols and a way to close it. */
export interface OpenedLibc {
  /** The functions. */
  readonly symbols: Libc;
  /** errno of the last failed synchronous call on this thread. */
  errno(): number;
  /** A {@linkcode LibcError} for `call` and the current errno. */
  error(call: string): LibcError;
  /** Unloads the library. */
  close(): void;
}

/**
 * Opens glibc's `libc.so.6`. Throws when FFI is not permitted, the OS is not 64-bit Linux, or
 * the library cannot be loaded.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLibc } from "./libc.ts";
 * const libc = openLibc();
 * const fd = libc.symbols.eventfd(0, 0); // a new file descriptor
 * assert.ok(fd >= 0);
 * libc.symbols.close(fd);
 * libc.close();
 * ```
 */
export function openLibc(): OpenedLibc {
  if (Deno.build.os !== "linux" || !["x86_64", "aarch64"].includes(Deno.build.arch)) {
    throw new Error(`recvmmsg through FFI needs 64-bit Linux, not ${Deno.build.target}`);
  }
  const library = Deno.dlopen("libc.so.6", SYMBOLS);
  const symbols = library.symbols;
  const errno = () => {
    const pointer = symbols.__errno_location();
    return pointer ? new Deno.UnsafePointerView(pointer).getInt32() : 0;
  };
  return {
    symbols,
    errno,
    error(call) {
      const code = errno();
      const text = symbols.strerror(code);
      return new LibcError(call, code, text ? Deno.UnsafePointerView.getCString(text) : "?");
    },
    close: () => library.close(),
  };
}

/**
 * A `struct sockaddr_in` for an IPv4 address (dotted quad) and port.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sockaddrIn } from "./libc.ts";
 * assert.equal(sockaddrIn("127.0.0.1", 3001).length, 16);
 * ```
 */
export function sockaddrIn(host: string, port: number): Uint8Array {
  const octets = host.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) {
    throw new Error(`not an IPv4 address: ${host}`);
  }
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, AF_INET, true);
  view.setUint16(2, port, false);
  bytes.set(octets, 4);
  return bytes;
}

/**
 * The port of a `struct sockaddr_in`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sockaddrIn, sockaddrPort } from "./libc.ts";
 * assert.equal(sockaddrPort(sockaddrIn("127.0.0.1", 3001)), 3001);
 * ```
 */
export function sockaddrPort(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint16(2, false);
}

/**
 * Reads an `int` socket option; throws {@linkcode LibcError} when `getsockopt` fails.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { AF_INET, getIntOption, openLibc, SO_RCVBUF, SOCK_DGRAM, SOL_SOCKET } from "./libc.ts";
 * const libc = openLibc();
 * const fd = libc.symbols.socket(AF_INET, SOCK_DGRAM, 0);
 * const bytes = getIntOption(libc, fd, SOL_SOCKET, SO_RCVBUF); // net.core.rmem_default
 * assert.ok(bytes > 0);
 * libc.symbols.close(fd);
 * libc.close();
 * ```
 */
export function getIntOption(libc: OpenedLibc, fd: number, level: number, name: number): number {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  if (libc.symbols.getsockopt(fd, level, name, value, length) !== 0) {
    throw libc.error("getsockopt");
  }
  return value[0]!;
}

/**
 * Sets an `int` socket option; throws {@linkcode LibcError} when `setsockopt` fails.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   AF_INET, getIntOption, openLibc, setIntOption, SO_RCVBUF, SOCK_DGRAM, SOL_SOCKET,
 * } from "./libc.ts";
 * const libc = openLibc();
 * const fd = libc.symbols.socket(AF_INET, SOCK_DGRAM, 0);
 * setIntOption(libc, fd, SOL_SOCKET, SO_RCVBUF, 65536);
 * // the kernel doubles it
 * assert.equal(getIntOption(libc, fd, SOL_SOCKET, SO_RCVBUF), 131072);
 * libc.symbols.close(fd);
 * libc.close();
 * ```
 */
export function setIntOption(
  libc: OpenedLibc,
  fd: number,
  level: number,
  name: number,
  value: number,
): void {
  if (libc.symbols.setsockopt(fd, level, name, new Int32Array([value]), 4) !== 0) {
    throw libc.error("setsockopt");
  }
}
