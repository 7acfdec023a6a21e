/**
 * The flush, read, reset and sweep scripts on a real redis-server, called directly with chosen
 * sequence numbers (the store's own tests drive them through flushes), and the pure argument
 * and reply codecs.
 */
import assert from "node:assert/strict";
import { openRedisLink, type RedisLink, script } from "../../src/ip_events/redis_link.ts";
import {
  type AppDelta,
  appKeyPattern,
  chunkArguments,
  FLUSH_SCRIPT,
  generationKey,
  generationsKey,
  parseFlushReply,
  parseReadReply,
  READ_SCRIPT,
  registryKey,
  RESET_SCRIPT,
  sequenceKey,
  SWEEP_SCRIPT,
} from "../../src/ip_events/redis_scripts.ts";
import { startRedisServer } from "../../tools/ip_events/redis_server.ts";

const PREFIX = "t";
const KEYS = [generationKey(PREFIX), sequenceKey(PREFIX, "i1")];
const APP = "a".repeat(64);

function delta(count: number, ips: [number, number][]): Map<string, AppDelta> {
  return new Map([[APP, { count, ips: new Map(ips) }]]);
}

async function flush(link: RedisLink, seq: number, settled: number, apps: Map<string, AppDelta>) {
  const [result] = await link.runScripts([{
    script: script(FLUSH_SCRIPT),
    keys: KEYS,
    args: [PREFIX, String(seq), String(settled), "60", ...chunkArguments(apps)],
  }], 1000);
  assert.equal(result!.status, "fulfilled", String((result as PromiseRejectedResult).reason));
  return parseFlushReply((result as PromiseFulfilledResult<unknown>).value);
}

async function read(link: RedisLink) {
  const [result] = await link.runScripts(
    [{ script: script(READ_SCRIPT), keys: KEYS, args: [PREFIX, APP] }],
    1000,
  );
  return parseReadReply((result as PromiseFulfilledResult<unknown>).value);
}

Deno.test("flush script: the next chunk applies, a repeat is a duplicate, a gap is refused", async () => {
  await using redis = await startRedisServer();
  const link = openRedisLink({ url: redis.url });
  try {
    assert.deepEqual(await flush(link, 1, 0, delta(3, [[7, 2], [4294967295, 1]])), {
      status: "applied",
      generation: 0,
    });
    assert.equal((await flush(link, 1, 0, delta(3, [[7, 2]]))).status, "duplicate");
    assert.equal((await flush(link, 3, 1, delta(5, [[7, 5]]))).status, "gap"); // 2 is missing
    let state = await read(link);
    assert.equal(state.count, 3);
    assert.deepEqual([...state.ips], [[7, 2], [4294967295, 1]]);
    assert.equal(state.applied, 1);
    assert.equal((await flush(link, 2, 1, delta(1, [[8, 1]]))).status, "applied");
    assert.equal((await flush(link, 3, 1, delta(5, [[7, 5]]))).status, "applied");
    state = await read(link);
    assert.equal(state.count, 9);
    assert.equal(state.ips.get(7), 7);
    assert.equal(state.applied, 3);
  } finally {
    await link.close();
  }
});

Deno.test("flush script: Redis that lost what it applied accepts the chunk after settled", async () => {
  await using redis = await startRedisServer();
  const link = openRedisLink({ url: redis.url });
  try {
    // This instance knows 1..41 are done; Redis has nothing (a restart without persistence).
    assert.equal((await flush(link, 42, 41, delta(1, [[1, 1]]))).status, "applied");
    assert.equal((await flush(link, 44, 41, delta(1, [[1, 1]]))).status, "gap");
    assert.equal((await flush(link, 43, 41, delta(1, [[1, 1]]))).status, "applied");
    assert.equal((await read(link)).count, 2);
  } finally {
    await link.close();
  }
});

