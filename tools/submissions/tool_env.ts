/**
 * The environment shared by the operator tools (fleet, tail, verify): which AWS endpoints,
 * credentials, queue and stream they talk to. Defaults point at LocalStack on
 * `http://localhost:4566`, as in the Docker Compose environment the service is specified against;
 * an operator points the same tools at a real deployment by setting the standard AWS variables.
 *
 * | variable | default |
 * |---|---|
 * | `AWS_REGION` (or `AWS_DEFAULT_REGION`) | `eu-west-1` |
 * | `AWS_ENDPOINT_URL_SQS`, `AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL` | `http://localhost:4566`; set to the empty string for the real AWS endpoints |
 * | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` | the SDK's default chain; `test`/`test` only against loopback endpoints with nothing configured (the service's rule, src/submissions/aws_credentials.ts) |
 * | `SQS_QUEUE_URL` | resolved from `SQS_QUEUE_NAME` with GetQueueUrl |
 * | `SQS_QUEUE_NAME` | `submissions` |
 * | `KINESIS_STREAM_NAME` | `events` |
 *
 * @module
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { resolveQueueUrl as resolveQueueUrlByName } from "../../src/submissions/sqs_source.ts";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import {
  createKinesisClient,
  createSqsClient,
  type StaticCredentials,
} from "../../src/submissions/aws_clients.ts";
import {
  CREDENTIAL_VARIABLES,
  credentialsPlan,
  DUMMY_CREDENTIALS,
  sharedFilesExist,
} from "../../src/submissions/aws_credentials.ts";

export type { StaticCredentials };

/** LocalStack's edge port, as seen from the host. */
export const DEFAULT_ENDPOINT = "http://localhost:4566";

/** Everything the tools need to reach the queue and the stream. */
export interface ToolEnv {
  /** The AWS region. */
  readonly region: string;
  /** The SQS endpoint, or `undefined` for the real AWS endpoint of the region. */
  readonly sqsEndpoint: string | undefined;
  /** The Kinesis endpoint, or `undefined` for the real AWS endpoint of the region. */
  readonly kinesisEndpoint: string | undefined;
  /** Static credentials, or `undefined` for the SDK's default provider chain. */
  readonly credentials: StaticCredentials | undefined;
  /** The queue URL when given; otherwise resolved from {@linkcode ToolEnv.queueName}. */
  readonly queueUrl: string | undefined;
  /** The queue name, resolved with GetQueueUrl when no URL is given. */
  readonly queueName: string;
  /** The Kinesis stream name. */
  readonly streamName: string;
}

/** Reads one environment variable; `undefined` when unset. */
export type EnvLookup = (name: string) => string | undefined;

/** The two clients every tool uses. Call {@linkcode ToolClients.destroy} when done. */
export interface ToolClients {
  /** The SQS client. */
  readonly sqs: SQSClient;
  /** The Kinesis client. */
  readonly kinesis: KinesisClient;
  /** Closes both clients' sockets. */
  destroy(): void;
}

/**
 * Reads the tools' settings from the environment. `lookup` defaults to `Deno.env.get`; tests pass
 * a map instead.
 */
export function readToolEnv(lookup: EnvLookup = (name) => Deno.env.get(name)): ToolEnv {
  const shared = endpointOf(lookup("AWS_ENDPOINT_URL"), DEFAULT_ENDPOINT);
  const sqsEndpoint = endpointOf(lookup("AWS_ENDPOINT_URL_SQS"), shared);
  const kinesisEndpoint = endpointOf(lookup("AWS_ENDPOINT_URL_KINESIS"), shared);
  return {
    region: nonEmpty(lookup("AWS_REGION")) ?? nonEmpty(lookup("AWS_DEFAULT_REGION")) ??
      "eu-west-1",
    sqsEndpoint,
    kinesisEndpoint,
    credentials: credentialsOf(lookup, [sqsEndpoint, kinesisEndpoint]),
    queueUrl: nonEmpty(lookup("SQS_QUEUE_URL")),
    queueName: nonEmpty(lookup("SQS_QUEUE_NAME")) ?? "submissions",
    streamName: nonEmpty(lookup("KINESIS_STREAM_NAME")) ?? "events",
  };
}

/** Makes the SQS and Kinesis clients through src/submissions/aws_clients.ts, the one client factory. */
export function createToolClients(env: ToolEnv): ToolClients {
  const sqs = createSqsClient({
    region: env.region,
    endpoint: env.sqsEndpoint,
    credentials: env.credentials,
  });
  const kinesis = createKinesisClient({
    region: env.region,
    endpoint: env.kinesisEndpoint,
    credentials: env.credentials,
  });
  return toolClients(sqs, kinesis);
}

/**
 * Two clients as {@linkcode ToolClients}: `destroy()` closes both.
 *
 * @example
 * ```ts
 * import { createKinesisClient, createSqsClient } from "../../src/submissions/aws_clients.ts";
import {
  CREDENTIAL_VARIABLES,
  credentialsPlan,
  DUMMY_CREDENTIALS,
  sharedFilesExist,
} from "../../src/submissions/aws_credentials.ts";
 * import { toolClients } from "./tool_env.ts";
 *
 * const common = { region: "eu-west-1", endpoint: "http://127.0.0.1:4566" };
 * const clients = toolClients(createSqsClient(common), createKinesisClient(common));
 * clients.destroy(); // both clients' sockets closed
 * ```
 */
export function toolClients(sqs: SQSClient, kinesis: KinesisClient): ToolClients {
  return {
    sqs,
    kinesis,
    destroy() {
      sqs.destroy();
      kinesis.destroy();
    },
  };
}

/** The queue URL: `SQS_QUEUE_URL` as given, else GetQueueUrl of the queue name. */
export function resolveQueueUrl(sqs: SQSClient, env: ToolEnv): Promise<string> {
  return env.queueUrl !== undefined
    ? Promise.resolve(env.queueUrl)
    : resolveQueueUrlByName(sqs, env.queueName);
}

/** An unset variable falls back; an empty one explicitly means "the real AWS endpoint". */
function endpointOf(value: string | undefined, fallback: string | undefined): string | undefined {
  if (value === undefined) return fallback;
  return value.trim() === "" ? undefined : value.trim();
}

function credentialsOf(
  lookup: EnvLookup,
  endpoints: readonly (string | undefined)[],
): StaticCredentials | undefined {
  const accessKeyId = nonEmpty(lookup("AWS_ACCESS_KEY_ID"));
  const secretAccessKey = nonEmpty(lookup("AWS_SECRET_ACCESS_KEY"));
  if (accessKeyId !== undefined && secretAccessKey !== undefined) {
    const sessionToken = nonEmpty(lookup("AWS_SESSION_TOKEN"));
    // The SDK passes the object through, so a session token travels with the static keys.
    return sessionToken === undefined
      ? { accessKeyId, secretAccessKey }
      : { accessKeyId, secretAccessKey, sessionToken } as StaticCredentials;
  }
  // Emulators accept any keys; anywhere else (a VPC endpoint too) profiles, SSO and roles must
  // keep working: the same rule as the service's.
  const env = Object.fromEntries(
    [...CREDENTIAL_VARIABLES, "HOME"].map((name) => [name, lookup(name)]),
  );
  return credentialsPlan(endpoints, env, sharedFilesExist(env)) === "loopback-dummy"
    ? DUMMY_CREDENTIALS
    : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}
