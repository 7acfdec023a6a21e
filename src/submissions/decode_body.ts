/**
 * Turns an SQS message body into a JSON value: standard base64 (with padding) of UTF-8 JSON, or
 * the raw JSON object itself. A body whose first non-blank character is `{` (or `[`, which is
 * then rejected as not an object) cannot be base64, so the two forms are never ambiguous.
 *
 * @module
 */
import { reject, type Rejection } from "./reject_reason.ts";

/** A successfully decoded body. */
export interface DecodedBody {
  /** Always `true`. */
  readonly ok: true;
  /** The parsed JSON value; not yet validated. */
  readonly value: unknown;
  /** Whether the body was base64 (`true`) or raw JSON (`false`). */
  readonly base64: boolean;
}

// Strict standard alphabet with mandatory padding: no URL-safe alphabet, no whitespace.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder("utf-8", { fatal: true });
const JSON_ERROR_POSITION = / at position (\d+)(?: \(line \d+ column \d+\))?$/;

/**
 * Decodes `body` into a JSON value, or says precisely why it cannot. Never throws.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeBody } from "./decode_body.ts";
 * assert.deepEqual(decodeBody(btoa('{"a":1}')), { ok: true, value: { a: 1 }, base64: true });
 * assert.deepEqual(decodeBody(' {"a":1}'), { ok: true, value: { a: 1 }, base64: false });
 * const cut = decodeBody("eyJhIjox"); // base64 of a cut-off object
 * assert.equal(!cut.ok && cut.reason, "invalid_json");
 * ```
 */
export function decodeBody(body: string): DecodedBody | Rejection {
  const trimmed = body.trimStart();
  if (trimmed.length === 0) return reject("empty_body", "message body is empty");
  if (trimmed[0] === "{" || trimmed[0] === "[") {
    return parseJson(trimmed, false, body.length - trimmed.length);
  }
  if (!BASE64.test(body)) {
    return reject(
      "not_base64",
      `body is neither a JSON object nor standard padded base64 (${body.length} characters)`,
    );
  }
  let bytes: Uint8Array;
  try {
    // Strict: non-zero bits after the last byte mean a corrupted or non-canonical encoding.
    bytes = Uint8Array.fromBase64(body, { lastChunkHandling: "strict" });
  } catch {
    return reject("not_base64", "base64 body has non-zero padding bits (not canonical)");
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return reject("invalid_utf8", "base64 payload is not valid UTF-8");
  }
  return parseJson(text, true, 0);
}

/** Parses `text`; `offset` is where `text` starts in what the detail calls the payload. */
function parseJson(text: string, base64: boolean, offset: number): DecodedBody | Rejection {
  try {
    return { ok: true, value: JSON.parse(text), base64 };
  } catch (error) {
    // V8's message either ends with "at position N (line L column C)" or quotes a snippet of
    // the input, which must not reach the logs and may itself contain "position 123": trust
    // only the anchored suffix.
    const at = error instanceof Error ? JSON_ERROR_POSITION.exec(error.message)?.[1] : undefined;
    // Reported against the body as received, not the trimmed text.
    const where = at === undefined ? "" : ` (at position ${Number(at) + offset})`;
    return reject(
      "invalid_json",
      `${base64 ? "base64 payload" : "body"} is not valid JSON${where}`,
    );
  }
}
