/**
 * Sending fleet messages to SQS: `SendMessageBatch` of up to 10 entries and 256 KiB, several
 * batches in flight, failed entries and retryable errors resent, never a send aborted mid-flight
 * (so every message SQS accepted is reported through `onSent`, hence in the manifest).
 *
 * ```ts
 * import { sendMessages } from "./send.ts";
 * // const stats = await sendMessages(sqs, queueUrl, messages, { concurrency: 4 });
 * ```
 *
 * @module
 */
import { errorMessage } from "../../../src/app/error_message.ts";
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { sleep } from "../../../src/app/backoff.ts";
import type { FleetMessage } from "./manifest.ts";

/** The largest `SendMessageBatch` payload (the sum of the bodies) classic SQS and LocalStack
 * 0.14 accept: 256 KiB. */
export const MAX_BATCH_BYTES = 262_144;

/** Options of {@linkcode sendMessages}. */
export interface SendMessagesOptions {
  /** Batches in flight at once. Default 4. */
  readonly concurrency?: number | undefined;
  /** Attempts per entry before giving up with an error. Default 8. */
  readonly maxAttempts?: number;
  /** Called once per message SQS confirmed, in confirmation order. */
  readonly onSent?: (message: FleetMessage) => void;
  /** Stops sending; the promise then rejects with the abort reason. */
  readonly signal?: AbortSignal | undefined;
}

/** What {@linkcode sendMessages} did. */
export interface SendStats {
  /** Messages SQS confirmed. */
  sent: number;
  /** `SendMessageBatch` calls that SQS answered. */
  requests: number;
  /** Entries sent again after SQS reported them failed (or the call failed). */
  resent: number;
}

/**
 * Sends every message with `SendMessageBatch` (up to 10 entries and {@linkcode MAX_BATCH_BYTES}
 * per call, `concurrency` calls at once), resending the entries SQS lists as `Failed` until they
 * are confirmed. `messages` is pulled lazily, so a generator of millions costs no memory.
 * Rejects on a sender fault (a message SQS will never take) or after `maxAttempts`.
 */
export async function sendMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: Iterable<FleetMessage>,
  options: SendMessagesOptions = {},
): Promise<SendStats> {
  const stats: SendStats = { sent: 0, requests: 0, resent: 0 };
  const nextBatch = batcher(messages[Symbol.iterator]());
  let stopped = false;
  const worker = async () => {
    while (!stopped) {
      const batch = nextBatch();
      if (batch.length === 0) return;
      try {
        await sendBatch(sqs, queueUrl, batch, stats, options);
      } catch (error) {
        stopped = true; // the other workers finish their batch and stop pulling
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker),
  );
  for (const result of results) if (result.status === "rejected") throw result.reason;
  return stats;
}

/** Packs consecutive messages into batches of at most 10 entries and MAX_BATCH_BYTES. */
function batcher(iterator: Iterator<FleetMessage>): () => FleetMessage[] {
  let carried: FleetMessage | undefined;
  let done = false;
  return () => {
    const batch: FleetMessage[] = [];
    let bytes = 0;
    while (batch.length < 10) {
      let message = carried;
      carried = undefined;
      if (message === undefined && !done) {
        const next = iterator.next();
        if (next.done) done = true;
        else message = next.value;
      }
      if (message === undefined) break;
      const size = utf8Length(message.body);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        carried = message;
        break;
      }
      batch.push(message);
      bytes += size;
    }
    return batch;
  };
}

async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  batch: readonly FleetMessage[],
  stats: SendStats,
  options: SendMessagesOptions,
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 8;
  let pending = batch.map((message, index) => ({ id: String(index), message }));
  for (let attempt = 1;; attempt++) {
    let problem: string;
    try {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((e): SendMessageBatchRequestEntry => ({
            Id: e.id,
            MessageBody: e.message.body,
          })),
        }),
        // No abort signal: a send cut off mid-flight may still have been accepted by SQS, and
        // then its message would be missing from the manifest. Aborts stop the waits instead.
      );
      stats.requests++;
      // Only an entry listed as Successful is sent; anything else is sent again.
      const confirmed = new Set((out.Successful ?? []).map((entry) => entry.Id));
      for (const entry of pending) {
        if (!confirmed.has(entry.id)) continue;
        stats.sent++;
        options.onSent?.(entry.message);
      }
      pending = pending.filter((entry) => !confirmed.has(entry.id));
      if (pending.length === 0) return;
      const failures = out.Failed ?? [];
      const senderFault = failures.find((failure) => failure.SenderFault === true);
      if (senderFault !== undefined) {
        throw new Error(
          `SQS refused a message for good (${senderFault.Code}): ${senderFault.Message}`,
        );
      }
      problem = failures[0]?.Code ?? "entry neither Successful nor Failed";
    } catch (error) {
      // Permissions, bad requests and our own sender-fault error are final.
      if (options.signal?.aborted || !isRetryable(error)) throw error;
      problem = errorMessage(error);
    }
    if (attempt >= maxAttempts) {
      throw new Error(
        `${pending.length} messages still unsent after ${attempt} attempts: ${problem}`,
      );
    }
    stats.resent += pending.length;
    await sleep(Math.min(2_000, 50 * 2 ** attempt), options.signal);
    options.signal?.throwIfAborted();
  }
}

/** Errors worth another attempt: SQS-side faults, throttling, timeouts and broken connections. */
function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { $fault, $retryable, name, code } = error as {
    $fault?: string;
    $retryable?: unknown;
    name?: string;
    code?: string;
  };
  if ($fault === "server" || $retryable !== undefined) return true;
  if ($fault === "client") return false;
  return name === "TimeoutError" ||
    ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"].includes(code ?? "");
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++; // the low surrogate belongs to the same character
    } else bytes += 3;
  }
  return bytes;
}
