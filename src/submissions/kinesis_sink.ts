/**
 * The sink: the publisher's only view of Kinesis, one `PutRecords` call (and `ListShards`, for
 * its shard limiter). Narrow on purpose, so the publisher can be tested against a fake that fails
 * chosen records.
 *
 * @module
 */
import { type KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { listShards } from "./list_shards.ts";
import type { ListedShard } from "./shard_map.ts";

/** One record to put. */
export interface SinkRecord {
  /** The record's data. */
  readonly data: Uint8Array;
  /** The partition key. */
  readonly partitionKey: string;
}

/** The outcome of one record of a `PutRecords` call, in request order. */
export interface SinkResult {
  /** Present when the record was written. */
  readonly sequenceNumber?: string | undefined;
  /** Present when the record failed: `ProvisionedThroughputExceededException`, `InternalFailure`. */
  readonly errorCode?: string | undefined;
  /** The failure's message; a throttle's names the shard ("Rate exceeded for shard …"). */
  readonly errorMessage?: string | undefined;
  /** The shard the record was written to. */
  readonly shardId?: string | undefined;
}

/** Puts a batch of records and reports each record's own outcome. */
export interface RecordSink {
  /**
   * Puts `records` (≤ 500, ≤ 5 MiB). Resolves with one result per record, in order; rejects when
   * the call as a whole failed (network, 5xx after the SDK's retries, validation).
   */
  putRecords(records: readonly SinkRecord[]): Promise<SinkResult[]>;
  /**
   * Lists every shard of the stream (`ListShards`, all pages), for the publisher's shard
   * limiter; a sink without it is published to without a limiter.
   */
  listShards?(): Promise<readonly ListedShard[]>;
}

/**
 * A {@linkcode RecordSink} writing to the Kinesis stream `streamName` with `client`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startLocalStack } from "../../tools/submissions/local_stack.ts";
 * import { createKinesisClient } from "./aws_clients.ts";
 * import { createKinesisSink } from "./kinesis_sink.ts";
 *
 * await using stack = await startLocalStack(); // kinesalite with a 2-shard stream, loopback
 * const client = createKinesisClient({
 *   region: stack.region,
 *   endpoint: stack.endpoints.kinesis,
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" },
 * });
 * const sink = createKinesisSink(client, stack.streamName);
 * const data = new TextEncoder().encode("{}");
 * const [result] = await sink.putRecords([{ data, partitionKey: "device-1" }]);
 * assert.equal(result?.errorCode, undefined); // written
 * assert.match(result?.shardId ?? "", /^shardId-/);
 * client.destroy();
 * ```
 */
export function createKinesisSink(client: KinesisClient, streamName: string): RecordSink {
  return {
    async putRecords(records) {
      const output = await client.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: records.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
        }),
      );
      const entries = output.Records ?? [];
      // Each entry's own ErrorCode/SequenceNumber is the truth: HTTP 200 and FailedRecordCount
      // are not (LocalStack's fault injection fixes FailedRecordCount at 1).
      if (entries.length !== records.length) {
        throw new Error(
          `PutRecords answered ${entries.length} entries for ${records.length} records`,
        );
      }
      return entries.map((e) => ({
        sequenceNumber: e.SequenceNumber,
        // An entry with neither is not a proven success: treat it as a failure.
        errorCode: e.ErrorCode ?? (e.SequenceNumber ? undefined : "MissingSequenceNumber"),
        errorMessage: e.ErrorMessage,
        shardId: e.ShardId,
      }));
    },
    listShards: () => listShards(client, streamName),
  };
}
