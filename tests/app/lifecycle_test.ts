import assert from "node:assert/strict";
import { Lifecycle } from "../../src/app/lifecycle.ts";

Deno.test("start runs once, from idle only; a start after stop is refused", async () => {
  const lifecycle = new Lifecycle("thing");
  let starts = 0;
  const start = () => Promise.resolve(void starts++);
  await lifecycle.start(start);
  await assert.rejects(lifecycle.start(start), /cannot start thing: it is running/);
  await lifecycle.stop(() => Promise.resolve());
  await assert.rejects(lifecycle.start(start), /cannot start thing: it is stopped/);
  assert.equal(starts, 1);
});

Deno.test("stop before start still runs the stop work, once", async () => {
  const lifecycle = new Lifecycle("thing");
  let stops = 0;
  const stop = () => Promise.resolve(void stops++);
  const first = lifecycle.stop(stop);
  assert.equal(lifecycle.state, "stopping"); // at once: background work sees it
  await Promise.all([first, lifecycle.stop(stop)]);
  assert.equal(lifecycle.state, "stopped");
  assert.equal(stops, 1);
});

Deno.test("a stop during a start waits for the start to settle", async () => {
  const lifecycle = new Lifecycle("thing");
  const log: string[] = [];
  const { promise: opened, resolve: open } = Promise.withResolvers<void>();
  const starting = lifecycle.start(async () => {
    await opened;
    log.push("opened");
  });
  const stopping = lifecycle.stop(() => Promise.resolve(void log.push("closed")));
  assert.equal(lifecycle.state, "starting");
  open();
  await Promise.all([starting, stopping]);
  assert.deepEqual(log, ["opened", "closed"]);
  assert.equal(lifecycle.state, "stopped");
});

Deno.test("a failed start rejects, and stop still frees what create made", async () => {
  const lifecycle = new Lifecycle("thing");
  await assert.rejects(
    lifecycle.start(() => Promise.reject(new Error("port taken"))),
    /port taken/,
  );
  assert.equal(lifecycle.state, "starting");
  let stops = 0;
  await lifecycle.stop(() => Promise.resolve(void stops++));
  assert.equal(stops, 1);
  assert.equal(lifecycle.state, "stopped");
});

Deno.test("a failing stop work still ends in stopped, and its error reaches every caller", async () => {
  const lifecycle = new Lifecycle("thing");
  const stop = () => Promise.reject(new Error("store unreachable"));
  await assert.rejects(lifecycle.stop(stop), /store unreachable/);
  await assert.rejects(lifecycle.stop(stop), /store unreachable/);
  assert.equal(lifecycle.state, "stopped");
});
