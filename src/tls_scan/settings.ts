/**
 * The tls-scan component's settings (read through src/app/settings.ts only when the component
 * is enabled) and the configuration derived from them. `SSLLABS_EMAIL` is required for the
 * `ssllabs` engine: {@linkcode configure} throws a one-line `ConfigError` without it.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "../app/settings.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 *
 * const config = configure(readSettings(SETTINGS, { TLS_SCAN_CONCURRENCY: "8" }), {});
 * assert.equal(config.concurrency, 8);
 * assert.equal(config.engine, "probe");
 * ```
 *
 * @module
 */
import { z } from "zod";
import {
  boolean,
  ConfigError,
  type ConfigOf,
  type Env,
  httpUrl,
  integer,
  type SettingsTable,
  type SettingValues,
} from "../app/settings.ts";
import { redactedUrl } from "../app/redacted_url.ts";

const path = z.string().min(1).max(4_096).refine((p) => !p.includes("\0"));
const email = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/).max(254);
const scale = z.string().regex(/^\d+(\.\d+)?(e-?\d+)?$/i).transform(Number).pipe(
  z.number().gt(0).max(100),
);

/**
 * Every setting, by environment variable name.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "../app/settings.ts";
 * import { SETTINGS } from "./settings.ts";
 * assert.equal(readSettings(SETTINGS, {}).TLS_SCAN_WAIT_SECONDS, 90);
 * assert.equal(readSettings(SETTINGS, { TLS_SCAN_ALLOW_PRIVATE: "true" }).TLS_SCAN_ALLOW_PRIVATE, true);
 * ```
 */
export const SETTINGS = {
  TLS_SCAN_ENGINE: {
    schema: z.enum(["probe", "ssllabs"]),
    default: "probe",
    allowed: "probe or ssllabs",
    help: "probe: scan with openssl from here; ssllabs: the SSL Labs API v4",
  },
  TLS_SCAN_STORE: {
    schema: z.enum(["sqlite", "postgres"]),
    default: "sqlite",
    allowed: "sqlite or postgres",
    help: "sqlite: a file beside one instance; postgres: one database shared by every instance",
  },
  TLS_SCAN_DB: {
    schema: path,
    default: "data/tls-scan.db",
    allowed: "a file path",
    help: "SQLite database of reports and the watch list (created when missing)",
  },
  TLS_SCAN_DATABASE_URL: {
    // Any string here: a bad value is reported without its password (configure).
    schema: z.string().max(4_096),
    default: "",
    allowed: "a postgres://user:password@host:port/db URL, required when TLS_SCAN_STORE=postgres",
    help: "the PostgreSQL database (schema created or migrated at start); never logged with " +
      "its password",
  },
  TLS_SCAN_DATABASE_POOL_MAX: {
    schema: integer(1, 100),
    default: "10",
    allowed: "an integer from 1 to 100",
    help: "connections to PostgreSQL at most, per instance",
  },
  TLS_SCAN_WAIT_SECONDS: {
    schema: integer(0, 600),
    default: "90",
    allowed: "an integer from 0 to 600 (seconds)",
    help: "how long GET /scan waits for a scan before answering 202 with Retry-After",
  },
  TLS_SCAN_MAX_AGE_HOURS: {
    schema: integer(1, 8_760),
    default: "24",
    allowed: "an integer from 1 to 8760 (hours)",
    help:
      "a report younger than this is answered from the store; older watched hosts are rescanned",
  },
  TLS_SCAN_EXPIRY_WARN_DAYS: {
    schema: integer(1, 365),
    default: "30",
    allowed: "an integer from 1 to 365 (days)",
    help: "watched hosts whose certificate expires within this are rescanned daily and counted",
  },
  TLS_SCAN_CONCURRENCY: {
    schema: integer(1, 64),
    default: "4",
    allowed: "an integer from 1 to 64",
    help: "hosts the probe scans at once for the scheduler (watched hosts' rescans)",
  },
  TLS_SCAN_REQUEST_CONCURRENCY: {
    schema: integer(1, 64),
    default: "2",
    allowed: "an integer from 1 to 64",
    help: "hosts the probe scans at once for GET /scan, in a lane of their own: requests for " +
      "hosts that never answer cannot delay watched hosts' rescans",
  },
  TLS_SCAN_TIMEOUT_SECONDS: {
    schema: integer(1, 30),
    default: "8",
    allowed: "an integer from 1 to 30 (seconds)",
    help: "hard timeout of each openssl process (one TLS handshake)",
  },
  TLS_SCAN_MAX_PENDING: {
    schema: integer(1, 10_000),
    default: "100",
    allowed: "an integer from 1 to 10000",
    help: "distinct scans GET /scan may have running at once (beyond: 503 with Retry-After)",
  },
  TLS_SCAN_FRESH_MIN_AGE_SECONDS: {
    schema: integer(0, 86_400),
    default: "300",
    allowed: "an integer from 0 to 86400 (seconds; 0: fresh=true always scans)",
    help: "GET /scan?fresh=true rescans only a host whose report is at least this old; a younger " +
      "report is answered from the store, so no caller can make this service rescan a third " +
      "party (or spend SSL Labs assessments) more often",
  },
  TLS_SCAN_MAX_WATCHED: {
    schema: integer(1, 100_000),
    default: "10000",
    allowed: "an integer from 1 to 100000",
    help: "the most hosts the watch list holds",
  },
  TLS_SCAN_MAX_REPORTS: {
    schema: integer(1, 10_000_000),
    default: "100000",
    allowed: "an integer from 1 to 10000000, at least TLS_SCAN_MAX_WATCHED",
    help: "the most reports kept; past it the oldest of unwatched hosts are evicted first",
  },
  TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: {
    schema: integer(0, 86_400),
    default: "60",
    allowed: "an integer from 0 to 86400 (seconds; 0 turns the scheduler off)",
    help: "how often the scheduler looks for watched hosts due for a rescan",
  },
  TLS_SCAN_ALLOW_PRIVATE: {
    schema: boolean,
    default: "false",
    allowed: "true or false",
    help: "allow loopback, private, link-local, CGNAT … targets (local test fleets only)",
  },
  TLS_SCAN_CA_FILE: {
    schema: z.union([z.literal("").transform(() => undefined), path]).optional(),
    allowed: "a PEM file path",
    help: "extra trust anchors for the probe, added to the system's",
  },
  SSLLABS_API_URL: {
    schema: httpUrl,
    default: "https://api.ssllabs.com/api/v4/",
    allowed: "an http(s) URL",
    help: "SSL Labs API v4 base URL",
  },
  SSLLABS_EMAIL: {
    schema: z.union([z.literal("").transform(() => undefined), email]).optional(),
    allowed: "an e-mail address",
    help: "the address registered with SSL Labs (required with TLS_SCAN_ENGINE=ssllabs)",
  },
  SSLLABS_TIME_SCALE: {
    schema: scale,
    default: "1",
    allowed: "a number above 0 and at most 100",
    help: "multiplies the fixed SSL Labs waits (polls, 503/529 pauses); for tests",
  },
} as const satisfies SettingsTable;

