/**
 * The Redis store against a real redis-server (its own, on a free loopback port, per test):
 * the store contract twice (reads answered from the local tally, and from Redis after a flush),
 * then what only a shared store has: idempotent flushes, the generation reset between
 * instances, an outage and the recovery, the caps on what one instance writes, close.
 */
import assert from "node:assert/strict";
import type { IpEvent } from "../../src/ip_events/decode_ip_event.ts";
import { parseIpv4 } from "../../src/ip_events/netblock.ts";
import { openRedisLink, type RedisLink } from "../../src/ip_events/redis_link.ts";
import { RedisStore, type RedisStoreOptions } from "../../src/ip_events/redis_store.ts";
import { type IpEventStore, StoreUnavailableError } from "../../src/ip_events/store.ts";
import { type RedisServer, startRedisServer } from "../../tools/ip_events/redis_server.ts";
import { startFaultProxy } from "./fault_proxy.ts";
import { storeContract } from "./store_contract.ts";

const APP = "c".repeat(64);
const OTHER = "d".repeat(64);
const LIMITS = { maxApps: 1000, maxIpsPerApp: 1000 };

function events(app: string, n: number, ips: readonly string[]): IpEvent[] {
  return Array.from(
    { length: n },
    (_, i) => ({ appSha256: app, ip: parseIpv4(ips[i % ips.length]!)! }),
  );
}

function storeOn(url: string, options: Partial<RedisStoreOptions> = {}): RedisStore {
  return new RedisStore({
    link: openRedisLink({ url }),
    limits: LIMITS,
    flushMs: 60_000, // tests flush by hand unless they say otherwise
    ...options,
  });
}

/** A store whose close also disposes of its own Redis. */
function owning(store: IpEventStore, redis: RedisServer, flushFirst: boolean): IpEventStore {
  return {
    record: (batch) => store.record(batch),
    answer: async (sha) => {
      if (flushFirst) assert.equal(await (store as RedisStore).flush(), true);
      return store.answer(sha);
    },
    reset: () => store.reset(),
    stats: () => store.stats(),
    close: async () => {
      await store.close();
      await redis[Symbol.asyncDispose]();
    },
  };
}

storeContract("RedisStore, unflushed", async (limits) => {
  const redis = await startRedisServer();
  return owning(storeOn(redis.url, { limits }), redis, false);
});

storeContract("RedisStore, flushed before each read", async (limits) => {
  const redis = await startRedisServer();
  return owning(storeOn(redis.url, { limits }), redis, true);
});

async function hash(link: RedisLink, key: string): Promise<Record<string, string>> {
  // node-redis 6 speaks RESP3: a hash comes back as an object.
  return { ...await link.command(["HGETALL", key], 1000) as Record<string, string> };
}

Deno.test("a flush writes per-app hashes in one round trip; the tally empties", async () => {
  await using redis = await startRedisServer();
  const store = storeOn(redis.url, { chunkPairs: 3 });
  const raw = openRedisLink({ url: redis.url });
  const flushes: { ok: boolean; seconds: number; applied: number; duplicates: number }[] = [];
  try {
    const observed = storeOn(redis.url, {
      chunkPairs: 3,
      observer: { flushed: (o) => flushes.push(o) },
    });
    observed.record([
      ...events(APP, 5, ["10.0.0.1", "10.0.0.2"]),
      ...events(OTHER, 2, ["200.0.0.9"]),
      ...events("e".repeat(64), 1, ["1.1.1.1"]),
    ]);
    assert.equal(observed.pendingEvents, 8);
    assert.equal(await observed.flush(), true);
    assert.equal(observed.pendingEvents, 0);
    // Three pairs per chunk (an app's IPs and its total): each app its own chunk, one trip.
    assert.deepEqual(flushes, [{
      ok: true,
      seconds: flushes[0]!.seconds,
      applied: 3,
      duplicates: 0,
    }]);
    assert.deepEqual(await hash(raw, `{edr:ip-events}:g0:${APP}`), {
      n: "5",
      [String(parseIpv4("10.0.0.1"))]: "3",
      [String(parseIpv4("10.0.0.2"))]: "2",
    });
    assert.equal((await store.answer(APP)).count, 5); // another instance reads it
    await observed.close();
  } finally {
    await store.close();
    await raw.close();
  }
});

