/**
 * One collector instance's side of the shared state: what it has admitted under the caps, and
 * its events not yet handed to Redis (per app: count and events per IP), taken at each flush.
 *
 * The caps hold here, synchronously, so the receive path never waits: an instance tracks at
 * most `maxApps` apps and `maxIpsPerApp` IPs per app per generation (what it writes to Redis is
 * bounded by them; N instances write at most N times that), and its memory is bounded whether
 * Redis answers or not: an outage only makes the counts in the deltas grow, never their number.
 *
 * @module
 */
import type { IpEvent } from "./decode_ip_event.ts";
import type { AppDelta } from "./redis_scripts.ts";
import { type BatchTally, type StoreLimits, type StoreStats, withinCaps } from "./store.ts";

interface TrackedApp {
  /** IPs admitted for the app (bounded by the IPs cap). */
  readonly ips: Set<number>;
  /** Its events since the last take, if any. */
  delta: AppDelta | undefined;
}

/**
 * The admitted apps and the pending deltas.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalTally } from "./local_tally.ts";
 * const tally = new LocalTally({ maxApps: 10, maxIpsPerApp: 10 });
 * tally.record([{ appSha256: "a".repeat(64), ip: 1 }]);
 * assert.deepEqual(tally.take().get("a".repeat(64)), { count: 1, ips: new Map([[1, 1]]) });
 * assert.equal(tally.pendingEvents, 0); // taken: the next flush starts empty
 * ```
 */
export class LocalTally {
  readonly #caps: ReturnType<typeof withinCaps>;
  #tracked = new Map<string, TrackedApp>();
  #ips = 0;
  #pending = new Map<string, AppDelta>();
  #pendingEvents = 0;

  /** Starts empty under `limits`. */
  constructor(limits: StoreLimits) {
    this.#caps = withinCaps(limits);
  }

  /** Adds a batch of valid events, as the memory store counts them. */
  record(events: readonly IpEvent[]): BatchTally {
    let counted = 0;
    let capacity = 0;
    for (const { appSha256, ip } of events) {
      let app = this.#tracked.get(appSha256);
      if (!app) {
        if (!this.#caps.app(this.#tracked.size)) {
          capacity++;
          continue;
        }
        this.#tracked.set(appSha256, app = { ips: new Set(), delta: undefined });
      }
      let delta = app.delta;
      if (!delta) {
        delta = app.delta = { count: 0, ips: new Map() };
        this.#pending.set(appSha256, delta);
      }
      delta.count++;
      counted++;
      if (!app.ips.has(ip)) {
        if (!this.#caps.ip(app.ips.size)) {
          capacity++;
          continue;
        }
        app.ips.add(ip);
        this.#ips++;
      }
      delta.ips.set(ip, (delta.ips.get(ip) ?? 0) + 1);
    }
    this.#pendingEvents += counted;
    return { counted, capacity };
  }

  /** The pending delta of one app, if it has one. */
  pending(appSha256: string): AppDelta | undefined {
    return this.#pending.get(appSha256);
  }

  /** Events recorded and not taken yet. */
  get pendingEvents(): number {
    return this.#pendingEvents;
  }

  /** Takes every pending delta (the tally keeps what it admitted). */
  take(): Map<string, AppDelta> {
    const taken = this.#pending;
    for (const sha of taken.keys()) this.#tracked.get(sha)!.delta = undefined;
    this.#pending = new Map();
    this.#pendingEvents = 0;
    return taken;
  }

  /**
   * Forgets what was admitted (another instance reset the shared state): afterwards only the
   * apps and IPs of the pending deltas and of `carried` (deltas taken but still on their way
   * to the new generation) count against the caps.
   */
  rebase(carried: Iterable<ReadonlyMap<string, AppDelta>>): void {
    const tracked = new Map<string, TrackedApp>();
    let ips = 0;
    const admit = (sha: string, delta: AppDelta, pending: boolean) => {
      let app = tracked.get(sha);
      if (!app) tracked.set(sha, app = { ips: new Set(), delta: undefined });
      if (pending) app.delta = delta;
      for (const ip of delta.ips.keys()) {
        if (!app.ips.has(ip)) {
          app.ips.add(ip);
          ips++;
        }
      }
    };
    for (const [sha, delta] of this.#pending) admit(sha, delta, true);
    for (const apps of carried) for (const [sha, delta] of apps) admit(sha, delta, false);
    this.#tracked = tracked;
    this.#ips = ips;
  }

  /** Forgets everything: admitted apps and pending deltas (a reset by this instance). */
  clear(): void {
    this.#tracked = new Map();
    this.#ips = 0;
    this.#pending = new Map();
    this.#pendingEvents = 0;
  }

  /** Apps and (app, IP) pairs admitted. */
  stats(): StoreStats {
    return { apps: this.#tracked.size, ips: this.#ips };
  }
}
