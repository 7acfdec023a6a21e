/**
 * Reads what `openssl s_client` (OpenSSL 3.0) prints (chain PEMs, the negotiated protocol and
 * suite, the verify code, the server's ephemeral key, secure renegotiation, OCSP stapling) and
 * names why a connection failed. Pure: text in, facts out, so every format quirk is unit-tested;
 * linear-time and capped, since the text comes from a server anyone may run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSession } from "./s_client_output.ts";
 * const seen = parseSession("Protocol version: TLSv1.2\nCiphersuite: ECDHE-RSA-AES256-GCM-SHA384\n");
 * assert.deepEqual([seen.protocol, seen.cipher], ["TLS 1.2", "ECDHE-RSA-AES256-GCM-SHA384"]);
 * ```
 *
 * @module
 */
import { type ProtocolName, protocolName } from "./protocols.ts";

/**
 * Bytes of s_client output the parsers read: what `runOpenssl` keeps (256 KiB) is far more than
 * a handshake prints (a long chain is ~20 KiB); anything past it is ignored, so parsing costs
 * at most one linear pass over this many characters.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { MAX_PARSED_CHARS } from "./s_client_output.ts";
 * assert.equal(MAX_PARSED_CHARS, 262_144);
 * ```
 */
export const MAX_PARSED_CHARS = 256 * 1024;

/** The server's ephemeral key (`Server Temp Key: X25519, 253 bits`). */
export interface TempKey {
  /** `X25519`, `X448`, `ECDH` (a named curve), `DH` (a finite-field group). */
  readonly type: string;
  readonly bits: number;
}

/** What one s_client run shows once the handshake completed (brief or not). */
export interface SessionOutput {
  /** The chain as sent, leaf first (PEM; only with `-showcerts`, else the leaf alone). */
  readonly chain: readonly string[];
  readonly protocol: ProtocolName | undefined;
  readonly cipher: string | undefined;
  /** `Verify return code: N (text)`. */
  readonly verifyCode: number | undefined;
  readonly verifyText: string | undefined;
  readonly tempKey: TempKey | undefined;
  /** `Secure Renegotiation IS (NOT) supported` (not printed with `-brief`). */
  readonly secureRenegotiation: boolean | undefined;
  /** With `-status`: a stapled OCSP response was sent (`OCSP response: no response sent`). */
  readonly ocspStapled: boolean | undefined;
}

const BEGIN = "-----BEGIN CERTIFICATE-----";
const END = "-----END CERTIFICATE-----";

/**
 * Reads an s_client run's output (stdout, or stdout and stderr joined) in one pass over its
 * lines, each line matched by prefix: linear in the input, which is cut at
 * {@linkcode MAX_PARSED_CHARS}. The protocol comes from the session's `Protocol  :` line (or the
 * brief `Protocol version:`) when present: the `New, TLSv1.x` line shows the record version,
 * which is `TLSv1` for a TLS 1.1 session.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSession } from "./s_client_output.ts";
 * const stdout = [
 *   "CONNECTED(00000003)",
 *   "Server Temp Key: DH, 1024 bits",
 *   "New, TLSv1, Cipher is DHE-RSA-AES256-SHA",
 *   "Secure Renegotiation IS supported",
 *   "SSL-Session:",
 *   "    Protocol  : TLSv1.1",
 *   "    Verify return code: 18 (self-signed certificate)",
 * ].join("\n");
 * const shown = parseSession(stdout);
 * assert.deepEqual([shown.protocol, shown.cipher, shown.verifyCode], ["TLS 1.1", "DHE-RSA-AES256-SHA", 18]);
 * assert.deepEqual([shown.tempKey, shown.secureRenegotiation], [{ type: "DH", bits: 1024 }, true]);
 * assert.deepEqual(shown.chain, []); // no PEM in this excerpt
 * ```
 */
