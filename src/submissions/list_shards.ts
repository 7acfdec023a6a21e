/**
 * Every shard of a stream, through `ListShards` page by page: the one listing the publisher's
 * shard map, the stream tail and the local stack's throttle share.
 *
 * @module
 */
import { type KinesisClient, ListShardsCommand, type Shard } from "@aws-sdk/client-kinesis";
import { abortOptions } from "./aws_clients.ts";

/**
 * Lists every shard of `streamName`, open and closed, in the order Kinesis answers them.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startLocalStack } from "../../tools/submissions/local_stack.ts";
 * import { createKinesisClient } from "./aws_clients.ts";
 * import { listShards } from "./list_shards.ts";
 *
 * await using stack = await startLocalStack(); // kinesalite with a 2-shard stream, loopback
 * const client = createKinesisClient({
 *   region: stack.region,
 *   endpoint: stack.endpoints.kinesis,
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" },
 * });
 * const shards = await listShards(client, stack.streamName);
 * assert.deepEqual(shards.map((shard) => shard.ShardId), [
 *   "shardId-000000000000",
 *   "shardId-000000000001",
 * ]);
 * client.destroy();
 * ```
 */
export async function listShards(
  kinesis: KinesisClient,
  streamName: string,
  signal?: AbortSignal,
): Promise<Shard[]> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    // With a NextToken, the API forbids the stream name.
    const page = await kinesis.send(
      new ListShardsCommand(
        nextToken === undefined ? { StreamName: streamName } : { NextToken: nextToken },
      ),
      abortOptions(signal),
    );
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return shards;
}
