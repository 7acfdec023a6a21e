/**
 * The in-memory {@linkcode IpEventStore}: per app, its event count and a map IP → events, under
 * two caps. Roughly 600 bytes per app holding one IP, plus ~40–60 per further IP (BENCHMARKS.md).
 *
 * @module
 */
import type { IpEvent } from "./decode_ip_event.ts";
import { answerFor, type AppAnswer, NO_EVENTS } from "./netblock.ts";
import {
  type BatchTally,
  type IpEventStore,
  type StoreLimits,
  type StoreStats,
  withinCaps,
} from "./store.ts";

interface AppState {
  count: number;
  readonly ips: Map<number, number>;
}

/**
 * Holds the state in this process; a restart forgets it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStore } from "./memory_store.ts";
 * const store = new MemoryStore({ maxApps: 1, maxIpsPerApp: 14 });
 * const events = [{ appSha256: "a".repeat(64), ip: 1 }, { appSha256: "b".repeat(64), ip: 1 }];
 * // The second app is past the apps cap.
 * assert.deepEqual(store.record(events), { counted: 1, capacity: 1 });
 * ```
 */
export class MemoryStore implements IpEventStore {
  readonly #caps: ReturnType<typeof withinCaps>;
  #apps = new Map<string, AppState>();
  #ips = 0;

  /** Makes an empty store bounded by `limits`. */
  constructor(limits: StoreLimits) {
    this.#caps = withinCaps(limits);
  }

  /** Adds a batch of valid events. */
  record(events: readonly IpEvent[]): BatchTally {
    let counted = 0;
    let capacity = 0;
    for (const { appSha256, ip } of events) {
      let app = this.#apps.get(appSha256);
      if (!app) {
        if (!this.#caps.app(this.#apps.size)) {
          capacity++;
          continue;
        }
        this.#apps.set(appSha256, app = { count: 0, ips: new Map() });
      }
      app.count++;
      counted++;
      const seen = app.ips.get(ip);
      if (seen !== undefined) {
        app.ips.set(ip, seen + 1);
      } else if (this.#caps.ip(app.ips.size)) {
        app.ips.set(ip, 1);
        this.#ips++;
      } else {
        capacity++;
      }
    }
    return { counted, capacity };
  }

  /** The answer for one app. */
  answer(appSha256: string): Promise<AppAnswer> {
    const app = this.#apps.get(appSha256);
    return Promise.resolve(app ? answerFor(app.count, app.ips) : NO_EVENTS);
  }

  /** Forgets every app. */
  reset(): Promise<void> {
    this.#apps = new Map();
    this.#ips = 0;
    return Promise.resolve();
  }

  /** Apps and (app, IP) pairs tracked. */
  stats(): StoreStats {
    return { apps: this.#apps.size, ips: this.#ips };
  }

  /** Drops the state (nothing else is held open). */
  close(): Promise<void> {
    return this.reset();
  }
}
