/**
 * The `ssllabs` engine: SSL Labs API v4 assessments, behaving as the API asks.
 *
 * - The first call asks for the cache (`fromCache=on&maxAge=…&all=done`), or, for `fresh`,
 *   starts a new assessment (`startNew=on&all=done`) — once per assessment, never again.
 *   Either may start one, so either waits for a start slot ({@linkcode SslLabsPacer}).
 * - Then it polls (`all=done`, no startNew) 5 s until IN_PROGRESS, then 10 s, until READY or
 *   ERROR; a READY first answer is SSL Labs' cache (`from_cache: true`).
 * - 429: concurrency cut, cool-off, the start retried; 503/529: every call paused ~15/30 min;
 *   500: that assessment failed, and after three in a row the engine gives up for a while;
 *   441: the service is refused (SSLLABS_EMAIL not registered) — each is a 502 with the reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSslLabsEngine } from "./ssllabs_engine.ts";
 * import { startFakeSslLabs } from "../../tools/tls_scan/fake_ssllabs.ts";
 * // The fake API on loopback stands for https://api.ssllabs.com/api/v4/.
 * await using fake = await startFakeSslLabs({ email: "sec@example.com", hosts: {} });
 * const engine = createSslLabsEngine({
 *   baseUrl: fake.url, email: "sec@example.com", maxAgeHours: 24, timeScale: 1,
 * });
 * await engine.start(AbortSignal.timeout(30_000));
 * assert.deepEqual(fake.calls.map((c) => c.call), ["info"]); // max assessments, cool-off
 * ```
 *
 * @module
 */
import { backoffDelay, sleep } from "../app/backoff.ts";
import type { EngineResult, ResolvedTarget, ScanEngine, ScanOptions } from "./engine.ts";
import { type CallAnswer, type SslLabsCall, SslLabsClient } from "./ssllabs_client.ts";
import { SslLabsPacer } from "./ssllabs_pacer.ts";
import { buildSslLabsReport } from "./ssllabs_report.ts";
import { SslLabsHost, SslLabsInfo } from "./ssllabs_schema.ts";

