/**
 * End to end with IP_EVENTS_STORE=redis: collector processes (main.ts, as `deno task start`
 * runs it) sharing one real redis-server, this process the sender splitting each app's
 * datagrams between them; Redis killed and restarted mid-ingest, a collector killed with
 * SIGKILL and restarted, SIGTERM handing on what is pending.
 */
import assert from "node:assert/strict";
import { EventDraw, type ExpectedAnswer, makeScenario } from "../../tools/ip_events/scenario.ts";
import {
  type CollectorProcess,
  startCollectorProcess,
} from "../../tools/ip_events/collector_process.ts";
import { type RedisServer, startRedisServer } from "../../tools/ip_events/redis_server.ts";
import { SpreadSender } from "../../tools/ip_events/spread_sender.ts";
import { metricValue } from "./collector_app.ts";

const FLUSH_MS = 100;

function startOn(redis: RedisServer, env: Record<string, string> = {}) {
  return startCollectorProcess({
    env: {
      IP_EVENTS_STORE: "redis",
      IP_EVENTS_REDIS_URL: redis.url,
      IP_EVENTS_FLUSH_MS: String(FLUSH_MS),
      ...env,
    },
  });
}

async function metric(collector: CollectorProcess, series: string): Promise<number> {
  return metricValue(await (await fetch(`${collector.base}/metrics`)).text(), series);
}

async function get(collector: CollectorProcess, sha: string): Promise<Response> {
  return await fetch(`${collector.base}/events/${sha}`, {
    headers: { accept: "application/json" },
  });
}

async function answer(collector: CollectorProcess, sha: string): Promise<ExpectedAnswer> {
  const response = await get(collector, sha);
  assert.equal(response.status, 200);
  return await response.json();
}

async function status(url: string): Promise<number> {
  const response = await fetch(url);
  await response.body?.cancel();
  return response.status;
}

