import assert from "node:assert/strict";
import { create, toBinary } from "@bufbuild/protobuf";
import { DECODE_REJECT_REASONS } from "../../src/ip_events/drop_reason.ts";
import { IpEventSchema } from "../../src/ip_events/ip_event_pb.ts";
import { acceptsJson } from "../../src/ip_events/routes.ts";
import { malformedDatagrams } from "../../tools/ip_events/scenario.ts";
import { metricValue, startCollectorApp } from "./collector_app.ts";

const SHA = "ab".repeat(32);

function event(appSha256: string, ip: number): Uint8Array<ArrayBuffer> {
  return toBinary(
    IpEventSchema,
    create(IpEventSchema, { appSha256, ip: BigInt(ip) }),
  ) as Uint8Array<
    ArrayBuffer
  >;
}

function post(base: string, body: BodyInit, headers: Record<string, string> = {}) {
  return fetch(`${base}/events`, {
    method: "POST",
    headers: { "content-type": "application/octet-stream", ...headers },
    body,
  });
}

async function json(response: Response): Promise<unknown> {
  assert.equal(response.headers.get("content-type"), "application/json");
  return await response.json();
}

Deno.test("GET: an unknown app is 200 with count 0; a malformed sha is a 400 JSON error", async () => {
  await using app = await startCollectorApp();
  const empty = await fetch(`${app.base}/events/${SHA}`);
  assert.equal(empty.status, 200);
  assert.deepEqual(await json(empty), { count: 0, good_ips: [], bad_ips: [] });
  for (const bad of ["abc", "g".repeat(64), "a".repeat(65)]) {
    const response = await fetch(`${app.base}/events/${bad}`);
    assert.equal(response.status, 400);
    assert.deepEqual(await json(response), { error: "app_sha256 must be 64 hex characters" });
  }
});

Deno.test("GET: an Accept that excludes JSON is 406; */* and application/* are fine", async () => {
  await using app = await startCollectorApp();
  for (const accept of ["text/html", "application/json;q=0", "image/*"]) {
    const response = await fetch(`${app.base}/events/${SHA}`, { headers: { accept } });
    assert.equal(response.status, 406, accept);
    await response.body?.cancel();
  }
  for (const accept of ["*/*", "application/*", "text/html, application/json;q=0.5"]) {
    const response = await fetch(`${app.base}/events/${SHA}`, { headers: { accept } });
    assert.equal(response.status, 200, accept);
    await response.body?.cancel();
  }
  assert.equal(acceptsJson(null), true);
});

Deno.test("POST then GET: counts every event, uppercase sha is the same app, lists sorted", async () => {
  await using app = await startCollectorApp();
  const ips = [0x0a000001, 0x0a000002, 0xc0a80101, 0x08080808, 0x0a000001];
  for (const ip of ips) {
    const response = await post(app.base, event(SHA.toUpperCase(), ip), { accept: "*/*" });
    assert.equal(response.status, 204);
    assert.equal(await response.text(), "");
  }
  const response = await fetch(`${app.base}/events/${SHA.toUpperCase()}`);
  assert.deepEqual(await json(response), {
    count: 5,
    good_ips: Array.from({ length: 14 }, (_, i) => `10.0.0.${i + 1}`),
    bad_ips: ["8.8.8.8", "192.168.1.1"],
  });
});

Deno.test("POST: a malformed body is a 400 naming the reason, counted by reason", async () => {
  await using app = await startCollectorApp();
  const reasons = [];
  for (const body of malformedDatagrams()) {
    const response = await post(app.base, body as Uint8Array<ArrayBuffer>);
    assert.equal(response.status, 400);
    const answer = await json(response) as { error: string; reason: string };
    assert.ok(answer.error.length > 0);
    reasons.push(answer.reason);
  }
  // The client's malformed corpus has one datagram per reject reason, in the list's order.
  assert.deepEqual(reasons, [...DECODE_REJECT_REASONS]);
  const metrics = await app.metrics();
  for (const reason of reasons) {
    assert.equal(metricValue(metrics, `edr_ip_events_dropped_total{reason="${reason}"}`), 1);
  }
  assert.equal(metricValue(metrics, "edr_ip_events_posts_received_total"), 6);
});

Deno.test("POST: wrong content type 415, a body over 1 KiB 413, nothing counted", async () => {
  await using app = await startCollectorApp();
  const wrongType = await post(app.base, event(SHA, 1), { "content-type": "text/plain" });
  assert.equal(wrongType.status, 415);
  await wrongType.body?.cancel();
  const tooLarge = await post(app.base, new Uint8Array(4096));
  assert.equal(tooLarge.status, 413);
  assert.match((await json(tooLarge) as { error: string }).error, /over 1024 bytes/);
  assert.equal((await (await fetch(`${app.base}/events/${SHA}`)).json()).count, 0);
});

Deno.test("DELETE: 204, then every app reads count 0 and counts start again", async () => {
  await using app = await startCollectorApp();
  await (await post(app.base, event(SHA, 7))).body?.cancel();
  const deleted = await fetch(`${app.base}/events`, { method: "DELETE" });
  assert.equal(deleted.status, 204);
  await deleted.body?.cancel();
  assert.deepEqual(await (await fetch(`${app.base}/events/${SHA}`)).json(), {
    count: 0,
    good_ips: [],
    bad_ips: [],
  });
  await (await post(app.base, event(SHA, 7))).body?.cancel();
  assert.equal((await (await fetch(`${app.base}/events/${SHA}`)).json()).count, 1);
});

Deno.test("methods and paths: 405 with Allow, 404 elsewhere", async () => {
  await using app = await startCollectorApp();
  const put = await fetch(`${app.base}/events`, { method: "PUT" });
  assert.equal(put.status, 405);
  assert.deepEqual(put.headers.get("allow")?.split(/,\s*/).sort(), ["DELETE", "POST"]);
  await put.body?.cancel();
  const postSha = await fetch(`${app.base}/events/${SHA}`, { method: "POST" });
  assert.equal(postSha.status, 405);
  await postSha.body?.cancel();
  const none = await fetch(`${app.base}/event`);
  assert.equal(none.status, 404);
  await none.body?.cancel();
});

Deno.test("ADMIN_TOKEN: DELETE and POST need the bearer token (401 otherwise); GET does not", async () => {
  await using app = await startCollectorApp({ ADMIN_TOKEN: "s3cret" });
  for (const authorization of [undefined, "Bearer wrong", "Bearer s3cre", "s3cret"]) {
    const headers: Record<string, string> = authorization ? { authorization } : {};
    const deleted = await fetch(`${app.base}/events`, { method: "DELETE", headers });
    assert.equal(deleted.status, 401, String(authorization));
    assert.match(deleted.headers.get("www-authenticate") ?? "", /^Bearer/);
    await deleted.body?.cancel();
    const posted = await post(app.base, event(SHA, 1), headers);
    assert.equal(posted.status, 401);
    await posted.body?.cancel();
  }
  assert.equal((await (await fetch(`${app.base}/events/${SHA}`)).json()).count, 0);
  const authorization = "Bearer s3cret";
  assert.equal((await post(app.base, event(SHA, 1), { authorization })).status, 204);
  const deleted = await fetch(`${app.base}/events`, {
    method: "DELETE",
    headers: { authorization },
  });
  assert.equal(deleted.status, 204);
});
