/**
 * Why a message was rejected. The set is closed and small on purpose: every reason is a label
 * value of the `edr_submissions_messages_invalid_total` metric, so hostile input can never grow its
 * cardinality. The specific detail (field path, parser message) travels separately.
 *
 * @module
 */

/**
 * Every reason a message can be rejected for, in pipeline order.
 *
 * ```ts
 * import { REJECT_REASONS } from "./reject_reason.ts";
 * REJECT_REASONS.length; // 13
 * ```
 */
export const REJECT_REASONS = [
  "empty_body",
  "not_base64",
  "invalid_utf8",
  "invalid_json",
  "not_an_object",
  "invalid_submission_id",
  "invalid_device_id",
  "invalid_time_created",
  "invalid_events",
  "invalid_new_process",
  "invalid_network_connection",
  "too_many_events",
  "record_too_large",
] as const;

/** One of {@linkcode REJECT_REASONS}. */
export type RejectReason = typeof REJECT_REASONS[number];

/** A rejection as a value: the caller decides what to do with it (count, log, dead-letter). */
export interface Rejection {
  /** Always `false`: discriminates a rejection from a success. */
  readonly ok: false;
  /** The bounded reason, used as a metric label and a message attribute. */
  readonly reason: RejectReason;
  /** A human-readable explanation that never contains the payload itself. */
  readonly detail: string;
}

/**
 * Builds a {@linkcode Rejection}.
 *
 * ```ts
 * import { reject } from "./reject_reason.ts";
 * reject("empty_body", "message body is empty");
 * // { ok: false, reason: "empty_body", detail: "message body is empty" }
 * ```
 */
export function reject(reason: RejectReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}