async function waitFor(what: string, test: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const until = performance.now() + ms;
  while (!await test()) {
    if (performance.now() > until) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Waits until every collector has handed all it counted to Redis. */
async function settled(collectors: readonly CollectorProcess[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 2 * FLUSH_MS));
  for (const collector of collectors) {
    await waitFor(
      "nothing pending",
      async () => await metric(collector, "edr_ip_events_store_pending_events") === 0,
    );
  }
}

async function counted(collectors: readonly CollectorProcess[]): Promise<number> {
  let sum = 0;
  for (const c of collectors) sum += await metric(c, "edr_ip_events_events_counted_total");
  return sum;
}

/** Every app's lists from every collector equal what was sent; returns the summed counts. */
async function assertExact(
  collectors: readonly CollectorProcess[],
  shas: readonly string[],
  draw: EventDraw,
): Promise<{ sent: number; counts: number }> {
  let sent = 0;
  let counts = 0;
  for (const [index, sha] of shas.entries()) {
    const expected = draw.expectations.answer(index);
    const answers = await Promise.all(collectors.map((c) => answer(c, sha)));
    for (const got of answers) {
      assert.deepEqual(got.good_ips, expected.good_ips);
      assert.deepEqual(got.bad_ips, expected.bad_ips);
      assert.equal(got.count, answers[0]!.count, "every instance reads the same count");
    }
    sent += expected.count;
    counts += answers[0]!.count;
  }
  return { sent, counts };
}

async function spread(
  ports: readonly number[],
  draw: EventDraw,
  events: number,
  rate: number,
): Promise<SpreadSender> {
  const sender = await SpreadSender.open("127.0.0.1", ports);
  try {
    await sender.send({ events, rate }, () => [draw.next()]);
  } finally {
    await sender.close();
  }
  return sender;
}

Deno.test("two instances, each app's datagrams split: both answer the exact sets and the total; DELETE on one resets both", async () => {
  await using redis = await startRedisServer();
  await using a = await startOn(redis);
  await using b = await startOn(redis);
  const ready = await (await fetch(`${a.base}/readyz`)).json();
  assert.deepEqual(ready.components["ip-events"].checks, { udp: true, store: true });
  const scenario = makeScenario({ seed: 21, apps: 3 });
  const draw = new EventDraw(scenario, 21);
  const sender = await spread([a.udpPort, b.udpPort], draw, 40_000, 33_000);
  assert.deepEqual(sender.counts.sent, [20_000, 20_000]);
  await settled([a, b]);
  const { sent, counts } = await assertExact([a, b], scenario.shas, draw);
  assert.equal(sent, 40_000);
  assert.equal(counts, await counted([a, b]), "Redis holds exactly what the instances counted");
  assert.ok(counts >= sent * 0.999, `${counts} of ${sent}`);

  const deleted = await fetch(`${b.base}/events`, { method: "DELETE" });
  assert.equal(deleted.status, 204);
  for (const collector of [a, b]) {
    for (const sha of scenario.shas) {
      assert.deepEqual(await answer(collector, sha), { count: 0, good_ips: [], bad_ips: [] });
    }
  }
  // Counting starts from zero on both.
  const after = new EventDraw(scenario, 22);
  await spread([a.udpPort, b.udpPort], after, 6_000, 20_000);
  await settled([a, b]);
  const again = await assertExact([a, b], scenario.shas, after);
  assert.ok(again.counts <= 6_000 && again.counts >= 6_000 * 0.999, String(again.counts));
});

Deno.test("Redis killed and restarted mid-ingest: not ready meanwhile, GET 503; nothing counted lost or doubled", async () => {
  await using redis = await startRedisServer({ appendOnly: true });
  await using a = await startOn(redis);
  await using b = await startOn(redis);
  const scenario = makeScenario({ seed: 31, apps: 3 });
  const draw = new EventDraw(scenario, 31);
  const sending = spread([a.udpPort, b.udpPort], draw, 60_000, 30_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await redis.stop("SIGKILL");
  await waitFor("not ready", async () => await status(`${a.base}/readyz`) === 503);
  const report = await (await fetch(`${a.base}/readyz`)).json();
  assert.deepEqual(report.components["ip-events"].checks, { udp: true, store: false });
  assert.equal(await status(`${a.base}/healthz`), 200);
  const during = await get(a, scenario.shas[0]!);
  assert.equal(during.status, 503);
  assert.match((await during.json()).error, /Redis cannot be reached/);
  const refused = await fetch(`${a.base}/events`, { method: "DELETE" });
  assert.equal(refused.status, 503);
  await refused.body?.cancel();
  // Hold the outage over a few flush periods: every instance fails, backs off, keeps counting.
  await new Promise((resolve) => setTimeout(resolve, 5 * FLUSH_MS));
  assert.ok(await metric(a, "edr_ip_events_store_pending_events") > 0);
  await redis.restart();
  await sending;
  await waitFor("ready again", async () => await status(`${a.base}/readyz`) === 200);
  await settled([a, b]);
  const { sent, counts } = await assertExact([a, b], scenario.shas, draw);
  assert.equal(sent, 60_000);
  assert.equal(counts, await counted([a, b]), "nothing counted lost or doubled");
  assert.ok(counts >= sent * 0.999, `${counts} of ${sent}`);
  for (const collector of [a, b]) {
    const failed = `edr_ip_events_store_flushes_total{outcome="failed"}`;
    assert.ok(await metric(collector, failed) > 0);
  }
});

Deno.test("a collector killed with SIGKILL and restarted: counts within what the kill window lost, sets exact", async () => {
  await using redis = await startRedisServer();
  const first = await startOn(redis);
  await using b = await startOn(redis);
  const port = first.udpPort;
  const scenario = makeScenario({ seed: 41, apps: 3 });
  const draw = new EventDraw(scenario, 41);
  const sender = await SpreadSender.open("127.0.0.1", [port, b.udpPort]);
  let restarted: CollectorProcess | undefined;
  try {
    const sending = sender.send({ events: 60_000, rate: 30_000 }, () => [draw.next()]);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const unflushed = await metric(first, "edr_ip_events_store_pending_events");
    const atKill = sender.counts.sent[0]!;
    await first.service.kill();
    restarted = await startOn(redis, { IP_EVENTS_UDP_PORT: String(port) });
    const atRestart = sender.counts.sent[0]!;
    await sending;
    await settled([restarted, b]);
    const { sent, counts } = await assertExact([restarted, b], scenario.shas, draw);
    const lost = sent - counts;
    const down = atRestart - atKill;
    // What the kill can lose: the unflushed part (scraped just before it, plus what arrived
    // between the scrape and the kill: at most one more flush window), and what was sent to
    // the port while nothing listened.
    const bound = unflushed + 15_000 * (FLUSH_MS / 1000) + down;
    console.log(
      `SIGKILL: ${lost} of ${sent} events lost (${(lost / sent * 100).toFixed(1)} %): ` +
        `${unflushed} unflushed at the kill, ${down} sent to its port in the ` +
        `${((down / 15_000) * 1000).toFixed(0)} ms until the restart listened ` +
        `(${sender.counts.refused[0]} refused)`,
    );
    assert.ok(lost >= 0, `${counts} counted of ${sent} sent: doubled`);
    assert.ok(lost <= bound + sent * 0.001, `lost ${lost} > ${bound}`);
  } finally {
    await sender.close();
    await restarted?.[Symbol.asyncDispose]();
    await first[Symbol.asyncDispose]();
  }
});

Deno.test("SIGTERM hands what is pending to Redis before the process exits", async () => {
  await using redis = await startRedisServer();
  const slow = await startOn(redis, { IP_EVENTS_FLUSH_MS: "60000" });
  try {
    const scenario = makeScenario({ seed: 51, apps: 2 });
    const draw = new EventDraw(scenario, 51);
    await spread([slow.udpPort], draw, 5_000, 20_000);
    await waitFor(
      "all received",
      async () => await metric(slow, "edr_ip_events_events_counted_total") >= 5_000 * 0.999,
    );
    const local = await counted([slow]);
    assert.equal(await metric(slow, "edr_ip_events_store_pending_events"), local);
    assert.equal(await slow.terminate(), 0);
    await using reader = await startOn(redis);
    const { counts } = await assertExact([reader], scenario.shas, draw);
    assert.equal(counts, local);
  } finally {
    await slow[Symbol.asyncDispose]();
  }
});
