/**
 * The zod schemas of a sensor submission: the single source of the submission types.
 *
 * Unknown fields are stripped (zod's default), so they are ignored rather than rejected and
 * never reach the published record.
 *
 * @module
 */
import { z } from "zod";

/**
 * A `new_process` event: a command line started by a user.
 *
 * ```ts
 * import { NewProcessSchema } from "./submission_schema.ts";
 * NewProcessSchema.parse({ cmdl: "calc.exe", user: "alice", pid: 7 });
 * // { cmdl: "calc.exe", user: "alice" }: unknown fields stripped
 * ```
 */
export const NewProcessSchema = z.object({
  cmdl: z.string(),
  user: z.string(),
});

/**
 * A `network_connection` event: an IPv4 connection from the endpoint.
 *
 * ```ts
 * import { NetworkConnectionSchema } from "./submission_schema.ts";
 * const connection = { source_ip: "10.0.0.2", destination_ip: "1.1.1.1", destination_port: 443 };
 * NetworkConnectionSchema.safeParse(connection).success; // true
 * NetworkConnectionSchema.safeParse({ ...connection, source_ip: "10.0.0.02" }).success; // false
 * ```
 */
export const NetworkConnectionSchema = z.object({
  // zod's ipv4 accepts exactly four decimal octets 0-255 without leading zeros.
  source_ip: z.ipv4(),
  destination_ip: z.ipv4(),
  destination_port: z.int().min(0).max(65535),
});

/**
 * The event types this service publishes, with the schema of each.
 *
 * ```ts
 * import { EVENT_SCHEMAS } from "./submission_schema.ts";
 * EVENT_SCHEMAS.new_process.safeParse({ cmdl: "calc.exe" }).success; // false: no user
 * ```
 */
export const EVENT_SCHEMAS = {
  new_process: NewProcessSchema,
  network_connection: NetworkConnectionSchema,
} as const;

/** The name of a known event type. */
export type EventType = keyof typeof EVENT_SCHEMAS;

/**
 * The known event types, in declaration order.
 *
 * ```ts
 * import { EVENT_TYPES } from "./submission_schema.ts";
 * EVENT_TYPES; // ["new_process", "network_connection"]
 * ```
 */
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

/**
 * Whether `name` is a known event type (own keys only, so `__proto__` is not).
 *
 * ```ts
 * import { isEventType } from "./submission_schema.ts";
 * isEventType("new_process"); // true
 * isEventType("__proto__"); // false
 * ```
 */
export function isEventType(name: string): name is EventType {
  return Object.hasOwn(EVENT_SCHEMAS, name);
}

/**
 * The `events` object: a missing list means zero events of that type.
 *
 * ```ts
 * import { EventsSchema } from "./submission_schema.ts";
 * EventsSchema.parse({ usb: [{}] }); // {}: no known list, no events (unknown keys stripped)
 * ```
 */
export const EventsSchema = z.object({
  new_process: z.array(NewProcessSchema).optional(),
  network_connection: z.array(NetworkConnectionSchema).optional(),
});

/**
 * A whole submission as sensors send it.
 *
 * ```ts
 * import { SubmissionSchema } from "./submission_schema.ts";
 * const submission = {
 *   submission_id: "3d951732-72d5-49ed-b6fd-38b85afb6cfc",
 *   device_id: "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a",
 *   time_created: "2024-05-01T12:00:00",
 *   events: {},
 * };
 * SubmissionSchema.safeParse(submission).success; // true
 * SubmissionSchema.safeParse({ ...submission, time_created: "May 1st" }).success; // false
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

/** A `new_process` event after validation. */
export type NewProcess = z.infer<typeof NewProcessSchema>;
/** A `network_connection` event after validation. */
export type NetworkConnection = z.infer<typeof NetworkConnectionSchema>;
/** A submission after validation. */
export type Submission = z.infer<typeof SubmissionSchema>;
