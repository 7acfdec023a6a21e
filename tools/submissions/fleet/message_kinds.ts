/**
 * Every kind of message the fleet can send, with whether the service must accept it: the
 * original simulator's faults and the noise of real fleets.
 *
 * ```ts
 * import { MESSAGE_KINDS } from "./message_kinds.ts";
 * MESSAGE_KINDS.raw_json; // true: a valid submission sent as raw JSON
 * ```
 *
 * @module
 */

/**
 * Every kind of message the generator can produce, with whether the service must accept it.
 * `ok` is a plain faithful submission; `raw_json` is a valid submission sent as raw JSON instead
 * of base64; the next four are the original simulator's 1 % faults; the rest are the noise of real
 * fleets (`--adversarial`).
 */
export const MESSAGE_KINDS = {
  ok: true,
  raw_json: true,
  bad_submission_id: false,
  bad_device_id: false,
  bad_destination_ip: false,
  null_cmdl: false,
  not_base64: false,
  base64_not_json: false,
  invalid_utf8: false,
  json_not_object: false,
  missing_field: false,
  wrong_type: false,
  port_out_of_range: false,
  ipv6: false,
  huge_cmdl: true,
  unicode_cmdl: true,
  unknown_fields: true,
  unknown_event_type: true,
} as const;

/** One of {@linkcode MESSAGE_KINDS}. */
export type MessageKind = keyof typeof MESSAGE_KINDS;

/** The original simulator's faults, each injected with {@linkcode FleetOptions.faultProbability}. */
export const FAITHFUL_FAULTS = [
  "bad_submission_id",
  "bad_device_id",
  "bad_destination_ip",
  "null_cmdl",
] as const satisfies readonly MessageKind[];

/** The malformed and odd messages real fleets send (`--adversarial`), valid ones included. */
export const ADVERSARIAL_KINDS = [
  "not_base64",
  "base64_not_json",
  "invalid_utf8",
  "json_not_object",
  "missing_field",
  "wrong_type",
  "port_out_of_range",
  "ipv6",
  "huge_cmdl",
  "unicode_cmdl",
  "unknown_fields",
  "unknown_event_type",
] as const satisfies readonly MessageKind[];

/** One deliberate change applied to a message instead of the faithful faults. */
export type Mutation = typeof FAITHFUL_FAULTS[number] | typeof ADVERSARIAL_KINDS[number];
