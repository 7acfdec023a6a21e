/**
 * The zod schemas of a sensor submission: the single source of the submission types.
 *
 * Unknown fields are stripped (zod's default), so they are ignored rather than rejected and
 * never reach the published record.
 *
 * @module
 */
import { z } from "zod";

/** A `new_process` event: a command line started by a user. */
const NewProcessSchema = z.object({
  cmdl: z.string(),
  user: z.string(),
});

/** A `network_connection` event: an IPv4 connection from the endpoint. */
const NetworkConnectionSchema = z.object({
  // zod's ipv4 accepts exactly four decimal octets 0-255 without leading zeros.
  source_ip: z.ipv4(),
  destination_ip: z.ipv4(),
  destination_port: z.int().min(0).max(65535),
});

/**
 * The event types this service publishes, with the schema of each: the one list an event type is
 * added to. The `events` object, the event record union (event_record.ts) and the reject reasons
 * (reject_reason.ts) derive from it.
 */
export const EVENT_SCHEMAS = {
  new_process: NewProcessSchema,
  network_connection: NetworkConnectionSchema,
} as const;

/** The name of a known event type. */
export type EventType = keyof typeof EVENT_SCHEMAS;

/** The known event types, in declaration order. */
export const EVENT_TYPES: readonly EventType[] = Object.keys(EVENT_SCHEMAS) as EventType[];

/**
 * Whether `name` is a known event type (own keys only, so `__proto__` is not).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isEventType } from "./submission_schema.ts";
 * assert.ok(isEventType("new_process"));
 * assert.ok(!isEventType("__proto__"));
 * ```
 */
export function isEventType(name: string): name is EventType {
  return Object.hasOwn(EVENT_SCHEMAS, name);
}

/** The shape of the `events` object: an optional list per event type. */
type EventLists = {
  [K in EventType]: z.ZodOptional<z.ZodArray<(typeof EVENT_SCHEMAS)[K]>>;
};

function eventLists(): EventLists {
  const shape: Partial<Record<EventType, z.ZodType>> = {};
  for (const type of EVENT_TYPES) shape[type] = z.array(EVENT_SCHEMAS[type]).optional();
  return shape as EventLists;
}

/**
 * The `events` object: a missing list means zero events of that type; unknown keys are stripped.
 */
const EventsSchema = z.object(eventLists());

/**
 * A whole submission as sensors send it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubmissionSchema } from "./submission_schema.ts";
 * const submission = {
 *   submission_id: "3d951732-72d5-49ed-b6fd-38b85afb6cfc",
 *   device_id: "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a",
 *   time_created: "2024-05-01T12:00:00",
 *   events: { new_process: [{ cmdl: "calc.exe", user: "alice", pid: 7 }], usb: [{}] },
 * };
 * // Unknown fields and unknown event types are stripped, not rejected.
 * assert.deepEqual(SubmissionSchema.parse(submission).events, {
 *   new_process: [{ cmdl: "calc.exe", user: "alice" }],
 * });
 * assert.ok(!SubmissionSchema.safeParse({ ...submission, time_created: "May 1st" }).success);
 * ```
 */
export const SubmissionSchema = z.object({
  // 8-4-4-4-12 hex of any version and variant (sensors are not all RFC 9562 compliant).
  submission_id: z.guid(),
  device_id: z.guid(),
  // Sensors send naive local time; an offset and a fraction are both optional.
  time_created: z.iso.datetime({ local: true, offset: true }),
  events: EventsSchema,
});

/** A submission after validation. */
export type Submission = z.infer<typeof SubmissionSchema>;