Deno.test("a chunk whose reply was lost is sent again and applied once", async () => {
  await using redis = await startRedisServer();
  await using proxy = startFaultProxy(redis.port);
  const link = openRedisLink({ url: `redis://127.0.0.1:${proxy.port}` });
  const raw = openRedisLink({ url: redis.url });
  let duplicates = 0;
  const store = new RedisStore({
    link,
    limits: LIMITS,
    flushMs: 60_000,
    observer: { flushed: (o) => duplicates += o.duplicates },
  });
  try {
    store.record(events(APP, 7, ["10.0.0.1"]));
    assert.equal(await store.flush(), true); // connects, applies
    store.record(events(APP, 5, ["10.0.0.2"]));
    proxy.loseNextReply("EVALSHA");
    assert.equal(await store.flush(), false); // applied by Redis, the reply lost
    assert.equal(proxy.lost, 1);
    assert.equal((await hash(raw, `{edr:ip-events}:g0:${APP}`)).n, "12");
    assert.equal(store.pendingEvents, 5); // still unacknowledged here
    for (let i = 0; i < 100 && !link.isReady; i++) await new Promise((r) => setTimeout(r, 20));
    // Until then a read must not count the applied chunk twice.
    assert.equal((await store.answer(APP)).count, 12);
    assert.equal(await store.flush(), true); // sent again: a duplicate
    assert.equal(duplicates, 1);
    assert.equal(store.pendingEvents, 0);
    assert.equal((await hash(raw, `{edr:ip-events}:g0:${APP}`)).n, "12");
    assert.equal((await store.answer(APP)).count, 12);
  } finally {
    await store.close();
    await raw.close();
  }
});

Deno.test("DELETE on one instance resets every instance; the old generation is swept", async () => {
  await using redis = await startRedisServer();
  const a = storeOn(redis.url);
  const b = storeOn(redis.url, { limits: { maxApps: 1, maxIpsPerApp: 100 } });
  const raw = openRedisLink({ url: redis.url });
  try {
    a.record(events(APP, 3, ["10.0.0.1"]));
    b.record(events(APP, 4, ["10.0.0.2"]));
    assert.equal(await a.flush(), true);
    assert.equal(await b.flush(), true);
    assert.equal((await a.answer(APP)).count, 7);
    assert.equal((await b.answer(APP)).count, 7);
    b.record(events(APP, 2, ["10.0.0.3"])); // unflushed at B when A resets
    await a.reset();
    assert.deepEqual(await a.answer(APP), { count: 0, good_ips: [], bad_ips: [] });
    assert.equal((await b.answer(APP)).count, 2); // B's own unflushed events, at once
    // B learns of the new generation at its flush: its unflushed events land there (the one
    // flush window a DELETE may miss), and its caps count afresh.
    assert.equal(await b.flush(), true);
    assert.equal((await a.answer(APP)).count, 2);
    b.record(events(OTHER, 1, ["10.0.0.1"])); // past B's apps cap: APP holds its one place
    assert.equal(b.stats().apps, 1);
    // Only generation-1 keys are left once the sweep is done.
    await a.close();
    const keys = (await raw.command(["KEYS", "{edr:ip-events}:g[0-9]*"], 1000)) as string[];
    assert.deepEqual(keys, [`{edr:ip-events}:g1:${APP}`]);
  } finally {
    await a.close();
    await b.close();
    await raw.close();
  }
});

Deno.test("Redis away: counting goes on locally, check and reads fail; back: all flushed once", async () => {
  await using redis = await startRedisServer({ appendOnly: true });
  const failures: string[] = [];
  const store = storeOn(redis.url, {
    flushMs: 20,
    observer: { failed: (operation) => failures.push(operation) },
  });
  try {
    store.record(events(APP, 10, ["10.0.0.1"]));
    for (let i = 0; i < 100 && store.pendingEvents > 0; i++) await sleepMs(10);
    assert.equal(store.pendingEvents, 0);
    assert.ok(await store.check(AbortSignal.timeout(1000)));
    await redis.stop("SIGKILL");
    store.record(events(APP, 20, ["10.0.0.2", "8.8.8.8"]));
    for (let i = 0; i < 100 && !failures.includes("flush"); i++) await sleepMs(10);
    await assert.rejects(store.check(AbortSignal.timeout(1000)));
    await assert.rejects(store.answer(APP), StoreUnavailableError);
    await assert.rejects(store.reset(), StoreUnavailableError);
    assert.equal(store.pendingEvents, 20);
    store.record(events(APP, 30, ["10.0.0.3"]));
    await redis.restart();
    for (let i = 0; i < 300 && store.pendingEvents > 0; i++) await sleepMs(10);
    assert.equal(store.pendingEvents, 0);
    await store.check(AbortSignal.timeout(1000));
    const answer = await store.answer(APP);
    assert.equal(answer.count, 60);
    assert.deepEqual(answer.bad_ips, ["8.8.8.8"]);
  } finally {
    await store.close();
  }
});

