/**
 * The scan-claim statements both stores send (sqlite_store.ts, postgres_leases.ts), written
 * once with their parameters: a claim is taken when the target is free, already ours, or its
 * claim expired; renewed and released only by its owner. SQLite and PostgreSQL take the same
 * SQL here, numbered placeholders (`?1` or `$1`) aside. Beside them, the two conditions a
 * scheduler round's claim is made of: which report is due, and which claim may be taken.
 *
 * @module
 */
import type { EngineName } from "./report.ts";
import type { DueQuery, Lease } from "./store.ts";
import type { Target } from "./target.ts";

/** A statement and its parameters, in its placeholders' order. */
export type Statement = readonly [sql: string, params: (string | number)[]];

/** The claim statements of one store. */
export interface LeaseStatements {
  /** Claims `target` for `lease.owner` unless another owner holds an unexpired claim. */
  claim(target: Target, engine: EngineName, lease: Lease): Statement;
  /** Extends `lease.owner`'s claim of `target`. */
  renew(target: Target, engine: EngineName, lease: Lease): Statement;
  /** Gives up `owner`'s claim of `target`. */
  release(target: Target, engine: EngineName, owner: string): Statement;
}

/**
 * The claim statements with `?1`-style placeholders (SQLite) or `$1`-style (PostgreSQL).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { leaseStatements } from "./lease_statements.ts";
 * const [sql, params] = leaseStatements("$").release({ host: "a.test", port: 443 }, "probe", "i-1");
 * assert.equal(
 *   sql,
 *   "DELETE FROM leases WHERE host = $1 AND port = $2 AND engine = $3 AND owner = $4",
 * );
 * assert.deepEqual(params, ["a.test", 443, "probe", "i-1"]);
 * ```
 */
export function leaseStatements(placeholder: "?" | "$"): LeaseStatements {
  const [p1, p2, p3, p4, p5, p6] = [1, 2, 3, 4, 5, 6].map((n) => `${placeholder}${n}`);
  const claim =
    `INSERT INTO leases (host, port, engine, owner, expires_at_ms) VALUES (${p1}, ${p2}, ${p3}, ${p4}, ${p5})
       ON CONFLICT (host, port, engine) DO UPDATE
         SET owner = excluded.owner, expires_at_ms = excluded.expires_at_ms
         WHERE leases.owner = excluded.owner OR leases.expires_at_ms <= ${p6}`;
  const renew = `UPDATE leases SET expires_at_ms = ${p1}
        WHERE host = ${p2} AND port = ${p3} AND engine = ${p4} AND owner = ${p5}`;
  const release =
    `DELETE FROM leases WHERE host = ${p1} AND port = ${p2} AND engine = ${p3} AND owner = ${p4}`;
  return {
    claim: (target, engine, lease) => [claim, [
      target.host,
      target.port,
      engine,
      lease.owner,
      lease.nowMs + lease.leaseMs,
      lease.nowMs,
    ]],
    renew: (target, engine, lease) => [renew, [
      lease.nowMs + lease.leaseMs,
      target.host,
      target.port,
      engine,
      lease.owner,
    ]],
    release: (target, engine, owner) => [release, [target.host, target.port, engine, owner]],
  };
}

/**
 * The due rule on the `reports r` row of a watched target (LEFT JOINed: `r.host` is NULL when
 * never scanned): never scanned, scanned before `stale`, or its certificate ending before
 * `expiring` and not rechecked since `recheck`. The arguments are the placeholders of the
 * three times (`DueQuery`'s).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { dueReport } from "./lease_statements.ts";
 * assert.match(dueReport("?2", "?3", "?4"), /r\.scanned_at_ms < \?2/);
 * ```
 */
export function dueReport(stale: string, expiring: string, recheck: string): string {
  return `(r.host IS NULL OR r.scanned_at_ms < ${stale}
          OR (r.not_after_ms IS NOT NULL AND r.not_after_ms < ${expiring}
              AND r.scanned_at_ms < ${recheck}))`;
}

/**
 * The claim rule on the `leases l` row of a target (LEFT JOINed): no claim, ours (`owner`), or
 * expired by `now`. The arguments are placeholders.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimableLease } from "./lease_statements.ts";
 * assert.equal(
 *   claimableLease("$5", "$6"),
 *   "(l.host IS NULL OR l.owner = $5 OR l.expires_at_ms <= $6)",
 * );
 * ```
 */
export function claimableLease(owner: string, now: string): string {
  return `(l.host IS NULL OR l.owner = ${owner} OR l.expires_at_ms <= ${now})`;
}

/**
 * The parameters of a round's claim, in the order both stores' claim statements number them:
 * 1 the engine, 2–4 the {@linkcode dueReport} bounds, 5–6 the {@linkcode claimableLease}
 * owner and time, 7 the round's limit.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { claimDueParameters } from "./lease_statements.ts";
 * const due = { staleBeforeMs: 10, expiringBeforeMs: 20, recheckBeforeMs: 30, limit: 5 };
 * const lease = { owner: "i-1", nowMs: 1_000, leaseMs: 60_000 };
 * assert.deepEqual(claimDueParameters("probe", due, lease), ["probe", 10, 20, 30, "i-1", 1_000, 5]);
 * ```
 */
export function claimDueParameters(
  engine: EngineName,
  due: DueQuery,
  lease: Lease,
): (string | number)[] {
  return [
    engine,
    due.staleBeforeMs,
    due.expiringBeforeMs,
    due.recheckBeforeMs,
    lease.owner,
    lease.nowMs,
    due.limit,
  ];
}
