/**
 * Synthetic tls-scan data for tests and benchmarks that need many reports or scans without a
 * TLS server: a READY report of any host (its grade, scan time and certificate expiry chosen),
 * numbered watch-list targets, and a stand-in engine that answers such a report after a pause,
 * counting its scans. The store contract, the scheduler tests and the store and scrape
 * benchmarks share them.
 *
 * @module
 */
import type { EngineResult, ResolvedTarget, ScanEngine } from "../../src/tls_scan/engine.ts";
import type { Grade, TlsReport } from "../../src/tls_scan/report.ts";
import type { Target } from "../../src/tls_scan/target.ts";

const DAY = 86_400_000;

/** Options of {@linkcode syntheticReport}. */
export interface SyntheticReportOptions {
  readonly host: string;
  /** Default 443. */
  readonly port?: number;
  /** Default `A`. */
  readonly grade?: Grade;
  /** When it was scanned. Default now. */
  readonly scannedAtMs?: number;
  /** Its certificate ends this many days after the scan (`expiring_soon` under 30). Default 90. */
  readonly days?: number;
  /**
   * Every part of a report filled (one suite, a protocol not tested, the features), for a store
   * that must keep them all; default empty, as a bench needs nothing more.
   */
  readonly detailed?: boolean;
}

/**
 * A READY report of `host` as the probe would make it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { TlsReport } from "../../src/tls_scan/report.ts";
 * import { syntheticReport } from "./synthetic_reports.ts";
 * const at = Date.parse("2026-03-01T00:00:00Z");
 * const report = syntheticReport({ host: "a.test", grade: "B", scannedAtMs: at, days: 10 });
 * assert.deepEqual(TlsReport.parse(report), report); // a valid report
 * assert.equal(report.certificate?.not_after, "2026-03-11T00:00:00.000Z");
 * assert.deepEqual(report.problems, ["expiring_soon"]);
 * ```
 */
export function syntheticReport(options: SyntheticReportOptions): TlsReport {
  const { host, grade = "A", days = 90 } = options;
  const atMs = options.scannedAtMs ?? Date.now();
  const at = new Date(atMs).toISOString();
  return {
    host,
    port: options.port ?? 443,
    engine: "probe",
    status: "READY",
    status_message: "Ready",
    grade,
    scanned_at: at,
    from_cache: false,
    endpoints: [{
      ip_address: "192.0.2.1",
      grade,
      has_warnings: false,
      protocols: ["TLS 1.2", "TLS 1.3"],
      status_message: "Ready",
    }],
    certificate: {
      subject: `CN=${host}`,
      issuer: "CN=Synthetic CA",
      not_before: new Date(atMs - 30 * DAY).toISOString(),
      not_after: new Date(atMs + days * DAY).toISOString(),
      days_remaining: days,
      key_algorithm: "EC",
      key_size: 256,
      trusted: true,
      name_match: true,
      revocation_status: "unknown",
    },
    problems: days < 30 ? ["expiring_soon"] : [],
    suites: options.detailed
      ? [{
        protocol: "TLS 1.3",
        name: "TLS_AES_128_GCM_SHA256",
        bits: 128,
        kex: "ECDH",
        kex_bits: 253,
        forward_secrecy: true,
        aead: true,
      }]
      : [],
    not_tested: options.detailed ? ["ssl2"] : [],
    features: options.detailed
      ? {
        secure_renegotiation: true,
        fallback_scsv: null,
        ocsp_stapling: false,
        chain_length: 2,
        chain_issues: [],
      }
      : {
        secure_renegotiation: null,
        fallback_scsv: null,
        ocsp_stapling: null,
        chain_length: null,
        chain_issues: [],
      },
  };
}

/**
 * `count` targets on port 443 named `host-00000.bench.test` on, in the watch list's order.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { syntheticTargets } from "./synthetic_reports.ts";
 * assert.deepEqual(syntheticTargets(2), [
 *   { host: "host-00000.bench.test", port: 443 },
 *   { host: "host-00001.bench.test", port: 443 },
 * ]);
 * ```
 */
export function syntheticTargets(count: number): Target[] {
  return Array.from({ length: count }, (_, i) => ({
    host: `host-${String(i).padStart(5, "0")}.bench.test`,
    port: 443,
  }));
}

/** Options of {@linkcode standInEngine}. */
export interface StandInEngineOptions {
  /** How long a scan takes, ms. */
  readonly delayMs: number;
  /** Scans at once (the engine's `parallelism()`). */
  readonly parallelism: number;
  /** The report of a scan. Default {@linkcode syntheticReport} of the target, scanned now. */
  readonly report?: (target: ResolvedTarget) => TlsReport;
}

/** A stand-in engine and what it saw. */
export interface StandInEngine {
  readonly engine: ScanEngine;
  /** The hosts scanned, in the order the scans started. */
  readonly scans: string[];
  /** The most scans that ran at once. */
  peak(): number;
}

/**
 * An engine that answers every scan with a report after `delayMs`, touching no network.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { standInEngine } from "./synthetic_reports.ts";
 * const { engine, scans, peak } = standInEngine({ delayMs: 1, parallelism: 2 });
 * const target = { host: "a.test", port: 443, kind: "name" as const, addresses: ["192.0.2.1"] };
 * const result = await engine.scan(target, { fresh: false, signal: new AbortController().signal });
 * assert.equal(result.kind === "report" && result.report.grade, "A");
 * assert.deepEqual(scans, ["a.test"]);
 * assert.equal(peak(), 1);
 * ```
 */
export function standInEngine(options: StandInEngineOptions): StandInEngine {
  const scans: string[] = [];
  let running = 0;
  let peak = 0;
  const report = options.report ??
    ((target: ResolvedTarget) => syntheticReport({ host: target.host, port: target.port }));
  const engine: ScanEngine = {
    name: "probe",
    connectsItself: true,
    async scan(target): Promise<EngineResult> {
      scans.push(target.host);
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, options.delayMs));
      running--;
      return { kind: "report", report: report(target) };
    },
    retryAfterSeconds: () => 1,
    parallelism: () => options.parallelism,
    check: () => Promise.resolve(),
    start: () => Promise.resolve(),
  };
  return { engine, scans, peak: () => peak };
}
