/**
 * The collector's state behind one interface: record a batch of decoded events, answer one app,
 * reset, stats. {@linkcode MemoryStore} (memory_store.ts) holds it in this process; the Redis
 * store (redis_store.ts) shares it between instances; both run the same tests
 * (tests/ip_events/store_contract.ts).
 *
 * @module
 */
import type { IpEvent } from "./decode_ip_event.ts";
import type { AppAnswer } from "./netblock.ts";

/** What {@linkcode IpEventStore.record} did with a batch. */
export interface BatchTally {
  /** Events added to their app's count. */
  readonly counted: number;
  /**
   * Events not fully tracked because a cap was reached: of a new app past the apps cap (not
   * counted at all), or of a new IP past an app's IPs cap (counted, the IP not kept).
   */
  readonly capacity: number;
}

/** The size of the state, for metrics. */
export interface StoreStats {
  /** Apps tracked. */
  readonly apps: number;
  /** Distinct (app, IP) pairs tracked. */
  readonly ips: number;
}

/** Caps that bound what network peers can make a store hold. */
export interface StoreLimits {
  /** Apps tracked at most; events of further apps are not counted (`capacity`). */
  readonly maxApps: number;
  /** Distinct IPs kept per app at most; further IPs are counted in `count` but not kept. */
  readonly maxIpsPerApp: number;
}

/**
 * The caps, one rule for every store (memory_store.ts, and the Redis store's local_tally.ts): an
 * event of an app not tracked yet is admitted while fewer than `maxApps` apps are tracked, else
 * dropped as `capacity`; a new IP of a tracked app is kept while the app holds fewer than
 * `maxIpsPerApp`, else its event is counted and the IP not kept (`capacity` too).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { withinCaps } from "./store.ts";
 * const limits = { maxApps: 2, maxIpsPerApp: 64 };
 * assert.ok(withinCaps(limits).app(1)); // a second app is tracked
 * assert.ok(!withinCaps(limits).app(2)); // a third is not
 * assert.ok(!withinCaps(limits).ip(64)); // nor a 65th IP of one app
 * ```
 */
export function withinCaps(limits: StoreLimits): {
  app(tracked: number): boolean;
  ip(keptOfApp: number): boolean;
} {
  return {
    app: (tracked) => tracked < limits.maxApps,
    ip: (keptOfApp) => keptOfApp < limits.maxIpsPerApp,
  };
}

/**
 * The collector's state. `record` is synchronous (the receive path never waits on it);
 * `answer` and `reset` may wait (a shared store goes over the network).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { IpEventStore } from "./store.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * const store: IpEventStore = new MemoryStore({ maxApps: 10, maxIpsPerApp: 10 });
 * store.record([{ appSha256: "ab".repeat(32), ip: 17 }]);
 * const answer = await store.answer("ab".repeat(32));
 * assert.equal(answer.count, 1);
 * assert.deepEqual([answer.good_ips[0], answer.good_ips.at(-1), answer.bad_ips], ["0.0.0.17", "0.0.0.30", []]);
 * ```
 */
export interface IpEventStore {
  /** Adds a batch of valid events (sha already lowercase). */
  record(events: readonly IpEvent[]): BatchTally;
  /** The answer for one app (lowercase sha); an unknown app has count 0 and empty sets. */
  answer(appSha256: string): Promise<AppAnswer>;
  /** Forgets every app: afterwards every app reads count 0 and events count from zero. */
  reset(): Promise<void>;
  /** The size of the state. */
  stats(): StoreStats;
  /**
   * Releases what the store holds open (connections, timers), handing on first what it still
   * holds for a shared store, by `deadline` (`performance.now()` ms); unusable after.
   */
  close(deadline?: number): Promise<void>;
  /**
   * Resolves when the store can answer (its server reachable); rejects when not. A store with
   * no server (memory) has none. `/readyz` lists it as the component's `store` check.
   */
  check?(signal: AbortSignal): Promise<unknown>;
}

/**
 * A shared store cannot reach its server: `answer` and `reset` reject with it, and the API
 * answers 503 (the events themselves keep being counted locally meanwhile).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { StoreUnavailableError } from "./store.ts";
 * assert.equal(new StoreUnavailableError("Redis is not reachable").message, "Redis is not reachable");
 * ```
 */
export class StoreUnavailableError extends Error {
  /** Says what cannot be reached. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}
