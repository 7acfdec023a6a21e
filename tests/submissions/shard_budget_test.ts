import assert from "node:assert/strict";
import { ShardBudget } from "../../src/submissions/shard_budget.ts";
import { SHARD_POLICY } from "../../src/submissions/shard_policy.ts";

const MIB = 1024 * 1024;

Deno.test("shard budget: half a second of records and bytes, both needed for a record", () => {
  const budget = new ShardBudget({ recordsPerSecond: 1_000, bytesPerSecond: MIB, now: 0 });
  assert.equal(budget.records(0), 1_000 * SHARD_POLICY.burstSeconds);
  assert.equal(budget.bytes(0), MIB * SHARD_POLICY.burstSeconds);
  let taken = 0;
  while (budget.take(400, 0)) taken++;
  assert.equal(taken, 500, "the record bucket binds for small records");
  assert.equal(budget.msUntil(100, 100 * 400, 0), 100);
  const big = new ShardBudget({ recordsPerSecond: 1_000, bytesPerSecond: MIB, now: 0 });
  taken = 0;
  while (big.take(100_000, 0)) taken++;
  assert.equal(taken, 5, "the byte bucket (512 KiB) binds for 100 kB records");
});

Deno.test("shard budget: a throttle shrinks by 0.8 once per round and empties the buckets", () => {
  const budget = new ShardBudget({ recordsPerSecond: 1_000, bytesPerSecond: MIB, now: 0 });
  assert.equal(budget.onThrottled(10, 50), true);
  assert.equal(budget.factor, SHARD_POLICY.decrease);
  assert.equal(budget.recordsPerSecond, 800);
  assert.equal(budget.bytesPerSecond, MIB * 0.8);
  assert.equal(budget.records(50), 0, "emptied: Kinesis just said the shard is full");
  // A call sent before that shrink reports the old rate: not counted again.
  assert.equal(budget.onThrottled(40, 60), false);
  assert.equal(budget.factor, 0.8);
  // A call sent after it counts.
  assert.equal(budget.onThrottled(55, 90), true);
  assert.ok(Math.abs(budget.factor - 0.64) < 1e-9);
  for (let t = 100; t < 10_000; t += 100) budget.onThrottled(t, t + 1);
  assert.equal(budget.factor, SHARD_POLICY.minFactor, "never below the floor");
  assert.equal(budget.recordsPerSecond, 100);
});

Deno.test("shard budget: calls without throttles grow it back by 0.1 per second, up to the full budget", () => {
  const budget = new ShardBudget({ recordsPerSecond: 1_000, bytesPerSecond: MIB, now: 0 });
  assert.equal(budget.onWritten(1_000), false, "already full");
  budget.onThrottled(0, 0);
  budget.onThrottled(1, 1); // 0.64
  assert.equal(budget.onWritten(1_001), true);
  assert.ok(Math.abs(budget.factor - 0.74) < 1e-9, `${budget.factor}`);
  assert.equal(budget.onWritten(1_001), false, "no time passed since the last change");
  budget.onWritten(2_001);
  assert.ok(Math.abs(budget.factor - 0.84) < 1e-9);
  budget.onWritten(60_000);
  assert.equal(budget.factor, 1);
  assert.equal(budget.recordsPerSecond, 1_000);
});
