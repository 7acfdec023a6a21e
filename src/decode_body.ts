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

/** Decodes `body` into a JSON value, or says precisely why it cannot. Never throws. */
export function decodeBody(body: string): DecodedBody | Rejection {
  const trimmed = body.trimStart();
  if (trimmed.length === 0) return reject("empty_body", "message body is empty");
  if (trimmed[0] === "{" || trimmed[0] === "[") return parseJson(trimmed, false);
  if (!BASE64.test(body)) {
    return reject(
      "not_base64",
      `body is neither a JSON object nor standard padded base64 (${body.length} characters)`,
    );
  }
  let text: string;
  try {
    text = utf8.decode(Uint8Array.fromBase64(body));
  } catch {
    return reject("invalid_utf8", "base64 payload is not valid UTF-8");
  }
  return parseJson(text, true);
}

function parseJson(text: string, base64: boolean): DecodedBody | Rejection {
  try {
    return { ok: true, value: JSON.parse(text), base64 };
  } catch (error) {
    // V8's message quotes a snippet of the input, which must not reach the logs: keep only
    // the position it names.
    const at = error instanceof Error ? /position (\d+)/.exec(error.message)?.[1] : undefined;
    const where = at === undefined ? "" : ` (at position ${at})`;
    return reject(
      "invalid_json",
      `${base64 ? "base64 payload" : "body"} is not valid JSON${where}`,
    );
  }
}
