import assert from "node:assert/strict";
import { handleRequest, startHttpServer } from "../../src/app/http_server.ts";
import { createMetrics } from "../../src/submissions/metrics.ts";
import { Readiness } from "../../src/app/readiness.ts";

Deno.test("readiness is 200 only when every dependency answers, and is cached briefly", async () => {
  let sqsUp = true;
  let probes = 0;
  const readiness = new Readiness({
    probes: {
      sqs: () => {
        probes++;
        return sqsUp ? Promise.resolve() : Promise.reject(new Error("ECONNREFUSED"));
      },
      kinesis: () => Promise.resolve(),
    },
    cacheMs: 50,
  });
  const { registry } = createMetrics();
  const options = { registry, readiness: () => readiness.check() };
  const ok = await handleRequest(new Request("http://x/readyz"), options);
  assert.equal(ok.status, 200);
  assert.deepEqual((await ok.json()).dependencies, { sqs: true, kinesis: true });
  sqsUp = false;
  assert.equal(
    (await handleRequest(new Request("http://x/readyz"), options)).status,
    200,
    "cached",
  );
  await new Promise((r) => setTimeout(r, 60));
  const down = await handleRequest(new Request("http://x/readyz"), options);
  assert.equal(down.status, 503);
  assert.deepEqual((await down.json()).dependencies, { sqs: false, kinesis: true });
  assert.equal(probes, 2);
});

Deno.test("a probe that hangs counts as down after its timeout", async () => {
  const readiness = new Readiness({
    probes: {
      kinesis: (signal) =>
        new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("t")))),
    },
    timeoutMs: 20,
  });
  assert.equal((await readiness.check()).ready, false);
});

Deno.test("healthz, metrics in Prometheus text format, 404 and 405", async () => {
  const metrics = createMetrics();
  metrics.messagesInvalid.inc({ reason: "not_base64" });
  const options = {
    registry: metrics.registry,
    readiness: () => Promise.resolve({ ready: true, dependencies: {}, checkedAt: "" }),
  };
  assert.equal(
    await (await handleRequest(new Request("http://x/healthz"), options)).text(),
    "ok\n",
  );
  const response = await handleRequest(new Request("http://x/metrics"), options);
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0.0.4/);
  const text = await response.text();
  assert.match(text, /^edr_messages_invalid_total\{reason="not_base64"\} 1$/m);
  assert.match(text, /^edr_process_rss_bytes [1-9]\d+$/m);
  assert.equal((await handleRequest(new Request("http://x/nope"), options)).status, 404);
  const post = await handleRequest(new Request("http://x/healthz", { method: "POST" }), options);
  assert.equal(post.status, 405);
});

Deno.test("the server listens on a free port and shuts down cleanly", async () => {
  const metrics = createMetrics();
  const server = await startHttpServer({
    port: 0,
    hostname: "127.0.0.1",
    registry: metrics.registry,
    readiness: () => Promise.resolve({ ready: false, dependencies: { sqs: false }, checkedAt: "" }),
  });
  const response = await fetch(`http://127.0.0.1:${server.port}/readyz`);
  assert.equal(response.status, 503);
  await response.body?.cancel();
  await server.shutdown();
});