export function parseSession(text: string): SessionOutput {
  const lines = text.slice(0, MAX_PARSED_CHARS).split("\n");
  const chain: string[] = [];
  let pem: string[] | undefined;
  let recordProtocol: string | undefined;
  let sessionProtocol: string | undefined;
  let newCipher: string | undefined;
  let sessionCipher: string | undefined;
  let verifyCode: number | undefined;
  let verifyText: string | undefined;
  let tempKey: TempKey | undefined;
  let secureRenegotiation: boolean | undefined;
  let ocspStapled: boolean | undefined;
  // PEMs count only inside the `Certificate chain` (or `Server certificate`) section, up to its
  // `---`: a stapled OCSP response printed before it may carry its signer's certificate.
  let inChain = false;
  for (const raw of lines) {
    const line = raw.trim();
    if (pem) {
      pem.push(line);
      if (line === END) {
        if (inChain) chain.push(pem.join("\n"));
        pem = undefined;
      }
      continue;
    }
    if (line === "Certificate chain" || line === "Server certificate") {
      inChain = true;
    } else if (line === "---") {
      inChain = false;
    } else if (line === BEGIN) {
      pem = [line];
    } else if (line.startsWith("New, ")) {
      // `New, TLSv1.2, Cipher is ECDHE-RSA-AES256-GCM-SHA384`
      const [, version, rest] = line.split(", ", 3);
      recordProtocol ??= version;
      newCipher ??= rest?.startsWith("Cipher is ") ? firstWord(rest.slice(10)) : undefined;
    } else if (line.startsWith("Protocol version:")) {
      sessionProtocol ??= firstWord(line.slice(17));
    } else if (line.startsWith("Ciphersuite:")) {
      sessionCipher ??= firstWord(line.slice(12));
    } else if (line.startsWith("Protocol") && afterColon(line, "Protocol") !== undefined) {
      sessionProtocol ??= afterColon(line, "Protocol");
    } else if (line.startsWith("Cipher") && afterColon(line, "Cipher") !== undefined) {
      sessionCipher ??= afterColon(line, "Cipher");
    } else if (line.startsWith("Verify return code: ")) {
      const rest = line.slice(20);
      const space = rest.indexOf(" ");
      const code = Number(space < 0 ? rest : rest.slice(0, space));
      if (verifyCode === undefined && Number.isInteger(code)) {
        verifyCode = code;
        const open = rest.indexOf("(");
        const close = rest.lastIndexOf(")");
        verifyText = open >= 0 && close > open ? rest.slice(open + 1, close) : undefined;
      }
    } else if (line.startsWith("Server Temp Key: ")) {
      // `X25519, 253 bits` · `DH, 1024 bits` · `ECDH, prime256v1, 256 bits`
      const parts = line.slice(17).split(", ");
      const bits = Number(parts.at(-1)?.replace(/ bits$/, ""));
      if (parts[0] && Number.isInteger(bits)) tempKey ??= { type: parts[0], bits };
    } else if (line.startsWith("Secure Renegotiation IS ")) {
      secureRenegotiation ??= !line.startsWith("Secure Renegotiation IS NOT");
    } else if (line === "OCSP response: no response sent") {
      ocspStapled ??= false;
    } else if (line.startsWith("OCSP Response Status:")) {
      ocspStapled ??= true;
    }
  }
  const named = newCipher ?? sessionCipher;
  const cipher = named === "(NONE)" || named === "0000" ? undefined : named;
  return {
    chain,
    // A failed handshake still prints `Protocol  : TLSv1.2` with `Cipher    : 0000`.
    protocol: cipher ? protocolName(sessionProtocol ?? recordProtocol ?? "") : undefined,
    cipher,
    verifyCode,
    verifyText,
    tempKey,
    secureRenegotiation,
    ocspStapled,
  };
}

/** `Protocol  : TLSv1.2` → `TLSv1.2`; undefined unless `name`, spaces, a colon. */
function afterColon(line: string, name: string): string | undefined {
  const rest = line.slice(name.length);
  const trimmed = rest.trimStart();
  if (!trimmed.startsWith(":") || (rest.length > 0 && rest[0] !== " " && rest[0] !== ":")) {
    return undefined;
  }
  return firstWord(trimmed.slice(1));
}

function firstWord(text: string): string | undefined {
  const word = text.trim().split(" ", 1)[0];
  return word ? word : undefined;
}

/** Why a connection gave no TLS session. */
export type FailureKind =
  | "refused"
  | "unreachable"
  | "timeout"
  | "not_tls"
  | "handshake_failed"
  | "failed";

/** A failure and a sentence for `status_message`. */
export interface Failure {
  readonly kind: FailureKind;
  readonly message: string;
}

/**
 * Names the failure of a run that produced no session. `timedOut` wins: a black hole prints
 * nothing at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyFailure } from "./s_client_output.ts";
 * assert.deepEqual(
 *   classifyFailure({ stdout: "", stderr: "connect:errno=111\n", timedOut: false, timeoutMs: 8000 }),
 *   { kind: "refused", message: "Connection refused" },
 * );
 * ```
 */
export function classifyFailure(run: {
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly timeoutMs: number;
}): Failure {
  // Cut like every parser here: the regexes below are plain alternations, linear in the text.
  const text = `${run.stdout.slice(0, MAX_PARSED_CHARS)}\n${run.stderr.slice(0, MAX_PARSED_CHARS)}`;
  const connected = run.stdout.startsWith("CONNECTED(") ||
    /\nCONNECTED\(|CONNECTION ESTABLISHED/.test(text);
  if (run.timedOut) {
    const seconds = Math.round(run.timeoutMs / 100) / 10;
    // A killed s_client loses its buffered `CONNECTED(…)` line: an accepted connection that
    // never answers and a dropped SYN look the same here.
    return {
      kind: "timeout",
      message: connected
        ? `No TLS handshake within ${seconds} s (the server accepted and never answered)`
        : `No TLS answer within ${seconds} s`,
    };
  }
  if (/Connection refused|errno=111\b/.test(text)) {
    return { kind: "refused", message: "Connection refused" };
  }
  if (
    /Network is unreachable|No route to host|errno=(101|113)\b|Connection timed out|errno=110\b/
      .test(text)
  ) {
    return { kind: "unreachable", message: "Unable to connect to the server" };
  }
  if (
    /wrong version number|packet length too long|unknown protocol|http request|record layer failure/
      .test(text)
  ) {
    return { kind: "not_tls", message: "The server does not speak TLS on this port" };
  }
  // OpenSSL error lines are `thread:error:code:library:function:reason:file:line:`.
  const alert = text.split(/[:\n]/).find((part) => / alert /.test(` ${part} `))?.trim();
  if (connected && alert) {
    return { kind: "handshake_failed", message: `TLS handshake failed (${alert})` };
  }
  if (connected) return { kind: "handshake_failed", message: "TLS handshake failed" };
  const line = text.split("\n").map((l) => l.trim()).find((l) => /error/i.test(l));
  return {
    kind: "failed",
    message: line ? `Unable to connect (${shorten(line)})` : "Unable to connect",
  };
}

function shorten(line: string): string {
  const parts = line.split(":");
  // OpenSSL error lines are `thread:error:code:library:function:reason:file:line:`.
  const reason = parts.length >= 6 ? parts[5] : line;
  return (reason ?? line).slice(0, 120);
}
