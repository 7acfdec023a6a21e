/**
 * Readiness over the enabled components: the service is ready only when every check of every
 * component answers (for the submissions pipeline: SQS and Kinesis). Checks are cheap read-only
 * calls with a short timeout, cached briefly so a busy `/readyz` does not hammer a dependency.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Readiness } from "./readiness.ts";
 *
 * const readiness = new Readiness({
 *   checks: { submissions: { sqs: () => Promise.resolve(), kinesis: () => Promise.resolve() } },
 * });
 * const report = await readiness.check();
 * assert.equal(report.ready, true);
 * assert.deepEqual(report.components.submissions?.checks, { sqs: true, kinesis: true });
 * ```
 *
 * @module
 */

/** One check: resolves when its dependency answers, rejects (or never resolves) when not. */
export type Probe = (signal: AbortSignal) => Promise<unknown>;

/** One component's part of the report. */
export interface ComponentReadiness {
  /** `true` only when every check of the component answered. */
  readonly ready: boolean;
  /** Per check: `true` when it answered its last probe. */
  readonly checks: Readonly<Record<string, boolean>>;
}

/** The state of each component's checks and the verdict (the body of `/readyz`). */
export interface ReadinessReport {
  /** `true` only when every component is ready. */
  readonly ready: boolean;
  /** Per enabled component. */
  readonly components: Readonly<Record<string, ComponentReadiness>>;
  /** When the probes ran (ISO 8601). */
  readonly checkedAt: string;
}

/** Options of {@linkcode Readiness}. */
export interface ReadinessOptions {
  /** Checks by component, then by check name. */
  readonly checks: Readonly<Record<string, Readonly<Record<string, Probe>>>>;
  /** Per-probe timeout in milliseconds. Default 2000. */
  readonly timeoutMs?: number;
  /** How long a report is reused, in milliseconds. Default 1000. */
  readonly cacheMs?: number;
  /** Called with each fresh report (metrics, logs). */
  readonly onReport?: (report: ReadinessReport, previous: ReadinessReport | undefined) => void;
}

/**
 * Runs and caches readiness probes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Readiness } from "./readiness.ts";
 * const readiness = new Readiness({
 *   checks: { app: { up: () => Promise.resolve(), down: () => Promise.reject(new Error("refused")) } },
 *   cacheMs: 500,
 * });
 * const report = await readiness.check();
 * assert.equal(report.ready, false); // one check down: not ready
 * assert.deepEqual(report.components.app?.checks, { up: true, down: false });
 * assert.equal(await readiness.check(), report); // the same report within cacheMs
 * ```
 */
export class Readiness {
  readonly #o: ReadinessOptions;
  #last: ReadinessReport | undefined;
  #lastAt = -Infinity;
  #running: Promise<ReadinessReport> | undefined;

  /** Makes a readiness checker over `options.checks`. */
  constructor(options: ReadinessOptions) {
    this.#o = options;
  }

  /** The latest report, probing again if it is older than the cache time. */
  check(): Promise<ReadinessReport> {
    if (this.#last && performance.now() - this.#lastAt < (this.#o.cacheMs ?? 1000)) {
      return Promise.resolve(this.#last);
    }
    this.#running ??= this.#probe().finally(() => this.#running = undefined);
    return this.#running;
  }

  async #probe(): Promise<ReadinessReport> {
    const entries = Object.entries(this.#o.checks);
    const components = await Promise.all(entries.map(async ([, checks]) => {
      const names = Object.keys(checks);
      const results = await Promise.all(names.map((name) => this.#run(checks[name]!)));
      return {
        ready: results.every(Boolean),
        checks: Object.fromEntries(names.map((n, i) => [n, results[i]!])),
      };
    }));
    const report: ReadinessReport = {
      ready: components.every((c) => c.ready),
      components: Object.fromEntries(entries.map(([name], i) => [name, components[i]!])),
      checkedAt: new Date().toISOString(),
    };
    this.#o.onReport?.(report, this.#last);
    this.#last = report;
    this.#lastAt = performance.now();
    return report;
  }

  async #run(probe: Probe): Promise<boolean> {
    const controller = new AbortController();
    // A probe that ignores its signal still counts as down at the timeout.
    const timedOut = Promise.withResolvers<never>();
    const timer = setTimeout(() => {
      controller.abort();
      timedOut.reject(new Error("timed out"));
    }, this.#o.timeoutMs ?? 2000);
    try {
      await Promise.race([probe(controller.signal), timedOut.promise]);
      return true;
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }
}
