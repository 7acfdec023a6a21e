/**
 * Kinesis Data Streams' write limits and the shape of its throttle, as the publisher and the
 * shard limiter read them: records and bytes per shard per second, records and bytes per
 * `PutRecords` call, the throttle's error code and the shard its message names.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PUT_RECORDS_MAX_RECORDS, SHARD_RECORDS_PER_SECOND } from "./kinesis_limits.ts";
 * assert.equal(PUT_RECORDS_MAX_RECORDS, 500);
 * assert.equal(SHARD_RECORDS_PER_SECOND, 1_000);
 * ```
 *
 * @module
 */
import type { SinkRecord } from "./kinesis_sink.ts";

/** Kinesis's limits on one `PutRecords` call. */
export const PUT_RECORDS_MAX_RECORDS = 500;
/** 5 MiB: the limit on one `PutRecords` call, data and partition keys included. */
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;

/** Kinesis's write limit per shard: records per second. */
export const SHARD_RECORDS_PER_SECOND = 1_000;
/** Kinesis's write limit per shard: 1 MiB per second, data plus partition keys. */
export const SHARD_BYTES_PER_SECOND = 1024 * 1024;
/** The error code of a throttled record. */
export const THROTTLED = "ProvisionedThroughputExceededException";

/**
 * The shard a throttle message names ("Rate exceeded for shard shardId-… in stream …").
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { throttledShard } from "./kinesis_limits.ts";
 * throttledShard("Rate exceeded for shard shardId-000000000001 in stream events under account 1.");
 * // "shardId-000000000001"
 * assert.equal(throttledShard("Rate exceeded"), undefined);
 * ```
 */
export function throttledShard(message: string | undefined): string | undefined {
  return /^Rate exceeded for shard (shardId-\d{1,20}) /.exec(message ?? "")?.[1];
}

/**
 * A record's size for the budgets: data plus partition key.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { recordBytes } from "./kinesis_limits.ts";
 * assert.equal(recordBytes({ data: new Uint8Array(100), partitionKey: "device-1" }), 108);
 * ```
 */
export function recordBytes(record: SinkRecord): number {
  return record.data.byteLength + record.partitionKey.length;
}
