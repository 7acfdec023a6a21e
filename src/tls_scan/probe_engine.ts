/**
 * The `probe` engine: the service scans the host itself with `openssl s_client`, at most
 * `concurrency` hosts at once (each host's endpoints one after the other), every scan bounded
 * by a deadline so that a host of silent endpoints is a finished ERROR report within a minute.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProbeEngine } from "./probe_engine.ts";
 * const engine = createProbeEngine({ timeoutMs: 8_000, concurrency: 4 });
 * await engine.start(AbortSignal.timeout(5_000)); // finds openssl and its certificate directory
 * await engine.check(AbortSignal.timeout(5_000)); // ready: openssl runs
 * assert.equal(engine.parallelism(), 4);
 * ```
 *
 * @module
 */
import pLimit from "p-limit";
import type { EngineResult, ResolvedTarget, ScanEngine, ScanOptions } from "./engine.ts";
import { runOpenssl } from "./openssl.ts";
import { type EndpointFailed, type EndpointSeen, probeEndpoint } from "./probe_endpoint.ts";
import { buildProbeReport } from "./probe_report.ts";
import { loadCatalog, type SuiteCatalog } from "./suite_catalog.ts";

/** Options of {@linkcode createProbeEngine}. */
export interface ProbeEngineOptions {
  /** Hard timeout of each `openssl` process, in milliseconds (TLS_SCAN_TIMEOUT_SECONDS). */
  readonly timeoutMs: number;
  /** Hosts the scheduler's scans probe at once (TLS_SCAN_CONCURRENCY). */
  readonly concurrency: number;
  /** Handshakes in flight at once per endpoint. Default `CONNECTIONS_AT_ONCE` (4). */
  readonly connectionsAtOnce?: number | undefined;
  /**
   * Hosts GET /scan's scans probe at once, in a lane of their own
   * (TLS_SCAN_REQUEST_CONCURRENCY). Default `concurrency`.
   */
  readonly requestConcurrency?: number;
  /** Extra trust anchors, PEM (TLS_SCAN_CA_FILE). */
  readonly caFile?: string | undefined;
  /** A whole scan's deadline in milliseconds. Default 55 000 (the contract's 60 s, less margin). */
  readonly scanDeadlineMs?: number;
  /** Told of each finished endpoint probe (metrics, figures). */
  readonly onEndpoint?: (seen: EndpointSeen | EndpointFailed) => void;
  /** The clock. Default `new Date()`. */
  readonly now?: (() => Date) | undefined;
}

const STOPPING: EngineResult = { kind: "failed", reason: "the service is stopping", status: 503 };

/**
 * Makes the probe engine.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createProbeEngine } from "./probe_engine.ts";
 * const engine = createProbeEngine({ timeoutMs: 8_000, concurrency: 4 });
 * const target = { host: "127.0.0.1", port: 9, kind: "ipv4" as const, addresses: ["127.0.0.1"] };
 * const result = await engine.scan(target, { fresh: false, signal: AbortSignal.timeout(60_000) });
 * assert.equal(result.kind === "report" && result.report.status_message, "Connection refused"); // nothing on 9
 * ```
 */
export function createProbeEngine(options: ProbeEngineOptions): ScanEngine {
  // Two lanes: requests for hosts that never answer fill only their own.
  const lanes = {
    watched: pLimit(options.concurrency),
    request: pLimit(options.requestConcurrency ?? options.concurrency),
  };
  let caPath: string | undefined;
  let catalog: Promise<SuiteCatalog> | undefined;
  const now = options.now ?? (() => new Date());
  // Read once, on first use (or at start): which suites this openssl can offer.
  const suites = (signal: AbortSignal) => {
    catalog ??= loadCatalog(signal).catch((error) => {
      catalog = undefined;
      throw error;
    });
    return catalog;
  };

  async function scanNow(target: ResolvedTarget, signal: AbortSignal): Promise<EngineResult> {
    const deadline = AbortSignal.any([
      signal,
      AbortSignal.timeout(options.scanDeadlineMs ?? 55_000),
    ]);
    const seen: (EndpointSeen | EndpointFailed)[] = [];
    const known = await suites(deadline);
    for (const address of target.addresses) {
      if (deadline.aborted) break;
      const observation = await probeEndpoint(
        { host: target.host, kind: target.kind, port: target.port, address },
        {
          timeoutMs: options.timeoutMs,
          catalog: known,
          connectionsAtOnce: options.connectionsAtOnce,
          signal: deadline,
          caFile: options.caFile,
          caPath,
          now,
        },
      );
      options.onEndpoint?.(observation);
      seen.push(observation);
    }
    if (signal.aborted) return STOPPING;
    return { kind: "report", report: buildProbeReport(target, seen, now()) };
  }

  return {
    name: "probe",
    connectsItself: true,
    scan(target: ResolvedTarget, scan: ScanOptions): Promise<EngineResult> {
      const limit = lanes[scan.lane ?? "watched"];
      return limit(() => scan.signal.aborted ? STOPPING : scanNow(target, scan.signal));
    },
    retryAfterSeconds: () => Math.max(1, Math.ceil(options.timeoutMs / 1000)),
    parallelism: () => options.concurrency,
    async check(signal: AbortSignal) {
      const run = await runOpenssl(["version"], { timeoutMs: 5_000, signal });
      if (run.code !== 0) throw new Error(`openssl version failed: ${run.stderr.trim()}`);
      return run.stdout.trim();
    },
    async start(signal: AbortSignal) {
      await suites(signal);
      if (!options.caFile) return;
      // `-CAfile` switches the default trust locations off; `-CApath` brings the system's back.
      const run = await runOpenssl(["version", "-d"], { timeoutMs: 5_000, signal });
      const dir = /OPENSSLDIR: "([^"]+)"/.exec(run.stdout)?.[1];
      if (dir) caPath = `${dir}/certs`;
    },
  };
}
