/**
 * The settings that choose and reach the store: `IP_EVENTS_STORE` (memory, the default, or
 * redis), the Redis URL and password, and the flush period; and the store configuration
 * derived from them (the URL checked here, so an error never echoes a password).
 *
 * @module
 */
import { z } from "zod";
import { ConfigError, integer, type SettingsTable, type SettingValues } from "../app/settings.ts";
import { redactedUrl } from "../app/redacted_url.ts";

/** The store settings (part of the component's table). */
export const STORE_SETTINGS = {
  IP_EVENTS_STORE: {
    schema: z.enum(["memory", "redis"]),
    default: "memory",
    allowed: "memory or redis",
    help: "where the state is kept: in this process (a restart forgets it) or in Redis, " +
      "shared by every instance (each counts locally and flushes every IP_EVENTS_FLUSH_MS)",
  },
  IP_EVENTS_REDIS_URL: {
    schema: z.string(),
    default: "",
    allowed: "a redis:// or rediss:// (TLS) URL, required when IP_EVENTS_STORE=redis",
    help: "the Redis server, e.g. redis://cache:6379/0; a password may be in it " +
      "(redis://:PASSWORD@cache:6379); never logged with it",
  },
  IP_EVENTS_REDIS_PASSWORD: {
    schema: z.string(),
    default: "",
    allowed: "any string",
    help: "the Redis password when it is not in the URL (never logged)",
  },
  IP_EVENTS_FLUSH_MS: {
    schema: integer(1, 60_000),
    default: "100",
    allowed: "an integer from 1 to 60000",
    help: "how often each instance flushes its local counts to Redis in one round trip: also " +
      "the most another instance's GET or DELETE lags behind, and what a crash may lose",
  },
} as const satisfies SettingsTable;

/** Where the state is kept. */
export type StoreConfig =
  | { readonly kind: "memory" }
  | {
    readonly kind: "redis";
    readonly url: string;
    /** `undefined`: none, or in the URL. */
    readonly password: string | undefined;
    readonly flushMs: number;
  };

/**
 * Derives the store configuration; throws {@linkcode ConfigError} for a missing or malformed
 * Redis URL, or a password given twice.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { configureStore } from "./store_settings.ts";
 * const config = configureStore({
 *   IP_EVENTS_STORE: "redis",
 *   IP_EVENTS_REDIS_URL: "redis://cache:6379",
 *   IP_EVENTS_REDIS_PASSWORD: "",
 *   IP_EVENTS_FLUSH_MS: 100,
 * });
 * // An empty password is no password.
 * assert.deepEqual(config, {
 *   kind: "redis",
 *   url: "redis://cache:6379",
 *   password: undefined,
 *   flushMs: 100,
 * });
 * ```
 */
export function configureStore(values: SettingValues<typeof STORE_SETTINGS>): StoreConfig {
  if (values.IP_EVENTS_STORE === "memory") return { kind: "memory" };
  const url = values.IP_EVENTS_REDIS_URL;
  if (url === "") {
    throw new ConfigError("IP_EVENTS_REDIS_URL must be set when IP_EVENTS_STORE=redis");
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError(
      `IP_EVENTS_REDIS_URL must be ${STORE_SETTINGS.IP_EVENTS_REDIS_URL.allowed}, got a value that is not a URL`,
    );
  }
  if ((parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") || parsed.hostname === "") {
    throw new ConfigError(
      `IP_EVENTS_REDIS_URL must be ${STORE_SETTINGS.IP_EVENTS_REDIS_URL.allowed}, got ${
        JSON.stringify(redactedUrl(url))
      }`,
    );
  }
  const password = values.IP_EVENTS_REDIS_PASSWORD === ""
    ? undefined
    : values.IP_EVENTS_REDIS_PASSWORD;
  if (password !== undefined && parsed.password !== "") {
    throw new ConfigError(
      "the Redis password is given twice: keep it in IP_EVENTS_REDIS_URL or in " +
        "IP_EVENTS_REDIS_PASSWORD, not both",
    );
  }
  return { kind: "redis", url, password, flushMs: values.IP_EVENTS_FLUSH_MS };
}

/**
 * One line for the start-up log (the password hidden).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeStore } from "./store_settings.ts";
 * const line = describeStore({
 *   kind: "redis",
 *   url: "redis://:pw@cache:6379",
 *   password: undefined,
 *   flushMs: 100,
 * });
 * assert.equal(line, "store redis redis://:***@cache:6379, flushed every 100 ms"); // no password
 * ```
 */
export function describeStore(config: StoreConfig): string {
  return config.kind === "memory"
    ? "store memory"
    : `store redis ${redactedUrl(config.url)}, flushed every ${config.flushMs} ms`;
}
