import assert from "node:assert/strict";
import { App, createApp } from "../../src/app/app.ts";
import { type AppConfig, loadConfig } from "../../src/app/app_config.ts";
import { type Component, defineComponent } from "../../src/app/component.ts";
import { createRegistry } from "../../src/app/metrics.ts";

const CONFIG: AppConfig = {
  components: ["one", "two"],
  httpPort: 0,
  shutdownTimeoutSeconds: 5,
  logLevel: "error",
};

/** A component that records its lifecycle calls. */
function fake(name: string, options: { failStart?: boolean; ready?: () => boolean } = {}) {
  const calls: string[] = [];
  let deadline = NaN;
  const component: Component = {
    routes: [{
      method: "GET",
      path: `/${name}/:id`,
      handle: (_r, p) => Response.json({ name, id: p.id }),
    }],
    checks: {
      dep: () =>
        (options.ready?.() ?? true) ? Promise.resolve() : Promise.reject(new Error("down")),
    },
    describe: () => `${name} described`,
    start() {
      calls.push("start");
      return options.failStart
        ? Promise.reject(new Error(`${name} cannot bind`))
        : Promise.resolve();
    },
    stop(at) {
      calls.push("stop");
      deadline = at;
      return Promise.resolve();
    },
  };
  return { component, calls, deadline: () => deadline };
}

Deno.test("one server for every component: their routes, /readyz per component, one registry", async () => {
  let twoReady = false;
  const one = fake("one");
  const two = fake("two", { ready: () => twoReady });
  const app = new App({
    config: CONFIG,
    hostname: "127.0.0.1",
    components: [{ name: "one", component: one.component }, {
      name: "two",
      component: two.component,
    }],
    metrics: createRegistry(),
  });
  await app.start();
  try {
    const base = `http://127.0.0.1:${app.port}`;
    assert.deepEqual(await (await fetch(`${base}/one/7`)).json(), { name: "one", id: "7" });
    assert.deepEqual(await (await fetch(`${base}/two/8`)).json(), { name: "two", id: "8" });
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    const report = await notReady.json();
    assert.deepEqual(report.components, {
      one: { ready: true, checks: { dep: true } },
      two: { ready: false, checks: { dep: false } },
    });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^edr_dependency_up\{component="two",dependency="dep"\} 0$/m);
    assert.match(metrics, /^edr_dependency_up\{component="one",dependency="dep"\} 1$/m);
    twoReady = true;
    await new Promise((r) => setTimeout(r, 1_050)); // past the readiness cache
    const ready = await fetch(`${base}/readyz`);
    await ready.body?.cancel();
    assert.equal(ready.status, 200);
  } finally {
    const before = performance.now();
    await app.stop(3_000);
    await app.stop(); // idempotent
    for (const f of [one, two]) {
      assert.deepEqual(f.calls, ["start", "stop"]);
      assert.ok(Math.abs(f.deadline() - (before + 3_000)) < 100, "one deadline for all");
    }
  }
  assert.equal(app.state, "stopped");
});

Deno.test("a component that cannot start: start rejects and every component is stopped", async () => {
  const one = fake("one");
  const two = fake("two", { failStart: true });
  const app = new App({
    config: CONFIG,
    hostname: "127.0.0.1",
    components: [{ name: "one", component: one.component }, {
      name: "two",
      component: two.component,
    }],
    metrics: createRegistry(),
  });
  await assert.rejects(app.start(), /two cannot bind/);
  assert.deepEqual(one.calls, ["start", "stop"]);
  assert.deepEqual(two.calls, ["start", "stop"]);
  assert.equal(app.state, "stopped");
});

Deno.test("createApp makes only the enabled components; one that cannot be made stops the others", async () => {
  const made: string[] = [];
  const stopped: string[] = [];
  const definition = (name: string, fail = false) =>
    defineComponent({
      name,
      summary: name,
      settings: {},
      configure: () => ({}),
      create: () => {
        if (fail) throw new Error(`${name}: cannot open its file`);
        made.push(name);
        return { ...fake(name).component, stop: () => (stopped.push(name), Promise.resolve()) };
      },
    });
  const all = [definition("a"), definition("b"), definition("c", true)];
  const app = await createApp(loadConfig(all, { COMPONENTS: "b" }));
  assert.deepEqual(made, ["b"]);
  await app.stop();
  assert.deepEqual(stopped, ["b"]);
  await assert.rejects(
    createApp(loadConfig(all, { COMPONENTS: "a,c" })),
    /c: cannot open its file/,
  );
  assert.deepEqual(made, ["b", "a"]);
  assert.deepEqual(stopped, ["b", "a"]);
});
