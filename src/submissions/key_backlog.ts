/**
 * What each partition key (a device, by default) has waiting in the publisher: the records of
 * its submissions not yet in the stream. With the shard limiter, it tells when one key holds
 * more than its shard can take in a while, so that the worker hands that key's next submissions back
 * to the queue for a while instead of letting one device fill the service's capacity
 * (`MAX_IN_FLIGHT_MESSAGES`), which every other device needs too (see worker.ts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyBacklog } from "./key_backlog.ts";
 *
 * const backlog = new KeyBacklog();
 * backlog.add("device-1", 8);
 * backlog.remove("device-1", 1);
 * assert.equal(backlog.records("device-1"), 7);
 * ```
 *
 * @module
 */

/**
 * Records waiting, per partition key.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { KeyBacklog } from "./key_backlog.ts";
 * const backlog = new KeyBacklog();
 * backlog.add("device-1", 3);
 * backlog.remove("device-1", 3);
 * // a key with nothing waiting is forgotten
 * assert.equal(backlog.keys, 0);
 * ```
 */
export class KeyBacklog {
  readonly #records = new Map<string, number>();

  /** Keys with records waiting. */
  get keys(): number {
    return this.#records.size;
  }

  /** Records of `key` waiting. */
  records(key: string): number {
    return this.#records.get(key) ?? 0;
  }

  /** `count` more records of `key` wait. */
  add(key: string, count: number): void {
    this.#records.set(key, this.records(key) + count);
  }

  /** `count` records of `key` are done (in the stream, or given up on). */
  remove(key: string, count: number): void {
    const left = this.records(key) - count;
    if (left > 0) this.#records.set(key, left);
    else this.#records.delete(key);
  }
}
