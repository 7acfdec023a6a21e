/**
 * The submissions pipeline's settings: one table of every setting's schema, default and allowed
 * range (read through src/app/settings.ts, so the parser, the one-line errors and the `--help`
 * text cannot disagree), and what the pipeline derives from them.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "../app/settings.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 *
 * const config = configure(readSettings(SETTINGS, { WORKERS: "4" }), {});
 * assert.equal(config.workers, 4);
 * // The region's AWS endpoints, the SDK's credentials.
 * assert.equal(config.credentials, "default-chain");
 * ```
 *
 * @module
 */
import { DEFAULT_MAX_EVENTS } from "./codec.ts";
import { z } from "zod";
import { credentialsPlan, sharedFilesExist } from "./aws_credentials.ts";
import {
  type ConfigOf,
  type Env,
  httpUrl,
  integer,
  optionalHttpUrl,
  type SettingsTable,
  type SettingValues,
} from "../app/settings.ts";

/** Every setting, by environment variable name. */
export const SETTINGS = {
  AWS_REGION: {
    schema: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/),
    default: "eu-west-1",
    allowed: "an AWS region name such as eu-west-1",
    help: "AWS region of the queue and the stream",
  },
  AWS_ENDPOINT_URL: {
    // No default: a deployment that forgets it talks to AWS, never to a localhost emulator.
    schema: optionalHttpUrl.optional(),
    allowed: "an http(s) URL; unset or empty: the region's AWS endpoints",
    help: "endpoint of SQS and Kinesis, e.g. an emulator's (deno task stack prints its own)",
  },
  AWS_ENDPOINT_URL_SQS: {
    schema: optionalHttpUrl.optional(),
    allowed: "an http(s) URL",
    help: "SQS endpoint; default AWS_ENDPOINT_URL",
  },
  AWS_ENDPOINT_URL_KINESIS: {
    schema: optionalHttpUrl.optional(),
    allowed: "an http(s) URL",
    help: "Kinesis endpoint; default AWS_ENDPOINT_URL",
  },
  SQS_QUEUE_NAME: {
    schema: z.string().regex(/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/),
    default: "submissions",
    allowed: "a queue name of 1 to 80 letters, digits, - and _",
    help: "queue to consume; resolved with GetQueueUrl unless SQS_QUEUE_URL is set",
  },
  SQS_QUEUE_URL: {
    schema: httpUrl.optional(),
    allowed: "an http(s) URL",
    help: "queue URL; wins over SQS_QUEUE_NAME",
  },
  KINESIS_STREAM_NAME: {
    schema: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
    default: "events",
    allowed: "a stream name of 1 to 128 letters, digits, _ . and -",
    help: "stream to publish events to",
  },
  KINESIS_PARTITION_KEY: {
    schema: z.enum(["device_id", "submission_id"]),
    default: "device_id",
    allowed: "device_id or submission_id",
    help: "record field used as partition key (constant within a submission, so order holds)",
  },
  SQS_MAX_MESSAGES: {
    schema: integer(1, 10),
    default: "10",
    allowed: "an integer from 1 to 10",
    help: "MaxNumberOfMessages of each ReceiveMessage",
  },
  SQS_VISIBILITY_TIMEOUT: {
    schema: integer(2, 43_200),
    default: "30",
    allowed: "an integer from 2 to 43200 (seconds)",
    help: "VisibilityTimeout of each ReceiveMessage and of each heartbeat extension",
  },
  SQS_WAIT_TIME_SECONDS: {
    schema: integer(0, 20),
    default: "20",
    allowed: "an integer from 0 to 20 (seconds)",
    help: "long-poll WaitTimeSeconds of each ReceiveMessage",
  },
  SQS_INVALID_QUEUE_URL: {
    schema: optionalHttpUrl.optional(),
    allowed: "an http(s) URL",
    help: "if set, invalid messages are copied here (reason as attribute) before deletion",
  },
  WORKERS: {
    schema: integer(1, 256),
    // 8: the best of the WORKERS x SQS_MAX_MESSAGES sweep in BENCHMARKS.md (+17 % over 4).
    default: "8",
    allowed: "an integer from 1 to 256",
    help: "concurrent receive loops",
  },
  MAX_IN_FLIGHT_MESSAGES: {
    schema: integer(1, 100_000),
    default: "1000",
    allowed: "an integer from 1 to 100000",
    help: "messages being processed at once, over all workers (backpressure)",
  },
  PUBLISH_LINGER_MS: {
    schema: integer(0, 1_000),
    default: "10",
    allowed: "an integer from 0 to 1000 (milliseconds)",
    help: "how long a record may wait to share a PutRecords call",
  },
  PUBLISH_MAX_CONCURRENCY: {
    schema: integer(1, 64),
    default: "4",
    allowed: "an integer from 1 to 64",
    help: "PutRecords calls in flight at once",
  },
  KINESIS_SHARD_RATE_LIMIT: {
    schema: integer(0, 1_000),
    default: "100",
    allowed: "an integer from 0 to 1000 (percent; 0 turns the limiter off)",
    help: "each shard's write budget, in percent of Kinesis's limit per shard (1 000 records/s, " +
      "1 MiB/s), as the KPL's RateLimit; it shrinks on throttles (other producers) and grows " +
      "back",
  },
  KINESIS_KEY_BACKLOG_SECONDS: {
    schema: integer(0, 3_600),
    default: "2",
    allowed: "an integer from 0 to 3600 (seconds; 0: never)",
    help: "with the shard limiter: a device (partition key) with more than this many seconds " +
      "of its shard's budget waiting has its next submissions handed back to the queue, " +
      "unpublished, for 1, 2, 4 … 60 s, so one device cannot take all of " +
      "MAX_IN_FLIGHT_MESSAGES (never past the queue's redrive maxReceiveCount)",
  },
  PUBLISH_TIMEOUT_SECONDS: {
    schema: integer(1, 43_200),
    default: "900",
    allowed: "an integer from 1 to 43200 (seconds)",
    help: "after this long, plus PUBLISH_TIMEOUT_MS_PER_EVENT per event, a message still not " +
      "published is released for redelivery",
  },
  PUBLISH_TIMEOUT_MS_PER_EVENT: {
    schema: integer(0, 60_000),
    // An event is one PutRecords round trip after the other (order): ~13 ms here with the
    // 10 ms linger; 200 ms leaves room for throttling and retries.
    default: "200",
    allowed: "an integer from 0 to 60000 (milliseconds)",
    help: "what each event of a message adds to its publish deadline, so a large valid " +
      "submission is published once instead of released and published again from event 0 " +
      "(the deadline stays under SQS's 12 h visibility ceiling)",
  },
  MAX_EVENTS_PER_SUBMISSION: {
    schema: integer(1, 100_000),
    default: String(DEFAULT_MAX_EVENTS),
    allowed: "an integer from 1 to 100000",
    help: "a submission with more events is rejected (too_many_events, to the invalid queue)",
  },
} as const satisfies SettingsTable;

