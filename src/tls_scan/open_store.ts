/**
 * Makes the store the configuration names, in one place: the SQLite file
 * (TLS_SCAN_STORE=sqlite, one instance) or the PostgreSQL database shared by every instance
 * (TLS_SCAN_STORE=postgres, TLS_SCAN_DATABASE_URL), with their metrics and logs (a line when
 * the database goes away and one when it is back, not one per failed call).
 *
 * @module
 */
import type { Registry } from "prom-client";
import type { Logger } from "../app/logging.ts";
import { PostgresStore } from "./postgres_store.ts";
import { SqliteStore } from "./sqlite_store.ts";
import type { TlsScanStore } from "./store.ts";
import { createStoreMetrics } from "./store_metrics.ts";

/** What {@linkcode openStore} reads from the configuration. */
export interface StoreChoice {
  readonly store: "sqlite" | "postgres";
  readonly dbPath: string;
  readonly databaseUrl?: string | undefined;
  readonly poolMax: number;
  readonly maxReports: number;
}

/** Where the store reports. */
export interface StoreContext {
  readonly registry: Registry;
  readonly logger: Logger;
  /** Reports stored, from the watch summary (read at scrape). */
  readonly reports: () => number;
}

/**
 * Opens the configured store (SQLite: the file and its folder created when missing;
 * PostgreSQL: the pool, connecting at first use) and registers its metrics.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "../app/logging.ts";
 * import { createRegistry } from "../app/metrics.ts";
 * import { openStore } from "./open_store.ts";
 * const store = openStore(
 *   { store: "sqlite", dbPath: ":memory:", poolMax: 10, maxReports: 100 },
 *   { registry: createRegistry().registry, logger: getLogger("tls-scan"), reports: () => 0 },
 * );
 * assert.equal(store.kind, "sqlite");
 * await store.close();
 * ```
 */
export function openStore(choice: StoreChoice, context: StoreContext): TlsScanStore {
  const { registry, logger } = context;
  if (choice.store === "sqlite") {
    const metrics = createStoreMetrics(registry, { store: "sqlite", reports: context.reports });
    return SqliteStore.open(choice.dbPath, {
      maxReports: choice.maxReports,
      onQuery: () => metrics.queries.inc(),
      onEvicted: (count) => metrics.evicted.inc(count),
    });
  }
  let down = false;
  const store: PostgresStore = PostgresStore.open({
    url: choice.databaseUrl!,
    poolMax: choice.poolMax,
    maxReports: choice.maxReports,
    logger,
    onQuery: () => metrics.queries.inc(),
    onAnswered: () => {
      if (!down) return;
      down = false;
      logger.info("database {url} answers again", { url: store.where });
    },
    onEvicted: (count) => metrics.evicted.inc(count),
    onUnavailable: (error) => {
      metrics.unavailable.inc();
      if (down) return;
      down = true;
      logger.warn("database {url} unreachable ({error}): routes answer 503, reports are held", {
        url: store.where,
        error: error.message,
      });
    },
    onDropped: () => metrics.droppedReports.inc(),
  });
  const metrics = createStoreMetrics(registry, {
    store: "postgres",
    reports: context.reports,
    pool: () => store.poolStats(),
    pendingReports: () => store.pendingReports,
  });
  return store;
}
