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
  #items: T[] = [];
  #head = 0;

  /** Makes an empty queue. */
  constructor(options: ReadyFifoOptions<T>) {
    this.#o = options;
  }

  /** An upper bound of the ready items (dropped ones not yet met are counted). */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Queues `item` last. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** The oldest ready item, if any. */
  peek(): T | undefined {
    while (this.#head < this.#items.length) {
      const item = this.#items[this.#head]!;
      if (this.#o.live(item)) return item;
      this.#head++;
    }
    this.#compact();
    return undefined;
  }

  /** Takes the oldest ready items, within `maxRecords` and `maxBytes` (a first one whatever its size). */
  take(maxRecords: number, maxBytes: number): { batch: T[]; bytes: number } {
    const batch: T[] = [];
    let bytes = 0;
    while (batch.length < maxRecords && this.#head < this.#items.length) {
      const item = this.#items[this.#head]!;
      if (!this.#o.live(item)) {
        this.#head++;
        continue;
      }
      const size = this.#o.bytesOf(item);
      if (batch.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      batch.push(item);
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) this.#compact();
    return { batch, bytes };
  }

  #compact(): void {
    if (this.#head === 0) return;
    this.#items = this.#items.slice(this.#head);
    this.#head = 0;
  }
}
