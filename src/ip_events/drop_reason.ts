/**
 * Why an IP event was not counted, or not fully tracked: the closed set of label values of
 * `edr_ip_events_dropped_total{reason}` and of the `reason` in a 400 answer to `POST /events`.
 *
 * @module
 */

/** Every reason a datagram or POST body is rejected by the decoder. */
export const DECODE_REJECT_REASONS = [
  "not_protobuf",
  "truncated",
  "wrong_wire_type",
  "missing_field",
  "bad_app_sha256",
  "ip_out_of_range",
] as const;

/** A reject reason of the decoder. */
export type DecodeRejectReason = typeof DECODE_REJECT_REASONS[number];

/**
 * Every reason counted as dropped: the decoder's, and `capacity` (an event whose app or IP could
 * not be tracked because a cap was reached).
 */
export const DROP_REASONS = [...DECODE_REJECT_REASONS, "capacity"] as const;

/** A label value of `edr_ip_events_dropped_total`. */
export type DropReason = typeof DROP_REASONS[number];
