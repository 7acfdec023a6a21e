/**
 * Probes one endpoint (one IP address of the host) with `openssl s_client`, one connection
 * after the other (gentle on the server; `s_server` even serves one at a time):
 *
 * 1. a `-showcerts` handshake as a modern client would offer it → the chain, the negotiated
 *    protocol and suite, the chain verification (dates left out with `-no_check_time`: they
 *    are judged from the leaf, so an expired leaf of a trusted CA is `expired`, not
 *    `untrusted`). If this fails the endpoint is unreachable, not TLS, or silent: stop here,
 *    so a black hole costs one timeout, not five;
 * 2. one `-brief` handshake per protocol older than the negotiated one (a server that
 *    negotiated TLS 1.2 with a client offering 1.3 does not offer 1.3);
 * 3. when the grade would be A, an HTTP `GET /` for `Strict-Transport-Security` (A+).
 *
 * Every run uses `DEFAULT@SECLEVEL=0`: OpenSSL 3 refuses TLS 1.0/1.1 and RSA-1024 chains at
 * its default level, and the probe must see them to report them.
 *
 * @example
 * ```ts
 * import { probeEndpoint } from "./probe_endpoint.ts";
 * const seen = await probeEndpoint(
 *   { host: "localhost", kind: "name", port: 8443, address: "127.0.0.1" },
 *   { timeoutMs: 8_000, signal: AbortSignal.timeout(60_000) },
 * );
 * if (seen.ok) seen.protocols; // ["TLS 1.2", "TLS 1.3"]
 * ```
 *
 * @module
 */
import { type LeafFacts, readLeaf } from "./certificate.ts";
import { suiteFacts } from "./cipher_suite.ts";
import { gradeEndpoint, type Posture } from "./grading.ts";
import { runOpenssl, type RunResult } from "./openssl.ts";
import {
  classifyFailure,
  type Failure,
  parseBrief,
  parseShowcerts,
  type ProtocolName,
  PROTOCOLS,
} from "./s_client_output.ts";
import type { HostKind } from "./target.ts";

/** One endpoint to probe. */
export interface EndpointTarget {
  readonly host: string;
  readonly kind: HostKind;
  readonly port: number;
  /** The address to connect to (already checked by the guard). */
  readonly address: string;
}

/** Options of {@linkcode probeEndpoint}. */
export interface ProbeEndpointOptions {
  /** Hard timeout of each `openssl` process, in milliseconds. */
  readonly timeoutMs: number;
  /** Extra trust anchors (PEM), added to the system's. */
  readonly caFile?: string;
  /** The system's hashed certificate directory (needed beside `-CAfile`). */
  readonly caPath?: string;
  readonly signal: AbortSignal;
  /** Look for HSTS when the grade would be A. Default true. */
  readonly hsts?: boolean;
  /** The clock. Default `new Date()`. */
  readonly now?: () => Date;
}

/** What the probe saw of an endpoint that completed a handshake. */
export interface EndpointSeen {
  readonly ok: true;
  readonly address: string;
  readonly protocols: ProtocolName[];
  readonly cipher: string;
  readonly leaf: LeafFacts;
  readonly posture: Posture;
  /** openssl processes, i.e. TCP connections, this endpoint cost. */
  readonly connections: number;
}

/** An endpoint that could not be probed. */
export interface EndpointFailed {
  readonly ok: false;
  readonly address: string;
  readonly failure: Failure;
  readonly connections: number;
}

const VERSION_FLAGS: Readonly<Partial<Record<ProtocolName, string>>> = {
  "TLS 1.0": "-tls1",
  "TLS 1.1": "-tls1_1",
  "TLS 1.2": "-tls1_2",
  "TLS 1.3": "-tls1_3",
};

/**
 * Probes one endpoint. Never throws for a property of the server.
 *
 * ```ts
 * import { probeEndpoint } from "./probe_endpoint.ts";
 * // openssl s_server -accept 8443 -cert cert.pem -key key.pem -www (self-signed, CN=localhost)
 * const seen = await probeEndpoint(
 *   { host: "localhost", kind: "name", port: 8443, address: "127.0.0.1" },
 *   { timeoutMs: 8_000, signal: AbortSignal.timeout(60_000) },
 * );
 * seen.ok && [seen.protocols, seen.leaf.selfSigned]; // [["TLS 1.2", "TLS 1.3"], true]
 * seen.connections; // 4: one -showcerts run, then TLS 1.0, 1.1 and 1.2 tried one by one
 * ```
 */
