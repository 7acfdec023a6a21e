/**
 * Who may change state, over real sockets, on every state-changing route of every component
 * (found from the running service: each path's `Allow`), from loopback and from a stranger: a
 * peer in a network namespace of its own (netns.ts), which the service sees as 10.231.x.2.
 *
 * - Protected mode (no `ADMIN_TOKEN`): the stranger gets 403 naming ADMIN_TOKEN on every route,
 *   with or without `X-Forwarded-For`/`X-Real-IP`/`Forwarded` claiming loopback, and changes
 *   nothing; loopback is served; reads are open to both.
 * - `ADMIN_TOKEN`: without it or with a wrong one, 401 from both peers; with it, both are served.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startHostileService } from "./hostile_service.ts";
import { createPeerNamespace, type PeerNamespace } from "./netns.ts";
import { type PeerAnswer, type PeerRequest, sendAll } from "./peer_client.ts";

const SHA = "ab".repeat(32);
/** A value for each path parameter of the routes. */
const PARAMS: Record<string, string> = { host: "example.com", app_sha256: SHA };
/** A body each state-changing route accepts in form (what it does with it does not matter). */
const BODIES: Record<string, { body: string; type: string }> = {
  "POST /scans": { body: '{"hosts":["example.com"]}', type: "application/json" },
  "POST /events": { body: "\x0a\x01x", type: "application/octet-stream" },
};
/** The state-changing routes that must be found (more may be). */
const KNOWN = ["DELETE /events", "DELETE /scans/:host", "POST /events", "POST /scans"];
const FORGED = {
  "x-forwarded-for": "127.0.0.1",
  "x-real-ip": "127.0.0.1",
  forwarded: "for=127.0.0.1;proto=http",
};

/** Every route path of every component, from src/<component>/routes.ts. */
async function routePaths(): Promise<string[]> {
  const paths = new Set<string>();
  for await (const entry of Deno.readDir(new URL("../../src", import.meta.url))) {
    if (!entry.isDirectory || entry.name === "app") continue;
    const file = new URL(`../../src/${entry.name}/routes.ts`, import.meta.url);
    const text = await Deno.readTextFile(file).catch(() => "");
    for (const match of text.matchAll(/path: "(\/[^"]*)"/g)) paths.add(match[1]!);
  }
  return [...paths];
}

function concrete(path: string): string {
  return path.replace(/:(\w+)/g, (_, name: string) => PARAMS[name] ?? "x");
}

/** The non-GET routes the service serves, as `METHOD /path`: each path's 405 `Allow`. */
async function stateChangingRoutes(base: string): Promise<string[]> {
  const routes: string[] = [];
  for (const path of await routePaths()) {
    const response = await fetch(`${base}${concrete(path)}`, { method: "OPTIONS" });
    await response.body?.cancel();
    assert.equal(response.status, 405, `OPTIONS ${path}`);
    for (const method of response.headers.get("allow")!.split(/,\s*/)) {
      if (method !== "GET" && method !== "HEAD") routes.push(`${method} ${path}`);
    }
  }
  return routes.sort();
}

function requestsFor(
  base: string,
  routes: readonly string[],
  headers: Record<string, string>,
): PeerRequest[] {
  return routes.map((route) => {
    const [method, path] = route.split(" ") as [string, string];
    const body = BODIES[route];
    return {
      method,
      url: `${base}${concrete(path)}`,
      headers: { ...headers, ...(body ? { "content-type": body.type } : {}) },
      body: body?.body,
    };
  });
}

/** Sends `requests` from inside `ns` (a Deno subprocess in the namespace). */
async function fromPeer(
  ns: PeerNamespace,
  requests: readonly PeerRequest[],
): Promise<PeerAnswer[]> {
  const client = new URL("./peer_client.ts", import.meta.url).pathname;
  const out = await ns.run([
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--allow-net",
    client,
    JSON.stringify(requests),
  ]);
  return JSON.parse(out);
}

const READS = (base: string): PeerRequest[] => [
  { method: "GET", url: `${base}/healthz` },
  { method: "GET", url: `${base}/scans` },
  { method: "GET", url: `${base}/events/${SHA}` },
];

