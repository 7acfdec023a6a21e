/**
 * The publisher's ready records without the shard limiter: one first-in, first-out queue of
 * items (the publisher's submission chains). Items that stopped being ready (aborted) are
 * skipped lazily, so a queue of thousands is never searched.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadyFifo } from "./ready_fifo.ts";
 *
 * const fifo = new ReadyFifo<string>({ live: () => true, bytesOf: () => 100 });
 * fifo.push("a");
 * fifo.push("b");
 * assert.deepEqual(fifo.take(500, 150), { batch: ["a"], bytes: 100 });
 * ```
 *
 * @module
 */
import { Fifo } from "./fifo.ts";

/** Options of {@linkcode ReadyFifo}. */
export interface ReadyFifoOptions<T> {
  /** Whether an item is still ready; others are dropped when met. */
  readonly live: (item: T) => boolean;
  /** An item's size in a call (its next record's data plus partition key). */
  readonly bytesOf: (item: T) => number;
}

/**
 * A FIFO of ready items with lazy removal.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReadyFifo } from "./ready_fifo.ts";
 * const done = new Set<string>();
 * const fifo = new ReadyFifo<string>({ live: (id) => !done.has(id), bytesOf: () => 100 });
 * fifo.push("a");
 * fifo.push("b");
 * done.add("a"); // dropped lazily, when met
 * assert.equal(fifo.peek(), "b");
 * ```
 */
export class ReadyFifo<T> {
  readonly #o: ReadyFifoOptions<T>;
  readonly #items = new Fifo<T>();

  /** Makes an empty queue. */
  constructor(options: ReadyFifoOptions<T>) {
    this.#o = options;
  }

  /** An upper bound of the ready items (dropped ones not yet met are counted). */
  get size(): number {
    return this.#items.length;
  }

  /** Queues `item` last. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest ready item, if any. */
  peek(): T | undefined {
    this.#dropDead();
    return this.#items.peek();
  }

  /** Takes the oldest ready items, within `maxRecords` and `maxBytes` (a first one whatever its size). */
  take(maxRecords: number, maxBytes: number): { batch: T[]; bytes: number } {
    const batch: T[] = [];
    let bytes = 0;
    while (batch.length < maxRecords && this.#dropDead()) {
      const size = this.#o.bytesOf(this.#items.peek()!);
      if (batch.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      batch.push(this.#items.shift()!);
    }
    return { batch, bytes };
  }

  /** Drops the items at the front that stopped being ready; whether a ready one is left. */
  #dropDead(): boolean {
    for (let item = this.#items.peek(); item !== undefined; item = this.#items.peek()) {
      if (this.#o.live(item)) return true;
      this.#items.shift();
    }
    return false;
  }
}
