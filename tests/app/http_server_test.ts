import assert from "node:assert/strict";
import { createHandler } from "../../src/app/http_handler.ts";
import { startHttpServer } from "../../src/app/http_server.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import { Readiness, type ReadinessReport } from "../../src/app/readiness.ts";
import { createMetrics } from "../../src/submissions/metrics.ts";

const READY: ReadinessReport = { ready: true, components: {}, checkedAt: "" };
const LOOPBACK = "127.0.0.1";

Deno.test("readiness is 200 only when every dependency answers, and is cached briefly", async () => {
  let sqsUp = true;
  let probes = 0;
  const readiness = new Readiness({
    checks: {
      submissions: {
        sqs: () => {
          probes++;
          return sqsUp ? Promise.resolve() : Promise.reject(new Error("ECONNREFUSED"));
        },
        kinesis: () => Promise.resolve(),
      },
    },
    cacheMs: 50,
  });
  const { registry } = createRegistry();
  const handle = createHandler({ registry, readiness: () => readiness.check() });
  const ok = await handle(new Request("http://x/readyz"), LOOPBACK);
  assert.equal(ok.status, 200);
  assert.deepEqual((await ok.json()).components, {
    submissions: { ready: true, checks: { sqs: true, kinesis: true } },
  });
  sqsUp = false;
  assert.equal((await handle(new Request("http://x/readyz"), LOOPBACK)).status, 200, "cached");
  await new Promise((r) => setTimeout(r, 60));
  const down = await handle(new Request("http://x/readyz"), LOOPBACK);
  assert.equal(down.status, 503);
  assert.deepEqual((await down.json()).components, {
    submissions: { ready: false, checks: { sqs: false, kinesis: true } },
  });
  assert.equal(probes, 2);
});

Deno.test("readiness is 503 when any one component is not ready", async () => {
  const readiness = new Readiness({
    checks: {
      submissions: { sqs: () => Promise.resolve() },
      "ip-events": { udp: () => Promise.reject(new Error("not bound")) },
    },
  });
  const report = await readiness.check();
  assert.equal(report.ready, false);
  assert.equal(report.components.submissions?.ready, true);
  assert.deepEqual(report.components["ip-events"], { ready: false, checks: { udp: false } });
});

Deno.test("a probe that hangs counts as down after its timeout, even if it ignores its signal", async () => {
  const readiness = new Readiness({
    checks: {
      submissions: {
        kinesis: (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => reject(new Error("t")))
          ),
      },
      deaf: { forever: () => new Promise(() => {}) },
    },
    timeoutMs: 20,
  });
  const report = await readiness.check();
  assert.equal(report.ready, false);
  assert.equal(report.components.submissions?.checks.kinesis, false);
  assert.equal(report.components.deaf?.checks.forever, false);
});

Deno.test("healthz, metrics in Prometheus text format, 404 and 405", async () => {
  const { registry } = createRegistry();
  const metrics = createMetrics(registry);
  metrics.messagesInvalid.inc({ reason: "not_base64" });
  const handle = createHandler({ registry, readiness: () => Promise.resolve(READY) });
  assert.equal(await (await handle(new Request("http://x/healthz"), LOOPBACK)).text(), "ok\n");
  const response = await handle(new Request("http://x/metrics"), LOOPBACK);
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0.0.4/);
  const text = await response.text();
  assert.match(text, /^edr_submissions_messages_invalid_total\{reason="not_base64"\} 1$/m);
  assert.match(text, /^process_resident_memory_bytes [1-9]\d+$/m);
  assert.match(text, /^edr_build_info\{version="\d+\.\d+\.\d+[^"]*",.*\} 1$/m);
  assert.equal((await handle(new Request("http://x/nope"), LOOPBACK)).status, 404);
  const post = await handle(new Request("http://x/healthz", { method: "POST" }), LOOPBACK);
  assert.equal(post.status, 405);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
});

