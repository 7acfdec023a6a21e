/**
 * The one first-in, first-out list of the publisher: the shard queue's keys and their turns
 * (shard_queue.ts) are built on it.
 *
 * @module
 */

/**
 * A first-in, first-out list with O(1) operations at both ends: an array and a head index, so
 * taking from the front never shifts the array (compacted once the head passes half of it).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Fifo } from "./fifo.ts";
 * const fifo = new Fifo<string>();
 * fifo.push("a");
 * fifo.push("b");
 * assert.equal(fifo.shift(), "a");
 * fifo.unshift("a"); // put back in front
 * assert.deepEqual([...fifo.drain()], ["a", "b"]);
 * assert.equal(fifo.length, 0);
 * ```
 */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;

  /** Items queued. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The first item, left in place. */
  peek(): T | undefined {
    return this.#items[this.#head];
  }

  /** Queues `item` last. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** Puts an item back in front. */
  unshift(item: T): void {
    if (this.#head > 0) this.#items[--this.#head] = item;
    else this.#items.unshift(item);
  }

  /** Takes the first item. */
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head++] = undefined as T; // let it be collected
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** The item `index` places behind the head. */
  at(index: number): T | undefined {
    return index < 0 ? undefined : this.#items[this.#head + index];
  }

  /** Takes every item, first to last. */
  *drain(): Generator<T> {
    while (this.length > 0) yield this.shift()!;
  }
}
