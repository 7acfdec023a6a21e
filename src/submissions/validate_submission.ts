/**
 * Validates a decoded JSON value against {@linkcode SubmissionSchema} and classifies any failure
 * into a bounded {@linkcode SubmissionRejectReason} with a payload-free detail.
 *
 * @module
 */
import type { z } from "zod";
import {
  type EventType,
  isEventType,
  type Submission,
  SubmissionSchema,
} from "./submission_schema.ts";
import { reject, type Rejection, type SubmissionRejectReason } from "./reject_reason.ts";

/** A valid submission and what validation learned about its `events` object. */
export interface ValidSubmission {
  /** Always `true`. */
  readonly ok: true;
  /** The validated submission (unknown fields stripped). */
  readonly submission: Submission;
  /** The known event types in the order their keys appear in `events`: defines `sequence`. */
  readonly typeOrder: readonly EventType[];
  /** Keys of `events` that are not known event types: not published, counted. */
  readonly unknownEventTypes: readonly string[];
}

/** How many zod issues a detail lists before summarising the rest. */
const MAX_ISSUES = 3;

/**
 * Validates `value` as a submission. Never throws.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateSubmission } from "./validate_submission.ts";
 * const valid = validateSubmission({
 *   submission_id: "3d951732-72d5-49ed-b6fd-38b85afb6cfc",
 *   device_id: "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a",
 *   time_created: "2024-05-01T12:00:00",
 *   events: { usb: [], new_process: [] },
 * });
 * assert.ok(valid.ok);
 * assert.deepEqual(valid.typeOrder, ["new_process"]);
 * assert.deepEqual(valid.unknownEventTypes, ["usb"]); // counted, not published
 * const rejected = validateSubmission({ ...valid.submission, device_id: "d1" });
 * assert.ok(!rejected.ok);
 * assert.equal(rejected.reason, "invalid_device_id");
 * ```
 */
export function validateSubmission(value: unknown): ValidSubmission | Rejection {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return reject("not_an_object", `submission must be a JSON object, got ${describe(value)}`);
  }
  const result = SubmissionSchema.safeParse(value);
  if (!result.success) return classify(result.error.issues);
  // Key order of the input, not of the schema: `sequence` follows what the sensor sent.
  const keys = Object.keys((value as { events: object }).events);
  return {
    ok: true,
    submission: result.data,
    typeOrder: keys.filter(isEventType),
    unknownEventTypes: keys.filter((key) => !isEventType(key)),
  };
}

function classify(issues: readonly z.core.$ZodIssue[]): Rejection {
  const first = issues[0];
  const detail = issues.slice(0, MAX_ISSUES).map(formatIssue).join("; ") +
    (issues.length > MAX_ISSUES ? `; and ${issues.length - MAX_ISSUES} more` : "");
  return reject(first === undefined ? "invalid_events" : reasonFor(first.path), detail);
}

function reasonFor(path: readonly PropertyKey[]): SubmissionRejectReason {
  const [top, type] = path;
  switch (top) {
    case "submission_id":
    case "device_id":
    case "time_created":
      return `invalid_${top}`;
    case "events":
      if (typeof type === "string" && isEventType(type)) return `invalid_${type}`;
      return "invalid_events";
    default:
      return "invalid_events";
  }
}

/** `events.network_connection[2].destination_ip: Invalid IPv4 address`. */
function formatIssue(issue: z.core.$ZodIssue): string {
  let path = "";
  for (const part of issue.path) {
    path += typeof part === "number" ? `[${part}]` : `${path === "" ? "" : "."}${String(part)}`;
  }
  return `${path === "" ? "submission" : path}: ${issue.message}`;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