Deno.test("protected mode: a stranger (another network namespace) cannot change state on any route, forged headers or not; loopback can; reads are open", async () => {
  await using ns = await createPeerNamespace();
  await using hostile = await startHostileService();
  const port = hostile.service.port;
  const routes = await stateChangingRoutes(hostile.base);
  for (const known of KNOWN) assert.ok(routes.includes(known), `${known} in ${routes}`);
  const strangerBase = `http://${ns.hostAddress}:${port}`;

  const stranger = await fromPeer(ns, [
    ...requestsFor(strangerBase, routes, {}),
    ...requestsFor(strangerBase, routes, FORGED),
    ...requestsFor(strangerBase, routes, { ...FORGED, host: `127.0.0.1:${port}` }),
    ...READS(strangerBase),
  ]);
  const refused = stranger.slice(0, routes.length * 3);
  for (const [index, answer] of refused.entries()) {
    const route = routes[index % routes.length];
    assert.equal(answer.status, 403, `${route} from ${ns.peerAddress}: ${answer.body}`);
    assert.match(JSON.parse(answer.body).error, /ADMIN_TOKEN/);
  }
  for (const answer of stranger.slice(routes.length * 3)) assert.equal(answer.status, 200);
  // Nothing changed: the POST /scans of the stranger watched nothing.
  assert.equal((await (await fetch(`${hostile.base}/scans`)).json()).total, 0);

  const local = await sendAll(requestsFor(hostile.base, routes, {}));
  for (const [index, answer] of local.entries()) {
    assert.ok(
      ![401, 403].includes(answer.status),
      `${routes[index]} from loopback: ${answer.body}`,
    );
    assert.ok(answer.status < 500, `${routes[index]} from loopback: ${answer.status}`);
  }
  assert.equal((await (await fetch(`${hostile.base}/scans`)).json()).total, 1, "loopback watched");
  const metrics = await (await fetch(`${hostile.base}/metrics`)).text();
  const counted = Number(
    /^edr_http_refused_requests_total\{reason="protected_mode"\} (\d+)$/m
      .exec(metrics)?.[1],
  );
  assert.equal(counted, routes.length * 3);
  assert.deepEqual(await hostile.errorLines(), []);
  console.log(
    `protected mode: ${routes.join(", ")}: 403 ×${refused.length} from ${ns.peerAddress}`,
  );
});

Deno.test("ADMIN_TOKEN: every state-changing route needs the bearer token from every peer, loopback too", async () => {
  const token = `t-${crypto.randomUUID()}`;
  await using ns = await createPeerNamespace();
  await using hostile = await startHostileService({ ADMIN_TOKEN: token });
  const port = hostile.service.port;
  const routes = await stateChangingRoutes(hostile.base);
  for (const known of KNOWN) assert.ok(routes.includes(known), `${known} in ${routes}`);
  const strangerBase = `http://${ns.hostAddress}:${port}`;
  const wrong: Record<string, string>[] = [
    {},
    { authorization: `Bearer ${token}x` },
    { authorization: token },
    FORGED,
  ];

  const stranger = await fromPeer(ns, [
    ...wrong.flatMap((headers) => requestsFor(strangerBase, routes, headers)),
    ...requestsFor(strangerBase, routes, { authorization: `Bearer ${token}` }),
    ...READS(strangerBase),
  ]);
  const local = await sendAll([
    ...wrong.flatMap((headers) => requestsFor(hostile.base, routes, headers)),
    ...requestsFor(hostile.base, routes, { authorization: `Bearer ${token}` }),
  ]);
  const refusedCount = wrong.length * routes.length;
  for (const [peer, answers] of [["stranger", stranger], ["loopback", local]] as const) {
    for (const [index, answer] of answers.slice(0, refusedCount).entries()) {
      assert.equal(answer.status, 401, `${peer} ${routes[index % routes.length]}: ${answer.body}`);
      assert.match(JSON.parse(answer.body).error, /Bearer <ADMIN_TOKEN>/);
    }
    for (
      const [index, answer] of answers.slice(refusedCount, refusedCount + routes.length).entries()
    ) {
      assert.ok(![401, 403].includes(answer.status), `${peer} ${routes[index]} with the token`);
      assert.ok(answer.status < 500, `${peer} ${routes[index]}: ${answer.status} ${answer.body}`);
    }
  }
  for (const answer of stranger.slice(refusedCount + routes.length)) {
    assert.equal(answer.status, 200);
  }
  assert.deepEqual(await hostile.errorLines(), []);
  console.log(`ADMIN_TOKEN: ${refusedCount} refused (401) and ${routes.length} served per peer`);
});