/**
 * Derives what the pipeline reads from its validated settings: endpoints, the credentials plan
 * (aws_credentials.ts: the SDK's chain, or dummy keys for loopback endpoints when nothing is
 * configured; `sharedFiles` says whether `~/.aws` holds a config or credentials file), and every
 * value under a readable name.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "../app/settings.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * const aws = configure(readSettings(SETTINGS, {}), {}, false);
 * assert.equal(aws.sqsEndpoint, undefined); // the region's AWS endpoint
 * assert.equal(aws.credentials, "default-chain");
 * const local = { AWS_ENDPOINT_URL: "http://127.0.0.1:4566" };
 * assert.equal(configure(readSettings(SETTINGS, local), local, false).credentials, "loopback-dummy");
 * ```
 */
export function configure(
  raw: SettingValues<typeof SETTINGS>,
  env: Env,
  sharedFiles: boolean = sharedFilesExist(env),
) {
  const sqsEndpoint = raw.AWS_ENDPOINT_URL_SQS ?? raw.AWS_ENDPOINT_URL;
  const kinesisEndpoint = raw.AWS_ENDPOINT_URL_KINESIS ?? raw.AWS_ENDPOINT_URL;
  return {
    region: raw.AWS_REGION,
    sqsEndpoint,
    kinesisEndpoint,
    credentials: credentialsPlan([sqsEndpoint, kinesisEndpoint], env, sharedFiles),
    queueName: raw.SQS_QUEUE_NAME,
    queueUrl: raw.SQS_QUEUE_URL,
    invalidQueueUrl: raw.SQS_INVALID_QUEUE_URL,
    streamName: raw.KINESIS_STREAM_NAME,
    partitionKey: raw.KINESIS_PARTITION_KEY,
    maxMessages: raw.SQS_MAX_MESSAGES,
    visibilityTimeoutSeconds: raw.SQS_VISIBILITY_TIMEOUT,
    waitTimeSeconds: raw.SQS_WAIT_TIME_SECONDS,
    workers: raw.WORKERS,
    maxInFlightMessages: raw.MAX_IN_FLIGHT_MESSAGES,
    publishLingerMs: raw.PUBLISH_LINGER_MS,
    publishMaxConcurrency: raw.PUBLISH_MAX_CONCURRENCY,
    publishTimeoutSeconds: raw.PUBLISH_TIMEOUT_SECONDS,
    publishTimeoutMsPerEvent: raw.PUBLISH_TIMEOUT_MS_PER_EVENT,
    maxEventsPerSubmission: raw.MAX_EVENTS_PER_SUBMISSION,
    shardRateLimitPercent: raw.KINESIS_SHARD_RATE_LIMIT,
    keyBacklogSeconds: raw.KINESIS_KEY_BACKLOG_SECONDS,
  };
}

/** The pipeline's validated configuration. */
export type SubmissionsConfig = ConfigOf<typeof configure>;
