/**
 * The visibility heartbeat: while a message is being processed, its visibility timeout is
 * extended before it runs out, so a slow publish (Kinesis throttling or down) never lets SQS hand
 * the same message to another consumer mid-flight.
 *
 * @module
 */

/** Options of {@linkcode VisibilityHeartbeat}. */
export interface VisibilityHeartbeatOptions {
  /** The visibility timeout each extension sets, in seconds (as at receive). */
  readonly visibilityTimeoutSeconds: number;
  /** Sets a message's visibility from now; resolves `false` when the call failed. */
  readonly changeVisibility: (receiptHandle: string, seconds: number) => Promise<boolean>;
  /** Called after each successful extension. */
  readonly onExtended?: () => void;
  /** The clock in milliseconds. Default `Date.now`. */
  readonly now?: () => number;
}

interface Tracked {
  readonly receiptHandle: string;
  /** When the message becomes visible again unless extended (ms). */
  deadline: number;
  extending: boolean;
}

/**
 * Tracks messages in progress and extends each one once less than half its timeout is left.
 * Ticks four times per timeout, so an extension is attempted at least once before expiry even
 * if one call fails.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { VisibilityHeartbeat } from "./visibility_heartbeat.ts";
 * let now = 0;
 * const extended: string[] = [];
 * const heartbeat = new VisibilityHeartbeat({
 *   visibilityTimeoutSeconds: 30,
 *   changeVisibility: (handle) => Promise.resolve(extended.push(handle) > 0),
 *   now: () => now,
 * });
 * heartbeat.track("message-1", "handle-1");
 * now = 16_000; // 14 s left: less than half the timeout
 * await heartbeat.tick();
 * assert.deepEqual(extended, ["handle-1"]); // extended by 30 s from now
 * ```
 */
export class VisibilityHeartbeat {
  readonly #options: VisibilityHeartbeatOptions;
  readonly #now: () => number;
  readonly #tracked = new Map<string, Tracked>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** Makes a stopped heartbeat. */
  constructor(options: VisibilityHeartbeatOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** Messages tracked now. */
  get size(): number {
    return this.#tracked.size;
  }

  /** Starts ticking. */
  start(): void {
    const period = Math.max(100, (this.#options.visibilityTimeoutSeconds * 1000) / 4);
    this.#timer ??= setInterval(() => this.tick(), period);
  }

  /** Stops ticking (tracked messages are forgotten by their owners). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Starts tracking a message received `receivedAt` (ms), with the configured timeout. */
  track(messageId: string, receiptHandle: string, receivedAt = this.#now()): void {
    const deadline = receivedAt + this.#options.visibilityTimeoutSeconds * 1000;
    this.#tracked.set(messageId, { receiptHandle, deadline, extending: false });
  }

  /** Stops tracking a message (deleted or released). */
  untrack(messageId: string): void {
    this.#tracked.delete(messageId);
  }

  /** Extends every message with less than half its timeout left. Exposed for tests. */
  async tick(): Promise<void> {
    const seconds = this.#options.visibilityTimeoutSeconds;
    const now = this.#now();
    const due: [string, Tracked][] = [];
    for (const entry of this.#tracked) {
      const [, t] = entry;
      if (!t.extending && t.deadline - now < (seconds * 1000) / 2) due.push(entry);
    }
    await Promise.all(due.map(async ([id, t]) => {
      t.extending = true;
      const ok = await this.#options.changeVisibility(t.receiptHandle, seconds);
      t.extending = false;
      // The message may have been deleted meanwhile; only a tracked one is counted.
      if (ok && this.#tracked.get(id) === t) {
        t.deadline = now + seconds * 1000;
        this.#options.onExtended?.();
      }
    }));
  }
}
