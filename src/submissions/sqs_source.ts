/**
 * The source: every SQS call the service makes on its queues. Receives with exactly the
 * configured parameters, deletes and changes visibility through batch calls, and copies invalid
 * messages to the invalid-message queue.
 *
 * @module
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { abortOptions } from "./aws_clients.ts";
import { Batcher } from "./batcher.ts";
import type { Rejection } from "./reject_reason.ts";

/** Options of {@linkcode SqsSource}. */
export interface SqsSourceOptions {
  /** The SQS client (made by aws_clients.ts). */
  readonly client: SQSClient;
  /** URL of the queue to consume. */
  readonly queueUrl: string;
  /** URL of the queue invalid messages are copied to, if any. */
  readonly invalidQueueUrl?: string | undefined;
  /** `MaxNumberOfMessages` of each receive (1–10). */
  readonly maxMessages: number;
  /** `VisibilityTimeout` of each receive, in seconds. */
  readonly visibilityTimeoutSeconds: number;
  /** `WaitTimeSeconds` of each receive (0–20). */
  readonly waitTimeSeconds: number;
  /** Called with the operation name of each failed call or batch entry. */
  readonly onError?: (operation: string) => void;
}

/** A received message: what the worker needs of it. */
export interface ReceivedMessage {
  /** The SQS message id. */
  readonly messageId: string;
  /** The receipt handle, valid while the message is ours. */
  readonly receiptHandle: string;
  /** The body. */
  readonly body: string;
  /** When the producer sent it (ms since the epoch), for end-to-end latency. */
  readonly sentTimestamp: number | undefined;
  /** How many times SQS has handed it out, this time included. */
  readonly receiveCount: number;
}

/**
 * How copying an invalid message to the invalid-message queue ended: `copied`; `skipped`, no
 * such queue is configured; `failed`, worth trying again when the message comes back; or
 * `refused`, SQS refusing this very message (an empty body, too large with the attributes), which
 * no retry can change.
 */
export type CopyOutcome = "copied" | "skipped" | "failed" | "refused";

/** Error codes of a request SQS refuses for what it carries, not for the state of the service. */
const REFUSED_CODES = new Set([
  "MissingParameter",
  "InvalidParameterValue",
  "InvalidMessageContents",
]);

/**
 * The SQS side of the service.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SendMessageCommand } from "@aws-sdk/client-sqs";
 * import { startLocalStack } from "../../tools/submissions/local_stack.ts";
 * import { createSqsClient } from "./aws_clients.ts";
 * import { resolveQueueUrl, SqsSource } from "./sqs_source.ts";
 *
 * await using stack = await startLocalStack(); // fauxqs with the submissions queue, loopback
 * const client = createSqsClient({
 *   region: stack.region,
 *   endpoint: stack.endpoints.sqs,
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" },
 * });
 * const queueUrl = await resolveQueueUrl(client, "submissions");
 * await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{}" }));
 * const source = new SqsSource({
 *   client,
 *   queueUrl,
 *   maxMessages: 10,
 *   visibilityTimeoutSeconds: 30,
 *   waitTimeSeconds: 1,
 * });
 * const messages = await source.receive(); // at most 10, after a long poll of at most 1 s
 * assert.deepEqual(messages.map((m) => m.body), ["{}"]);
 * assert.ok(await source.delete(messages[0]!.receiptHandle)); // batched with other deletes
 * client.destroy();
 * ```
 */
export class SqsSource {
  readonly #options: SqsSourceOptions;
  readonly #deletes: Batcher<string>;
  readonly #visibility: Batcher<{ receiptHandle: string; seconds: number }>;

  /** Makes the source of `options.queueUrl`. */
  constructor(options: SqsSourceOptions) {
    this.#options = options;
    this.#deletes = new Batcher({ flush: (handles) => this.#deleteBatch(handles) });
    this.#visibility = new Batcher({ flush: (entries) => this.#visibilityBatch(entries) });
  }

  /** The queue consumed. */
  get queueUrl(): string {
    return this.#options.queueUrl;
  }

