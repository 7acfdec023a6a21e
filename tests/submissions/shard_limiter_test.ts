import assert from "node:assert/strict";
import { throttledShard } from "../../src/submissions/kinesis_limits.ts";
import { type Poll, ShardLimiter } from "../../src/submissions/shard_limiter.ts";
import { hashKeyOf, type ListedShard, MAX_HASH_KEY } from "../../src/submissions/shard_map.ts";

const HALF = MAX_HASH_KEY / 2n;
const TWO_SHARDS: ListedShard[] = [
  {
    ShardId: "shardId-000000000000",
    HashKeyRange: { StartingHashKey: "0", EndingHashKey: HALF.toString() },
  },
  {
    ShardId: "shardId-000000000001",
    HashKeyRange: {
      StartingHashKey: (HALF + 1n).toString(),
      EndingHashKey: MAX_HASH_KEY.toString(),
    },
  },
];
const [S0, S1] = ["shardId-000000000000", "shardId-000000000001"];

/** Partition keys that land on shard 0 and on shard 1 of {@linkcode TWO_SHARDS}. */
function keysOf(shard: 0 | 1, count: number): string[] {
  const keys: string[] = [];
  for (let i = 0; keys.length < count; i++) {
    const key = `device-${i}`;
    if ((hashKeyOf(key) > HALF ? 1 : 0) === shard) keys.push(key);
  }
  return keys;
}

interface Item {
  readonly name: string;
  readonly key: string;
  dead?: boolean;
}

/** A limiter on a hand-moved clock, with everything it reported. */
function setup(options: { percent?: number; lingerMs?: number; shards?: ListedShard[][] } = {}) {
  const clock = { now: 0 };
  const listings = [...(options.shards ?? [TWO_SHARDS])];
  let listed = 0;
  const events = { budgets: [] as string[], closed: [] as string[], waits: [] as number[] };
  const errors: unknown[] = [];
  let changes = 0;
  const limiter = new ShardLimiter<Item>({
    listShards: () => {
      listed++;
      const shards = listings.length > 1 ? listings.shift()! : listings[0];
      return shards === undefined
        ? Promise.reject(new Error("AccessDenied"))
        : Promise.resolve(shards);
    },
    ratePercent: options.percent ?? 100,
    lingerMs: options.lingerMs ?? 10,
    live: (item) => !item.dead,
    onChange: () => changes++,
    now: () => clock.now,
    observer: {
      onBudget: (shardId, records) => events.budgets.push(`${shardId}=${records}`),
      onShardClosed: (shardId) => events.closed.push(shardId),
      onBudgetWait: (seconds) => events.waits.push(seconds),
      onListError: (error) => errors.push(error),
    },
  });
  const add = (name: string, key: string): Item => {
    const item = { name, key };
    limiter.add(item, { data: new Uint8Array(364), partitionKey: key });
    return item;
  };
  return { limiter, clock, add, events, errors, listed: () => listed, changes: () => changes };
}

/** The call a poll decided to send (it must be one). */
function sent(poll: Poll<Item>): Extract<Poll<Item>, { kind: "send" }> {
  assert.equal(poll.kind, "send", `expected a batch, got ${JSON.stringify(poll)}`);
  return poll as Extract<Poll<Item>, { kind: "send" }>;
}

function names(poll: Poll<Item>): string[] {
  return sent(poll).batch.map((t) => t.item.name);
}

/** When a poll said to look again (`undefined`: it did not say to wait). */
function wakeAt(poll: Poll<Item>): number | undefined {
  return poll.kind === "wait-until" ? poll.at : undefined;
}

Deno.test("limiter: records wait for the first listing, then go to their shards with the full budget", async () => {
  const t = setup();
  const [a] = keysOf(0, 1);
  const [b] = keysOf(1, 1);
  t.add("a", a!);
  t.add("b", b!);
  assert.deepEqual(
    t.limiter.poll(500, 5e6),
    { kind: "wait-until", at: 2_000 },
    "listing: wait (at most 2 s)",
  );
  await t.limiter.settled();
  assert.equal(t.changes(), 1, "the publisher is told to look again");
  assert.deepEqual(t.events.budgets, [`${S0}=1000`, `${S1}=1000`]);
  assert.deepEqual(
    t.limiter.poll(500, 5e6),
    { kind: "wait-until", at: 10 },
    "then the linger, as without it",
  );
  t.clock.now = 10;
  const poll = t.limiter.poll(500, 5e6);
  assert.deepEqual(names(poll).sort(), ["a", "b"]);
  assert.deepEqual(sent(poll).batch.map((x) => x.shardId).sort(), [S0, S1]);
  assert.equal(sent(poll).bytes, 2 * (364 + a!.length));
  assert.deepEqual(t.events.waits, [0, 0]);
  assert.deepEqual(t.limiter.poll(500, 5e6), { kind: "idle" }, "nothing left");
});

