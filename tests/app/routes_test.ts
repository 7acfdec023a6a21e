import assert from "node:assert/strict";
import { jsonError, readBody, Router } from "../../src/app/routes.ts";

Deno.test("readBody: the whole body under the bound; past it, too_large without buffering the rest", async () => {
  const small = await readBody(new Request("http://x/", { method: "POST", body: "hello" }), 5);
  assert.deepEqual(small, new TextEncoder().encode("hello"));
  const empty = await readBody(new Request("http://x/", { method: "POST" }), 5);
  assert.deepEqual(empty, new Uint8Array(0));
  // A declared length over the bound is refused before reading.
  const declared = new Request("http://x/", {
    method: "POST",
    body: "123456",
    headers: { "content-length": "6" },
  });
  assert.equal(await readBody(declared, 5), "too_large");
  // A stream with no length: reading stops at the first chunk past the bound.
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  const streamed = new Request("http://x/", { method: "POST", body: endless });
  assert.equal(await readBody(streamed, 10_000), "too_large");
  assert.ok(pulled <= 12, `read ${pulled} chunks for a 10 000-byte bound`);
  // Chunks are joined in order.
  const parts = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(new Uint8Array([1, 2]));
      controller.enqueue(new Uint8Array([3]));
      controller.close();
    },
  });
  const joined = await readBody(new Request("http://x/", { method: "POST", body: parts }), 3);
  assert.deepEqual(joined, new Uint8Array([1, 2, 3]));
});

Deno.test("Router: the first route of the method wins; other methods give Allow", () => {
  const ok = () => new Response();
  const router = new Router([
    { method: "GET", path: "/scans", handle: ok },
    { method: "POST", path: "/scans", handle: ok },
    { method: "DELETE", path: "/scans/:host", handle: ok },
  ]);
  const get = router.match("GET", "/scans");
  assert.equal(get.kind, "route");
  const del = router.match("DELETE", "/scans/example.com");
  assert.ok(del.kind === "route" && del.params.host === "example.com");
  assert.deepEqual(router.match("PUT", "/scans"), {
    kind: "method-not-allowed",
    allow: ["GET", "HEAD", "POST"],
  });
  assert.deepEqual(router.match("GET", "/elsewhere"), { kind: "none" });
});

Deno.test("jsonError: status, body and extra headers", async () => {
  const response = jsonError(401, "a bearer token is required", { field: "authorization" }, {
    "www-authenticate": "Bearer",
  });
  assert.equal(response.status, 401);
  assert.equal(response.headers.get("www-authenticate"), "Bearer");
  assert.match(response.headers.get("content-type")!, /^application\/json/);
  assert.deepEqual(await response.json(), {
    error: "a bearer token is required",
    field: "authorization",
  });
});
