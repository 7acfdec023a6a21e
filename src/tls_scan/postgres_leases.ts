/**
 * The scan claims in PostgreSQL: a scheduler round's claim of its due hosts (one statement:
 * `FOR UPDATE SKIP LOCKED` on the watch list, an upsert of the claims that only takes free or
 * expired ones, so two instances never claim one host), and one target's claim, renewal and
 * release. {@linkcode PostgresStore} answers the {@linkcode TlsScanStore} claim calls with it.
 *
 * @module
 */
// @ts-types="@types/pg"
import type pg from "pg";
import {
  claimableLease,
  claimDueParameters,
  dueReport,
  leaseStatements,
} from "./lease_statements.ts";
import type { EngineName } from "./report.ts";
import type { DueQuery, Lease } from "./store.ts";
import { type Target, targetKey } from "./target.ts";

const STATEMENTS = leaseStatements("$");

/** Runs one statement (on the store's pool, counted, its errors translated). */
export type PostgresQuery = <R extends pg.QueryResultRow>(
  sql: string,
  params?: unknown[],
) => Promise<pg.QueryResult<R>>;

/**
 * The claim statements of {@linkcode TlsScanStore} on PostgreSQL.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PostgresLeases } from "./postgres_leases.ts";
 *
 * // Any function that runs a statement: the store passes its own (pool, metrics, errors).
 * const sent: unknown[][] = [];
 * const leases = new PostgresLeases((_sql, params = []) => {
 *   sent.push(params);
 *   return Promise.resolve({ rows: [], rowCount: 1, command: "UPDATE", oid: 0, fields: [] });
 * });
 * const target = { host: "a.test", port: 443 };
 * const lease = { owner: "instance-1", leaseMs: 24_000, nowMs: 1_000 };
 * assert.equal(await leases.renew(target, "probe", lease), true);
 * assert.deepEqual(sent[0], [25_000, "a.test", 443, "probe", "instance-1"]);
 * ```
 */
export class PostgresLeases {
  readonly #query: PostgresQuery;

  /** Sends its statements through `query`. */
  constructor(query: PostgresQuery) {
    this.#query = query;
  }

  /**
   * Claims, in one statement, the due targets no other owner holds. A statement that started
   * while another instance's claim of the same rows was committing sees them free, then loses
   * them in the upsert and may come back empty though other hosts are due: tried again (a new
   * snapshot) up to twice after a short random pause, so an instance is not idle for a whole
   * scheduler interval while hosts are due.
   */
  async claimDue(engine: EngineName, due: DueQuery, lease: Lease): Promise<Target[]> {
    for (let attempt = 0;; attempt++) {
      const claimed = await this.#stillDue(
        engine,
        due,
        lease,
        await this.#claimDueOnce(engine, due, lease),
      );
      if (claimed.length > 0 || attempt === 2) return claimed;
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 80));
    }
  }

  /**
   * The claimed targets still due, read after the claim (a new snapshot): the claiming
   * statement judged due-ness on its own snapshot, so a host another instance scanned and let
   * go just before is dropped here (its claim given up) instead of being scanned twice.
   */
  async #stillDue(
    engine: EngineName,
    due: DueQuery,
    lease: Lease,
    claimed: Target[],
  ): Promise<Target[]> {
    if (claimed.length === 0) return claimed;
    const hosts = claimed.map((t) => t.host), ports = claimed.map((t) => t.port);
    const { rows } = await this.#query<{ host: string; port: number }>(
      `SELECT r.host, r.port FROM reports r
         JOIN unnest($1::text[], $2::int[]) AS t(host, port) ON r.host = t.host AND r.port = t.port
        WHERE r.engine = $3 AND NOT ${dueReport("$4", "$5", "$6")}`,
      [hosts, ports, engine, due.staleBeforeMs, due.expiringBeforeMs, due.recheckBeforeMs],
    );
    if (rows.length === 0) return claimed;
    await this.#query(
      `DELETE FROM leases l USING unnest($1::text[], $2::int[]) AS t(host, port)
        WHERE l.host = t.host AND l.port = t.port AND l.engine = $3 AND l.owner = $4`,
      [rows.map((r) => r.host), rows.map((r) => r.port), engine, lease.owner],
    );
    const done = new Set(rows.map(targetKey));
    return claimed.filter((t) => !done.has(targetKey(t)));
  }

  async #claimDueOnce(engine: EngineName, due: DueQuery, lease: Lease): Promise<Target[]> {
    const { rows } = await this.#query<{ host: string; port: number }>(
      `WITH due AS (
         SELECT w.host, w.port, COALESCE(r.scanned_at_ms, 0) AS age FROM watched w
           LEFT JOIN reports r ON r.host = w.host AND r.port = w.port AND r.engine = $1
           LEFT JOIN leases l ON l.host = w.host AND l.port = w.port AND l.engine = $1
          WHERE ${dueReport("$2", "$3", "$4")} AND ${claimableLease("$5", "$6")}
          ORDER BY 3, w.host, w.port LIMIT $7
          FOR UPDATE OF w SKIP LOCKED),
       claimed AS (
         INSERT INTO leases (host, port, engine, owner, expires_at_ms)
         SELECT host, port, $1, $5, $8 FROM due
         ON CONFLICT (host, port, engine) DO UPDATE
           SET owner = EXCLUDED.owner, expires_at_ms = EXCLUDED.expires_at_ms
           WHERE leases.owner = EXCLUDED.owner OR leases.expires_at_ms <= $6
         RETURNING host, port)
       SELECT c.host, c.port FROM claimed c JOIN due d ON d.host = c.host AND d.port = c.port
        ORDER BY d.age, c.host, c.port`,
      [...claimDueParameters(engine, due, lease), lease.nowMs + lease.leaseMs],
    );
    return rows.map((row) => ({ host: row.host, port: row.port }));
  }

  /** Claims one target unless another owner holds it. */
  async claim(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    const result = await this.#query(...STATEMENTS.claim(target, engine, lease));
    return (result.rowCount ?? 0) > 0;
  }

  /** Extends our claim. */
  async renew(target: Target, engine: EngineName, lease: Lease): Promise<boolean> {
    const result = await this.#query(...STATEMENTS.renew(target, engine, lease));
    return (result.rowCount ?? 0) > 0;
  }

  /** Gives up our claim. */
  async release(target: Target, engine: EngineName, owner: string): Promise<void> {
    await this.#query(...STATEMENTS.release(target, engine, owner));
  }
}
