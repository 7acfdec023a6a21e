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
 * import { createKinesisClient } from "./aws_clients.ts";
 * import { createKinesisSink } from "./kinesis_sink.ts";
 * const client = createKinesisClient({
 *   region: "eu-west-1",
 *   endpoint: "http://localhost:4566",
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" },
 * });
 * const sink = createKinesisSink(client, "events");
 * const data = new TextEncoder().encode("{}");
 * await sink.putRecords([{ data, partitionKey: "device-1" }]);
 * // [{ sequenceNumber: "4968…", shardId: "shardId-000000000001", … }]: written
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
