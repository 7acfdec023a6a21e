/**
 * The PostgreSQL store's connection side: a bounded pool (npm:pg) whose BIGINT columns read as
 * numbers, every statement counted and its "cannot be reached" errors turned into
 * {@linkcode StoreUnavailableError} (postgres_errors.ts), transactions that give back a broken
 * connection instead of reusing it, and the schema created or migrated before the first
 * statement (by whichever instance gets there first, under the advisory lock of
 * postgres_schema.ts). Nothing connects before the first statement.
 *
 * @module
 */
// @ts-types="@types/pg"
import pg from "pg";
import { errorMessage } from "../app/error_message.ts";
import type { Logger } from "../app/logging.ts";
import { isUnavailable } from "./postgres_errors.ts";
import { migrateSchema } from "./postgres_schema.ts";
import { StoreUnavailableError } from "./store.ts";
import type { PoolStats } from "./store_metrics.ts";

/** Options of {@linkcode PostgresPool}. */
export interface PostgresPoolOptions {
  /** `postgres://user:password@host:port/db` (TLS_SCAN_DATABASE_URL). */
  readonly url: string;
  /** Connections at most (TLS_SCAN_DATABASE_POOL_MAX). */
  readonly poolMax: number;
  /** How long to wait for a connection, ms. Default 5 000. */
  readonly connectTimeoutMs?: number | undefined;
  readonly logger?: Logger | undefined;
  /** Called once per statement sent. */
  readonly onQuery?: (() => void) | undefined;
  /** Called when the database could not be reached. */
  readonly onUnavailable?: ((error: Error) => void) | undefined;
  /** Called when a statement was answered (the database reachable). */
  readonly onAnswered?: (() => void) | undefined;
}

/** Where a statement runs: the pool, or one connection inside a transaction. */
export type Db = Pick<pg.PoolClient, "query">;

/**
 * The pool.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { PostgresPool } from "./postgres_pool.ts";
 * const pool = new PostgresPool({ url: "postgres://scanner:secret@127.0.0.1:5432/tls", poolMax: 4 });
 * assert.deepEqual(pool.stats(), { max: 4, total: 0, idle: 0, waiting: 0 }); // none yet
 * await pool.end();
 * ```
 */
export class PostgresPool {
  readonly #o: PostgresPoolOptions;
  readonly #pool: pg.Pool;
  #schema: Promise<unknown> | undefined;

  /** Makes the pool; nothing connects yet. */
  constructor(options: PostgresPoolOptions) {
    this.#o = options;
    this.#pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolMax,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      idleTimeoutMillis: 30_000,
      query_timeout: 30_000,
      application_name: "edr-tls-scan",
      // BIGINT columns hold milliseconds since 1970: well within a double.
      types: {
        getTypeParser: ((oid: number, format?: string) =>
          oid === pg.types.builtins.INT8
            ? Number
            : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
      },
    });
    // An idle connection's server going away is reported here; the next query reconnects.
    this.#pool.on("error", (error) => {
      this.#o.logger?.warn("database connection lost: {error}", { error: error.message });
    });
  }

  /** The pool now, for its metrics. */
  stats(): PoolStats {
    const pool = this.#pool;
    return {
      max: this.#o.poolMax,
      total: pool.totalCount,
      idle: pool.idleCount,
      waiting: pool.waitingCount,
    };
  }

  /** Runs `sql` on `db` (default: the pool, once the schema is in place). */
  async query<R extends pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    db: Db = this.#pool,
  ): Promise<pg.QueryResult<R>> {
    if (db === this.#pool) await this.#migrated();
    this.#o.onQuery?.();
    try {
      const result = await db.query<R>(sql, params);
      this.#o.onAnswered?.();
      return result;
    } catch (error) {
      throw this.#translate(error);
    }
  }

  #translate(error: unknown): unknown {
    if (!isUnavailable(error)) return error;
    const message = errorMessage(error);
    const unavailable = new StoreUnavailableError(message || "the database cannot be reached", {
      cause: error,
    });
    this.#o.onUnavailable?.(unavailable);
    return unavailable;
  }

  /** Runs `body` in one transaction on one connection. */
  async transaction<T>(body: (db: Db) => Promise<T>): Promise<T> {
    await this.#migrated();
    return await this.#inTransaction(body);
  }

  /**
   * `body` between BEGIN and COMMIT on one connection; rolled back on an error, and the
   * connection destroyed instead of reused when the database went away.
   */
  async #inTransaction<T>(body: (db: Db) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (error) {
      throw this.#translate(error);
    }
    let broken = false;
    try {
      await this.query("BEGIN", [], client);
      const result = await body(client);
      await this.query("COMMIT", [], client);
      return result;
    } catch (error) {
      broken = error instanceof StoreUnavailableError;
      if (!broken) await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Creates or migrates the schema once per process; a failed attempt is retried next call. */
  #migrated(): Promise<unknown> {
    this.#schema ??= this.#inTransaction((client) =>
      migrateSchema((sql, params = []) => this.query(sql, params, client), this.#o.logger)
    ).catch((error) => {
      this.#schema = undefined;
      throw error;
    });
    return this.#schema;
  }

  /** Closes every connection. */
  end(): Promise<void> {
    return this.#pool.end();
  }
}
