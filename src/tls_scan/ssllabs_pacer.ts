/**
 * The SSL Labs pacing rules in one place, so that no caller can break them:
 *
 * - a call that may start an assessment goes through {@linkcode SslLabsPacer.startSlot}: one
 *   at a time, never while `X-Current-Assessments` ≥ `X-Max-Assessments` (from every
 *   response; `info` at start), never while this engine follows as many as it allows itself
 *   (cut on a 429), and never sooner than `max(1.1 s, newAssessmentCoolOff + 0.1 s)` after the
 *   previous start;
 * - a 503 or 529 pauses every call for about 15 or 30 minutes, randomised;
 * - polls wait 5 s until the assessment is IN_PROGRESS, then 10 s.
 *
 * `timeScale` (SSLLABS_TIME_SCALE) multiplies the fixed waits (polls, pauses, the 1.1 s floor),
 * not the cool-off the API states.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsPacer } from "./ssllabs_pacer.ts";
 * const pacer = new SslLabsPacer({ timeScale: 1 });
 * assert.equal(pacer.pollDelayMs("DNS"), 5000);
 * assert.equal(pacer.pollDelayMs("IN_PROGRESS"), 10000);
 * ```
 *
 * @module
 */
import { sleep } from "../app/backoff.ts";

/** Options of {@linkcode SslLabsPacer}. */
export interface PacerOptions {
  /** Multiplies the fixed waits (SSLLABS_TIME_SCALE). */
  readonly timeScale: number;
  /** Uniform numbers in [0, 1) for the randomised pauses. Default `Math.random`. */
  readonly random?: (() => number) | undefined;
  /** Refreshes the counters when they block a start with nothing of ours running (`info`). */
  readonly refresh?: (signal: AbortSignal) => Promise<void>;
}

const MINUTE = 60_000;

/**
 * The pacing state.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SslLabsPacer } from "./ssllabs_pacer.ts";
 * const pacer = new SslLabsPacer({ timeScale: 1 });
 * pacer.update({ maxAssessments: 25, currentAssessments: 3, newAssessmentCoolOff: 2_000 });
 * assert.equal(pacer.startSpacingMs, 2100); // the cool-off the API asks for, plus 0.1 s
 * const signal = AbortSignal.timeout(10_000);
 * await pacer.startSlot(signal, () => Promise.resolve("started")); // "started", at once
 * ```
 */
export class SslLabsPacer {
  readonly #o: PacerOptions;
  #max = 1;
  #current = 0;
  #coolOffMs = 0;
  #ownLimit = Infinity;
  #active = 0;
  #lastStartAt = -Infinity;
  #pausedUntil = 0;
  #slot: Promise<void> = Promise.resolve();

  /** Makes a pacer; until `info` or a response says more, at most one assessment runs. */
  constructor(options: PacerOptions) {
    this.#o = options;
  }

  /** `X-Max-Assessments` as last seen. */
  get maxAssessments(): number {
    return this.#max;
  }

  /** `X-Current-Assessments` as last seen. */
  get currentAssessments(): number {
    return this.#current;
  }

  /** Assessments this engine follows now. */
  get active(): number {
    return this.#active;
  }

  /** Takes the counters of a response (or of `info`). */
  update(counters: {
    readonly maxAssessments?: number | undefined;
    readonly currentAssessments?: number | undefined;
    readonly newAssessmentCoolOff?: number | undefined;
  }): void {
    if (counters.maxAssessments !== undefined) this.#max = counters.maxAssessments;
    if (counters.currentAssessments !== undefined) this.#current = counters.currentAssessments;
    if (counters.newAssessmentCoolOff !== undefined) {
      this.#coolOffMs = counters.newAssessmentCoolOff;
    }
  }

  /** The wait between two starts. */
  get startSpacingMs(): number {
    return Math.max(1_100 * this.#o.timeScale, this.#coolOffMs + 100 * this.#o.timeScale);
  }

  /** The wait before the next poll of an assessment in `status`. */
  pollDelayMs(status: string): number {
    return (status === "IN_PROGRESS" ? 10_000 : 5_000) * this.#o.timeScale;
  }

  /**
   * Runs `start` (a call that may start an assessment) when the rules allow it, one such call
   * at a time. Resolves `undefined` without calling when `signal` aborts first.
   */
  async startSlot<T>(signal: AbortSignal, start: () => Promise<T>): Promise<T | undefined> {
    const previous = this.#slot;
    const mine = Promise.withResolvers<void>();
    this.#slot = mine.promise;
    try {
      await previous;
      while (!signal.aborted) {
        const wait = this.#startWaitMs();
        if (wait === 0) break;
        if (wait === Infinity) {
          // The counters block us with nothing of ours running: they may be stale.
          if (!await sleep(this.pollDelayMs("DNS"), signal)) break;
          await this.#o.refresh?.(signal);
          continue;
        }
        if (!await sleep(wait, signal)) break;
      }
      if (signal.aborted) return undefined;
      try {
        return await start();
      } finally {
        // Counted from the answer: the API saw the start before it answered, so the next start
        // reaches it at least the spacing later, whatever the latency.
        this.#lastStartAt = performance.now();
      }
    } finally {
      mine.resolve();
    }
  }

  /** Milliseconds until a start is allowed: 0 now, Infinity while the counters block it. */
  #startWaitMs(): number {
    const now = performance.now();
    const paused = this.#pausedUntil - now;
    if (paused > 0) return paused;
    const spacing = this.#lastStartAt + this.startSpacingMs - now;
    if (spacing > 0) return spacing;
    const limit = Math.min(this.#max, this.#ownLimit);
    if (this.#active >= limit) return this.pollDelayMs("DNS");
    if (this.#current >= this.#max) return this.#active === 0 ? Infinity : this.pollDelayMs("DNS");
    return 0;
  }

  /** Counts an assessment this engine now follows (started, or joined in progress). */
  began(): void {
    this.#active++;
  }

  /** Counts the end of an assessment this engine followed. */
  ended(): void {
    this.#active--;
  }

  /** A 429: follow no more than now (at least one) and wait the cool-off again. */
  tooManyRequests(): void {
    this.#ownLimit = Math.max(1, this.#active);
    this.#lastStartAt = performance.now();
  }

  /** An assessment finished without a 429: allow one more again, up to the API's max. */
  relax(): void {
    if (this.#ownLimit !== Infinity) {
      this.#ownLimit = this.#ownLimit + 1 >= this.#max ? Infinity : this.#ownLimit + 1;
    }
  }

  /** The concurrency this engine allows itself now (after 429 cuts). */
  get ownLimit(): number {
    return Math.min(this.#max, this.#ownLimit);
  }

  /**
   * A 503 (maintenance, ~15 min) or 529 (overloaded, ~30 min): every call waits about that
   * long (+0–20 %, so many clients do not come back at once). Returns the pause in ms.
   */
  pause(status: 503 | 529): number {
    const base = (status === 503 ? 15 : 30) * MINUTE * this.#o.timeScale;
    const pause = base * (1 + 0.2 * (this.#o.random ?? Math.random)());
    this.#pausedUntil = Math.max(this.#pausedUntil, performance.now() + pause);
    return pause;
  }

  /** Waits while a 503/529 pause lasts; `false` when `signal` aborted. */
  async whilePaused(signal: AbortSignal): Promise<boolean> {
    while (!signal.aborted) {
      const wait = this.#pausedUntil - performance.now();
      if (wait <= 0) return true;
      if (!await sleep(wait, signal)) return false;
    }
    return false;
  }
}
