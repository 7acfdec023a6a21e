/**
 * Makes the store the configuration names, in one place: the SQLite file (TLS_SCAN_STORE=sqlite,
 * one instance) with its query counter.
 *
 * @module
 */
import { SqliteStore } from "./sqlite_store.ts";
import type { TlsScanStore } from "./store.ts";

/** What {@linkcode openStore} reads from the configuration. */
export interface StoreChoice {
  readonly dbPath: string;
  readonly maxReports: number;
}

/** What the store reports to the component. */
export interface StoreHooks {
  /** Called once per database statement. */
  readonly onQuery: () => void;
  /** Called with the count of reports evicted under the report bound. */
  readonly onEvicted: (count: number) => void;
}

/**
 * Opens the configured store (SQLite: the file and its folder created when missing).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { openStore } from "./open_store.ts";
 * const store = openStore({ dbPath: ":memory:", maxReports: 100 }, {
 *   onQuery: () => {},
 *   onEvicted: () => {},
 * });
 * assert.equal(store.kind, "sqlite");
 * await store.close();
 * ```
 */
export function openStore(choice: StoreChoice, hooks: StoreHooks): TlsScanStore {
  return SqliteStore.open(choice.dbPath, { maxReports: choice.maxReports, ...hooks });
}
