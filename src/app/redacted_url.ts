/**
 * A dependency's URL as it may be logged or shown: its password replaced by `***`. Every
 * component that takes a URL with credentials (the Redis store's, the PostgreSQL store's) shows
 * it only in this form.
 *
 * @module
 */

/**
 * `url` with its password replaced by `***` (and no trailing slash); `(not a URL)` when it
 * does not parse, so a malformed value is never echoed either.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { redactedUrl } from "./redacted_url.ts";
 * assert.equal(
 *   redactedUrl("postgres://scanner:s3cret@db:5432/tls"),
 *   "postgres://scanner:***@db:5432/tls",
 * );
 * assert.equal(redactedUrl("redis://:secret@cache:6379/0"), "redis://:***@cache:6379/0");
 * assert.equal(redactedUrl("redis://cache:6379"), "redis://cache:6379"); // nothing to hide
 * assert.equal(redactedUrl("not a url"), "(not a URL)");
 * ```
 */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.href.replace(/\/$/, "");
  } catch {
    return "(not a URL)";
  }
}
