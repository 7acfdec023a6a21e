/**
 * Which PostgreSQL client errors mean "the database cannot be reached" (answered 503, retried
 * later) rather than a defect in a statement.
 *
 * @module
 */

/** SQLSTATE classes of an unreachable or unwilling server: connection exception, operator
 * intervention (shutdown, cannot connect now), insufficient resources. */
const UNAVAILABLE_STATES = /^(08|57P|53)/;
/** What the client library (npm:pg) and the runtime's sockets say when there is no server. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|connection timeout|Query read timeout|Client has encountered a connection error|Connection ended|not queryable|the database system is (starting up|shutting down)/i;

/**
 * `true` when `error` says the database is out of reach (refused, reset, timed out, shutting
 * down), `false` for an error of the statement itself.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isUnavailable } from "./postgres_errors.ts";
 * assert.equal(isUnavailable(Object.assign(new Error("connect"), { code: "ECONNREFUSED" })), true);
 * assert.equal(isUnavailable(Object.assign(new Error("shutdown"), { code: "57P01" })), true);
 * assert.equal(isUnavailable(Object.assign(new Error("syntax"), { code: "42601" })), false);
 * ```
 */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && (UNAVAILABLE_STATES.test(code) || /^E[A-Z]+$/.test(code))) {
    return true;
  }
  return UNAVAILABLE_MESSAGES.test(String((error as Error | null)?.message ?? error));
}
