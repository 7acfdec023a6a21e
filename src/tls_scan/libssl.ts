/**
 * TLS handshakes in-process through the system's libssl (OpenSSL 3, `Deno.dlopen`), for suite
 * enumeration: one `openssl s_client` process costs 40–150 ms of start-up on a busy two-core
 * machine, a handshake here costs what the handshake costs (BENCHMARKS.md). libssl never
 * touches the network: its records go through memory BIOs, and the bytes travel over a
 * `Deno.connect` socket, so timeouts, aborts and closing stay Deno's. Only what enumeration
 * needs is bound: offer given suites on one protocol at security level 0, optionally with
 * TLS_FALLBACK_SCSV, and read the negotiated suite, version, the server's ephemeral key and its
 * secure-renegotiation support. Certificates are not verified here (the `-showcerts` run does).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLibssl } from "./libssl.ts";
 * import { startTlsServer } from "../../tools/tls_scan/tls_server.ts";
 * // openssl s_server on a free loopback port, with a fresh self-signed RSA leaf for localhost.
 * await using server = await startTlsServer();
 * const port = server.port;
 *
 * const libssl = openLibssl(); // undefined without --allow-ffi or without libssl.so.3
 * const seen = await libssl?.handshake({
 *   address: "127.0.0.1", port, serverName: "localhost", protocol: "TLS 1.2",
 *   offer: ["ECDHE-RSA-AES128-GCM-SHA256"], timeoutMs: 8_000,
 * });
 * assert.equal(seen?.protocol, "TLS 1.2");
 * assert.equal(seen?.cipher, "ECDHE-RSA-AES128-GCM-SHA256"); // the one suite offered, accepted
 * ```
 *
 * @module
 */
import { errorMessage } from "../app/error_message.ts";
import type { HandshakeSeen } from "./enumerate_suites.ts";
import { PROTOCOL_SPELLINGS, type ProtocolName, protocolName } from "./protocols.ts";

