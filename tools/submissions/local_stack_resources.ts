/**
 * The local stack's resources (local_stack.ts): the submissions queue, its queue for invalid
 * submissions, an optional dead-letter queue with its redrive policy, and the stream, waited
 * for until `ACTIVE`. Queue URLs are handed out path-style on the public endpoint, as
 * LocalStack 0.14 answers them.
 *
 * @example
 * ```ts
 * import { startLocalStack } from "./local_stack.ts";
 * import { createResources } from "./local_stack_resources.ts";
 *
 * // A stack makes its own; a second set, on the same emulators, for another run:
 * await using stack = await startLocalStack();
 * const other = { queueName: "other", invalidQueue: false, streamName: "other", shardCount: 1 };
 * const made = await createResources(stack.createClients(), stack.endpoints.sqs, other);
 * made.streamName; // "other"
 * ```
 *
 * @module
 */
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";

/** The queues and the stream to create; every field has a default. */
export interface StackResourceOptions {
  /** Name of the submissions queue. Defaults to `submissions`. */
  queueName?: string | undefined;
  /**
   * Creates the queue the service sends invalid submissions to: `true` (the default) names it
   * `<queueName>-invalid`, a string names it, `false` skips it.
   */
  invalidQueue?: boolean | string;
  /**
   * Creates a dead-letter queue and gives the submissions queue a redrive policy to it. Off by
   * default, like the Compose environment. `true` names it `<queueName>-dlq` with
   * `maxReceiveCount` 5.
   */
  deadLetterQueue?: boolean | { name?: string; maxReceiveCount?: number | undefined };
  /** Name of the Kinesis stream. Defaults to `events`. */
  streamName?: string | undefined;
  /** Number of shards of the stream. Defaults to 2. */
  shardCount?: number | undefined;
}

/** The names and URLs of what {@linkcode createResources} made. */
export interface StackResources {
  /** URL of the submissions queue, on the public endpoint. */
  queueUrl: string;
  /** URL of the queue for invalid submissions, when created. */
  invalidQueueUrl?: string | undefined;
  /** URL of the dead-letter queue, when created. */
  deadLetterQueueUrl?: string | undefined;
  /** Name of the Kinesis stream. */
  streamName: string;
}

/**
 * Creates the queues and the stream through the public endpoints, before any fault is set: the
 * stack must come up even when started with `errorProbability: 1` or an outage. Destroys
 * `clients` when done.
 *
 * @example
 * ```ts
 * import { startLocalStack } from "./local_stack.ts";
 * import { createResources } from "./local_stack_resources.ts";
 *
 * await using stack = await startLocalStack();
 * const made = await createResources(stack.createClients(), stack.endpoints.sqs, {
 *   queueName: "jobs",
 *   deadLetterQueue: true,
 *   streamName: "jobs",
 * });
 * made.queueUrl === `${stack.endpoints.sqs}/000000000000/jobs`; // true: path-style, public
 * made.deadLetterQueueUrl === `${stack.endpoints.sqs}/000000000000/jobs-dlq`; // true
 * ```
 */
export async function createResources(
  clients: { readonly sqs: SQSClient; readonly kinesis: KinesisClient },
  sqsEndpoint: string,
  options: StackResourceOptions,
): Promise<StackResources> {
  try {
    const queueName = options.queueName ?? "submissions";
    const streamName = options.streamName ?? "events";
    const deadLetter = await createDeadLetterQueue(
      clients.sqs,
      sqsEndpoint,
      queueName,
      options,
    );
    const queueUrl = await createQueue(
      clients.sqs,
      sqsEndpoint,
      queueName,
      deadLetter?.redrivePolicy,
    );
    const invalidName = options.invalidQueue === false
      ? undefined
      : typeof options.invalidQueue === "string"
      ? options.invalidQueue
      : `${queueName}-invalid`;
    const invalidQueueUrl = invalidName
      ? await createQueue(clients.sqs, sqsEndpoint, invalidName)
      : undefined;
    await createStream(clients.kinesis, streamName, options.shardCount ?? 2);
    return {
      queueUrl,
      invalidQueueUrl,
      deadLetterQueueUrl: deadLetter?.url,
      streamName,
    };
  } finally {
    clients.sqs.destroy();
    clients.kinesis.destroy();
  }
}

async function createQueue(
  sqs: SQSClient,
  endpoint: string,
  name: string,
  redrivePolicy?: string,
): Promise<string> {
  const attributes = redrivePolicy ? { RedrivePolicy: redrivePolicy } : undefined;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue ${name}: no QueueUrl`);
  // fauxqs answers http://sqs.<region>.localhost:<port>/..., a host that does not resolve here.
  // LocalStack 0.14 answers path-style URLs on its edge port, which fauxqs accepts too (it finds
  // the queue by the name in the path): hand out that form, on the public endpoint.
  return `${endpoint}${new URL(QueueUrl).pathname}`;
}

async function createDeadLetterQueue(
  sqs: SQSClient,
  endpoint: string,
  queueName: string,
  options: StackResourceOptions,
): Promise<{ url: string; redrivePolicy: string } | undefined> {
  const dlq = options.deadLetterQueue;
  if (!dlq) return undefined;
  const settings = dlq === true ? {} : dlq;
  const url = await createQueue(sqs, endpoint, settings.name ?? `${queueName}-dlq`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes ${url}: no QueueArn`);
  const redrivePolicy = JSON.stringify({
    deadLetterTargetArn: arn,
    maxReceiveCount: settings.maxReceiveCount ?? 5,
  });
  return { url, redrivePolicy };
}

async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`stream ${name} not ACTIVE after 10 s`);
}
