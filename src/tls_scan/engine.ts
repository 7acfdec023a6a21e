/**
 * What an engine is to the rest of the component: given a target whose addresses the SSRF
 * guard has allowed, produce a finished report, or say why the engine could not (SSL Labs
 * refusing the service). The coordinator, the scheduler and the routes depend on this alone.
 *
 * @example
 * ```ts
 * import type { ScanEngine } from "./engine.ts";
 * async function scanOnce(engine: ScanEngine) {
 *   const signal = new AbortController().signal;
 *   const target = { host: "example.com", port: 443, kind: "name" as const, addresses: ["93.184.215.14"] };
 *   return await engine.scan(target, { fresh: false, signal });
 * }
 * ```
 *
 * @module
 */
import type { EngineName, TlsReport } from "./report.ts";
import type { HostKind } from "./target.ts";

/** A validated target and the addresses the guard allowed. */
export interface ResolvedTarget {
  readonly host: string;
  readonly port: number;
  readonly kind: HostKind;
  readonly addresses: readonly string[];
}

/** Options of one scan. */
export interface ScanOptions {
  /** Do not accept a cached result (SSL Labs: start a new assessment). */
  readonly fresh: boolean;
  /** Aborted at shutdown. */
  readonly signal: AbortSignal;
  /**
   * Who asked: `request` (GET /scan) or `watched` (the scheduler). The probe runs each lane
   * within its own concurrency, so requests cannot starve watched hosts' rescans. Default
   * `watched`.
   */
  readonly lane?: "request" | "watched";
}

/** The end of a scan. */
export type EngineResult =
  /** A finished report (READY or ERROR), stored and answered. */
  | { readonly kind: "report"; readonly report: TlsReport }
  /**
   * The engine could not scan: not stored, answered with `status` (502: SSL Labs refused the
   * service or kept failing; 503: the service is stopping).
   */
  | { readonly kind: "failed"; readonly reason: string; readonly status: 502 | 503 };

/** An engine. */
export interface ScanEngine {
  readonly name: EngineName;
  /**
   * `true` when the engine connects to the addresses itself (the probe); `false` when a third
   * party resolves and connects (SSL Labs): with private targets allowed, nothing is resolved.
   */
  readonly connectsItself: boolean;
  /** Scans `target`. Never throws for a property of the target; rejects only on a defect. */
  scan(target: ResolvedTarget, options: ScanOptions): Promise<EngineResult>;
  /** Seconds a caller told 202 should wait before asking again. */
  retryAfterSeconds(): number;
  /** How many scans the scheduler should keep going at once. */
  parallelism(): number;
  /** Readiness: resolves when the engine can scan (openssl runs; SSL Labs accepts us). */
  check(signal: AbortSignal): Promise<unknown>;
  /** Starts background work (SSL Labs: the `info` call). */
  start(signal: AbortSignal): Promise<void>;
}
