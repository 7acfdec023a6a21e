/**
 * How many messages a queue still holds, visible and in flight: drained means both are 0.
 *
 * @example
 * ```ts ignore
 * import { getQueueDepth } from "./queue_depth.ts";
 *
 * const depth = await getQueueDepth(sqs, queueUrl);
 * const drained = depth.visible + depth.inFlight === 0;
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
 * ```ts ignore
 * const { visible, inFlight } = await getQueueDepth(sqs, queueUrl);
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