  /** One long poll. Rejects on failure; `signal` aborts the poll at once (shutdown). */
  async receive(signal?: AbortSignal): Promise<ReceivedMessage[]> {
    const { client, queueUrl, maxMessages, visibilityTimeoutSeconds, waitTimeSeconds } =
      this.#options;
    const output = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: maxMessages,
        VisibilityTimeout: visibilityTimeoutSeconds,
        WaitTimeSeconds: waitTimeSeconds,
        MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
      }),
      abortOptions(signal),
    );
    const messages: ReceivedMessage[] = [];
    for (const m of output.Messages ?? []) {
      if (m.MessageId === undefined || m.ReceiptHandle === undefined) continue;
      messages.push({
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        body: m.Body ?? "",
        sentTimestamp: numberAttribute(m, "SentTimestamp"),
        receiveCount: numberAttribute(m, "ApproximateReceiveCount") ?? 1,
      });
    }
    return messages;
  }

  /** Deletes a message (batched). Resolves `false` when its entry failed. */
  delete(receiptHandle: string): Promise<boolean> {
    return this.#deletes.add(receiptHandle);
  }

  /** Sets a message's visibility timeout from now (batched); 0 releases it at once. */
  changeVisibility(receiptHandle: string, seconds: number): Promise<boolean> {
    return this.#visibility.add({ receiptHandle, seconds });
  }

  /** Copies an invalid message to the invalid-message queue with its reason. */
  async sendInvalid(message: ReceivedMessage, rejection: Rejection): Promise<CopyOutcome> {
    const url = this.#options.invalidQueueUrl;
    if (url === undefined) return "skipped";
    try {
      await this.#options.client.send(
        new SendMessageCommand({
          QueueUrl: url,
          MessageBody: message.body,
          MessageAttributes: {
            reason: { DataType: "String", StringValue: rejection.reason },
            detail: { DataType: "String", StringValue: rejection.detail.slice(0, 1024) },
            source_message_id: { DataType: "String", StringValue: message.messageId },
          },
        }),
      );
      return "copied";
    } catch (error) {
      this.#options.onError?.("SendMessage");
      return refusedForGood(error) ? "refused" : "failed";
    }
  }

  /**
   * The queue's redrive policy's `maxReceiveCount` (a message received that many times goes to
   * the dead-letter queue), or `undefined` when the queue has none.
   */
  async maxReceiveCount(signal?: AbortSignal): Promise<number | undefined> {
    const { Attributes } = await this.#options.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.#options.queueUrl,
        AttributeNames: ["RedrivePolicy"],
      }),
      abortOptions(signal),
    );
    const policy = Attributes?.RedrivePolicy;
    if (policy === undefined || policy === "") return undefined;
    const count = Number((JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount);
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`RedrivePolicy without a valid maxReceiveCount: ${policy.slice(0, 200)}`);
    }
    return count;
  }

  /** Readiness: whether the queue answers. */
  async probe(signal?: AbortSignal): Promise<void> {
    await this.#options.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.#options.queueUrl,
        AttributeNames: ["QueueArn"],
      }),
      abortOptions(signal),
    );
  }

  /** Waits for pending deletes and visibility changes (shutdown). */
  async drain(): Promise<void> {
    await Promise.all([this.#deletes.drain(), this.#visibility.drain()]);
  }

  #deleteBatch(handles: readonly string[]): Promise<boolean[]> {
    const Entries = handles.map((ReceiptHandle, i) => ({ Id: String(i), ReceiptHandle }));
    return this.#batch("DeleteMessageBatch", Entries.length, () =>
      this.#options.client.send(
        new DeleteMessageBatchCommand({ QueueUrl: this.#options.queueUrl, Entries }),
      ));
  }

  #visibilityBatch(
    entries: readonly { receiptHandle: string; seconds: number }[],
  ): Promise<boolean[]> {
    const Entries = entries.map((e, i) => ({
      Id: String(i),
      ReceiptHandle: e.receiptHandle,
      VisibilityTimeout: e.seconds,
    }));
    return this.#batch(
      "ChangeMessageVisibilityBatch",
      Entries.length,
      () =>
        this.#options.client.send(
          new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.#options.queueUrl, Entries }),
        ),
    );
  }

  /** Runs a batch call and reads each entry's own outcome (the call answers 200 regardless). */
  async #batch(
    operation: string,
    count: number,
    call: () => Promise<{ Successful?: { Id?: string | undefined }[] | undefined }>,
  ): Promise<boolean[]> {
    const results = new Array<boolean>(count).fill(false);
    try {
      const output = await call();
      for (const s of output.Successful ?? []) results[Number(s.Id)] = true;
    } catch {
      // Every entry stays false.
    }
    for (const ok of results) if (!ok) this.#options.onError?.(operation);
    return results;
  }
}

/**
 * Resolves a queue name to its URL.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startLocalStack } from "../../tools/submissions/local_stack.ts";
 * import { createSqsClient } from "./aws_clients.ts";
 * import { resolveQueueUrl } from "./sqs_source.ts";
 *
 * await using stack = await startLocalStack();
 * const client = createSqsClient({
 *   region: stack.region,
 *   endpoint: stack.endpoints.sqs,
 *   credentials: { accessKeyId: "test", secretAccessKey: "test" },
 * });
 * const url = await resolveQueueUrl(client, "submissions");
 * assert.match(url, /\/000000000000\/submissions$/); // the emulator's account id
 * client.destroy();
 * ```
 */
export async function resolveQueueUrl(
  client: SQSClient,
  queueName: string,
  signal?: AbortSignal,
): Promise<string> {
  const output = await client.send(
    new GetQueueUrlCommand({ QueueName: queueName }),
    abortOptions(signal),
  );
  if (output.QueueUrl === undefined) throw new Error(`GetQueueUrl gave no URL for ${queueName}`);
  return output.QueueUrl;
}

/**
 * Whether SQS answered a client fault about the request's content (a missing or invalid
 * parameter). Throttling, a missing queue or denied access are not: they may pass.
 */
function refusedForGood(error: unknown): boolean {
  const { $fault, name } = error as { $fault?: unknown; name?: unknown };
  if ($fault !== "client" || typeof name !== "string") return false;
  // LocalStack and fauxqs prefix the code: AWS.SimpleQueueService.MissingParameter.
  return REFUSED_CODES.has(name.slice(name.lastIndexOf(".") + 1));
}

function numberAttribute(message: Message, name: string): number | undefined {
  const value = message.Attributes?.[name as keyof typeof message.Attributes];
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}
