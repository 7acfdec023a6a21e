/**
 * Readiness: the service is ready only when both SQS and Kinesis answer. Probes are cheap
 * read-only calls with a short timeout, cached briefly so a busy `/readyz` does not hammer AWS.
 *
 * @module
 */

/** One dependency's probe: resolves when it answers. */
export type Probe = (signal: AbortSignal) => Promise<unknown>;

/** The state of each dependency and the verdict. */
export interface ReadinessReport {
  /** `true` only when every dependency answered. */
  readonly ready: boolean;
  /** Per dependency: `true` when it answered its last probe. */
  readonly dependencies: Readonly<Record<string, boolean>>;
  /** When the probes ran (ISO 8601). */
  readonly checkedAt: string;
}

/** Options of {@linkcode Readiness}. */
export interface ReadinessOptions {
  /** Probes by dependency name, e.g. `{ sqs, kinesis }`. */
  readonly probes: Readonly<Record<string, Probe>>;
  /** Per-probe timeout in milliseconds. Default 2000. */
  readonly timeoutMs?: number;
  /** How long a report is reused, in milliseconds. Default 1000. */
  readonly cacheMs?: number;
  /** Called with each fresh report (metrics, logs). */
  readonly onReport?: (report: ReadinessReport, previous: ReadinessReport | undefined) => void;
}

/** Runs and caches readiness probes. */
export class Readiness {
  readonly #o: ReadinessOptions;
  #last: ReadinessReport | undefined;
  #lastAt = -Infinity;
  #running: Promise<ReadinessReport> | undefined;

  /** Makes a readiness checker over `options.probes`. */
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
    const names = Object.keys(this.#o.probes);
    const results = await Promise.all(names.map(async (name) => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), this.#o.timeoutMs ?? 2000);
      try {
        await this.#o.probes[name]!(controller.signal);
        return true;
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    }));
    const dependencies = Object.fromEntries(names.map((n, i) => [n, results[i]!]));
    const report = {
      ready: results.every(Boolean),
      dependencies,
      checkedAt: new Date().toISOString(),
    };
    this.#o.onReport?.(report, this.#last);
    this.#last = report;
    this.#lastAt = performance.now();
    return report;
  }
}
