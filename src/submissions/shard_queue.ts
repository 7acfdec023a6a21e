/**
 * The records waiting for one shard, taken round-robin over their partition keys: one record
 * of each key in turn, each key's own records first in, first out. A device with hundreds of
 * submissions waiting therefore takes one turn like a device with one, and cannot make the
 * others on its shard wait behind it.
 *
 * While one key dominates the queue, the records of *light* keys (a device sending at a normal
 * pace; both as shard_policy.ts defines them) can be taken on their own, ahead of the quanta the
 * busy shard otherwise waits for.
 *
 * The queue also keeps the time its shard spent out of budget (a clock that runs only while
 * it is blocked), so each record can tell how long it waited for budget.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardQueue } from "./shard_queue.ts";
 *
 * const queue = new ShardQueue<string>();
 * const items = [["a1", "a"], ["a2", "a"], ["b1", "b"]] as const;
 * for (const [item, key] of items) queue.push(item, key, 10, 0);
 * const { records } = queue.take({ maxRecords: 3, maxBytes: 100, live: () => true, fits: () => true });
 * assert.deepEqual(records.map((r) => r.item), ["a1", "b1", "a2"]); // keys take turns
 * ```
 *
 * @module
 */
import { Fifo } from "./fifo.ts";
import { isDominantKey, isLightKey } from "./shard_policy.ts";

/** A record in a {@linkcode ShardQueue}. */
export interface QueuedRecord<T> {
  /** What the caller queued. */
  readonly item: T;
  /** Its partition key. */
  readonly key: string;
  /** Its size for the budget: data plus partition key. */
  readonly bytes: number;
  /** When it became ready (ms). */
  readonly readyAt: number;
  /** The queue's blocked clock when it was queued; see {@linkcode ShardQueue.waitedMs}. */
  blockedMark: number;
  /** Time it already waited for budget in another queue (before a reshard moved it). */
  waitedBefore: number;
}

/** Options of one {@linkcode ShardQueue.take}. */
export interface TakeOptions<T> {
  /** Records to take at most. */
  readonly maxRecords: number;
  /** Bytes to take at most. */
  readonly maxBytes: number;
  /** Take a first record whatever its size (the call is empty so far). */
  readonly anySizeFirst?: boolean;
  /** Whether an item still wants to be sent; dead ones are dropped on the way. */
  readonly live: (item: T) => boolean;
  /** Whether a record of `bytes` fits the shard's budget now; called before each take. */
  readonly fits: (bytes: number) => boolean;
  /** Take only from light keys (between a busy shard's quanta). */
  readonly lightOnly?: boolean;
}

/** Why a take stopped: nothing (live, and light with `lightOnly`) left, the call is full, or a record did not fit the budget. */
export type TakeStop = "drained" | "call-full" | "out-of-budget";

/** What one {@linkcode ShardQueue.take} took, in order, and why it stopped. */
export interface TakeResult<T> {
  readonly records: QueuedRecord<T>[];
  readonly stoppedBy: TakeStop;
}

/**
 * One shard's waiting records.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ShardQueue } from "./shard_queue.ts";
 * const queue = new ShardQueue<string>();
 * queue.push("a1", "device-a", 100, 0);
 * queue.push("a2", "device-a", 100, 0);
 * queue.push("b1", "device-b", 100, 0);
 * let tokens = 2; // the shard's budget: two records
 * const { records, stoppedBy } = queue.take({
 *   maxRecords: 10,
 *   maxBytes: 1_000,
 *   live: () => true,
 *   fits: () => tokens-- > 0,
 * });
 * // One key after the other, until the budget ran out.
 * assert.deepEqual(records.map((r) => r.item), ["a1", "b1"]);
 * // "a2" is left waiting for budget
 * assert.equal(stoppedBy, "out-of-budget");
 * ```
 */
export class ShardQueue<T> {
  readonly #keys = new Map<string, Fifo<QueuedRecord<T>>>();
  /** Keys with records, in turn order. */
  readonly #turns = new Fifo<string>();
  #size = 0;
  #bytes = 0;
  /** The key with the most records, as last seen (a candidate: see `dominant`). */
  #heaviest: string | undefined;
  #oldestReadyAt = Infinity;
  #blockedTotal = 0;
  #blockedSince: number | undefined;

  /** Records queued (dead ones not yet dropped included). */
  get size(): number {
    return this.#size;
  }

  /** Bytes queued. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * When the oldest record became ready, for the linger deadline: `Infinity` when empty,
   * `-Infinity` when records were left behind by a take (they have lingered already).
   */
  get oldestReadyAt(): number {
    return this.#oldestReadyAt;
  }