Deno.test("limiter: a shard out of budget never holds back the other shard's records", async () => {
  const t = setup();
  const hot = keysOf(0, 600);
  const cold = keysOf(1, 3);
  hot.forEach((key, i) => t.add(`h${i}`, key));
  await t.limiter.settled();
  // Half a second of budget (500 records) goes at once: the queue is fuller than a call.
  assert.equal(names(t.limiter.poll(500, 5e6)).length, 500);
  cold.forEach((key, i) => t.add(`c${i}`, key));
  assert.deepEqual(wakeAt(t.limiter.poll(500, 5e6)), 10, "shard 0 waits, shard 1 lingers");
  t.clock.now = 10;
  // Shard 1's records go. Shard 0 has 10 records of budget, less than its 50-record quantum:
  // it does not make a call of its own, but rides along with those 10.
  const call = t.limiter.poll(500, 5e6);
  assert.deepEqual(names(call).slice(0, 3), ["c0", "c1", "c2"]);
  assert.deepEqual(sent(call).batch.slice(3).map((x) => x.shardId), Array(10).fill(S0));
  const wait = t.limiter.poll(500, 5e6);
  assert.equal(wait.kind, "wait-until");
  assert.equal(wakeAt(wait), 60, "shard 0 waits until it has its 50-record quantum");
  t.clock.now = 60;
  const quantum = names(t.limiter.poll(500, 5e6));
  assert.equal(quantum.length, 50, "one quantum");
  assert.ok(t.events.waits.slice(-50).every((s) => s > 0.049 && s <= 0.06), "waited for budget");
});

Deno.test("limiter: the others' records on a shard a dominant key floods go as soon as one fits", async () => {
  const t = setup({ percent: 10 }); // 100 records/s: a 5-record quantum, 50 records of burst
  const keys = keysOf(0, 4);
  for (let i = 0; i < 60; i++) t.add(`hot${i}`, keys[0]!);
  await t.limiter.settled();
  t.clock.now = 10;
  assert.equal(names(t.limiter.poll(500, 5e6)).length, 50, "the burst");
  t.add("quiet1", keys[1]!);
  t.add("quiet2", keys[2]!);
  t.clock.now = 30; // 2 records of budget: below the quantum of 5, but the quiet keys go
  assert.deepEqual(names(t.limiter.poll(500, 5e6)), ["quiet1", "quiet2"]);
  t.add("quiet3", keys[3]!);
  const wait = t.limiter.poll(500, 5e6);
  assert.equal(wait.kind, "wait-until");
  assert.equal(wakeAt(wait), 40, "quiet3 waits only for one record of budget");
  t.clock.now = 40;
  assert.deepEqual(names(t.limiter.poll(500, 5e6)), ["quiet3"]);
  assert.equal(wakeAt(t.limiter.poll(500, 5e6)), 90, "the hot key waits for its quantum");
  t.clock.now = 90;
  assert.deepEqual(names(t.limiter.poll(500, 5e6)), ["hot50", "hot51", "hot52", "hot53", "hot54"]);
});

Deno.test("limiter: a full call goes at once; dead records are dropped, never sent", async () => {
  const t = setup({ lingerMs: 1_000 });
  const keys = keysOf(1, 30);
  await (t.add("first", keys[0]!), t.limiter.settled());
  const items = keys.slice(1).map((key, i) => t.add(`r${i}`, key));
  items[3]!.dead = true;
  assert.deepEqual(t.limiter.poll(40, 5e6), { kind: "wait-until", at: 1_000 }, "30 of 40: linger");
  const sent = names(t.limiter.poll(29, 5e6));
  assert.equal(sent.length, 29, "a full call goes at once");
  assert.ok(!sent.includes("r3"), "the dead one is dropped");
  assert.equal(t.limiter.size, 0);
});

Deno.test("limiter: throttles shrink the shard's budget, calls without them grow it back", async () => {
  const t = setup();
  const [a] = keysOf(0, 1);
  t.add("a", a!);
  await t.limiter.settled();
  t.events.budgets.length = 0;
  const message = `Rate exceeded for shard ${S0} in stream events under account 000000000000.`;
  t.clock.now = 100;
  t.limiter.onResults([S0, S0], [
    { errorCode: "ProvisionedThroughputExceededException", errorMessage: message },
    { errorCode: undefined, shardId: S0 },
  ], 50);
  assert.deepEqual(t.events.budgets, [`${S0}=800`]);
  assert.equal(t.limiter.budgetOf(S0)!.records(100), 0, "emptied");
  t.clock.now = 1_100;
  t.limiter.onResults([S0], [{ shardId: S0 }], 1_050);
  assert.deepEqual(t.events.budgets, [`${S0}=800`, `${S0}=900`]);
  // A throttle naming the other shard counts there, whatever the map said.
  t.limiter.onResults([S0], [{
    errorCode: "ProvisionedThroughputExceededException",
    errorMessage: message.replace(S0, S1),
  }], 1_100);
  assert.deepEqual(t.events.budgets.at(-1), `${S1}=800`);
  assert.equal(t.listed(), 1, "nothing here showed the map wrong");
  // LocalStack's injected throttles (random, whatever the rate) name no shard: no shrink.
  const before = t.events.budgets.length;
  t.limiter.onResults([S0], [{
    errorCode: "ProvisionedThroughputExceededException",
    errorMessage: "Rate exceeded for shard X in stream Y under account Z.",
  }], 1_200);
  assert.equal(t.events.budgets.length, before);
  assert.equal(t.limiter.budgetOf(S0)!.recordsPerSecond, 900);
});

