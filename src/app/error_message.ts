/**
 * What a log line or an answer says of a caught value: `catch` binds `unknown`, and a library may
 * throw a string or a plain object as well as an `Error`.
 *
 * @module
 */

/** Options of {@linkcode errorMessage}. */
export interface ErrorMessageOptions {
  /** Prefix the error's class name (`TimeoutError: …`), for errors told apart by name. */
  readonly withName?: boolean;
  /** Cut the text to this many characters (a message may quote a whole response). */
  readonly maxLength?: number;
  /** Keep only the first line (zod and some parsers write several). */
  readonly firstLine?: boolean;
}

/**
 * The message of `error` if it is an `Error`, else `error` as a string.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { errorMessage } from "./error_message.ts";
 * assert.equal(errorMessage(new RangeError("port out of range")), "port out of range");
 * assert.equal(errorMessage("socket closed"), "socket closed");
 * const timeout = new DOMException("signal timed out", "TimeoutError");
 * assert.equal(errorMessage(timeout, { withName: true }), "TimeoutError: signal timed out");
 * assert.equal(errorMessage(new Error("a\nb"), { firstLine: true }), "a");
 * assert.equal(errorMessage(new Error("x".repeat(500)), { maxLength: 300 }).length, 300);
 * ```
 */
export function errorMessage(error: unknown, options: ErrorMessageOptions = {}): string {
  let text = error instanceof Error
    ? (options.withName ? `${error.name}: ${error.message}` : error.message)
    : String(error);
  if (options.firstLine) text = text.split("\n")[0]!;
  return options.maxLength === undefined ? text : text.slice(0, options.maxLength);
}
