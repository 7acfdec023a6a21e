/**
 * The trace of one submission: a `submission` span from receipt to its end (consumer kind, the
 * SQS message id, its events, how it ended), with a `submission.publish` child whose events
 * are the publish waves (each `PutRecords` round trip of one of its records: which record,
 * and the error code of a failed one) and a `submission.delete` child. A no-op unless Deno's
 * OpenTelemetry is on (`OTEL_DENO=true`; see {@link ../app/tracing.ts}).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubmissionSpan } from "./submission_span.ts";
 * const span = SubmissionSpan.start({ messageId: "m-1", receiveCount: 1 });
 * span.decoded({ events: 2, submissionId: "s-1" });
 * const outcome = await span.publish(2, (onSent) => {
 *   onSent(undefined);
 *   onSent(undefined);
 *   return Promise.resolve({ complete: true, published: 2 });
 * });
 * assert.equal(outcome.published, 2);
 * await span.delete(() => Promise.resolve(true));
 * span.outcome("published");
 * span.end();
 * ```
 *
 * @module
 */
import { context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { getTracer } from "../app/tracing.ts";

const tracer = getTracer("submissions");

/** Wave events kept per submission (a span's events are bounded; the count is kept apart). */
const MAX_WAVE_EVENTS = 64;

/** How a submission ended: the outcomes the worker names. */
export type SubmissionOutcome = "published" | "rejected" | "deferred" | "released" | "failed";

/**
 * One submission's spans.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SubmissionSpan } from "./submission_span.ts";
 * const span = SubmissionSpan.start({ messageId: "m-2", receiveCount: 3 });
 * span.outcome("rejected", "not_base64");
 * span.end();
 * const defect = SubmissionSpan.start({ messageId: "m-3", receiveCount: 1 });
 * assert.doesNotThrow(() => defect.end(new Error("a defect"))); // outcome failed, status ERROR
 * ```
 */
export class SubmissionSpan {
  readonly #root: Span;

  private constructor(root: Span) {
    this.#root = root;
  }

  /** Starts the `submission` span at the receipt of `message`. */
  static start(message: { readonly messageId: string; readonly receiveCount: number }) {
    return new SubmissionSpan(tracer.startSpan("submission", {
      kind: SpanKind.CONSUMER,
      attributes: {
        "messaging.system": "aws_sqs",
        "messaging.operation.type": "process",
        "messaging.message.id": message.messageId,
        "edr.submissions.receive_count": message.receiveCount,
      },
    }));
  }

  /** The decoded submission: its events and id. */
  decoded(info: { readonly events: number; readonly submissionId?: string }): void {
    this.#root.setAttribute("edr.submissions.events", info.events);
    if (info.submissionId) {
      this.#root.setAttribute("edr.submissions.submission_id", info.submissionId);
    }
  }

  /**
   * Runs the publishing in the `submission.publish` span; `run` calls `onSent` after each
   * round trip of one of its records (`errorCode` when that record failed).
   */
  async publish<T extends { readonly published: number; readonly complete: boolean }>(
    events: number,
    run: (onSent: (errorCode: string | undefined) => void) => Promise<T>,
  ): Promise<T> {
    const span = this.#child("submission.publish", { "edr.submissions.events": events });
    let waves = 0, retries = 0;
    try {
      const outcome = await run((errorCode) => {
        waves++;
        if (errorCode !== undefined) retries++;
        if (waves <= MAX_WAVE_EVENTS) {
          span.addEvent("publish wave", {
            "edr.submissions.wave": waves,
            ...(errorCode === undefined ? {} : { "edr.submissions.error_code": errorCode }),
          });
        }
      });
      span.setAttributes({
        "edr.submissions.published": outcome.published,
        "edr.submissions.complete": outcome.complete,
      });
      return outcome;
    } finally {
      span.setAttributes({ "edr.submissions.waves": waves, "edr.submissions.retries": retries });
      span.end();
    }
  }

  /** Runs the delete in the `submission.delete` span. */
  async delete<T>(run: () => Promise<T>): Promise<T> {
    const span = this.#child("submission.delete", {});
    try {
      return await run();
    } finally {
      span.end();
    }
  }

  /** How the submission ended (`reason`: a rejection's or a release's cause). */
  outcome(outcome: SubmissionOutcome, reason?: string): void {
    this.#root.setAttribute("edr.submissions.outcome", outcome);
    if (reason) this.#root.setAttribute("edr.submissions.reason", reason);
  }

  /** Ends the `submission` span; `error`: a defect interrupted it (status ERROR). */
  end(error?: unknown): void {
    if (error !== undefined) {
      this.outcome("failed");
      this.#root.recordException(error instanceof Error ? error : String(error));
      this.#root.setStatus({ code: SpanStatusCode.ERROR, message: String(error).slice(0, 200) });
    }
    this.#root.end();
  }

  #child(name: string, attributes: Record<string, number>): Span {
    return tracer.startSpan(name, { attributes }, trace.setSpan(context.active(), this.#root));
  }
}