Deno.test("limiter: a reshard is noticed from a call's answer; queued records move to the new shards", async () => {
  const SPLIT: ListedShard[] = [
    { ...TWO_SHARDS[0]!, SequenceNumberRange: { EndingSequenceNumber: "99" } },
    TWO_SHARDS[1]!,
    {
      ShardId: "shardId-000000000002",
      HashKeyRange: { StartingHashKey: "0", EndingHashKey: (HALF / 2n).toString() },
    },
    {
      ShardId: "shardId-000000000003",
      HashKeyRange: {
        StartingHashKey: (HALF / 2n + 1n).toString(),
        EndingHashKey: HALF.toString(),
      },
    },
  ];
  const t = setup({ shards: [TWO_SHARDS, SPLIT] });
  const keys = keysOf(0, 20);
  keys.forEach((key, i) => t.add(`r${i}`, key));
  await t.limiter.settled();
  t.clock.now = 2_000;
  // Kinesis wrote a record of shard 0's range to shard 2: the map is stale.
  t.limiter.onResults([S0], [{ shardId: "shardId-000000000002" }], 1_990);
  await t.limiter.settled();
  assert.equal(t.listed(), 2);
  assert.deepEqual(t.events.closed, [S0]);
  assert.ok(t.events.budgets.includes("shardId-000000000002=1000"));
  const batch = sent(t.limiter.poll(500, 5e6)).batch;
  assert.equal(batch.length, 20, "every queued record still goes");
  const shards = new Set(batch.map((x) => x.shardId));
  assert.deepEqual([...shards].sort(), ["shardId-000000000002", "shardId-000000000003"]);
});

Deno.test("limiter: when ListShards fails, records go unlimited and it is tried again after 10 s", async () => {
  const t = setup({ shards: [] });
  t.add("a", "k1");
  await t.limiter.settled();
  assert.equal(t.errors.length, 1);
  assert.match(String(t.errors[0]), /AccessDenied/);
  t.clock.now = 10;
  const poll = t.limiter.poll(500, 5e6);
  assert.deepEqual(names(poll), ["a"]);
  assert.equal(sent(poll).batch[0]!.shardId, undefined, "unmapped: no budget");
  t.clock.now = 5_000;
  t.add("b", "k2");
  t.limiter.onResults([undefined], [{ shardId: S0 }], 4_000);
  assert.equal(t.listed(), 1, "not again before 10 s");
  t.clock.now = 60_000;
  t.add("c", "k3");
  await t.limiter.settled();
  assert.equal(t.listed(), 2, "the periodic listing tries again");
});

Deno.test("limiter: a key in no open shard goes unbudgeted and lists again, at most once a second", async () => {
  const t = setup({ shards: [[]] }); // an empty map: every key falls in a gap
  t.add("x", "k");
  await t.limiter.settled();
  t.add("y", "k");
  assert.equal(t.listed(), 1, "not twice in the same second");
  t.clock.now = 1_500;
  t.add("z", "k");
  await t.limiter.settled();
  assert.equal(t.listed(), 2);
  assert.deepEqual(names(t.limiter.poll(500, 5e6)), ["x", "y", "z"]);
});

Deno.test("throttledShard reads the shard from Kinesis's message only", () => {
  assert.equal(
    throttledShard(
      "Rate exceeded for shard shardId-000000000001 in stream events under account 1.",
    ),
    "shardId-000000000001",
  );
  assert.equal(throttledShard("Rate exceeded for shard X in stream Y under account Z."), undefined);
  assert.equal(throttledShard(undefined), undefined);
});

Deno.test("limiter: a listing asked for within a second of the last one is made once allowed", async () => {
  const t = setup({ shards: [TWO_SHARDS, TWO_SHARDS] });
  const [a] = keysOf(0, 1);
  t.add("a", a!);
  await t.limiter.settled();
  t.clock.now = 500;
  t.limiter.onResults([S0], [{ shardId: S1 }], 400); // the map looks wrong
  assert.equal(t.listed(), 1, "not yet: at most one listing a second");
  t.clock.now = 999;
  t.limiter.poll(500, 5e6);
  assert.equal(t.listed(), 1);
  t.clock.now = 1_000;
  t.limiter.poll(500, 5e6);
  await t.limiter.settled();
  assert.equal(t.listed(), 2, "made at the first look after the second");
});
