import assert from "node:assert/strict";
import { Capacity } from "../../src/submissions/capacity.ts";

Deno.test("capacity: reserve lets only one of the waiters woken by a release take the room", async () => {
  const capacity = new Capacity(20);
  capacity.acquire(20);
  const taken: number[] = [];
  const waiters = [0, 1, 2, 3].map((id) => capacity.reserve(10).then(() => taken.push(id)));
  capacity.release(10);
  // Every waiter has been woken and has checked again: one took the room, the others wait.
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(taken.length, 1);
  assert.equal(capacity.used, 20);
  capacity.release(30);
  await Promise.all(waiters);
  assert.equal(taken.length, 4);
  assert.equal(capacity.used, 20);
});

Deno.test("capacity: an aborted reserve takes nothing", async () => {
  const capacity = new Capacity(5);
  capacity.acquire(5);
  const controller = new AbortController();
  const reserved = capacity.reserve(5, controller.signal);
  controller.abort();
  assert.equal(await reserved, false);
  assert.equal(capacity.used, 5);
  assert.equal(await capacity.reserve(5, controller.signal), false);
  capacity.release(5);
  assert.equal(await capacity.reserve(5), true);
  assert.equal(capacity.used, 5);
});

Deno.test("capacity: reserve takes at once when the units fit, else waits for enough releases", async () => {
  const capacity = new Capacity(12);
  capacity.acquire(5);
  assert.equal(await capacity.reserve(7), true); // fits at once
  let taken = false;
  const waiting = capacity.reserve(10).then((ok) => taken = ok);
  capacity.release(5);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(taken, false, "7 used + 10 > 12");
  capacity.release(5);
  await waiting;
  assert.equal(taken, true);
  assert.equal(capacity.used, 12);
});