/**
 * The derived configuration.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, readSettings } from "../app/settings.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * const values = readSettings(SETTINGS, { TLS_SCAN_MAX_AGE_HOURS: "6" });
 * assert.equal(configure(values, {}).maxAgeHours, 6);
 * assert.throws(
 *   () => configure({ ...values, TLS_SCAN_ENGINE: "ssllabs" }, {}),
 *   (error) => error instanceof ConfigError && /^SSLLABS_EMAIL must be set/.test(error.message),
 * );
 * ```
 */
export function configure(values: SettingValues<typeof SETTINGS>, _env: Env) {
  if (values.TLS_SCAN_ENGINE === "ssllabs" && !values.SSLLABS_EMAIL) {
    throw new ConfigError(
      "SSLLABS_EMAIL must be set with TLS_SCAN_ENGINE=ssllabs (the address registered with SSL Labs)",
    );
  }
  if (values.TLS_SCAN_MAX_REPORTS < values.TLS_SCAN_MAX_WATCHED) {
    throw new ConfigError(
      `TLS_SCAN_MAX_REPORTS (${values.TLS_SCAN_MAX_REPORTS}) must be at least TLS_SCAN_MAX_WATCHED (${values.TLS_SCAN_MAX_WATCHED}): watched hosts keep their reports`,
    );
  }
  return {
    engine: values.TLS_SCAN_ENGINE,
    store: values.TLS_SCAN_STORE,
    dbPath: values.TLS_SCAN_DB,
    databaseUrl: values.TLS_SCAN_STORE === "postgres"
      ? databaseUrl(values.TLS_SCAN_DATABASE_URL)
      : undefined,
    poolMax: values.TLS_SCAN_DATABASE_POOL_MAX,
    waitSeconds: values.TLS_SCAN_WAIT_SECONDS,
    maxAgeHours: values.TLS_SCAN_MAX_AGE_HOURS,
    expiryWarnDays: values.TLS_SCAN_EXPIRY_WARN_DAYS,
    concurrency: values.TLS_SCAN_CONCURRENCY,
    requestConcurrency: values.TLS_SCAN_REQUEST_CONCURRENCY,
    freshMinAgeSeconds: values.TLS_SCAN_FRESH_MIN_AGE_SECONDS,
    timeoutSeconds: values.TLS_SCAN_TIMEOUT_SECONDS,
    maxPending: values.TLS_SCAN_MAX_PENDING,
    maxWatched: values.TLS_SCAN_MAX_WATCHED,
    maxReports: values.TLS_SCAN_MAX_REPORTS,
    /** A scan's claim lives 3 openssl timeouts unless renewed (every third of it). */
    leaseMs: 3 * values.TLS_SCAN_TIMEOUT_SECONDS * 1000,
    schedulerIntervalSeconds: values.TLS_SCAN_SCHEDULER_INTERVAL_SECONDS,
    allowPrivate: values.TLS_SCAN_ALLOW_PRIVATE,
    caFile: values.TLS_SCAN_CA_FILE,
    sslLabsUrl: values.SSLLABS_API_URL,
    sslLabsEmail: values.SSLLABS_EMAIL,
    timeScale: values.SSLLABS_TIME_SCALE,
  };
}

/** The tls-scan configuration. */
export type TlsScanConfig = ConfigOf<typeof configure>;

function databaseUrl(url: string): string {
  if (url === "") {
    throw new ConfigError("TLS_SCAN_DATABASE_URL must be set when TLS_SCAN_STORE=postgres");
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    // Said below, without the value (it may hold a password).
  }
  if (
    !parsed || (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") ||
    parsed.hostname === ""
  ) {
    const shown = parsed ? JSON.stringify(redactedUrl(url)) : "a value that is not a URL";
    throw new ConfigError(
      `TLS_SCAN_DATABASE_URL must be ${SETTINGS.TLS_SCAN_DATABASE_URL.allowed}, got ${shown}`,
    );
  }
  return url;
}
