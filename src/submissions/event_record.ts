/**
 * The event record: the contract downstream consumers rely on. One Kinesis record per event.
 *
 * `event_id` is a UUIDv5 over the device id, the submission id and the event's sequence, so the
 * same submission always yields the same ids (redelivery, retry, another instance) and distinct
 * events never share one: consumers drop copies without a database.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { createHash } from "node:crypto";
import { z } from "zod";
import {
  EVENT_SCHEMAS,
  EVENT_TYPES,
  type EventType,
  type Submission,
} from "./submission_schema.ts";

/** Bumped on any incompatible change of {@linkcode EventRecordSchema}. */
export const EVENT_SCHEMA_VERSION = 1;

/** The namespace of every `event_id` (a fixed random UUID; never change it). */
export const EVENT_ID_NAMESPACE = "5b0c7f0e-2f4c-4d7e-9a51-6c0f2d8e3a17";

const envelope = {
  schema_version: z.literal(EVENT_SCHEMA_VERSION),
  event_id: z.uuid(),
  device_id: z.string(),
  submission_id: z.string(),
  sequence: z.int().min(0),
  event_count: z.int().min(1),
  time_created: z.string(),
  time_processed: z.iso.datetime(),
};

/** The record of one event type: the envelope, the type's name and its validated event. */
function recordSchema<K extends EventType>(type: K) {
  return z.object({ ...envelope, event_type: z.literal(type), data: EVENT_SCHEMAS[type] });
}

/** The record schema of any event type. */
type AnyRecordSchema = { [K in EventType]: ReturnType<typeof recordSchema<K>> }[EventType];

/**
 * One published event, as serialized into the Kinesis record's data: one member per event type
 * of {@linkcode EVENT_SCHEMAS}.
 */
export const EventRecordSchema = z.discriminatedUnion(
  "event_type",
  EVENT_TYPES.map(recordSchema) as [AnyRecordSchema, ...AnyRecordSchema[]],
);

/** One published event. */
export type EventRecord = z.infer<typeof EventRecordSchema>;

/** {@linkcode EVENT_ID_NAMESPACE} as its 16 bytes, parsed once. */
const NAMESPACE_BYTES = Buffer.from(EVENT_ID_NAMESPACE.replaceAll("-", ""), "hex");

/**
 * The deterministic id of the event at `sequence` of a submission.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventId } from "./event_record.ts";
 * const device = "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a";
 * const submission = "3d951732-72d5-49ed-b6fd-38b85afb6cfc";
 * assert.equal(eventId(device, submission, 0), "978e4c54-23c2-5890-b210-d51fef484e41");
 * // The same ids whatever the case a sensor writes its ids in.
 * assert.equal(eventId(device.toUpperCase(), submission, 0), eventId(device, submission, 0));
 * ```
 */
export function eventId(deviceId: string, submissionId: string, sequence: number): string {
  // Lower-cased so that a sensor changing the case of its ids still yields the same event ids.
  const name = `${deviceId.toLowerCase()}/${submissionId.toLowerCase()}/${sequence}`;
  // RFC 9562 UUIDv5 (SHA-1 of namespace + name, version and variant bits set), exactly what
  // npm:uuid's v5 computes, minus its re-parsing of the namespace and re-encoding of the name
  // on every call: this runs once per event, and uuid's v5 was half the codec's CPU time.
  const hash = createHash("sha1").update(NAMESPACE_BYTES).update(name).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString("hex", 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** Options of {@linkcode buildEventRecords}. */
export interface BuildOptions {
  /** Known event types in the order their keys appeared in the submission's `events`. */
  readonly typeOrder: readonly EventType[];
  /** When the backend processed the submission; becomes `time_processed`. */
  readonly processedAt: Date;
}

/**
 * Splits a validated submission into its event records, in `sequence` order: the type keys in
 * the order they appeared, each list in its own order.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildEventRecords } from "./event_record.ts";
 * const submission = {
 *   submission_id: "3d951732-72d5-49ed-b6fd-38b85afb6cfc",
 *   device_id: "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a",
 *   time_created: "2024-05-01T12:00:00",
 *   events: {
 *     new_process: [{ cmdl: "calc.exe", user: "alice" }],
 *     network_connection: [
 *       { source_ip: "10.0.0.2", destination_ip: "1.1.1.1", destination_port: 443 },
 *     ],
 *   },
 * };
 * const records = buildEventRecords(submission, {
 *   typeOrder: ["network_connection", "new_process"],
 *   processedAt: new Date("2024-05-01T12:00:05Z"),
 * });
 * assert.deepEqual(records.map((r) => `${r.sequence} ${r.event_type} of ${r.event_count}`), [
 *   "0 network_connection of 2",
 *   "1 new_process of 2",
 * ]);
 * ```
 */
export function buildEventRecords(submission: Submission, options: BuildOptions): EventRecord[] {
  const { device_id, submission_id, time_created, events } = submission;
  const time_processed = options.processedAt.toISOString();
  let event_count = 0;
  for (const type of options.typeOrder) event_count += events[type]?.length ?? 0;
  const records: EventRecord[] = [];
  const common = (sequence: number) => ({
    schema_version: EVENT_SCHEMA_VERSION,
    event_id: eventId(device_id, submission_id, sequence),
    device_id,
    submission_id,
    sequence,
    event_count,
    time_created,
    time_processed,
  } as const);
  for (const type of options.typeOrder) {
    for (const data of events[type] ?? []) {
      // `data` passed EVENT_SCHEMAS[type]; TypeScript cannot pair the two from a loop variable.
      records.push({ ...common(records.length), event_type: type, data } as EventRecord);
    }
  }
  return records;
}
