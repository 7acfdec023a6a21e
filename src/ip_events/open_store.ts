/**
 * Makes the store the configuration names, in one place: the memory store, or the Redis store
 * with its connection, its metrics and its logs (a line when Redis goes away and one when it
 * is back, not one per failed retry).
 *
 * @module
 */
import type { Registry } from "prom-client";
import type { Logger } from "../app/logging.ts";
import { redactedUrl } from "../app/redacted_url.ts";
import { MemoryStore } from "./memory_store.ts";
import { openRedisLink } from "./redis_link.ts";
import { RedisStore } from "./redis_store.ts";
import type { IpEventStore, StoreLimits } from "./store.ts";
import { createStoreMetrics } from "./store_metrics.ts";
import type { StoreConfig } from "./store_settings.ts";

/** What {@linkcode openStore} needs from the component. */
export interface StoreContext {
  readonly registry: Registry;
  readonly logger: Logger;
}

/**
 * Makes the store (for Redis: connecting in the background, flushing every `flushMs`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { getLogger } from "../app/logging.ts";
 * import { openStore } from "./open_store.ts";
 * const context = { registry: new Registry(), logger: getLogger("ip-events") };
 * const store = openStore({ kind: "memory" }, { maxApps: 10, maxIpsPerApp: 64 }, context);
 * // a MemoryStore
 * assert.deepEqual(store.stats(), { apps: 0, ips: 0 });
 * await store.close();
 * ```
 */
export function openStore(
  config: StoreConfig,
  limits: StoreLimits,
  context: StoreContext,
): IpEventStore {
  if (config.kind === "memory") return new MemoryStore(limits);
  const { logger } = context;
  const url = redactedUrl(config.url);
  const metrics = createStoreMetrics(context.registry, () => store.pendingEvents);
  const link = openRedisLink({
    url: config.url,
    password: config.password,
    onDown: (error) =>
      logger.warn("Redis {url} unreachable ({error}): counting locally, reconnecting", {
        url,
        error: error.message,
      }),
    onUp: () => logger.info("Redis {url} reachable again", { url }),
  });
  let failing = false;
  const store: RedisStore = new RedisStore({
    link,
    limits,
    flushMs: config.flushMs,
    observer: {
      flushed(outcome) {
        metrics.observer.flushed(outcome);
        if (outcome.ok && failing) {
          failing = false;
          logger.info("flushes to Redis succeed again; {pending} events still held", {
            pending: store.pendingEvents,
          });
        }
      },
      failed(operation, error) {
        metrics.observer.failed(operation, error);
        if (operation === "flush" && !failing) {
          failing = true;
          logger.warn(
            "flush to Redis failed ({error}): {pending} events kept locally, retried with backoff",
            { error: error.message, pending: store.pendingEvents },
          );
        } else if (operation === "reset" || operation === "sweep") {
          logger.warn("Redis {operation} failed: {error}", { operation, error: error.message });
        }
      },
      abandoned(events) {
        metrics.observer.abandoned(events);
        logger.error("{events} events not handed to Redis by the shutdown deadline", { events });
      },
    },
  });
  return store;
}
