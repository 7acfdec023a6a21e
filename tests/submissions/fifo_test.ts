/**
 * The one FIFO (src/submissions/fifo.ts) against a plain array under random operations, and the
 * shard queue built on it (shard_queue.ts), which holds the ready records with or without a
 * limit: dead items skipped, a batch within its bounds, order kept.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Fifo } from "../../src/submissions/fifo.ts";
import { ShardQueue } from "../../src/submissions/shard_queue.ts";

const operation = fc.oneof(
  // Pushes twice as often, so the head passes 1 024 and the array is compacted.
  fc.record({ op: fc.constant("push" as const), value: fc.integer() }),
  fc.record({ op: fc.constant("push" as const), value: fc.integer() }),
  fc.record({ op: fc.constant("shift" as const) }),
  fc.record({ op: fc.constant("unshift" as const), value: fc.integer() }),
  fc.record({ op: fc.constant("at" as const), index: fc.integer({ min: -2, max: 40 }) }),
);

Deno.test("Fifo behaves as an array through pushes, shifts, unshifts and compactions", () => {
  fc.assert(
    fc.property(fc.array(operation, { minLength: 2_500, maxLength: 3_000 }), (operations) => {
      const fifo = new Fifo<number>();
      const model: number[] = [];
      for (const step of operations) {
        if (step.op === "push") {
          fifo.push(step.value);
          model.push(step.value);
        } else if (step.op === "unshift") {
          fifo.unshift(step.value);
          model.unshift(step.value);
        } else if (step.op === "shift") assert.equal(fifo.shift(), model.shift());
        else assert.equal(fifo.at(step.index), step.index < 0 ? undefined : model[step.index]);
        assert.equal(fifo.length, model.length);
        assert.equal(fifo.peek(), model[0]);
      }
      assert.deepEqual([...fifo.drain()], model);
      assert.equal(fifo.length, 0);
    }),
    { numRuns: 50 },
  );
});

Deno.test("ShardQueue.take without a budget: live items only, in order, within maxRecords and maxBytes", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          bytes: fc.integer({ min: 1, max: 300 }),
          live: fc.boolean(),
          key: fc.constantFrom("a", "b", "c"),
        }),
        { maxLength: 2_000 },
      ),
      fc.boolean(),
      fc.integer({ min: 1, max: 500 }),
      fc.integer({ min: 1, max: 5_000 }),
      (items, oneKey, maxRecords, maxBytes) => {
        type Item = { bytes: number; live: boolean; key: string };
        const keyOf = (item: Item) => oneKey ? "a" : item.key;
        const queue = new ShardQueue<Item>();
        for (const item of items) queue.push(item, keyOf(item), item.bytes, 0);
        const expected = items.filter((item) => item.live);
        const taken: Item[] = [];
        for (;;) {
          const { records } = queue.take({
            maxRecords,
            maxBytes,
            anySizeFirst: true,
            live: (item) => item.live,
            fits: () => true,
          });
          if (records.length === 0) break;
          assert.ok(records.length <= maxRecords);
          const bytes = records.reduce((sum, r) => sum + r.bytes, 0);
          // A first item goes whatever its size; the others keep the batch within maxBytes.
          assert.ok(records.length === 1 || bytes <= maxBytes);
          taken.push(...records.map((r) => r.item));
        }
        // One key: first in, first out. Several: each key's items in order, none lost.
        if (oneKey) assert.deepEqual(taken, expected);
        for (const key of ["a", "b", "c"]) {
          const ofKey = (list: Item[]) => list.filter((item) => keyOf(item) === key);
          assert.deepEqual(ofKey(taken), ofKey(expected));
        }
        assert.equal(taken.length, expected.length);
        assert.equal(queue.next((item) => item.live), undefined);
        assert.equal(queue.size, 0);
      },
    ),
    { numRuns: 200 },
  );
});
