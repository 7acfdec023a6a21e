/**
 * The answer of `GET /scan` as HTTP: the report in the asked format, 202 while the scan runs,
 * 503 when too many are running, 403 for a target that is not public (naming the range only
 * when the target was given as an address), and the failure's status otherwise.
 *
 * @module
 */
import { jsonError } from "../app/routes.ts";
import { describeRange } from "./address_guard.ts";
import type { ScanAnswer, ScanTarget } from "./coordinator.ts";
import { type ReportFormat, reportResponse } from "./report_format.ts";
import { targetKey } from "./target.ts";

/**
 * The 403 of a refused target. A literal (or a reserved name) is judged as given, so its range
 * is named; a name refused for what it resolved to is not: echoing the address would let
 * anyone enumerate an internal DNS zone through this service (the log keeps it for operators).
 */
function refusal(answer: { address: string; range: string }, target: ScanTarget): Response {
  const key = targetKey(target);
  if (target.kind === "name" && answer.address !== target.host) {
    return jsonError(
      403,
      `refusing to scan ${key}: it resolves to an address that is not public`,
      { reason: "not_public" },
    );
  }
  return jsonError(
    403,
    `refusing to scan ${key}: ${answer.address} is a ${describeRange(answer.range)} address`,
    { reason: "not_public", range: answer.range },
  );
}

/**
 * The answer of `GET /scan` in `format`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerResponse } from "./scan_answer.ts";
 * const target = { host: "intranet.example", port: 443, kind: "name" as const };
 * const busy = answerResponse({ kind: "busy", retryAfterSeconds: 7 }, target, "json");
 * assert.equal(busy.status, 503);
 * assert.equal(busy.headers.get("retry-after"), "7");
 * const refused = { kind: "refused" as const, address: "10.0.0.8", range: "private" };
 * const body = await answerResponse(refused, target, "json").json();
 * assert.match(body.error, /resolves to an address that is not public/); // 10.0.0.8 not told
 * ```
 */
export function answerResponse(
  answer: ScanAnswer,
  target: ScanTarget,
  format: ReportFormat,
): Response {
  switch (answer.kind) {
    case "report":
      return reportResponse(answer.report, format);
    case "in_progress":
      return Response.json({ status: "IN_PROGRESS" }, {
        status: 202,
        headers: { "retry-after": String(answer.retryAfterSeconds) },
      });
    case "busy":
      return jsonError(503, "too many scans in progress; try again later", {}, {
        "retry-after": String(answer.retryAfterSeconds),
      });
    case "refused":
      return refusal(answer, target);
    case "failed":
      return jsonError(answer.status, answer.reason);
  }
}
