import assert from "node:assert/strict";
import fc from "fast-check";
import { createHash } from "node:crypto";
import { PutRecordsCommand, SplitShardCommand } from "@aws-sdk/client-kinesis";
import {
  hashKeyOf,
  MAX_HASH_KEY,
  ShardMap,
  type ShardRange,
} from "../../src/submissions/shard_map.ts";
import { listShards } from "../../src/submissions/list_shards.ts";
import { startLocalStack } from "../../tools/submissions/local_stack.ts";

const encoder = new TextEncoder();

/** `count` equal ranges covering the whole hash-key space, as Kinesis makes them. */
function evenRanges(count: number): ShardRange[] {
  const width = (MAX_HASH_KEY + 1n) / BigInt(count);
  return Array.from({ length: count }, (_, i) => ({
    shardId: `shardId-${String(i).padStart(12, "0")}`,
    startingHashKey: width * BigInt(i),
    endingHashKey: i === count - 1 ? MAX_HASH_KEY : width * BigInt(i + 1) - 1n,
  }));
}

Deno.test("hashKeyOf: the MD5 of the UTF-8 partition key as an unsigned 128-bit integer", () => {
  assert.equal(hashKeyOf("a"), 0x0cc175b9c0f1b6a831c399e269772661n);
  assert.equal(hashKeyOf(""), 0xd41d8cd98f00b204e9800998ecf8427en);
  const unicode = "gerät-ü-😀";
  const md5 = createHash("md5").update(encoder.encode(unicode)).digest("hex");
  assert.equal(hashKeyOf(unicode), BigInt(`0x${md5}`));
});

Deno.test("shard map: boundaries, gaps and explicit hash keys", () => {
  const map = new ShardMap([
    { shardId: "b", startingHashKey: 100n, endingHashKey: 199n },
    { shardId: "a", startingHashKey: 0n, endingHashKey: 99n },
    { shardId: "c", startingHashKey: 300n, endingHashKey: MAX_HASH_KEY },
  ]);
  assert.deepEqual(map.ranges.map((r) => r.shardId), ["a", "b", "c"], "sorted by start");
  assert.equal(map.shardOfHashKey(0n), "a");
  assert.equal(map.shardOfHashKey(99n), "a");
  assert.equal(map.shardOfHashKey(100n), "b");
  assert.equal(map.shardOfHashKey(199n), "b");
  assert.equal(map.shardOfHashKey(200n), undefined, "a gap (mid-resharding)");
  assert.equal(map.shardOfHashKey(299n), undefined);
  assert.equal(map.shardOfHashKey(300n), "c");
  assert.equal(map.shardOfHashKey(MAX_HASH_KEY), "c");
  assert.equal(map.shardOf("ignored", "150"), "b", "an ExplicitHashKey wins");
  assert.equal(map.shardOf("a"), "c", "MD5 of 'a' is far above 300");
  assert.equal(map.size, 3);
  assert.equal(map.has("b"), true);
  assert.equal(map.has("d"), false);
  assert.throws(() => map.shardOf("x", "-1"), RangeError);
  assert.throws(() => map.shardOf("x", (MAX_HASH_KEY + 1n).toString()), RangeError);
  assert.equal(new ShardMap([]).shardOf("a"), undefined, "no shard at all");
});

Deno.test("shard map: rejects overlapping, reversed or out-of-range ranges", () => {
  assert.throws(
    () =>
      new ShardMap([
        { shardId: "a", startingHashKey: 0n, endingHashKey: 100n },
        { shardId: "b", startingHashKey: 100n, endingHashKey: 200n },
      ]),
    /overlap/,
  );
  assert.throws(
    () => new ShardMap([{ shardId: "a", startingHashKey: 5n, endingHashKey: 4n }]),
    /bad hash-key range/,
  );
  assert.throws(
    () => new ShardMap([{ shardId: "a", startingHashKey: 0n, endingHashKey: MAX_HASH_KEY + 1n }]),
    /bad hash-key range/,
  );
});

Deno.test("shard map from ListShards: closed shards are left out, malformed ones rejected", () => {
  const map = ShardMap.fromListShards([
    {
      ShardId: "shardId-000000000000",
      HashKeyRange: { StartingHashKey: "0", EndingHashKey: MAX_HASH_KEY.toString() },
      SequenceNumberRange: { EndingSequenceNumber: "9" },
    },
    {
      ShardId: "shardId-000000000001",
      HashKeyRange: { StartingHashKey: "0", EndingHashKey: (MAX_HASH_KEY / 2n).toString() },
    },
    {
      ShardId: "shardId-000000000002",
      HashKeyRange: {
        StartingHashKey: (MAX_HASH_KEY / 2n + 1n).toString(),
        EndingHashKey: MAX_HASH_KEY.toString(),
      },
    },
  ]);
  assert.deepEqual(map.ranges.map((r) => r.shardId), [
    "shardId-000000000001",
    "shardId-000000000002",
  ]);
  assert.throws(() => ShardMap.fromListShards([{ ShardId: "x" }]), /without id or hash-key range/);
  assert.throws(
    () =>
      ShardMap.fromListShards([{
        ShardId: "x",
        HashKeyRange: { StartingHashKey: "0x10", EndingHashKey: "20" },
      }]),
    /bad hash key/,
  );
});

Deno.test("shard map: the binary search agrees with a scan, for 1 to 4 000 shards", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4_000 }),
      fc.array(fc.string({ unit: "grapheme", maxLength: 40 }), { minLength: 1, maxLength: 50 }),
      (count, keys) => {
        const ranges = evenRanges(count);
        const map = new ShardMap(ranges);
        for (const key of keys) {
          const hash = hashKeyOf(key);
          const scanned = ranges.find((r) => r.startingHashKey <= hash && hash <= r.endingHashKey);
          assert.equal(map.shardOf(key), scanned?.shardId);
        }
      },
    ),
    { numRuns: 60 },
  );
});

Deno.test("shard map: puts every record on the shard kinesalite puts it on, before and after a split", async () => {
  await using stack = await startLocalStack({ shardCount: 5 });
  const { kinesis, sqs } = stack.createClients();
  try {
    const check = async (label: string) => {
      const map = ShardMap.fromListShards(await listShards(kinesis, stack.streamName));
      const records = Array.from({ length: 300 }, (_, i) => ({
        Data: encoder.encode(String(i)),
        PartitionKey: crypto.randomUUID() + "-ü".repeat(i % 3),
      }));
      const { Records = [] } = await kinesis.send(
        new PutRecordsCommand({ StreamName: stack.streamName, Records: records }),
      );
      assert.equal(Records.length, records.length);
      const shards = new Set<string>();
      for (const [i, entry] of Records.entries()) {
        assert.equal(map.shardOf(records[i]!.PartitionKey), entry.ShardId, `${label}: record ${i}`);
        shards.add(entry.ShardId!);
      }
      return shards;
    };
    assert.equal((await check("5 shards")).size, 5);
    await kinesis.send(
      new SplitShardCommand({
        StreamName: stack.streamName,
        ShardToSplit: "shardId-000000000002",
        NewStartingHashKey: (MAX_HASH_KEY / 2n).toString(),
      }),
    );
    let open = 0;
    for (let i = 0; i < 100 && open !== 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      open = ShardMap.fromListShards(await listShards(kinesis, stack.streamName)).size;
    }
    assert.equal(open, 6, "the split is done");
    assert.equal((await check("after the split")).size, 6);
  } finally {
    kinesis.destroy();
    sqs.destroy();
  }
});
