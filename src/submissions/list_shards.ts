/**
 * Every shard of a stream, through `ListShards` page by page: the one listing the publisher's
 * shard map, the stream tail and the local stack's throttle share.
 *
 * @example
 * ```ts
 * import { KinesisClient } from "@aws-sdk/client-kinesis";
 * import { listShards } from "./list_shards.ts";
 *
 * const client = new KinesisClient({ region: "eu-west-1" });
 * const shards = await listShards(client, "events");
 * console.log(shards.map((shard) => shard.ShardId));
 * ```
 *
 * @module
 */
import { type KinesisClient, ListShardsCommand, type Shard } from "@aws-sdk/client-kinesis";

/**
 * Lists every shard of `streamName`, open and closed, in the order Kinesis answers them.
 *
 * ```ts
 * import { createKinesisClient } from "./aws_clients.ts";
 * import { listShards } from "./list_shards.ts";
 * const client = createKinesisClient({
 *   region: "eu-west-1",
 *   endpoint: "http://localhost:4566",
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" },
 * });
 * (await listShards(client, "events")).map((shard) => shard.ShardId);
 * // ["shardId-000000000000", "shardId-000000000001"]: the local stack's two shards
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
      { abortSignal: signal },
    );
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return shards;
}