/** Options of {@linkcode createSslLabsEngine}. */
export interface SslLabsEngineOptions {
  readonly baseUrl: string;
  readonly email: string;
  /** `maxAge` of cache reads (TLS_SCAN_MAX_AGE_HOURS). */
  readonly maxAgeHours: number;
  /** SSLLABS_TIME_SCALE. */
  readonly timeScale: number;
  /** Per-call timeout, ms. Default 30 000. */
  readonly callTimeoutMs?: number;
  /** Told of every call (metrics). */
  readonly onCall?: (call: SslLabsCall, status: number | "network") => void;
  /** Told when the counters change (metrics). */
  readonly onCounters?: (counters: { current: number; max: number }) => void;
  /** Told of every notable event (logs). */
  readonly onEvent?: (event: string, fields: Record<string, unknown>) => void;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

/** Consecutive 500s after which the engine gives up for {@linkcode GIVE_UP_MS}. */
const MAX_CONSECUTIVE_500 = 3;
const GIVE_UP_MS = 30 * 60_000;
/** An assessment still not finished after this long (× time scale) has failed. */
const MAX_ASSESSMENT_MS = 60 * 60_000;
const MAX_RETRIES = 4;

type Answer =
  | { readonly kind: "host"; readonly host: SslLabsHost }
  | { readonly kind: "failed"; readonly reason: string; readonly status: 502 | 503 };

/**
 * Makes the engine.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSslLabsEngine } from "./ssllabs_engine.ts";
 * const cached = {
 *   host: "example.com",
 *   status: "READY",
 *   endpoints: [{ ipAddress: "93.184.215.14", statusMessage: "Ready", grade: "A" }],
 * };
 * const engine = createSslLabsEngine({
 *   baseUrl: "https://api.ssllabs.com/api/v4/",
 *   email: "sec@example.com",
 *   maxAgeHours: 24,
 *   timeScale: 1,
 *   fetch: () => Promise.resolve(Response.json(cached)), // a stand-in for the API
 * });
 * const target = { host: "example.com", port: 443, kind: "name" as const, addresses: [] };
 * const result = await engine.scan(target, { fresh: false, signal: AbortSignal.timeout(60_000) });
 * assert.deepEqual(result.kind === "report" && [result.report.grade, result.report.from_cache], ["A", true]);
 * ```
 */
export function createSslLabsEngine(options: SslLabsEngineOptions): ScanEngine {
  const client = new SslLabsClient({
    baseUrl: options.baseUrl,
    email: options.email,
    timeoutMs: options.callTimeoutMs,
    onCall: options.onCall,
    fetch: options.fetch,
  });
  const scale = options.timeScale;
  const event = options.onEvent ?? (() => {});
  let refusedUntil = 0;
  let refusedReason = "";
  let consecutive500 = 0;
  let infoLoaded = false;

  const pacer = new SslLabsPacer({
    timeScale: scale,
    random: options.random,
    refresh: async (signal) => void await loadInfo(signal),
  });
  const counters = (answer: CallAnswer) => {
    if (answer.kind !== "response") return;
    pacer.update(answer);
    options.onCounters?.({ current: pacer.currentAssessments, max: pacer.maxAssessments });
  };
  const refuse = (
    reason: string,
    forMs: number,
  ): { kind: "failed"; reason: string; status: 502 } => {
    refusedUntil = performance.now() + forMs;
    refusedReason = reason;
    event("ssllabs refused the service", { reason });
    return { kind: "failed", reason, status: 502 };
  };

  async function loadInfo(signal: AbortSignal): Promise<string> {
    const answer = await client.call("info", {}, signal);
    counters(answer);
    if (answer.kind === "network") return `SSL Labs unreachable: ${answer.message}`;
    if (answer.status === 441) return refuse(notRegistered(), 60 * 60_000 * scale).reason;
    const info = SslLabsInfo.safeParse(answer.body);
    if (answer.status !== 200 || !info.success) return `SSL Labs info answered ${answer.status}`;
    pacer.update(info.data);
    options.onCounters?.({ current: pacer.currentAssessments, max: pacer.maxAssessments });
    infoLoaded = true;
    return "";
  }

  /** One analyze call with the retries its status asks for. */
  async function analyze(
    params: Record<string, string>,
    signal: AbortSignal,
    starting: boolean,
  ): Promise<Answer> {
    for (let attempt = 1;; attempt++) {
      if (!await pacer.whilePaused(signal)) return STOPPING;
      const answer = await client.call("analyze", params, signal);
      counters(answer);
      if (signal.aborted) return STOPPING;
      const last = attempt >= MAX_RETRIES;
      if (answer.kind === "network") {
        if (last) {
          return { kind: "failed", reason: `SSL Labs unreachable: ${answer.message}`, status: 502 };
        }
        if (
          !await sleep(
            backoffDelay(attempt, { baseMs: 1_000 * scale, capMs: 30_000 * scale }),
            signal,
          )
        ) {
          return STOPPING;
        }
        continue;
      }
      switch (answer.status) {
        case 200: {
          consecutive500 = 0;
          const host = SslLabsHost.safeParse(answer.body);
          return host.success
            ? { kind: "host", host: host.data }
            : { kind: "failed", reason: "SSL Labs sent an unexpected answer", status: 502 };
        }
        case 429:
          event("ssllabs 429: cutting concurrency", { active: pacer.active, starting });
          pacer.tooManyRequests();
          if (last) return { kind: "failed", reason: "SSL Labs rate limit (429)", status: 502 };
          if (!await sleep(pacer.startSpacingMs, signal)) return STOPPING;
          continue;
        case 503:
        case 529: {
          const ms = pacer.pause(answer.status);
          event("ssllabs unavailable: pausing", {
            status: answer.status,
            pause_ms: Math.round(ms),
          });
          if (last) {
            return {
              kind: "failed",
              reason: `SSL Labs unavailable (${answer.status})`,
              status: 502,
            };
          }
          continue;
        }
        case 500:
          if (++consecutive500 >= MAX_CONSECUTIVE_500) {
            return refuse("SSL Labs keeps failing (repeated 500 responses)", GIVE_UP_MS * scale);
          }
          return {
            kind: "failed",
            reason: "SSL Labs internal error (500): assessment failed",
            status: 502,
          };
        case 441:
          return refuse(notRegistered(), 60 * 60_000 * scale);
        case 400:
          return {
            kind: "failed",
            reason: `SSL Labs rejected the request (400): ${errors(answer.body)}`,
            status: 502,
          };
        default:
          return { kind: "failed", reason: `SSL Labs answered ${answer.status}`, status: 502 };
      }
    }
  }

  async function assess(target: ResolvedTarget, scan: ScanOptions): Promise<EngineResult> {
    if (performance.now() < refusedUntil) {
      return { kind: "failed", reason: refusedReason, status: 502 };
    }
    const first: Record<string, string> = scan.fresh
      ? { host: target.host, startNew: "on", all: "done" }
      : { host: target.host, fromCache: "on", maxAge: String(options.maxAgeHours), all: "done" };
    const opened = await pacer.startSlot(scan.signal, () => analyze(first, scan.signal, true));
    if (!opened) return STOPPING;
    if (opened.kind === "failed") return opened;
    let host = opened.host;
    const finished = (h: SslLabsHost) => h.status === "READY" || h.status === "ERROR";
    const now = () => new Date();
    if (finished(host)) {
      return {
        kind: "report",
        report: buildSslLabsReport(host, { port: target.port, fromCache: !scan.fresh, now: now() }),
      };
    }
    pacer.began();
    const startTime = host.startTime;
    const deadline = performance.now() + MAX_ASSESSMENT_MS * scale;
    try {
      while (!finished(host)) {
        if (performance.now() > deadline) {
          return {
            kind: "failed",
            reason: "SSL Labs assessment did not finish in time",
            status: 502,
          };
        }
        if (!await sleep(pacer.pollDelayMs(host.status), scan.signal)) return STOPPING;
        const polled = await analyze({ host: target.host, all: "done" }, scan.signal, false);
        if (polled.kind === "failed") return polled;
        host = polled.host;
        if (
          startTime !== undefined && host.startTime !== undefined && host.startTime !== startTime
        ) {
          // Someone restarted it; follow the new one rather than start another.
          event("ssllabs assessment restarted by someone else", { host: target.host });
        }
      }
      pacer.relax();
      return {
        kind: "report",
        report: buildSslLabsReport(host, { port: target.port, fromCache: false, now: now() }),
      };
    } finally {
      pacer.ended();
    }
  }

  return {
    name: "ssllabs",
    connectsItself: false,
    scan: assess,
    retryAfterSeconds: () => Math.max(1, Math.ceil(10 * scale)),
    parallelism: () => Math.max(1, pacer.ownLimit),
    async check(signal: AbortSignal) {
      if (performance.now() < refusedUntil) throw new Error(refusedReason);
      if (!infoLoaded) {
        const problem = await loadInfo(signal);
        if (problem) throw new Error(problem);
      }
      return { max: pacer.maxAssessments, current: pacer.currentAssessments };
    },
    async start(signal: AbortSignal) {
      const problem = await loadInfo(signal);
      if (problem) event("ssllabs info failed at start", { problem });
    },
  };
}

const STOPPING = { kind: "failed", reason: "the service is stopping", status: 503 } as const;

function notRegistered(): string {
  return "SSL Labs refused the service (441: the SSLLABS_EMAIL address is not registered)";
}

function errors(body: unknown): string {
  const list = (body as { errors?: { field?: string; message?: string }[] })?.errors;
  return Array.isArray(list)
    ? list.map((e) => `${e.field ?? "?"}: ${e.message ?? "?"}`).join(", ")
    : String(body).slice(0, 200);
}