Deno.test("component routes: path parameters, HEAD on GET routes, 405 with Allow, a throwing handler is a 500", async () => {
  const seen: string[] = [];
  const handle = createHandler({
    registry: createRegistry().registry,
    readiness: () => Promise.resolve(READY),
    routes: [
      {
        method: "GET",
        path: "/events/:sha",
        handle: (_request, params) => {
          seen.push(params.sha!);
          return Response.json({ sha: params.sha });
        },
      },
      { method: "DELETE", path: "/events", handle: () => new Response(null, { status: 204 }) },
      {
        method: "POST",
        path: "/boom",
        handle: () => {
          throw new Error("defect");
        },
      },
    ],
  });
  const get = await handle(new Request("http://x/events/abc"), LOOPBACK);
  assert.equal(get.status, 200);
  assert.deepEqual(await get.json(), { sha: "abc" });
  const head = await handle(new Request("http://x/events/def", { method: "HEAD" }), LOOPBACK);
  assert.equal(head.status, 200);
  await head.body?.cancel();
  assert.deepEqual(seen, ["abc", "def"]);
  assert.equal(
    (await handle(new Request("http://x/events", { method: "DELETE" }), LOOPBACK)).status,
    204,
  );
  const wrong = await handle(new Request("http://x/events/abc", { method: "PUT" }), LOOPBACK);
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get("allow"), "GET, HEAD");
  assert.match((await wrong.json()).error, /PUT is not allowed on \/events\/abc/);
  const boom = await handle(new Request("http://x/boom", { method: "POST" }), LOOPBACK);
  assert.equal(boom.status, 500);
  assert.deepEqual(await boom.json(), { error: "internal error" });
  assert.equal((await handle(new Request("http://x/events/a/b"), LOOPBACK)).status, 404);
});

Deno.test("two routes for one method and path are refused", () => {
  const route = { method: "GET" as const, path: "/a", handle: () => new Response() };
  assert.throws(
    () =>
      createHandler({
        registry: createRegistry().registry,
        readiness: () => Promise.resolve(READY),
        routes: [route, route],
      }),
    /two routes for GET \/a/,
  );
});

Deno.test("the server listens on a free port and shuts down cleanly", async () => {
  const server = await startHttpServer({
    port: 0,
    hostname: "127.0.0.1",
    registry: createRegistry().registry,
    readiness: () =>
      Promise.resolve({
        ready: false,
        components: { submissions: { ready: false, checks: { sqs: false } } },
        checkedAt: "",
      }),
  });
  const response = await fetch(`http://127.0.0.1:${server.port}/readyz`);
  assert.equal(response.status, 503);
  await response.body?.cancel();
  await server.shutdown();
});

Deno.test("HTTP_MAX_CONNECTIONS: a connection past the cap is closed at once; shutdown closes idle keep-alive connections at once", async () => {
  const server = await startHttpServer({
    port: 0,
    hostname: "127.0.0.1",
    registry: createRegistry().registry,
    readiness: () => Promise.resolve(READY),
    maxConnections: 2,
  });
  const request = new TextEncoder().encode("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const conns = [];
  for (let i = 0; i < 3; i++) {
    conns.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
  }
  const answers = await Promise.all(conns.map(async (conn) => {
    try {
      await conn.write(request);
      const buffer = new Uint8Array(1024);
      const n = await conn.read(buffer);
      return n === null
        ? "closed"
        : new TextDecoder().decode(buffer.subarray(0, n)).split("\r\n")[0];
    } catch {
      return "closed";
    }
  }));
  assert.deepEqual(answers, ["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "closed"]);
  // Two idle keep-alive connections remain: shutdown must not wait for their 5 s timeout.
  const started = performance.now();
  await server.shutdown();
  const ms = performance.now() - started;
  assert.ok(ms < 1_500, `shutdown took ${ms.toFixed(0)} ms`);
  for (const conn of conns) {
    const n = await conn.read(new Uint8Array(16)).catch(() => null);
    assert.equal(n, null, "closed by the shutdown");
    conn.close();
  }
});
