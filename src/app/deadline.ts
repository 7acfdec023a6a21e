/**
 * Deadlines of the graceful stop: one `performance.now()` time by which every component must be
 * done, and waits bounded by it (a dead dependency cannot hold the exit).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { remaining, within } from "./deadline.ts";
 *
 * const deadline = performance.now() + 1_000;
 * const finished = await within(Promise.resolve(), remaining(deadline));
 * assert.equal(finished, true);
 * const hung = new Promise(() => {}); // a dependency that never answers
 * assert.equal(await within(hung, 10), false); // given up after 10 ms
 * ```
 *
 * @module
 */

/**
 * Milliseconds left until `deadline` (a `performance.now()` time), never negative.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { remaining } from "./deadline.ts";
 * const left = remaining(performance.now() + 1_000);
 * assert.ok(left > 900 && left <= 1_000);
 * assert.equal(remaining(performance.now() - 1), 0); // past: nothing left, never negative
 * ```
 */
export function remaining(deadline: number): number {
  return Math.max(0, deadline - performance.now());
}

/**
 * Whether `promise` settles (fulfilled or rejected) within `ms` milliseconds; it is not
 * cancelled otherwise, and no timer is left behind either way.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { within } from "./deadline.ts";
 * assert.equal(await within(new Promise(() => {}), 10), false); // never settles: given up
 * assert.equal(await within(Promise.reject(new Error("down")), 10), true); // settled, even failed
 * ```
 */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    promise.then(() => true, () => true),
    new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), Math.max(0, ms))),
  ]);
  clearTimeout(timer);
  return settled;
}

/**
 * `promise`'s result, or `late()`'s when it has not settled within `ms` milliseconds (`late`
 * throwing makes it a rejection); `promise` is not cancelled, and no timer is left behind.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { withTimeout } from "./deadline.ts";
 * assert.equal(await withTimeout(Promise.resolve("done"), 1_000, () => "late"), "done");
 * assert.equal(await withTimeout(new Promise(() => {}), 10, () => "late"), "late");
 * await assert.rejects(
 *   withTimeout(new Promise(() => {}), 10, () => {
 *     throw new Error("no answer in 10 ms");
 *   }),
 *   /no answer/,
 * );
 * ```
 */
export async function withTimeout<T, U>(
  promise: Promise<T>,
  ms: number,
  late: () => U,
): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<U>((resolve, reject) => {
    timer = setTimeout(() => {
      try {
        resolve(late());
      } catch (error) {
        reject(error);
      }
    }, Math.max(0, ms));
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