export async function probeEndpoint(
  target: EndpointTarget,
  options: ProbeEndpointOptions,
): Promise<EndpointSeen | EndpointFailed> {
  const connect = target.address.includes(":")
    ? `[${target.address}]:${target.port}`
    : `${target.address}:${target.port}`;
  const base = [
    "s_client",
    "-connect",
    connect,
    ...(target.kind === "name" ? ["-servername", target.host] : []),
    "-cipher",
    "DEFAULT@SECLEVEL=0",
  ];
  let connections = 0;
  const run = (args: string[], stdin?: string): Promise<RunResult> => {
    connections++;
    return runOpenssl([...base, ...args], {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      ...(stdin === undefined ? {} : { stdin }),
    });
  };

  const trust = options.caFile
    ? ["-CAfile", options.caFile, ...(options.caPath ? ["-CApath", options.caPath] : [])]
    : [];
  const first = await run(["-showcerts", "-no_check_time", ...trust]);
  const shown = parseShowcerts(first.stdout);
  const leafPem = shown.chain[0];
  if (!leafPem || !shown.protocol || !shown.cipher) {
    const failure = classifyFailure({ ...first, timeoutMs: options.timeoutMs });
    return { ok: false, address: target.address, failure, connections };
  }
  let leaf: LeafFacts;
  try {
    leaf = readLeaf(leafPem, target);
  } catch {
    const failure = {
      kind: "failed" as const,
      message: "The server's certificate cannot be parsed",
    };
    return { ok: false, address: target.address, failure, connections };
  }

  const negotiated = shown.protocol;
  const offered = new Set<ProtocolName>([negotiated]);
  for (const protocol of PROTOCOLS.slice(0, PROTOCOLS.indexOf(negotiated))) {
    const flag = VERSION_FLAGS[protocol];
    if (!flag || options.signal.aborted) continue; // SSL 2/3: OpenSSL 3 cannot offer them
    const attempt = await run(["-brief", flag]);
    if (parseBrief(`${attempt.stdout}\n${attempt.stderr}`).protocol === protocol) {
      offered.add(protocol);
    }
  }
  const protocols = PROTOCOLS.filter((p) => offered.has(p));

  const now = (options.now ?? (() => new Date()))();
  const suite = suiteFacts(shown.cipher);
  const posture: Posture = {
    protocols,
    key: { algorithm: leaf.keyAlgorithm, bits: leaf.keySize },
    cipherBits: suite.bits,
    forwardSecrecy: suite.forwardSecrecy,
    aead: suite.aead,
    certificate: {
      chainTrusted: shown.verifyCode === 0,
      expired: now > leaf.notAfter,
      notYetValid: now < leaf.notBefore,
      selfSigned: leaf.selfSigned,
      revoked: false,
      nameMatch: leaf.nameMatch,
      signatureHash: leaf.signatureHash,
    },
    hstsMaxAge: null,
  };
  let hstsMaxAge: number | null = null;
  if ((options.hsts ?? true) && gradeEndpoint(posture).grade === "A" && !options.signal.aborted) {
    const hostHeader = target.kind === "ipv6" ? `[${target.host}]` : target.host;
    const authority = target.port === 443 ? hostHeader : `${hostHeader}:${target.port}`;
    const request =
      `GET / HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: edr-tls-scan\r\nConnection: close\r\n\r\n`;
    const response = await run(["-quiet"], request);
    hstsMaxAge = parseHstsMaxAge(response.stdout);
  }
  return {
    ok: true,
    address: target.address,
    protocols,
    cipher: shown.cipher,
    leaf,
    posture: { ...posture, hstsMaxAge },
    connections,
  };
}

/**
 * The `max-age` of the first `Strict-Transport-Security` header of an HTTP response, or null.
 *
 * @example
 * ```ts
 * parseHstsMaxAge("HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=31536000; includeSubDomains\r\n\r\n");
 * // 31536000
 * ```
 */
export function parseHstsMaxAge(response: string): number | null {
  const end = response.indexOf("\r\n\r\n");
  const head = end >= 0 ? response.slice(0, end) : response;
  if (!/^HTTP\/\d(\.\d)? \d{3}/.test(head)) return null;
  const header = /^strict-transport-security:[ \t]*(.*)$/im.exec(head)?.[1];
  const maxAge = header ? /(?:^|;)\s*max-age\s*=\s*"?(\d+)"?/i.exec(header)?.[1] : undefined;
  return maxAge === undefined ? null : Number(maxAge);
}
