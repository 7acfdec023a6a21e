/**
 * How the pipeline retries each dependency, with every number in this one file. Each backoff is
 * capped exponential with full jitter (src/app/backoff.ts); the AWS SDK's own standard strategy
 * retries a call first (`sdkAttempts`), and these loops retry what it gives up on.
 *
 * Kinesis, from the inside out: the SDK retries a failed `PutRecords` call; a record the call
 * refused (throttled, internal failure) is retried on its own after {@linkcode KINESIS_RETRY}
 * `.record`, in order, until the message's publish deadline (`PUBLISH_TIMEOUT_SECONDS` +
 * `PUBLISH_TIMEOUT_MS_PER_EVENT`, the operators' setting); past it the message is not deleted and
 * SQS redelivers it. The shard limiter (shard_limiter.ts) keeps records from being refused in the
 * first place.
 *
 * @module
 */
import type { BackoffOptions } from "../app/backoff.ts";

/** The retries of SQS calls. */
export const SQS_RETRY = {
  /** Attempts per call by the SDK's standard retry strategy (throttling, 5xx, network). */
  sdkAttempts: 3,
  /** `GetQueueUrl` at start, until SQS answers (the service is not ready meanwhile). */
  resolveQueue: { baseMs: 500, capMs: 10_000 },
  /** `GetQueueAttributes` (the redrive policy), in the background until it answers. */
  redrivePolicy: { baseMs: 1_000, capMs: 30_000 },
  /** `ReceiveMessage` after a failed long poll. */
  receive: { baseMs: 200, capMs: 10_000 },
  /** `DeleteMessage` of a finished message, for up to one visibility timeout. */
  delete: { baseMs: 200, capMs: 2_000 },
} as const satisfies Record<string, number | BackoffOptions>;

/** The retries of Kinesis calls. */
export const KINESIS_RETRY = {
  /** Attempts per call by the SDK's standard retry strategy (throttling, 5xx, network). */
  sdkAttempts: 3,
  /** A record `PutRecords` refused, retried on its own until the publish deadline. */
  record: { baseMs: 50, capMs: 5_000 },
  /** `ListShards` again after a failed listing (the limiter is off meanwhile). */
  listShardsAfterMs: 10_000,
} as const satisfies Record<string, number | BackoffOptions>;
