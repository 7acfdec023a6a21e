/**
 * Why a message was rejected. The set is closed and small on purpose: every reason is a label
 * value of the `edr_submissions_messages_invalid_total` metric, so hostile input can never grow its
 * cardinality. The specific detail (field path, parser message) travels separately.
 *
 * @module
 */
import { EVENT_TYPES, type EventType } from "./submission_schema.ts";

/** The reasons of a message that is not a submission, in pipeline order. */
const MESSAGE_REASONS = [
  "empty_body",
  "not_base64",
  "invalid_utf8",
  "invalid_json",
  "not_an_object",
  "invalid_submission_id",
  "invalid_device_id",
  "invalid_time_created",
  "invalid_events",
] as const;

/** The reasons of a submission the pipeline cannot publish whole. */
const PUBLISH_REASONS = ["too_many_events", "record_too_large"] as const;

/** An invalid event of one event type: `invalid_new_process`, … */
export type InvalidEventReason = `invalid_${EventType}`;

/**
 * Every reason a message can be rejected for, in pipeline order: one `invalid_<type>` per event
 * type of {@linkcode EVENT_TYPES}.
 */
export const SUBMISSION_REJECT_REASONS: readonly SubmissionRejectReason[] = [
  ...MESSAGE_REASONS,
  ...EVENT_TYPES.map((type): InvalidEventReason => `invalid_${type}`),
  ...PUBLISH_REASONS,
];

/** One of {@linkcode SUBMISSION_REJECT_REASONS}. */
export type SubmissionRejectReason =
  | typeof MESSAGE_REASONS[number]
  | InvalidEventReason
  | typeof PUBLISH_REASONS[number];

/** A rejection as a value: the caller decides what to do with it (count, log, dead-letter). */
export interface Rejection {
  /** Always `false`: discriminates a rejection from a success. */
  readonly ok: false;
  /** The bounded reason, used as a metric label and a message attribute. */
  readonly reason: SubmissionRejectReason;
  /** A human-readable explanation that never contains the payload itself. */
  readonly detail: string;
}

/**
 * Builds a {@linkcode Rejection}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { reject } from "./reject_reason.ts";
 * const rejection = reject("empty_body", "message body is empty");
 * assert.equal(rejection.ok, false);
 * assert.equal(rejection.reason, "empty_body");
 * ```
 */
export function reject(reason: SubmissionRejectReason, detail: string): Rejection {
  return { ok: false, reason, detail };
}
