import assert from "node:assert/strict";
import { ShardQueue, type TakeOptions } from "../../src/submissions/shard_queue.ts";

const all = (overrides: Partial<TakeOptions<string>> = {}): TakeOptions<string> => ({
  maxRecords: 1_000,
  maxBytes: Infinity,
  live: () => true,
  fits: () => true,
  ...overrides,
});

function fill(queue: ShardQueue<string>, entries: [string, string][], bytes = 10, at = 0): void {
  for (const [item, key] of entries) queue.push(item, key, bytes, at);
}

Deno.test("shard queue: round-robin over keys, each key first in first out", () => {
  const queue = new ShardQueue<string>();
  fill(queue, [["h1", "hot"], ["h2", "hot"], ["h3", "hot"], ["a1", "a"], ["b1", "b"], ["a2", "a"]]);
  assert.equal(queue.size, 6);
  assert.equal(queue.bytes, 60);
  assert.deepEqual(queue.take(all()).records.map((r) => r.item), [
    "h1",
    "a1",
    "b1",
    "h2",
    "a2",
    "h3",
  ]);
  assert.equal(queue.size, 0);
  assert.equal(queue.oldestReadyAt, Infinity);
});

Deno.test("shard queue: a take stops at its limits and at the budget; that key goes first next time", () => {
  const queue = new ShardQueue<string>();
  fill(queue, [["a1", "a"], ["a2", "a"], ["b1", "b"], ["c1", "c"]]);
  assert.deepEqual(queue.take(all({ maxRecords: 2 })).records.map((r) => r.item), ["a1", "b1"]);
  assert.equal(queue.oldestReadyAt, -Infinity, "left-overs have lingered already");
  let budget = 0;
  assert.deepEqual(queue.take(all({ fits: () => budget-- > 0 })).records.map((r) => r.item), []);
  budget = 1;
  assert.deepEqual(queue.take(all({ fits: () => budget-- > 0 })).records.map((r) => r.item), [
    "c1",
  ]);
  assert.deepEqual(queue.take(all()).records.map((r) => r.item), ["a2"]);
});

Deno.test("shard queue: bytes: strict, except a first record of an empty call", () => {
  const queue = new ShardQueue<string>();
  queue.push("big", "a", 500, 0);
  queue.push("small", "b", 10, 0);
  assert.deepEqual(queue.take(all({ maxBytes: 100 })).records.map((r) => r.item), []);
  assert.deepEqual(
    queue.take(all({ maxBytes: 100, anySizeFirst: true })).records.map((r) => r.item),
    ["big"],
    "the big record goes alone, and stops the take",
  );
  assert.deepEqual(queue.take(all({ maxBytes: 100 })).records.map((r) => r.item), ["small"]);
});

Deno.test("shard queue: dead items are dropped on the way and not counted", () => {
  const queue = new ShardQueue<string>();
  fill(queue, [["a1", "a"], ["a2", "a"], ["b1", "b"]]);
  const dead = new Set(["a1", "b1"]);
  const live = (item: string) => !dead.has(item);
  assert.equal(queue.next(live)?.item, "a2");
  assert.equal(queue.size, 2, "a1 dropped by next()");
  assert.deepEqual(queue.take(all({ live })).records.map((r) => r.item), ["a2"]);
  assert.equal(queue.size, 0);
});

Deno.test("shard queue: with a dominant key (≥ 8 records, ≥ a quarter), light keys can go alone", () => {
  const queue = new ShardQueue<string>();
  fill(queue, Array.from({ length: 10 }, (_, i): [string, string] => [`h${i}`, "hot"]));
  fill(queue, [["a1", "a"], ["b1", "b"], ["b2", "b"], ["c1", "c"], ["c2", "c"], ["c3", "c"]]);
  assert.equal(queue.dominant(), "hot");
  assert.equal(queue.next(() => true, true)?.item, "a1");
  assert.deepEqual(
    queue.take(all({ lightOnly: true })).records.map((r) => r.item),
    ["a1", "b1", "b2"],
    "c has three waiting: not light",
  );
  assert.equal(queue.size, 13, "the heavy keys' records stay");
  const even = new ShardQueue<string>();
  fill(even, Array.from({ length: 40 }, (_, i): [string, string] => [`x${i}`, `k${i % 5}`]));
  assert.equal(even.dominant(), undefined, "8 of 40 is less than a quarter");
});

Deno.test("shard queue: a take says why it stopped: out of budget, call full, or drained", () => {
  const queue = new ShardQueue<string>();
  fill(queue, [["a1", "a"], ["b1", "b"], ["c1", "c"]]);
  let budget = 1;
  assert.equal(queue.take(all({ fits: () => budget-- > 0 })).stoppedBy, "out-of-budget");
  assert.equal(
    queue.take(all({ maxRecords: 1 })).stoppedBy,
    "call-full",
    "stopped by the call's size, not the budget",
  );
  assert.equal(queue.take(all({ fits: () => false })).stoppedBy, "out-of-budget");
  assert.equal(queue.take(all()).stoppedBy, "drained");
  assert.equal(queue.size, 0, "empty");
});

Deno.test("shard queue: a record's wait counts only the time its shard was blocked", () => {
  const queue = new ShardQueue<string>();
  queue.push("early", "a", 10, 0);
  queue.block(100);
  queue.push("during", "b", 10, 150);
  queue.unblock(400); // blocked 100..400
  queue.push("late", "c", 10, 450);
  queue.block(500);
  queue.unblock(520); // blocked 500..520
  const [early, during, late] = queue.take(all()).records;
  assert.equal(queue.waitedMs(early!, 600), 320);
  assert.equal(queue.waitedMs(during!, 600), 270);
  assert.equal(queue.waitedMs(late!, 600), 20);
});

Deno.test("shard queue: drain hands back everything with the wait so far", () => {
  const queue = new ShardQueue<string>();
  queue.block(0);
  fill(queue, [["a1", "a"], ["b1", "b"]], 10, 10);
  const drained = queue.drain(110);
  assert.deepEqual(drained.map((r) => [r.item, r.waitedBefore]), [["a1", 100], ["b1", 100]]);
  assert.equal(queue.size, 0);
  assert.equal(queue.blocked, false);
  const next = new ShardQueue<string>();
  next.push("a1", "a", 10, 110, drained[0]!.waitedBefore);
  assert.equal(next.waitedMs(next.take(all()).records[0]!, 200), 100);
});