  /** The dominant key (see shard_policy.ts), if one dominates the queue. */
  dominant(): string | undefined {
    const key = this.#heaviest;
    const count = key === undefined ? 0 : this.#keys.get(key)?.length ?? 0;
    return key !== undefined && isDominantKey(count, this.#size) ? key : undefined;
  }

  /** Queues `item` (a record of `key` and `bytes`) that became ready at `readyAt`. */
  push(item: T, key: string, bytes: number, readyAt: number, waitedBefore = 0): void {
    let fifo = this.#keys.get(key);
    if (fifo === undefined) {
      fifo = new Fifo();
      this.#keys.set(key, fifo);
      this.#turns.push(key);
    }
    fifo.push({
      item,
      key,
      bytes,
      readyAt,
      blockedMark: this.#blockedClock(readyAt),
      waitedBefore,
    });
    if (this.#size === 0) this.#oldestReadyAt = readyAt;
    this.#size++;
    this.#bytes += bytes;
    const heaviest = this.#heaviest === undefined ? undefined : this.#keys.get(this.#heaviest);
    if (heaviest === undefined || fifo.length > heaviest.length) this.#heaviest = key;
  }

  /**
   * The record a take would try first (of a light key only, with `lightOnly`), dropping dead
   * records met on the way; `undefined` when there is none.
   */
  next(live: (item: T) => boolean, lightOnly = false): QueuedRecord<T> | undefined {
    for (let turn = 0; turn < this.#turns.length; turn++) {
      const fifo = this.#keys.get(this.#turns.at(turn)!)!;
      this.#dropDead(fifo, live);
      if (lightOnly && !isLightKey(fifo.length)) continue;
      const head = fifo.peek();
      if (head !== undefined) return head;
    }
    return undefined;
  }

  /**
   * Takes records round-robin over the keys while `options` allow: until `maxRecords` or
   * `maxBytes` is reached or a record does not fit the budget (that key goes first next time).
   */
  take(options: TakeOptions<T>): TakeResult<T> {
    const records: QueuedRecord<T>[] = [];
    let bytes = 0;
    const stop = (stoppedBy: TakeStop): TakeResult<T> => {
      // Records left behind have lingered already: they go with the next call.
      this.#oldestReadyAt = this.#size === 0 ? Infinity : -Infinity;
      return { records, stoppedBy };
    };
    for (;;) {
      if (records.length >= options.maxRecords) return stop("call-full");
      const key = this.#nextKey(options);
      if (key === undefined) return stop("drained");
      const head = this.#keys.get(key)!.peek()!;
      const anySize = records.length === 0 && options.anySizeFirst === true;
      if (bytes + head.bytes > options.maxBytes && !anySize) return stop("call-full");
      if (!options.fits(head.bytes)) return stop("out-of-budget");
      records.push(this.#shift(key));
      bytes += head.bytes;
    }
  }

  /** Empties the queue, for records to be queued again elsewhere (after a reshard). */
  drain(now: number): QueuedRecord<T>[] {
    const all: QueuedRecord<T>[] = [];
    for (const fifo of this.#keys.values()) {
      for (const record of fifo.drain()) {
        record.waitedBefore += this.#blockedClock(now) - record.blockedMark;
        all.push(record);
      }
    }
    this.#keys.clear();
    while (this.#turns.length > 0) this.#turns.shift();
    this.#size = 0;
    this.#bytes = 0;
    this.#heaviest = undefined;
    this.#oldestReadyAt = Infinity;
    this.unblock(now);
    return all;
  }

  /** The shard is out of budget from `now` (no-op if it already is). */
  block(now: number): void {
    this.#blockedSince ??= now;
  }

  /** The shard has budget again from `now` (no-op if it had). */
  unblock(now: number): void {
    if (this.#blockedSince === undefined) return;
    this.#blockedTotal += Math.max(0, now - this.#blockedSince);
    this.#blockedSince = undefined;
  }

  /** Whether the shard is out of budget now. */
  get blocked(): boolean {
    return this.#blockedSince !== undefined;
  }

  /** How long `record` (taken from this queue) waited for budget, in ms, up to `now`. */
  waitedMs(record: QueuedRecord<T>, now: number): number {
    return record.waitedBefore + Math.max(0, this.#blockedClock(now) - record.blockedMark);
  }

  #blockedClock(now: number): number {
    const running = this.#blockedSince === undefined ? 0 : Math.max(0, now - this.#blockedSince);
    return this.#blockedTotal + running;
  }

  /**
   * The key a take tries next, at the front of the turns: dead records and emptied keys are
   * dropped on the way, and with `lightOnly` heavy keys pass their turn to the back.
   */
  #nextKey(options: TakeOptions<T>): string | undefined {
    for (let passed = 0; this.#turns.length > passed;) {
      const key = this.#turns.peek()!;
      const fifo = this.#keys.get(key)!;
      this.#dropDead(fifo, options.live);
      if (fifo.length === 0) {
        this.#turns.shift();
        this.#forget(key);
      } else if (options.lightOnly && !isLightKey(fifo.length)) {
        this.#turns.push(this.#turns.shift()!);
        passed++;
      } else return key;
    }
    return undefined;
  }

  /** Takes the first record of `key`, the key at the front of the turns. */
  #shift(key: string): QueuedRecord<T> {
    const fifo = this.#keys.get(key)!;
    const record = fifo.shift()!;
    this.#size--;
    this.#bytes -= record.bytes;
    this.#turns.shift();
    if (fifo.length > 0) this.#turns.push(key);
    else this.#forget(key);
    return record;
  }

  #forget(key: string): void {
    this.#keys.delete(key);
    if (this.#heaviest === key) this.#heaviest = undefined;
  }

  #dropDead(fifo: Fifo<QueuedRecord<T>>, live: (item: T) => boolean): void {
    for (let head = fifo.peek(); head !== undefined && !live(head.item); head = fifo.peek()) {
      fifo.shift();
      this.#size--;
      this.#bytes -= head.bytes;
    }
  }
}