Deno.test("Redis down at start: the store counts, becomes ready, then flushes", async () => {
  await using redis = await startRedisServer();
  await redis.stop();
  const store = storeOn(redis.url, { flushMs: 20 });
  try {
    store.record(events(APP, 4, ["10.0.0.1"]));
    await assert.rejects(store.check(AbortSignal.timeout(1000)));
    await redis.restart();
    for (let i = 0; i < 300 && store.pendingEvents > 0; i++) await sleepMs(10);
    assert.equal((await store.answer(APP)).count, 4);
  } finally {
    await store.close();
  }
});

Deno.test("the caps bound what one instance writes", async () => {
  await using redis = await startRedisServer();
  const store = storeOn(redis.url, { limits: { maxApps: 2, maxIpsPerApp: 3 } });
  const raw = openRedisLink({ url: redis.url });
  try {
    const apps = ["1", "2", "3", "4"].map((c) => c.repeat(64));
    for (const app of apps) {
      store.record(events(app, 5, ["1.0.0.1", "1.0.0.2", "1.0.0.3", "9.9.9.9"]));
    }
    assert.equal(await store.flush(), true);
    const keys = (await raw.command(["KEYS", "*:g0:*"], 1000)) as string[];
    assert.equal(keys.length, 2);
    for (const key of keys) {
      const fields = await hash(raw, key);
      assert.equal(fields.n, "5"); // every event of a tracked app counted
      assert.equal(Object.keys(fields).length, 1 + 3); // 3 IPs kept
    }
  } finally {
    await store.close();
    await raw.close();
  }
});

Deno.test("close flushes what is pending; a script cache emptied by a restart is refilled", async () => {
  await using redis = await startRedisServer({ appendOnly: true });
  const first = storeOn(redis.url);
  first.record(events(APP, 3, ["10.0.0.1"]));
  await first.close();
  await redis.restart(); // the AOF keeps the data; the script cache is empty
  const second = storeOn(redis.url);
  try {
    for (let i = 0; i < 100; i++) {
      try {
        await second.check(AbortSignal.timeout(500));
        break;
      } catch {
        await sleepMs(20);
      }
    }
    assert.equal((await second.answer(APP)).count, 3);
    second.record(events(APP, 2, ["10.0.0.1"]));
    assert.equal(await second.flush(), true);
    assert.equal((await second.answer(APP)).count, 5);
  } finally {
    await second.close();
  }
});

Deno.test("a password in the URL or apart; a wrong one is not ready", async () => {
  await using redis = await startRedisServer({ password: "s3cret/pw" });
  const inUrl = storeOn(redis.url);
  const apart = new RedisStore({
    link: openRedisLink({ url: `redis://127.0.0.1:${redis.port}`, password: "s3cret/pw" }),
    limits: LIMITS,
    flushMs: 60_000,
  });
  const wrong = new RedisStore({
    link: openRedisLink({ url: `redis://127.0.0.1:${redis.port}`, password: "nope" }),
    limits: LIMITS,
    flushMs: 60_000,
  });
  try {
    inUrl.record(events(APP, 1, ["10.0.0.1"]));
    assert.equal(await inUrl.flush(), true);
    assert.equal((await apart.answer(APP)).count, 1);
    await sleepMs(200);
    await assert.rejects(wrong.check(AbortSignal.timeout(1000)));
    await assert.rejects(wrong.answer(APP), StoreUnavailableError);
  } finally {
    await inUrl.close();
    await apart.close();
    await wrong.close(performance.now() + 100);
  }
});

function sleepMs(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
