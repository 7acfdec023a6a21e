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
export const NewProcessSchema = z.object({
  cmdl: z.string(),
  user: z.string(),
});

/** A `network_connection` event: an IPv4 connection from the endpoint. */
export const NetworkConnectionSchema = z.object({
  // zod's ipv4 accepts exactly four decimal octets 0-255 without leading zeros.
  source_ip: z.ipv4(),
  destination_ip: z.ipv4(),
  destination_port: z.int().min(0).max(65535),
});

/** The event types this service publishes, with the schema of each. */
export const EVENT_SCHEMAS = {
  new_process: NewProcessSchema,
  network_connection: NetworkConnectionSchema,
} as const;

/** The name of a known event type. */
export type EventType = keyof typeof EVENT_SCHEMAS;

/** The known event types, in declaration order. */
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

/** Whether `name` is a known event type (own keys only, so `__proto__` is not). */
export function isEventType(name: string): name is EventType {
  return Object.hasOwn(EVENT_SCHEMAS, name);
}

/** The `events` object: a missing list means zero events of that type. */
export const EventsSchema = z.object({
  new_process: z.array(NewProcessSchema).optional(),
  network_connection: z.array(NetworkConnectionSchema).optional(),
});

/** A whole submission as sensors send it. */
export const SubmissionSchema = z.object({
  // 8-4-4-4-12 hex of any version and variant (sensors are not all RFC 9562 compliant).
  submission_id: z.guid(),
  device_id: z.guid(),
  // Sensors send naive local time; an offset and a fraction are both optional.
  time_created: z.iso.datetime({ local: true, offset: true }),
  events: EventsSchema,
});

/** A `new_process` event after validation. */
export type NewProcess = z.infer<typeof NewProcessSchema>;
/** A `network_connection` event after validation. */
export type NetworkConnection = z.infer<typeof NetworkConnectionSchema>;
/** A submission after validation. */
export type Submission = z.infer<typeof SubmissionSchema>;
