/**
 * Collects single requests into batch calls: SQS's `DeleteMessageBatch` and
 * `ChangeMessageVisibilityBatch` take at most 10 entries, and one call of 10 costs about what one
 * call of 1 does. A batch goes when full or `delayMs` after its first entry.
 *
 * @module
 */

/** Options of {@linkcode Batcher}. */
export interface BatcherOptions<T> {
  /** Sends a batch; resolves with one success flag per item, in order. Must not reject. */
  readonly flush: (items: readonly T[]) => Promise<boolean[]>;
  /** Items per batch at most. Default 10 (the SQS limit). */
  readonly maxItems?: number;
  /** How long the first item of a batch waits for others, in milliseconds. Default 5. */
  readonly delayMs?: number;
}

interface Pending<T> {
  readonly item: T;
  readonly resolve: (ok: boolean) => void;
}

/**
 * Batches items for a batch API; each item learns its own outcome.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Batcher } from "./batcher.ts";
 * const batcher = new Batcher<string>({
 *   flush: (ids) => Promise.resolve(ids.map((id) => id !== "bad")),
 * });
 * // one flush of both
 * assert.deepEqual(await Promise.all([batcher.add("a"), batcher.add("bad")]), [true, false]);
 * ```
 */
export class Batcher<T> {
  readonly #flush: (items: readonly T[]) => Promise<boolean[]>;
  readonly #maxItems: number;
  readonly #delayMs: number;
  #pending: Pending<T>[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #inFlight = new Set<Promise<void>>();

  /** Makes a batcher that sends with `options.flush`. */
  constructor(options: BatcherOptions<T>) {
    this.#flush = options.flush;
    this.#maxItems = options.maxItems ?? 10;
    this.#delayMs = options.delayMs ?? 5;
  }

  /** Queues `item`; resolves `true` when its batch entry succeeded. */
  add(item: T): Promise<boolean> {
    return new Promise((resolve) => {
      this.#pending.push({ item, resolve });
      if (this.#pending.length >= this.#maxItems) this.#send();
      else this.#timer ??= setTimeout(() => this.#send(), this.#delayMs);
    });
  }

  /** Sends what is queued now and waits for every batch in flight. */
  async drain(): Promise<void> {
    if (this.#pending.length > 0) this.#send();
    await Promise.all(this.#inFlight);
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending.splice(0, this.#maxItems);
    if (this.#pending.length > 0) this.#timer = setTimeout(() => this.#send(), 0);
    const call = this.#flush(batch.map((p) => p.item))
      .catch(() => batch.map(() => false))
      .then((results) => batch.forEach((p, i) => p.resolve(results[i] === true)));
    this.#inFlight.add(call);
    call.finally(() => this.#inFlight.delete(call));
  }
}
