/**
 * Traces through npm:@opentelemetry/api. With `OTEL_DENO=true` Deno's built-in OpenTelemetry
 * registers its tracer provider with that API and exports the spans over OTLP
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_SERVICE_NAME`); without
 * it the API's tracers are no-ops, so instrumented code behaves and costs the same as before.
 * HTTP requests need nothing of ours: Deno makes a server span for each request it serves.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getTracer, inSpan } from "./tracing.ts";
 * const tracer = getTracer("submissions");
 * const sum = await inSpan(tracer, "add", { "edr.operands": 2 }, () => Promise.resolve(1 + 1));
 * assert.equal(sum, 2);
 * ```
 *
 * @module
 */
import {
  type Attributes,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from "@opentelemetry/api";
import { VERSION } from "./version.ts";

export type { Attributes, Span, Tracer };
export { SpanKind };

/**
 * The tracer of a component (instrumentation scope `edr.<component>`, the service's version).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getTracer } from "./tracing.ts";
 * const span = getTracer("tls-scan").startSpan("tls_scan.scan");
 * // Without OTEL_DENO nothing is exported: the span records nothing and costs next to nothing.
 * assert.equal(span.isRecording(), false);
 * span.end();
 * ```
 */
export function getTracer(component: string): Tracer {
  return trace.getTracer(`edr.${component}`, VERSION);
}

/**
 * Runs `run` inside a new active span (children made meanwhile nest under it), ends it when
 * `run` settles: `onEnd` adds attributes from the value; a throw is recorded on the span (status
 * ERROR) and rethrown.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getTracer, inSpan } from "./tracing.ts";
 * const grade = await inSpan(
 *   getTracer("tls-scan"),
 *   "tls_scan.scan",
 *   { "edr.tls_scan.engine": "probe" },
 *   () => Promise.resolve("A"),
 *   { onEnd: (span, value) => span.setAttribute("edr.tls_scan.grade", value) },
 * );
 * assert.equal(grade, "A");
 * ```
 */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  run: (span: Span) => Promise<T>,
  options: { readonly kind?: SpanKind; readonly onEnd?: (span: Span, value: T) => void } = {},
): Promise<T> {
  // INTERNAL is OpenTelemetry's own default kind.
  const kind = options.kind ?? SpanKind.INTERNAL;
  return tracer.startActiveSpan(name, { attributes, kind }, async (span) => {
    try {
      const value = await run(span);
      options.onEnd?.(span, value);
      return value;
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: String(error).slice(0, 200) });
      throw error;
    } finally {
      span.end();
    }
  });
}
