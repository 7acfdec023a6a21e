/**
 * Who may call a route that changes state ({@linkcode changesState} in routes.ts): the one rule
 * of every component, applied by the HTTP server before the route's handler runs.
 *
 * - `ADMIN_TOKEN` set: the request needs `Authorization: Bearer <token>` (compared in constant
 *   time), from any peer, loopback included; otherwise 401 with `WWW-Authenticate: Bearer`.
 * - `ADMIN_TOKEN` unset: **protected mode**, as Redis does it: only a loopback peer (127.0.0.0/8,
 *   ::1, ::ffff:127.x) may change state; anyone else gets 403 naming `ADMIN_TOKEN`. The peer is
 *   the TCP peer address: `X-Forwarded-For` and friends are never read, so no header makes a
 *   stranger local.
 *
 * Reads (`GET`, `HEAD`) are open in both modes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { adminAccess } from "./admin_access.ts";
 *
 * const guarded = adminAccess({ token: undefined }); // protected mode
 * const request = new Request("http://x/scans/example.com", { method: "DELETE" });
 * assert.equal(guarded(request, "127.0.0.1"), undefined); // allowed
 * assert.equal(guarded(request, "10.231.0.2")?.status, 403);
 *
 * const withToken = adminAccess({ token: "s3cret" });
 * assert.equal(withToken(request, "127.0.0.1")?.status, 401);
 * const authorized = new Request(request, { headers: { authorization: "Bearer s3cret" } });
 * assert.equal(withToken(authorized, "10.231.0.2"), undefined);
 * ```
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import ipaddr from "ipaddr.js";
import { jsonError } from "./routes.ts";

/** Options of {@linkcode adminAccess}. */
export interface AdminAccessOptions {
  /** `ADMIN_TOKEN`; `undefined` (or empty) is protected mode. */
  readonly token: string | undefined;
}

/**
 * Checks a state-changing request from the TCP peer `peer`: `undefined` when it may proceed,
 * else the 401 or 403 to answer.
 */
export type AdminCheck = (request: Request, peer: string) => Response | undefined;

/**
 * Makes the check of `options` (see the module documentation for the rule).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { adminAccess } from "./admin_access.ts";
 * const check = adminAccess({ token: "t0ken" });
 * const request = new Request("http://x/events", {
 *   method: "POST",
 *   headers: { authorization: "Bearer wrong" },
 * });
 * assert.equal(check(request, "127.0.0.1")?.status, 401);
 * ```
 */
export function adminAccess(options: AdminAccessOptions): AdminCheck {
  const token = options.token === "" ? undefined : options.token;
  if (token === undefined) {
    return (request, peer) =>
      isLoopback(peer) ? undefined : jsonError(
        403,
        `${request.method} ${new URL(request.url).pathname} changes state: without ADMIN_TOKEN ` +
          "the service runs in protected mode and accepts it from loopback only; set " +
          "ADMIN_TOKEN and send Authorization: Bearer <token>",
        { reason: "protected_mode" },
      );
  }
  const expected = new TextEncoder().encode(`Bearer ${token}`);
  return (request) => {
    const given = new TextEncoder().encode(request.headers.get("authorization") ?? "");
    // timingSafeEqual needs equal lengths; comparing against itself keeps the time the same.
    const same = given.length === expected.length
      ? timingSafeEqual(given, expected)
      : !timingSafeEqual(expected, expected);
    return same ? undefined : jsonError(
      401,
      `${request.method} ${new URL(request.url).pathname} changes state: it needs ` +
        "Authorization: Bearer <ADMIN_TOKEN>",
      { reason: "token" },
      { "www-authenticate": 'Bearer realm="edr-preprocessor"' },
    );
  };
}

/**
 * Whether `address` (a TCP peer: IPv4, IPv6 or IPv4-mapped IPv6) is a loopback address.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopback } from "./admin_access.ts";
 * assert.equal(isLoopback("127.0.0.1"), true);
 * assert.equal(isLoopback("::ffff:127.0.0.2"), true);
 * assert.equal(isLoopback("::1"), true);
 * assert.equal(isLoopback("10.231.0.2"), false);
 * assert.equal(isLoopback("not an address"), false);
 * ```
 */
export function isLoopback(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address); // ::ffff:a.b.c.d → a.b.c.d
  return parsed.range() === "loopback";
}
