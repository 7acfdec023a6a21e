/**
 * The span of one scan (`tls_scan.scan`): the target, the engine and whether the scan was asked
 * fresh, then how it ended — the report's status and grade, or why there is none. A no-op
 * unless Deno's OpenTelemetry is on (`OTEL_DENO=true`; see {@link ../app/tracing.ts}).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { traceScan } from "./scan_span.ts";
 * const end = await traceScan({ host: "example.com", port: 443 }, "probe", false, () =>
 *   Promise.resolve({ kind: "failed" as const, reason: "timeout" }));
 * assert.equal(end.kind, "failed");
 * ```
 *
 * @module
 */
import { getTracer, inSpan } from "../app/tracing.ts";

const tracer = getTracer("tls-scan");

/** How a scan ended, as far as the span tells it. */
export type ScanEndLike =
  | { readonly kind: "report"; readonly report: { status: string; grade: string | null } }
  | { readonly kind: "refused" }
  | { readonly kind: "failed"; readonly reason: string };

/**
 * Runs the scan `run` in its span.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { traceScan } from "./scan_span.ts";
 * const end = await traceScan({ host: "a.test", port: 443 }, "ssllabs", true, () =>
 *   Promise.resolve({ kind: "report" as const, report: { status: "READY", grade: "A" } }));
 * assert.equal(end.kind === "report" && end.report.grade, "A");
 * ```
 */
export function traceScan<T extends ScanEndLike>(
  target: { readonly host: string; readonly port: number },
  engine: string,
  fresh: boolean,
  run: () => Promise<T>,
): Promise<T> {
  return inSpan(
    tracer,
    "tls_scan.scan",
    {
      "server.address": target.host,
      "server.port": target.port,
      "edr.tls_scan.engine": engine,
      "edr.tls_scan.fresh": fresh,
    },
    run,
    {
      onEnd(span, end) {
        span.setAttribute("edr.tls_scan.outcome", end.kind);
        if (end.kind === "report") {
          span.setAttribute("edr.tls_scan.status", end.report.status);
          span.setAttribute("edr.tls_scan.grade", end.report.grade ?? "none");
        } else if (end.kind === "failed") span.setAttribute("edr.tls_scan.reason", end.reason);
      },
    },
  );
}
