/**
 * The whole stream read back, shard by shard, in each shard's order: what the reconciliation
 * (reconcile.ts) checks. The page-by-page reader is tail.ts's.
 *
 * @example
 * ```ts
 * import { startLocalStack } from "./local_stack.ts";
 * import { readStream } from "./read_stream.ts";
 *
 * await using stack = await startLocalStack();
 * const clients = stack.createClients();
 * const signal = AbortSignal.timeout(60_000);
 * await readStream(clients.kinesis, stack.streamName, { signal }); // [] (nothing written yet)
 * clients.destroy();
 * ```
 *
 * @module
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { listShardIds, readShard } from "./tail.ts";

/** One record of the stream, where it was read. */
export interface StreamRecord {
  /** The shard it was read from. */
  readonly shardId: string;
  /** Its sequence number within the shard. */
  readonly sequenceNumber: string;
  /** Its data, as written. */
  readonly data: Uint8Array;
  /** When Kinesis accepted it (`ApproximateArrivalTimestamp`), if reported. */
  readonly arrivalTime?: Date | undefined;
}

/** Options of {@linkcode readStream}. */
export interface ReadStreamOptions {
  /** Stops reading; {@linkcode readStream} then returns what it has. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Reads every shard of the stream from TRIM_HORIZON until caught up (MillisBehindLatest 0 and an
 * empty page) or closed. Records come shard by shard, each shard in its own order, which is the
 * only order Kinesis defines.
 *
 * @example
 * ```ts
 * import { PutRecordCommand } from "@aws-sdk/client-kinesis";
 * import { startLocalStack } from "./local_stack.ts";
 * import { readStream } from "./read_stream.ts";
 *
 * await using stack = await startLocalStack({ shardCount: 1 });
 * const clients = stack.createClients();
 * const data = new TextEncoder().encode("{}");
 * await clients.kinesis.send(
 *   new PutRecordCommand({ StreamName: stack.streamName, Data: data, PartitionKey: "d" }),
 * );
 * const records = await readStream(clients.kinesis, stack.streamName);
 * records.map((r) => r.shardId); // ["shardId-000000000000"]
 * clients.destroy();
 * ```
 */
export async function readStream(
  kinesis: KinesisClient,
  streamName: string,
  options: ReadStreamOptions = {},
): Promise<StreamRecord[]> {
  const shardIds = await listShardIds(kinesis, streamName, options.signal);
  const perShard = await Promise.all(shardIds.map(async (shardId) => {
    const records: StreamRecord[] = [];
    await readShard(kinesis, {
      streamName,
      shardId,
      from: "TRIM_HORIZON",
      untilCaughtUp: true,
      idleMs: 200,
      signal: options.signal,
      onRecords(page) {
        for (const { sequenceNumber, data, arrivalTime } of page) {
          records.push({ shardId, sequenceNumber, data, arrivalTime });
        }
      },
    });
    return records;
  }));
  return perShard.flat();
}