Deno.test("reset script: a new generation for all; the dropped chunks can never apply", async () => {
  await using redis = await startRedisServer();
  const link = openRedisLink({ url: redis.url });
  try {
    await flush(link, 1, 0, delta(2, [[1, 2]]));
    const [reset] = await link.runScripts(
      [{ script: script(RESET_SCRIPT), keys: KEYS, args: ["3", "60"] }],
      1000,
    );
    assert.equal((reset as PromiseFulfilledResult<unknown>).value, 1);
    assert.deepEqual(await read(link), { generation: 1, applied: 3, count: 0, ips: new Map() });
    // Chunks 2 and 3 were dropped by the DELETE: sent anyway, they are duplicates.
    assert.equal((await flush(link, 3, 1, delta(9, [[1, 9]]))).status, "duplicate");
    assert.deepEqual(await flush(link, 4, 3, delta(1, [[1, 1]])), {
      status: "applied",
      generation: 1,
    });
    assert.equal((await read(link)).count, 1);
    const keys = await link.command(["KEYS", appKeyPattern(PREFIX)], 1000) as string[];
    assert.deepEqual(keys.sort(), [`{t}:g0:${APP}`, `{t}:g1:${APP}`]);
  } finally {
    await link.close();
  }
});

Deno.test("flush and sweep scripts: each generation's registry names its app keys; a sweep empties it page by page", async () => {
  await using redis = await startRedisServer();
  const link = openRedisLink({ url: redis.url });
  const sweep = async (generation: number, page: number) => {
    const [result] = await link.runScripts([{
      script: script(SWEEP_SCRIPT),
      keys: [generationsKey(PREFIX)],
      args: [PREFIX, String(generation), String(page)],
    }], 1000);
    assert.equal(result!.status, "fulfilled", String((result as PromiseRejectedResult).reason));
    return (result as PromiseFulfilledResult<unknown>).value;
  };
  try {
    const apps = new Map(["a", "b", "c"].map((c) => [c.repeat(64), { count: 1, ips: new Map() }]));
    await flush(link, 1, 0, apps);
    assert.deepEqual(
      [...await link.command(["SMEMBERS", registryKey(PREFIX, 0)], 1000) as Iterable<string>]
        .sort(),
      [...apps.keys()],
    );
    assert.deepEqual([
      ...await link.command(["SMEMBERS", generationsKey(PREFIX)], 1000) as Iterable<string>,
    ], ["0"]);
    await link.runScripts([{ script: script(RESET_SCRIPT), keys: KEYS, args: ["1", "60"] }], 1000);
    await flush(link, 2, 1, delta(1, []));
    assert.deepEqual(await sweep(0, 2), [2, 0]); // two of three, more to come
    assert.deepEqual(await sweep(0, 2), [1, 1]); // the last one: generation 0 is done
    assert.deepEqual(await sweep(0, 2), [0, 1]); // idempotent
    const keys = await link.command(["KEYS", "{t}:*"], 1000) as string[];
    assert.deepEqual(keys.sort(), [
      `{t}:apps:1`,
      `{t}:g1:${APP}`,
      "{t}:gen",
      "{t}:gens",
      "{t}:seq:i1",
    ]);
  } finally {
    await link.close();
  }
});

Deno.test("codecs: arguments, replies, key generations", () => {
  assert.deepEqual(
    chunkArguments(
      new Map([["x", { count: 3, ips: new Map([[1, 2], [9, 1]]) }], ["y", {
        count: 1,
        ips: new Map(),
      }]]),
    ),
    ["x", "3", "2", "1", "2", "9", "1", "y", "1", "0"],
  );
  assert.deepEqual(parseFlushReply([0, "7"]), { status: "duplicate", generation: 7 });
  assert.deepEqual(parseFlushReply([-1, "0"]), { status: "gap", generation: 0 });
  assert.throws(() => parseFlushReply([2, "0"]), /unexpected flush status/);
  assert.throws(() => parseFlushReply("OK"), /unexpected flush reply/);
  assert.throws(() => parseReadReply(["0", "0"]), /unexpected read reply/);
  assert.deepEqual(parseReadReply(["0", "0", []]), {
    generation: 0,
    applied: 0,
    count: 0,
    ips: new Map(),
  });
  assert.equal(registryKey("p", 12), "{p}:apps:12");
  assert.equal(generationsKey("p"), "{p}:gens");
});
