/**
 * The watch list's summary for the gauges, kept fresh off the scrape path: read from the store
 * every `intervalMs` (other instances' changes show within it) and soon after this instance
 * changes the watch list or stores a report (at most once per `debounceMs`), so a `/metrics`
 * scrape runs no database query however often it comes.
 *
 * @module
 */
import type { Logger } from "../app/logging.ts";
import type { EngineName } from "./report.ts";
import type { TlsScanStore, WatchStats } from "./store.ts";

/** Options of {@linkcode WatchStatsCache}. */
export interface WatchStatsOptions {
  readonly store: TlsScanStore;
  readonly engine: EngineName;
  /** Refresh period (picks up other instances' changes). */
  readonly intervalMs: number;
  /** Least time between two refreshes asked by {@linkcode WatchStatsCache.refreshSoon}. */
  readonly debounceMs?: number;
  readonly logger?: Logger;
}

const EMPTY: WatchStats = { watched: 0, reports: 0, byGrade: {}, hosts: [] };

/**
 * The cache; nothing runs before {@linkcode WatchStatsCache.start}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteStore } from "./sqlite_store.ts";
 * import { WatchStatsCache } from "./watch_stats.ts";
 * const store = SqliteStore.open(":memory:", { maxReports: 100 });
 * const stats = new WatchStatsCache({ store, engine: "probe", intervalMs: 30_000 });
 * await store.watch([{ host: "example.com", port: 443 }], 10);
 * await stats.refresh();
 * assert.equal(stats.current().watched, 1);
 * await stats.stop();
 * await store.close();
 * ```
 */
export class WatchStatsCache {
  readonly #o: WatchStatsOptions;
  #stats: WatchStats = EMPTY;
  #timer: ReturnType<typeof setInterval> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;

  /** Makes the cache (empty until the first refresh). */
  constructor(options: WatchStatsOptions) {
    this.#o = options;
  }

  /** The last summary read. */
  current(): WatchStats {
    return this.#stats;
  }

  /** Reads now (joining a read under way); a failed read keeps the last summary. */
  refresh(): Promise<void> {
    this.#running ??= this.#o.store.watchStats(this.#o.engine).then(
      (stats) => {
        this.#stats = stats;
      },
      (error) =>
        this.#o.logger?.debug("watch stats not refreshed: {error}", { error: String(error) }),
    ).finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  /** Starts the periodic refresh (and reads once now). */
  start(): void {
    this.#timer ??= setInterval(() => this.refresh(), this.#o.intervalMs);
    this.refresh();
  }

  /** Refreshes within `debounceMs` (after a change made here). */
  refreshSoon(): void {
    if (this.#soon !== undefined || this.#timer === undefined) return;
    this.#soon = setTimeout(() => {
      this.#soon = undefined;
      this.refresh();
    }, this.#o.debounceMs ?? 1_000);
  }

  /** Stops the timers and waits for a read under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    this.#timer = this.#soon = undefined;
    await this.#running;
  }
}

const CHANGES = new Set<PropertyKey>(["watch", "unwatch", "save"]);

/**
 * `store`, calling `onChange` after each of its changes that the summary shows (watch,
 * unwatch, save) succeeds: the component hands this to its routes and coordinator so the
 * gauges follow this instance's changes within a second.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SqliteStore } from "./sqlite_store.ts";
 * import { notifyingChanges } from "./watch_stats.ts";
 * let changes = 0;
 * const store = notifyingChanges(SqliteStore.open(":memory:", { maxReports: 10 }), () => changes++);
 * await store.watch([{ host: "example.com", port: 443 }], 10);
 * await store.watchedCount();
 * assert.equal(changes, 1);
 * await store.close();
 * ```
 */
export function notifyingChanges<T extends TlsScanStore>(store: T, onChange: () => void): T {
  return new Proxy(store, {
    get(target, key) {
      const value = Reflect.get(target, key);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const result = value.apply(target, args);
        if (CHANGES.has(key)) {
          (result as Promise<unknown>).then(() => onChange(), () => {});
        }
        return result;
      };
    },
  });
}
