/**
 * What a `DELETE /events` costs Redis when other tenants share it: the sweep reads this
 * service's registries, never the keyspace. Against a real redis-server holding 50 000 foreign
 * keys, 30 resets (each after new events, so each has keys to sweep) issue no `SCAN`, leave
 * every foreign key in place, and leave only the current generation's keys of ours.
 */
import assert from "node:assert/strict";
import type { IpEvent } from "../../src/ip_events/decode_ip_event.ts";
import { openRedisLink, type RedisLink } from "../../src/ip_events/redis_link.ts";
import { RedisStore } from "../../src/ip_events/redis_store.ts";
import { startRedisServer } from "../../tools/ip_events/redis_server.ts";

const FOREIGN_KEYS = 50_000;
const RESETS = 30;
const APPS_PER_ROUND = 20;

async function commandCalls(link: RedisLink): Promise<Map<string, number>> {
  const info = String(await link.command(["INFO", "commandstats"], 5000));
  const calls = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(match[1]!, Number(match[2]));
  }
  return calls;
}

function appEvents(round: number): IpEvent[] {
  return Array.from({ length: APPS_PER_ROUND }, (_, i) => ({
    appSha256: (round * APPS_PER_ROUND + i).toString(16).padStart(64, "0"),
    ip: 0x0a000001 + i,
  }));
}

Deno.test("30 DELETEs over 50 000 foreign keys: no SCAN, foreign keys untouched, ours swept", async () => {
  await using redis = await startRedisServer();
  const raw = openRedisLink({ url: redis.url });
  const store = new RedisStore({
    link: openRedisLink({ url: redis.url }),
    limits: { maxApps: 1000, maxIpsPerApp: 100 },
    flushMs: 60_000, // flushed by hand
  });
  try {
    for (let start = 0; start < FOREIGN_KEYS; start += 5_000) {
      const pairs = Array.from({ length: 5_000 }, (_, i) => [`tenant:${start + i}`, "x"]).flat();
      await raw.command(["MSET", ...pairs], 5000);
    }
    await raw.command(["CONFIG", "RESETSTAT"], 1000);
    for (let round = 0; round < RESETS; round++) {
      store.record(appEvents(round));
      assert.equal(await store.flush(), true);
      await store.reset();
    }
    store.record(appEvents(RESETS));
    assert.equal(await store.flush(), true);
    await store.close(); // waits for the sweeps
    const calls = await commandCalls(raw);
    console.log(
      `${RESETS} resets over ${FOREIGN_KEYS} foreign keys: SCAN calls ${calls.get("scan") ?? 0},` +
        ` EVALSHA ${calls.get("evalsha") ?? 0}, UNLINK ${calls.get("unlink") ?? 0},` +
        ` SMEMBERS ${calls.get("smembers") ?? 0}`,
    );
    assert.equal(calls.get("scan") ?? 0, 0);
    assert.equal(calls.get("keys") ?? 0, 0);
    // Every app key of the 30 past generations went, one UNLINK per page of them.
    assert.equal(calls.get("unlink"), RESETS);
    const ours = await raw.command(["KEYS", "{edr:ip-events}:g[0-9]*"], 5000) as string[];
    assert.equal(ours.length, APPS_PER_ROUND);
    assert.ok(ours.every((key) => key.startsWith(`{edr:ip-events}:g${RESETS}:`)), ours[0]);
    assert.equal(Number(await raw.command(["DBSIZE"], 1000)), FOREIGN_KEYS + APPS_PER_ROUND + 4);
  } finally {
    await store.close();
    await raw.close();
  }
});
