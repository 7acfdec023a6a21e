import assert from "node:assert/strict";
import { TokenBucket } from "../../src/submissions/token_bucket.ts";

Deno.test("token bucket: starts full, refills at its rate, never above its capacity", () => {
  const bucket = new TokenBucket({ ratePerSecond: 1_000, capacity: 500, now: 0 });
  assert.equal(bucket.available(0), 500);
  assert.equal(bucket.take(500, 0), true);
  assert.equal(bucket.take(1, 0), false, "empty");
  assert.equal(bucket.available(100), 100);
  assert.equal(bucket.take(100, 100), true);
  assert.equal(bucket.available(10_000), 500, "capped at the capacity");
});

Deno.test("token bucket: a refused take takes nothing; msUntil says when it would pass", () => {
  const bucket = new TokenBucket({ ratePerSecond: 200, capacity: 100, now: 1_000, tokens: 10 });
  assert.equal(bucket.take(30, 1_000), false);
  assert.equal(bucket.available(1_000), 10);
  assert.equal(bucket.msUntil(30, 1_000), 100); // 20 missing at 200/s
  assert.equal(bucket.msUntil(5, 1_000), 0);
  assert.equal(bucket.take(30, 1_100), true);
  assert.equal(bucket.available(1_100), 0);
});

Deno.test("token bucket: a take larger than the capacity passes when full and leaves a debt", () => {
  const bucket = new TokenBucket({ ratePerSecond: 100, capacity: 100, now: 0 });
  assert.equal(bucket.canTake(250, 0), true, "full: the whole capacity is there");
  assert.equal(bucket.take(250, 0), true);
  assert.equal(bucket.available(0), -150);
  assert.equal(bucket.take(1, 1_000), false, "still in debt after 1 s");
  assert.equal(bucket.msUntil(250, 1_000), 1_500, "until full again");
  assert.equal(bucket.take(250, 2_500), true);
});

Deno.test("token bucket: drain empties (keeping a debt); reconfigure keeps tokens, capped", () => {
  const bucket = new TokenBucket({ ratePerSecond: 100, capacity: 100, now: 0 });
  bucket.drain(0);
  assert.equal(bucket.available(0), 0);
  assert.equal(bucket.available(500), 50);
  bucket.reconfigure(1_000, 20, 500);
  assert.equal(bucket.available(500), 20, "capped at the new capacity");
  assert.equal(bucket.ratePerSecond, 1_000);
  assert.equal(bucket.capacity, 20);
  bucket.take(20, 500);
  assert.equal(bucket.available(510), 10, "the new rate");
  // A clock read earlier than the last one adds nothing (and takes nothing back).
  assert.equal(bucket.available(505), 10);
});

Deno.test("token bucket: rejects a rate or capacity that is not positive", () => {
  assert.throws(() => new TokenBucket({ ratePerSecond: 0, capacity: 1, now: 0 }), RangeError);
  assert.throws(() => new TokenBucket({ ratePerSecond: 1, capacity: NaN, now: 0 }), RangeError);
  const bucket = new TokenBucket({ ratePerSecond: 1, capacity: 1, now: 0 });
  assert.throws(() => bucket.reconfigure(-1, 1, 0), RangeError);
});
