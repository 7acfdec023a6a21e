/**
 * How many messages a queue still holds, visible and in flight: drained means both are 0.
 *
 * @example
 * ```ts
 * import { startLocalStack } from "./local_stack.ts";
 * import { getQueueDepth } from "./queue_depth.ts";
 *
 * await using stack = await startLocalStack();
 * const clients = stack.createClients();
 * const depth = await getQueueDepth(clients.sqs, stack.queueUrl);
 * depth.visible + depth.inFlight === 0; // true: drained
 * clients.destroy();
 * ```
 *
 * @module
 */
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** Messages still in the queue. */
export interface QueueDepth {
  /** Waiting to be received (ApproximateNumberOfMessages). */
  readonly visible: number;
  /** Received, not yet deleted (ApproximateNumberOfMessagesNotVisible). */
  readonly inFlight: number;
}

/**
 * The queue's approximate depth.
 *
 * @example
 * ```ts
 * import { SendMessageCommand } from "@aws-sdk/client-sqs";
 * import { startLocalStack } from "./local_stack.ts";
 * import { getQueueDepth } from "./queue_depth.ts";
 *
 * await using stack = await startLocalStack();
 * const clients = stack.createClients();
 * await clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: "x" }));
 * await getQueueDepth(clients.sqs, stack.queueUrl); // { visible: 1, inFlight: 0 }
 * clients.destroy();
 * ```
 */
export async function getQueueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}
