/**
 * Probes one endpoint (one IP address of the host) with `openssl s_client`:
 *
 * 1. a `-showcerts -status` handshake as a modern client would offer it → the chain as sent,
 *    the negotiated protocol, the chain verification (dates left out with `-no_check_time`:
 *    they are judged from the leaf, so an expired leaf of a trusted CA is `expired`, not
 *    `untrusted`), OCSP stapling. If this fails the endpoint is unreachable, not TLS, or
 *    silent: stop here, so a black hole costs one timeout, not dozens;
 * 2. suite enumeration by elimination ({@linkcode enumerateSuites}) on every protocol up to the
 *    negotiated one, at most `connectionsAtOnce` handshakes at a time → the offered protocols,
 *    every accepted suite with its key exchange size, secure renegotiation;
 * 3. with two protocols or more, one handshake on the second best with `-fallback_scsv`: a
 *    server that completes it does not protect against downgrades (RFC 7507);
 * 4. when the grade would be A, an HTTP `GET /` for `Strict-Transport-Security` (A+).
 *
 * Every run uses security level 0: OpenSSL 3 refuses TLS 1.0/1.1, RSA-1024 chains and weak
 * suites at its default level, and the probe must see them to report them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeEndpoint } from "./probe_endpoint.ts";
 * import { loadCatalog } from "./suite_catalog.ts";
 * // Nothing listens on port 9: the probe answers what it saw, it does not throw.
 * const seen = await probeEndpoint(
 *   { host: "localhost", kind: "name", port: 9, address: "127.0.0.1" },
 *   { timeoutMs: 8_000, signal: AbortSignal.timeout(60_000), catalog: await loadCatalog(AbortSignal.timeout(5_000)) },
 * );
 * assert.equal(seen.ok, false);
 * assert.equal(!seen.ok && seen.failure.kind, "refused");
 * // A server that answers: see probeEndpoint, below.
 * ```
 *
 * @module
 */
import pLimit from "p-limit";
import { type LeafFacts, readLeaf } from "./certificate.ts";
import { chainIssues } from "./chain.ts";
import { enumerateSuites, type HandshakeSeen } from "./enumerate_suites.ts";
import { gradeEndpoint, type Posture } from "./grading.ts";
import { openLibssl } from "./libssl.ts";
import { runOpenssl, type RunResult } from "./openssl.ts";
import type { Features, Suite } from "./report.ts";
import { PROTOCOL_SPELLINGS, type ProtocolName, PROTOCOLS } from "./protocols.ts";
import { classifyFailure, type Failure, parseSession } from "./s_client_output.ts";
import type { SuiteCatalog } from "./suite_catalog.ts";
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
  /** What the local openssl can offer ({@linkcode loadCatalog}). */
  readonly catalog: SuiteCatalog;
  /** Enumerate through the system's libssl when FFI allows it. Default true. */
  readonly inProcess?: boolean;
  /** Handshakes in flight at once against this endpoint. Default {@linkcode CONNECTIONS_AT_ONCE}. */
  readonly connectionsAtOnce?: number | undefined;
  /** Extra trust anchors (PEM), added to the system's. */
  readonly caFile?: string | undefined;
  /** The system's hashed certificate directory (needed beside `-CAfile`). */
  readonly caPath?: string | undefined;
  readonly signal: AbortSignal;
  /** Look for HSTS when the grade would be A. Default true. */
  readonly hsts?: boolean;
  /** The clock. Default `new Date()`. */
  readonly now?: () => Date;
}

/**
 * Handshakes in flight at once against one endpoint: 4 halves a full enumeration's time on two
 * cores against 2 and gains little at 8 (BENCHMARKS.md), and a real server sees no more
 * than a browser opening four connections.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { CONNECTIONS_AT_ONCE } from "./probe_endpoint.ts";
 * assert.equal(CONNECTIONS_AT_ONCE, 4);
 * ```
 */
export const CONNECTIONS_AT_ONCE = 4;

