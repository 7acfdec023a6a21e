/**
 * Runs Debian's `sslscan` (2.0.7) with `--xml=-` and reads what the agreement tests and the
 * benchmark compare: offered protocols, every accepted suite with its key-exchange size
 * (`ecdhebits` / `dhebits`), secure renegotiation, wall time.
 *
 * @example
 * ```ts
 * import { runSslscan } from "./sslscan.ts";
 * const scan = await runSslscan("127.0.0.1", 8443, { timeoutMs: 60_000 });
 * scan.suites.length; // every suite sslscan saw accepted
 * ```
 *
 * @module
 */

/** One accepted suite as sslscan lists it. */
export interface SslscanSuite {
  /** `TLS 1.2` (the report's spelling). */
  readonly protocol: string;
  readonly name: string;
  readonly bits: number;
  /** Curve or DH group bits; null for RSA key exchange. */
  readonly kexBits: number | null;
}

/** What one sslscan run found. */
export interface SslscanResult {
  readonly protocols: string[];
  readonly suites: SslscanSuite[];
  /** null when sslscan could not tell. */
  readonly secureRenegotiation: boolean | null;
  readonly elapsedMs: number;
  readonly xml: string;
}

/** Options of {@linkcode runSslscan}. */
export interface SslscanOptions {
  readonly timeoutMs: number;
  /** SNI name (sslscan's `--sni-name`). */
  readonly sniName?: string;
}

const VERSION: Readonly<Record<string, string>> = {
  "TLSv1.0": "TLS 1.0",
  "TLSv1.1": "TLS 1.1",
  "TLSv1.2": "TLS 1.2",
  "TLSv1.3": "TLS 1.3",
};

/**
 * Reads sslscan's XML.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSslscanXml } from "./sslscan.ts";
 * const parsed = parseSslscanXml(`<protocol type="tls" version="1.2" enabled="1" />
 *   <cipher status="preferred" sslversion="TLSv1.2" bits="128" cipher="DHE-RSA-AES128-GCM-SHA256" id="0x009E" strength="strong" dhebits="1024" />`);
 * assert.deepEqual(parsed.suites, [{ protocol: "TLS 1.2", name: "DHE-RSA-AES128-GCM-SHA256", bits: 128, kexBits: 1024 }]);
 * ```
 */
export function parseSslscanXml(xml: string): Omit<SslscanResult, "elapsedMs" | "xml"> {
  const attributes = (tag: string): Record<string, string> =>
    Object.fromEntries([...tag.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
  const protocols: string[] = [];
  for (const [tag] of xml.matchAll(/<protocol [^>]*>/g)) {
    const a = attributes(tag);
    if (a.type === "tls" && a.enabled === "1") protocols.push(`TLS ${a.version}`);
    if (a.type === "ssl" && a.enabled === "1") protocols.push(`SSL ${a.version}.0`);
  }
  const suites: SslscanSuite[] = [];
  for (const [tag] of xml.matchAll(/<cipher [^>]*>/g)) {
    const a = attributes(tag);
    const kex = a.ecdhebits ?? a.dhebits;
    suites.push({
      protocol: VERSION[a.sslversion ?? ""] ?? a.sslversion ?? "",
      name: a.cipher ?? "",
      bits: Number(a.bits),
      kexBits: kex === undefined ? null : Number(kex),
    });
  }
  const reneg = /<renegotiation supported="(\d)" secure="(\d)"/.exec(xml);
  return {
    protocols,
    suites,
    // `secure="0"` is also what sslscan says when its own renegotiation handshake failed (an
    // ECDSA-only server) or went to TLS 1.3 (where renegotiation does not exist): only a "1" is
    // a verdict.
    secureRenegotiation: reneg?.[2] === "1" ? true : null,
  };
}

/** Runs sslscan against `host:port`; throws when it does not finish in time. */
export async function runSslscan(
  host: string,
  port: number,
  options: SslscanOptions,
): Promise<SslscanResult> {
  const started = performance.now();
  const output = await new Deno.Command("sslscan", {
    args: [
      "--xml=-",
      "--no-colour",
      ...(options.sniName ? [`--sni-name=${options.sniName}`] : []),
      `${host}:${port}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(options.timeoutMs),
  }).output();
  const xml = new TextDecoder().decode(output.stdout);
  if (!output.success) {
    throw new Error(`sslscan failed: ${new TextDecoder().decode(output.stderr).slice(0, 300)}`);
  }
  return { ...parseSslscanXml(xml), elapsedMs: performance.now() - started, xml };
}
