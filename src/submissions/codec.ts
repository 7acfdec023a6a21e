/**
 * The codec: an SQS message body in, Kinesis-ready records out. Pure: it knows nothing of AWS
 * clients, clocks or metrics, so every path is unit-testable.
 *
 * @module
 */
import { decodeBody } from "./decode_body.ts";
import { validateSubmission } from "./validate_submission.ts";
import { buildEventRecords } from "./event_record.ts";
import { reject, type Rejection } from "./reject_reason.ts";

/** The largest Kinesis record: data plus partition key, 1 MiB. */
export const MAX_RECORD_BYTES = 1024 * 1024;

/**
 * The default cap on the events of one submission (`MAX_EVENTS_PER_SUBMISSION`). An SQS body
 * (256 KiB) holds at most ~11 900 of the smallest valid events (`{"cmdl":"","user":""}`, 22
 * bytes, raw JSON) or ~8 900 in base64, while a sensor's real events (a command line, a user)
 * fit 1 000 to 2 500 in a body: 5 000 admits every realistic submission and refuses the padded
 * ones. Each event of a submission is one `PutRecords` round trip after the other (order), so
 * the cap also bounds how long one message holds its place: 5 000 × ~13 ms here.
 */
export const DEFAULT_MAX_EVENTS = 5_000;

/** Which record field becomes the Kinesis partition key; constant within a submission, so all
 * of a submission's events land on one shard, the unit of Kinesis ordering. */
export type PartitionKeyField = "device_id" | "submission_id";

/** One Kinesis record ready to send. */
export interface OutgoingRecord {
  /** The serialized `EventRecord` (see event_record.ts). */
  readonly data: Uint8Array;
  /** The partition key (a UUID: at most 36 characters). */
  readonly partitionKey: string;
  /** The record's `event_id`, for logs and tests. */
  readonly eventId: string;
}

/** A message that decoded into a valid submission. */
export interface DecodedMessage {
  /** Always `true`. */
  readonly ok: true;
  /** The submission's id, as sent. */
  readonly submissionId: string;
  /** The sending device's id, as sent. */
  readonly deviceId: string;
  /** The records of every known event, in `sequence` order. May be empty. */
  readonly records: readonly OutgoingRecord[];
  /** Keys of `events` that are not known event types: not published, to be counted. */
  readonly unknownEventTypes: readonly string[];
}

/** Options of {@linkcode decodeMessage}. */
export interface DecodeMessageOptions {
  /** Becomes every record's `time_processed`. */
  readonly processedAt: Date;
  /** The partition key field. Default `device_id`. */
  readonly partitionKey?: PartitionKeyField | undefined;
  /** Events of known types one submission may hold. Default {@linkcode DEFAULT_MAX_EVENTS}. */
  readonly maxEvents?: number | undefined;
}

const encoder = new TextEncoder();

/**
 * Decodes, validates and splits one message body. Never throws on any input.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeMessage } from "./codec.ts";
 * const body = JSON.stringify({
 *   submission_id: "3d951732-72d5-49ed-b6fd-38b85afb6cfc",
 *   device_id: "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a",
 *   time_created: "2024-05-01T12:00:00",
 *   events: { new_process: [{ cmdl: "calc.exe", user: "alice" }] },
 * });
 * const decoded = decodeMessage(body, { processedAt: new Date() });
 * assert.equal(decoded.ok && decoded.records[0]?.partitionKey, "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a");
 * const broken = decodeMessage("{", { processedAt: new Date() });
 * assert.equal(!broken.ok && broken.reason, "invalid_json");
 * const capped = decodeMessage(body, { processedAt: new Date(), maxEvents: 0 });
 * assert.equal(!capped.ok && capped.reason, "too_many_events");
 * ```
 */
export function decodeMessage(
  body: string,
  options: DecodeMessageOptions,
): DecodedMessage | Rejection {
  const decoded = decodeBody(body);
  if (!decoded.ok) return decoded;
  const valid = validateSubmission(decoded.value);
  if (!valid.ok) return valid;
  const { submission } = valid;
  const partitionKey = submission[options.partitionKey ?? "device_id"];
  const maxEvents = options.maxEvents ?? DEFAULT_MAX_EVENTS;
  const count = valid.typeOrder.reduce(
    (sum, type) => sum + (submission.events[type]?.length ?? 0),
    0,
  );
  if (count > maxEvents) {
    return reject(
      "too_many_events",
      `the submission holds ${count} events, over MAX_EVENTS_PER_SUBMISSION (${maxEvents})`,
    );
  }
  const events = buildEventRecords(submission, {
    typeOrder: valid.typeOrder,
    processedAt: options.processedAt,
  });
  const records: OutgoingRecord[] = [];
  for (const event of events) {
    const data = encoder.encode(JSON.stringify(event));
    // A too-large record would make Kinesis reject the whole PutRecords call it travels in.
    if (data.byteLength + partitionKey.length > MAX_RECORD_BYTES) {
      return reject(
        "record_too_large",
        `event ${event.sequence} (${event.event_type}) serializes to ${data.byteLength} bytes, ` +
          `over the Kinesis record limit of ${MAX_RECORD_BYTES}`,
      );
    }
    records.push({ data, partitionKey, eventId: event.event_id });
  }
  return {
    ok: true,
    submissionId: submission.submission_id,
    deviceId: submission.device_id,
    records,
    unknownEventTypes: valid.unknownEventTypes,
  };
}
