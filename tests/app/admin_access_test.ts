/**
 * The admin rule in the handler, without sockets: which routes it guards, the token's answers,
 * protected mode by peer address, and that no header makes a stranger local. (The same rule over
 * real sockets, from a peer in another network namespace: hostile_access_test.ts.)
 *
 * @module
 */
import assert from "node:assert/strict";
import { adminAccess, isLoopback } from "../../src/app/admin_access.ts";
import { createHandler } from "../../src/app/http_handler.ts";
import { createRegistry } from "../../src/app/metrics.ts";
import type { Route } from "../../src/app/routes.ts";

const READY = () => Promise.resolve({ ready: true, components: {}, checkedAt: "" });
const ok = () => new Response("done\n");
const ROUTES: Route[] = [
  { method: "GET", path: "/things", handle: ok },
  { method: "POST", path: "/things", handle: ok },
  { method: "DELETE", path: "/things/:id", handle: ok },
  { method: "PUT", path: "/open", changesState: false, handle: ok },
  { method: "GET", path: "/refresh", changesState: true, handle: ok },
];
const STRANGER = "10.231.0.2";
const FORGED = {
  "x-forwarded-for": "127.0.0.1",
  "x-real-ip": "127.0.0.1",
  forwarded: "for=127.0.0.1",
};

function handler(token: string | undefined) {
  return createHandler({
    registry: createRegistry().registry,
    readiness: READY,
    routes: ROUTES,
    access: adminAccess({ token }),
  });
}

Deno.test("protected mode: state changes from loopback only, whatever the headers say; reads open", async () => {
  const handle = handler(undefined);
  const guarded = [
    new Request("http://x/things", { method: "POST", body: "{}" }),
    new Request("http://x/things/1", { method: "DELETE" }),
    new Request("http://x/refresh"),
  ];
  for (const request of guarded) {
    for (const peer of ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"]) {
      assert.equal((await handle(request.clone(), peer)).status, 200, `${request.method} ${peer}`);
    }
    for (const peer of [STRANGER, "192.168.1.5", "::ffff:10.0.0.1", "fe80::1", ""]) {
      const forged = new Request(request.clone(), { headers: FORGED });
      const response = await handle(forged, peer);
      assert.equal(response.status, 403, `${request.method} ${request.url} from ${peer}`);
      const body = await response.json();
      assert.match(body.error, /changes state: without ADMIN_TOKEN .* protected mode/);
      assert.equal(body.reason, "protected_mode");
    }
  }
  for (
    const request of [
      new Request("http://x/things"),
      new Request("http://x/open", { method: "PUT" }),
    ]
  ) {
    assert.equal((await handle(request, STRANGER)).status, 200, `${request.method} ${request.url}`);
  }
  assert.equal(
    (await handle(new Request("http://x/things", { method: "HEAD" }), STRANGER)).status,
    200,
  );
});

Deno.test("ADMIN_TOKEN: every peer, loopback too, needs the exact bearer token; 401 names it", async () => {
  const handle = handler("s3cret-token");
  const wrong = [
    undefined,
    "",
    "Bearer",
    "Bearer ",
    "Bearer s3cret",
    "Bearer s3cret-token2",
    "bearer s3cret-token",
    "Basic s3cret-token",
    "s3cret-token",
    "Bearer  s3cret-token",
  ];
  for (const peer of ["127.0.0.1", STRANGER]) {
    for (const authorization of wrong) {
      const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
      const response = await handle(
        new Request("http://x/things/1", { method: "DELETE", headers }),
        peer,
      );
      assert.equal(response.status, 401, `${JSON.stringify(authorization)} from ${peer}`);
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
      assert.match((await response.json()).error, /Authorization: Bearer <ADMIN_TOKEN>/);
    }
    const right = new Request("http://x/things", {
      method: "POST",
      headers: { authorization: "Bearer s3cret-token" },
    });
    assert.equal((await handle(right, peer)).status, 200);
  }
  // Reads never need it.
  assert.equal((await handle(new Request("http://x/things"), STRANGER)).status, 200);
});

Deno.test("a malformed path parameter is a 400 naming it, not a 500", async () => {
  const handle = handler(undefined);
  for (const path of ["/things/%E0%A4%A", "/things/%", "/things/%C0%AF", "/things/%FF"]) {
    const response = await handle(new Request(`http://x${path}`, { method: "DELETE" }), "::1");
    assert.equal(response.status, 400, path);
    assert.match((await response.json()).error, /path segment id is not valid percent-encoded/);
  }
  const decoded = createHandler({
    registry: createRegistry().registry,
    readiness: READY,
    routes: [{
      method: "DELETE",
      path: "/things/:id",
      handle: (_request, params) => new Response(params.id),
    }],
  });
  const response = await decoded(
    new Request("http://x/things/a%20b%2Fc", { method: "DELETE" }),
    "::1",
  );
  assert.equal(await response.text(), "a b/c", "parameters arrive decoded, once");
});

Deno.test("isLoopback: only loopback addresses, in every spelling", () => {
  for (
    const address of ["127.0.0.1", "127.255.255.254", "::1", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"]
  ) {
    assert.equal(isLoopback(address), true, address);
  }
  for (
    const address of [
      "10.0.0.1",
      "0.0.0.0",
      "::",
      "::ffff:8.8.8.8",
      "localhost",
      "",
      "127.0.0.1.evil",
    ]
  ) {
    assert.equal(isLoopback(address), false, address);
  }
});