/** What the probe saw of an endpoint that completed a handshake. */
export interface EndpointSeen {
  readonly ok: true;
  readonly address: string;
  readonly protocols: ProtocolName[];
  /** What a modern client negotiates. */
  readonly cipher: string;
  readonly suites: Suite[];
  readonly features: Features;
  readonly leaf: LeafFacts;
  readonly posture: Posture;
  /** openssl processes, i.e. TCP connections, this endpoint cost. */
  readonly connections: number;
  /** Enumeration handshakes that timed out and were retried. */
  readonly timeouts: number;
}

/** An endpoint that could not be probed. */
export interface EndpointFailed {
  readonly ok: false;
  readonly address: string;
  readonly failure: Failure;
  readonly connections: number;
}

const flag = (protocol: ProtocolName) => PROTOCOL_SPELLINGS[protocol].sClientFlag;

/**
 * Probes one endpoint. Never throws for a property of the server.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { probeEndpoint } from "./probe_endpoint.ts";
 * import { loadCatalog } from "./suite_catalog.ts";
 * import { startTlsServer } from "../../tools/tls_scan/tls_server.ts";
 * // openssl s_server on a free loopback port, with a fresh self-signed RSA leaf for localhost.
 * await using server = await startTlsServer();
 * const port = server.port;
 *
 * const catalog = await loadCatalog(AbortSignal.timeout(5_000));
 * const seen = await probeEndpoint(
 *   { host: "localhost", kind: "name", port, address: "127.0.0.1" },
 *   { timeoutMs: 8_000, signal: AbortSignal.timeout(60_000), catalog },
 * );
 * assert.deepEqual(seen.ok && [seen.protocols, seen.leaf.selfSigned], [["TLS 1.2", "TLS 1.3"], true]);
 * assert.equal(seen.ok && seen.suites.filter((s) => s.protocol === "TLS 1.3").length, 3);
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
  ];
  const limit = pLimit(options.connectionsAtOnce ?? CONNECTIONS_AT_ONCE);
  let connections = 0;
  const run = (args: string[], stdin?: string): Promise<RunResult> => {
    connections++;
    return limit(() =>
      runOpenssl([...base, ...args], {
        timeoutMs: options.timeoutMs,
        signal: options.signal,
        stdin,
      })
    );
  };
  const legacy = ["-cipher", "DEFAULT@SECLEVEL=0"];

  const trust = options.caFile
    ? ["-CAfile", options.caFile, ...(options.caPath ? ["-CApath", options.caPath] : [])]
    : [];
  const first = await run([...legacy, "-showcerts", "-status", "-no_check_time", ...trust]);
  const shown = parseSession(first.stdout);
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

  // A server that negotiated TLS 1.2 with a client offering 1.3 does not offer 1.3.
  const tried = PROTOCOLS.slice(0, PROTOCOLS.indexOf(shown.protocol) + 1)
    .filter((p) => flag(p) !== undefined);
  const libssl = options.inProcess === false ? undefined : openLibssl();
  const viaLibssl = (protocol: ProtocolName, offer: readonly string[], fallbackScsv = false) => {
    connections++;
    return limit(() =>
      libssl!.handshake({
        address: target.address,
        port: target.port,
        serverName: target.kind === "name" ? target.host : undefined,
        protocol,
        offer,
        fallbackScsv,
        timeoutMs: options.timeoutMs,
        signal: options.signal,
      })
    );
  };
  const viaProcess = async (protocol: ProtocolName, offer: readonly string[]) => {
    const suites = protocol === "TLS 1.3"
      ? ["-ciphersuites", offer.join(":"), ...legacy]
      : ["-cipher", `${offer.join(":")}:@SECLEVEL=0`];
    return parseSession((await run([flag(protocol)!, ...suites])).stdout);
  };
  const enumeration = await enumerateSuites(
    options.catalog,
    tried,
    (protocol, offer): Promise<HandshakeSeen | undefined> => {
      if (options.signal.aborted) return Promise.resolve(undefined);
      return libssl ? viaLibssl(protocol, offer) : viaProcess(protocol, offer);
    },
  );
  const protocols = enumeration.protocols.length > 0 ? enumeration.protocols : [shown.protocol];
  const older = protocols.filter((p) => p !== "TLS 1.3");
  const renegotiation = older.map((p) => enumeration.first[p]?.secureRenegotiation)
    .find((r) => r !== undefined);

  let fallbackScsv: boolean | null = null;
  const secondBest = protocols.at(-2);
  if (secondBest && !options.signal.aborted) {
    // Offer what the server accepted on that protocol, so only the SCSV can make it refuse.
    const offer = enumeration.suites.filter((x) => x.protocol === secondBest).map((x) => x.name);
    let failure: string;
    if (libssl) {
      const downgraded = await viaLibssl(secondBest, offer, true);
      failure = downgraded.cipher ? "" : downgraded.failure ?? "";
    } else {
      const downgraded = await run([
        flag(secondBest)!,
        "-cipher",
        `${offer.join(":")}:@SECLEVEL=0`,
        "-fallback_scsv",
      ]);
      failure = parseSession(downgraded.stdout).cipher ? "" : downgraded.stderr;
    }
    if (failure === "") fallbackScsv = false;
    else if (failure.includes("inappropriate fallback")) fallbackScsv = true;
  }
  const features: Features = {
    secure_renegotiation: renegotiation ?? null,
    fallback_scsv: fallbackScsv,
    ocsp_stapling: shown.ocspStapled ?? null,
    chain_length: shown.chain.length,
    chain_issues: chainIssues(shown.chain, shown.verifyCode),
  };

  const now = (options.now ?? (() => new Date()))();
  const posture: Posture = {
    protocols,
    key: { algorithm: leaf.keyAlgorithm, bits: leaf.keySize },
    suites: enumeration.suites,
    features,
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
  const grade = gradeEndpoint(posture).grade;
  if ((options.hsts ?? true) && grade === "A" && !options.signal.aborted) {
    const hostHeader = target.kind === "ipv6" ? `[${target.host}]` : target.host;
    const authority = target.port === 443 ? hostHeader : `${hostHeader}:${target.port}`;
    const request =
      `GET / HTTP/1.1\r\nHost: ${authority}\r\nUser-Agent: edr-tls-scan\r\nConnection: close\r\n\r\n`;
    const response = await run([...legacy, "-quiet"], request);
    hstsMaxAge = parseHstsMaxAge(response.stdout);
  }
  return {
    ok: true,
    address: target.address,
    protocols,
    cipher: shown.cipher,
    suites: enumeration.suites,
    features,
    leaf,
    posture: { ...posture, hstsMaxAge },
    connections,
    timeouts: enumeration.timeouts,
  };
}

/**
 * The `max-age` of the first `Strict-Transport-Security` header of an HTTP response, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseHstsMaxAge } from "./probe_endpoint.ts";
 * const response = "HTTP/1.1 200 OK\r\nStrict-Transport-Security: max-age=31536000; includeSubDomains\r\n\r\n";
 * assert.equal(parseHstsMaxAge(response), 31536000);
 * assert.equal(parseHstsMaxAge("HTTP/1.1 200 OK\r\n\r\n"), null);
 * ```
 */
export function parseHstsMaxAge(response: string): number | null {
  // Headers past 64 KiB are not read: the regexes below then stay cheap on any answer.
  const capped = response.slice(0, 64 * 1024);
  const end = capped.indexOf("\r\n\r\n");
  const head = end >= 0 ? capped.slice(0, end) : capped;
  if (!/^HTTP\/\d(\.\d)? \d{3}/.test(head)) return null;
  const header = /^strict-transport-security:[ \t]*(.*)$/im.exec(head)?.[1];
  const maxAge = header ? /(?:^|;)\s*max-age\s*=\s*"?(\d+)"?/i.exec(header)?.[1] : undefined;
  return maxAge === undefined ? null : Number(maxAge);
}
