/**
 * The one FIFO (src/submissions/fifo.ts) against a plain array under random operations, and the
 * ready FIFO built on it (ready_fifo.ts): dead items skipped, a batch within its bounds, order kept.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Fifo } from "../../src/submissions/fifo.ts";
import { ReadyFifo } from "../../src/submissions/ready_fifo.ts";

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

Deno.test("ReadyFifo.take: live items only, in order, within maxRecords and maxBytes", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ bytes: fc.integer({ min: 1, max: 300 }), live: fc.boolean() }), {
        maxLength: 2_000,
      }),
      fc.integer({ min: 1, max: 500 }),
      fc.integer({ min: 1, max: 5_000 }),
      (items, maxRecords, maxBytes) => {
        const fifo = new ReadyFifo<{ bytes: number; live: boolean }>({
          live: (item) => item.live,
          bytesOf: (item) => item.bytes,
        });
        for (const item of items) fifo.push(item);
        const expected = items.filter((item) => item.live);
        const taken: { bytes: number; live: boolean }[] = [];
        for (;;) {
          const { batch, bytes } = fifo.take(maxRecords, maxBytes);
          if (batch.length === 0) break;
          assert.ok(batch.length <= maxRecords);
          assert.equal(bytes, batch.reduce((sum, item) => sum + item.bytes, 0));
          // A first item goes whatever its size; the others keep the batch within maxBytes.
          assert.ok(batch.length === 1 || bytes <= maxBytes);
          taken.push(...batch);
        }
        assert.deepEqual(taken, expected);
        assert.equal(fifo.peek(), undefined);
      },
    ),
    { numRuns: 200 },
  );
});
