import assert from "node:assert/strict";
import { Batcher } from "../../src/submissions/batcher.ts";

Deno.test("batches of at most 10, each item learns its own outcome", async () => {
  const batches: number[][] = [];
  const batcher = new Batcher<number>({
    flush: (items) => {
      batches.push([...items]);
      return Promise.resolve(items.map((n) => n % 7 !== 0));
    },
  });
  const results = await Promise.all(Array.from({ length: 25 }, (_, i) => batcher.add(i)));
  assert.deepEqual(batches.map((b) => b.length), [10, 10, 5]);
  assert.deepEqual(results, Array.from({ length: 25 }, (_, i) => i % 7 !== 0));
  await batcher.drain();
});

Deno.test("a lone item goes after the delay; a failing flush fails its items only", async () => {
  let call = 0;
  const batcher = new Batcher<string>({
    delayMs: 20,
    flush: (items) =>
      ++call === 1 ? Promise.reject(new Error("down")) : Promise.resolve(items.map(() => true)),
  });
  const started = performance.now();
  assert.equal(await batcher.add("a"), false);
  assert.ok(performance.now() - started >= 15);
  assert.equal(await batcher.add("b"), true);
});

Deno.test("drain sends what is queued at once", async () => {
  const sent: string[] = [];
  const batcher = new Batcher<string>({
    delayMs: 10_000,
    flush: (items) => {
      sent.push(...items);
      return Promise.resolve(items.map(() => true));
    },
  });
  const pending = batcher.add("x");
  await batcher.drain();
  assert.equal(await pending, true);
  assert.deepEqual(sent, ["x"]);
});
