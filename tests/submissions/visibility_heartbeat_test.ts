import assert from "node:assert/strict";
import { VisibilityHeartbeat } from "../../src/submissions/visibility_heartbeat.ts";

function setup(ok = true) {
  let now = 1_000_000;
  const calls: { handle: string; seconds: number }[] = [];
  let extended = 0;
  const heartbeat = new VisibilityHeartbeat({
    visibilityTimeoutSeconds: 30,
    changeVisibility: (handle, seconds) => {
      calls.push({ handle, seconds });
      return Promise.resolve(ok);
    },
    onExtended: () => extended++,
    now: () => now,
  });
  return {
    heartbeat,
    calls,
    extended: () => extended,
    advance: (ms: number) => now += ms,
  };
}

Deno.test("a message is extended once less than half its timeout is left, not before", async () => {
  const t = setup();
  t.heartbeat.track("m1", "h1");
  t.advance(14_000);
  await t.heartbeat.tick();
  assert.equal(t.calls.length, 0, "16 s of 30 left: not yet");
  t.advance(2_000);
  await t.heartbeat.tick();
  assert.deepEqual(t.calls, [{ handle: "h1", seconds: 30 }]);
  assert.equal(t.extended(), 1);
  // The new deadline is 30 s from the extension: nothing due right after.
  await t.heartbeat.tick();
  assert.equal(t.calls.length, 1);
  t.advance(16_000);
  await t.heartbeat.tick();
  assert.equal(t.calls.length, 2);
});

Deno.test("an untracked message is never extended", async () => {
  const t = setup();
  t.heartbeat.track("m1", "h1");
  t.heartbeat.track("m2", "h2");
  t.heartbeat.untrack("m1");
  t.advance(20_000);
  await t.heartbeat.tick();
  assert.deepEqual(t.calls.map((c) => c.handle), ["h2"]);
  assert.equal(t.heartbeat.size, 1);
});

Deno.test("a failed extension is not counted and is tried again on the next tick", async () => {
  const t = setup(false);
  t.heartbeat.track("m1", "h1");
  t.advance(20_000);
  await t.heartbeat.tick();
  await t.heartbeat.tick();
  assert.equal(t.calls.length, 2);
  assert.equal(t.extended(), 0);
});

Deno.test("start/stop tick on a timer and leave none behind", async () => {
  const calls: number[] = [];
  const heartbeat = new VisibilityHeartbeat({
    visibilityTimeoutSeconds: 2,
    changeVisibility: () => {
      calls.push(Date.now());
      return Promise.resolve(true);
    },
  });
  heartbeat.track("m1", "h1", Date.now() - 1_500);
  heartbeat.start();
  await new Promise((r) => setTimeout(r, 700));
  heartbeat.stop();
  assert.ok(calls.length >= 1, "extended by the timer");
});
