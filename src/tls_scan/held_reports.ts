/**
 * The reports a store holds while its database cannot be reached: a finished scan's report is
 * kept (at most `max`, the oldest dropped and counted past it; a target's newer report replaces
 * its older one) and written, in order, once the database answers again, so scans in flight lose
 * nothing. The PostgreSQL store uses it (the SQLite store's file is always there).
 *
 * @module
 */
import { remaining, within } from "../app/deadline.ts";
import { errorMessage } from "../app/error_message.ts";
import type { Logger } from "../app/logging.ts";
import type { EngineName, TlsReport } from "./report.ts";
import { StoreUnavailableError } from "./store.ts";
import { type Target, targetKey } from "./target.ts";

/** Options of {@linkcode HeldReports}. */
export interface HeldReportsOptions {
  /** Reports held at most. Default 10 000. */
  readonly max?: number | undefined;
  /** Writes one report; rejects with {@linkcode StoreUnavailableError} while unreachable. */
  readonly write: (report: TlsReport) => Promise<unknown>;
  readonly logger?: Logger | undefined;
  /** Called when a held report had to be dropped (the buffer full). */
  readonly onDropped?: (() => void) | undefined;
}

/**
 * The held reports, keyed by engine and target.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { HeldReports } from "./held_reports.ts";
 * import { errorReport } from "./report.ts";
 * import { StoreUnavailableError } from "./store.ts";
 *
 * let reachable = false;
 * const written: string[] = [];
 * const held = new HeldReports({
 *   max: 10,
 *   write: (report) => {
 *     if (!reachable) return Promise.reject(new StoreUnavailableError("ECONNREFUSED"));
 *     written.push(report.host);
 *     return Promise.resolve();
 *   },
 * });
 * held.hold(errorReport({ host: "a.test", port: 443, engine: "probe", message: "Refused" }));
 * assert.equal(held.size, 1);
 * assert.equal(held.latest({ host: "a.test", port: 443 }, "probe")?.host, "a.test");
 * reachable = true;
 * await held.close(performance.now() + 1_000); // writes what it holds by the deadline
 * assert.deepEqual(written, ["a.test"]);
 * assert.equal(held.size, 0);
 * ```
 */
export class HeldReports {
  readonly #o: HeldReportsOptions;
  readonly #pending = new Map<string, TlsReport>();
  #flushing: Promise<void> | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /** Holds nothing until {@linkcode HeldReports.hold}. */
  constructor(options: HeldReportsOptions) {
    this.#o = options;
  }

  /** Reports held until the database answers again. */
  get size(): number {
    return this.#pending.size;
  }

  /** The held report of `target` by `engine`, if any (newer than the database's). */
  latest(target: Target, engine: EngineName): TlsReport | undefined {
    return this.#pending.get(`${engine} ${targetKey(target)}`);
  }

  /** Keeps `report` until it can be written; tries to write it in a second. */
  hold(report: TlsReport): void {
    const key = `${report.engine} ${targetKey(report)}`;
    this.#pending.delete(key); // re-inserted last: the newest report of a target wins
    this.#pending.set(key, report);
    const max = this.#o.max ?? 10_000;
    for (const oldest of this.#pending.keys()) {
      if (this.#pending.size <= max) break;
      this.#pending.delete(oldest);
      this.#o.onDropped?.();
    }
    this.#scheduleFlush(1_000);
  }

  #scheduleFlush(ms: number): void {
    if (this.#flushTimer !== undefined || this.#closed) return;
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined;
      // Anything but "unreachable" is a defect of the write: said, and retried like an outage
      // (the report stays held) instead of ending the retries unseen.
      this.#flush().catch((error) => {
        this.#o.logger?.error("could not write held reports: {error}", {
          error: errorMessage(error),
        });
        this.#scheduleFlush(2_000);
      });
    }, ms);
  }

  /** Writes the held reports in order; stops at the first unreachable and tries again later. */
  #flush(): Promise<void> {
    this.#flushing ??= (async () => {
      try {
        for (const [key, report] of this.#pending) {
          await this.#o.write(report);
          if (this.#pending.get(key) === report) this.#pending.delete(key);
        }
        this.#o.logger?.info("reports held while the database was down are written");
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        this.#scheduleFlush(2_000);
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  /** Stops retrying and writes what is held by `deadline` (`performance.now()` ms). */
  async close(deadline: number): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    if (this.#pending.size === 0) return;
    await within(this.#flush(), remaining(deadline));
    if (this.#pending.size > 0) {
      this.#o.logger?.error("{count} reports could not be written before shutdown", {
        count: this.#pending.size,
      });
    }
  }
}
