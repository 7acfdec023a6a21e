/**
 * Reads what `openssl s_client` (OpenSSL 3.0) prints: the `-showcerts` run (chain PEMs, the
 * negotiated protocol and suite, the verify code) and the `-brief` per-version runs, and names
 * why a connection failed. Pure: text in, facts out, so every format quirk is unit-tested.
 *
 * @example
 * ```ts
 * import { parseBrief } from "./s_client_output.ts";
 * parseBrief("CONNECTION ESTABLISHED\nProtocol version: TLSv1.2\nCiphersuite: ECDHE-RSA-AES256-GCM-SHA384\n");
 * // { protocol: "TLS 1.2", cipher: "ECDHE-RSA-AES256-GCM-SHA384" }
 * ```
 *
 * @module
 */

/** A protocol as SSL Labs names it. */
export type ProtocolName = "SSL 2.0" | "SSL 3.0" | "TLS 1.0" | "TLS 1.1" | "TLS 1.2" | "TLS 1.3";

/**
 * Every protocol, oldest first.
 *
 * ```ts
 * import { PROTOCOLS } from "./s_client_output.ts";
 * PROTOCOLS.indexOf("TLS 1.2") < PROTOCOLS.indexOf("TLS 1.3"); // true: oldest first
 * ```
 */
export const PROTOCOLS: readonly ProtocolName[] = [
  "SSL 2.0",
  "SSL 3.0",
  "TLS 1.0",
  "TLS 1.1",
  "TLS 1.2",
  "TLS 1.3",
];

const OPENSSL_PROTOCOLS: Readonly<Record<string, ProtocolName>> = {
  SSLv2: "SSL 2.0",
  SSLv3: "SSL 3.0",
  TLSv1: "TLS 1.0",
  "TLSv1.1": "TLS 1.1",
  "TLSv1.2": "TLS 1.2",
  "TLSv1.3": "TLS 1.3",
};

/**
 * OpenSSL's protocol name (`TLSv1.1`) as SSL Labs names it (`TLS 1.1`).
 *
 * ```ts
 * import { protocolName } from "./s_client_output.ts";
 * protocolName("TLSv1"); // "TLS 1.0"
 * protocolName("DTLSv1.2"); // undefined
 * ```
 */
export function protocolName(openssl: string): ProtocolName | undefined {
  return OPENSSL_PROTOCOLS[openssl];
}

/** What a `-showcerts` run shows once the handshake completed. */
export interface ShowcertsOutput {
  /** The chain as sent, leaf first (PEM). */
  readonly chain: readonly string[];
  readonly protocol: ProtocolName | undefined;
  readonly cipher: string | undefined;
  /** `Verify return code: N (text)`. */
  readonly verifyCode: number | undefined;
  readonly verifyText: string | undefined;
}

const PEM = /-----BEGIN CERTIFICATE-----\r?\n[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Parses a `-showcerts` run's stdout. The protocol comes from the session's `Protocol  :` line
 * when present: the `New, TLSv1.x` line shows the record version, which is `TLSv1` for a
 * TLS 1.1 session.
 *
 * ```ts
 * import { parseShowcerts } from "./s_client_output.ts";
 * const stdout = [
 *   "CONNECTED(00000003)",
 *   "New, TLSv1, Cipher is ECDHE-RSA-AES256-SHA",
 *   "SSL-Session:",
 *   "    Protocol  : TLSv1.1",
 *   "    Verify return code: 18 (self-signed certificate)",
 * ].join("\n");
 * const shown = parseShowcerts(stdout);
 * [shown.protocol, shown.cipher, shown.verifyCode]; // ["TLS 1.1", "ECDHE-RSA-AES256-SHA", 18]
 * shown.chain; // []: no PEM in this excerpt
 * ```
 */
export function parseShowcerts(stdout: string): ShowcertsOutput {
  const chain = stdout.match(PEM) ?? [];
  const newLine = /^New, (\S+), Cipher is (\S+)/m.exec(stdout);
  const sessionProtocol = /^\s+Protocol\s*:\s*(\S+)/m.exec(stdout)?.[1];
  const sessionCipher = /^\s+Cipher\s*:\s*(\S+)/m.exec(stdout)?.[1];
  const verify = /^\s*Verify return code: (\d+) \((.*)\)/m.exec(stdout);
  const cipher = newLine?.[2] ?? sessionCipher;
  return {
    chain,
    protocol: protocolName(sessionProtocol ?? newLine?.[1] ?? ""),
    cipher: cipher === "(NONE)" || cipher === "0000" ? undefined : cipher,
    verifyCode: verify ? Number(verify[1]) : undefined,
    verifyText: verify?.[2],
  };
}

/** What a `-brief` run shows: the negotiated protocol and suite, when the handshake completed. */
export interface BriefOutput {
  readonly protocol: ProtocolName | undefined;
  readonly cipher: string | undefined;
}

/**
 * Parses a `-brief` run's output (s_client writes it to stderr; both streams may be given).
 *
 * ```ts
 * import { parseBrief } from "./s_client_output.ts";
 * parseBrief("Protocol version: TLSv1.3\nCiphersuite: TLS_AES_128_GCM_SHA256\n");
 * // { protocol: "TLS 1.3", cipher: "TLS_AES_128_GCM_SHA256" }
 * parseBrief("error:0A000102:SSL routines::unsupported protocol").protocol; // undefined
 * ```
 */
export function parseBrief(text: string): BriefOutput {
  const protocol = /^Protocol version: (\S+)/m.exec(text)?.[1];
  return {
    protocol: protocol ? protocolName(protocol) : undefined,
    cipher: /^Ciphersuite: (\S+)/m.exec(text)?.[1],
  };
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
 * classifyFailure({ stdout: "", stderr: "connect:errno=111\n", timedOut: false, timeoutMs: 8000 });
 * // { kind: "refused", message: "Connection refused" }
 * ```
 */
export function classifyFailure(run: {
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  readonly timeoutMs: number;
}): Failure {
  const text = `${run.stdout}\n${run.stderr}`;
  const connected = /^CONNECTED\(/m.test(run.stdout) || /CONNECTION ESTABLISHED/.test(text);
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