/** One handshake to make. */
export interface HandshakeRequest {
  readonly address: string;
  readonly port: number;
  /** SNI; omit for IP literals. */
  readonly serverName?: string | undefined;
  readonly protocol: ProtocolName;
  /** Suites to offer (OpenSSL names; TLS 1.3 names for TLS 1.3). */
  readonly offer: readonly string[];
  /** Send TLS_FALLBACK_SCSV (RFC 7507). */
  readonly fallbackScsv?: boolean;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** What a handshake gave: a session, or the reason it failed (libssl's error text). */
export interface HandshakeResult extends HandshakeSeen {
  readonly failure?: string;
}

/** libssl, opened. */
export interface Libssl {
  /** Makes one handshake; never throws for a property of the server. */
  handshake(request: HandshakeRequest): Promise<HandshakeResult>;
  /** `OpenSSL 3.0.19 27 Jan 2026`. */
  readonly version: string;
}

const CTRL_MODE = 33;
const MODE_SEND_FALLBACK_SCSV = 0x80;
const CTRL_SET_TLSEXT_HOSTNAME = 55;
const CTRL_GET_RI_SUPPORT = 76;
const CTRL_GET_PEER_TMP_KEY = 109;
const CTRL_SET_MIN_PROTO_VERSION = 123;
const CTRL_SET_MAX_PROTO_VERSION = 124;
const ERROR_WANT_READ = 2;

const SSL_SYMBOLS = {
  TLS_client_method: { parameters: [], result: "pointer" },
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_set_security_level: { parameters: ["pointer", "i32"], result: "void" },
  SSL_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_set_cipher_list: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_set_ciphersuites: { parameters: ["pointer", "buffer"], result: "i32" },
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set_connect_state: { parameters: ["pointer"], result: "void" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  SSL_get_current_cipher: { parameters: ["pointer"], result: "pointer" },
  SSL_CIPHER_get_name: { parameters: ["pointer"], result: "pointer" },
  SSL_get_version: { parameters: ["pointer"], result: "pointer" },
} as const;

const CRYPTO_SYMBOLS = {
  OpenSSL_version: { parameters: ["i32"], result: "pointer" },
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl_pending: { parameters: ["pointer"], result: "usize" },
  EVP_PKEY_get_bits: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_get0_type_name: { parameters: ["pointer"], result: "pointer" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  ERR_peek_last_error: { parameters: [], result: "u64" },
  ERR_reason_error_string: { parameters: ["u64"], result: "pointer" },
  ERR_clear_error: { parameters: [], result: "void" },
} as const;

/**
 * Opens the system's libssl; undefined when FFI is not permitted or the library is missing
 * (the caller then makes handshakes with `openssl s_client`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { openLibssl } from "./libssl.ts";
 * const libssl = openLibssl();
 * assert.equal(libssl?.version.startsWith("OpenSSL 3"), true); // on Debian 12
 * ```
 */
export function openLibssl(): Libssl | undefined {
  return LIBSSL;
}

// Opened once, when this module loads, and kept for the process's life (as any linked
// library is): one SSL_CTX serves every handshake. Checked first so that a run without
// --allow-ffi is never prompted.
const LIBSSL = Deno.permissions.querySync({ name: "ffi" }).state === "granted" ? open() : undefined;

function open(): Libssl | undefined {
  let ssl: Deno.DynamicLibrary<typeof SSL_SYMBOLS>;
  let crypto: Deno.DynamicLibrary<typeof CRYPTO_SYMBOLS>;
  try {
    crypto = Deno.dlopen("libcrypto.so.3", CRYPTO_SYMBOLS);
    ssl = Deno.dlopen("libssl.so.3", SSL_SYMBOLS);
  } catch {
    return undefined;
  }
  const s = ssl.symbols;
  const c = crypto.symbols;
  const ctx = s.SSL_CTX_new(s.TLS_client_method());
  if (ctx === null) return undefined;
  const cString = (text: string) => new TextEncoder().encode(`${text}\0`);
  const read = (pointer: Deno.PointerValue) =>
    pointer === null ? undefined : Deno.UnsafePointerView.getCString(pointer);
  async function handshake(request: HandshakeRequest): Promise<HandshakeResult> {
    const version = PROTOCOL_SPELLINGS[request.protocol].wireVersion;
    if (version === undefined) return { protocol: undefined, cipher: undefined, failure: "n/a" };
    c.ERR_clear_error();
    const conn = s.SSL_new(ctx);
    if (conn === null) throw new Error("SSL_new failed");
    const rbio = c.BIO_new(c.BIO_s_mem());
    const wbio = c.BIO_new(c.BIO_s_mem());
    s.SSL_set_bio(conn, rbio, wbio); // conn owns both BIOs from here
    let socket: Deno.TcpConn | undefined;
    const buffer = new Uint8Array(16 * 1024);
    let timedOut = false;
    const stop = Promise.withResolvers<never>();
    stop.promise.catch(() => {});
    const end = (why: string) => {
      timedOut ||= why === "timeout";
      stop.reject(new Deno.errors.Interrupted(why));
      try {
        socket?.close();
      } catch {
        // already closed
      }
    };
    const timer = setTimeout(() => end("timeout"), request.timeoutMs);
    const onAbort = () => end("aborted");
    request.signal?.addEventListener("abort", onAbort, { once: true });
    if (request.signal?.aborted) onAbort();
    try {
      s.SSL_set_security_level(conn, 0);
      s.SSL_ctrl(conn, CTRL_SET_MIN_PROTO_VERSION, BigInt(version), null);
      s.SSL_ctrl(conn, CTRL_SET_MAX_PROTO_VERSION, BigInt(version), null);
      const list = request.offer.join(":");
      const set = request.protocol === "TLS 1.3"
        ? s.SSL_set_ciphersuites(conn, cString(list))
        : s.SSL_set_cipher_list(conn, cString(`${list}:@SECLEVEL=0`));
      if (set !== 1) return { protocol: undefined, cipher: undefined, failure: "no cipher match" };
      if (request.fallbackScsv) {
        s.SSL_ctrl(conn, CTRL_MODE, BigInt(MODE_SEND_FALLBACK_SCSV), null);
      }
      if (request.serverName) {
        const name = cString(request.serverName);
        s.SSL_ctrl(conn, CTRL_SET_TLSEXT_HOSTNAME, 0n, Deno.UnsafePointer.of(name));
      }
      s.SSL_set_connect_state(conn);
      const connecting = Deno.connect({ hostname: request.address, port: request.port });
      // A connect that loses the race still resolves: close that socket too.
      connecting.then((late) => timedOut || request.signal?.aborted ? late.close() : 0, () => 0);
      socket = await Promise.race([connecting, stop.promise]);
      for (;;) {
        // OpenSSL's error queue is per thread, and every handshake here shares the main
        // thread: clear it, step, and read this step's error before anything else can run.
        c.ERR_clear_error();
        const done = s.SSL_do_handshake(conn);
        const error = done === 1 ? 0 : s.SSL_get_error(conn, done);
        const reason = done === 1 || error === ERROR_WANT_READ
          ? undefined
          : read(c.ERR_reason_error_string(c.ERR_peek_last_error())) ?? "handshake failed";
        c.ERR_clear_error();
        await flush(socket, wbio, buffer);
        if (done === 1) break;
        if (reason !== undefined) {
          return { protocol: undefined, cipher: undefined, failure: reason };
        }
        const n = await socket.read(buffer);
        if (n === null) {
          return { protocol: undefined, cipher: undefined, failure: "connection closed" };
        }
        c.BIO_write(rbio, buffer.subarray(0, n), n);
      }
      return { ...session(conn) };
    } catch (error) {
      const failure = request.signal?.aborted
        ? "aborted"
        : timedOut
        ? "timeout"
        : errorMessage(error);
      return { protocol: undefined, cipher: undefined, failure, timedOut: failure === "timeout" };
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      try {
        socket?.close();
      } catch {
        // closed by the timer or the abort
      }
      s.SSL_free(conn);
    }
  }

  async function flush(
    socket: Deno.TcpConn,
    wbio: Deno.PointerValue,
    buffer: Uint8Array,
  ): Promise<void> {
    while (Number(c.BIO_ctrl_pending(wbio)) > 0) {
      const n = c.BIO_read(wbio, buffer, buffer.length);
      if (n <= 0) return;
      let sent = 0;
      const chunk = buffer.slice(0, n);
      while (sent < n) sent += await socket.write(chunk.subarray(sent));
    }
  }

  function session(conn: Deno.PointerValue): HandshakeSeen {
    const cipher = read(s.SSL_CIPHER_get_name(s.SSL_get_current_cipher(conn)));
    const protocol = protocolName(read(s.SSL_get_version(conn)) ?? "");
    const slot = new BigUint64Array(1);
    let tempKey: HandshakeSeen["tempKey"];
    if (s.SSL_ctrl(conn, CTRL_GET_PEER_TMP_KEY, 0n, Deno.UnsafePointer.of(slot)) === 1n) {
      const key = Deno.UnsafePointer.create(slot[0]!);
      if (key !== null) {
        const type = read(c.EVP_PKEY_get0_type_name(key)) ?? "";
        // libssl names X25519/X448 as such, a named curve "EC", a finite-field group "DH".
        tempKey = { type: type === "EC" ? "ECDH" : type, bits: c.EVP_PKEY_get_bits(key) };
        c.EVP_PKEY_free(key);
      }
    }
    const renegotiation = s.SSL_ctrl(conn, CTRL_GET_RI_SUPPORT, 0n, null) === 1n;
    return {
      protocol,
      cipher,
      tempKey,
      // TLS 1.3 has no renegotiation at all: say nothing rather than "insecure".
      secureRenegotiation: protocol === "TLS 1.3" ? undefined : renegotiation,
    };
  }

  return { handshake, version: read(c.OpenSSL_version(0)) ?? "OpenSSL" };
}
