/**
 * The service's configuration: the shared settings (`COMPONENTS`, the HTTP server's address,
 * admin token and bounds, `SHUTDOWN_TIMEOUT_SECONDS`, `LOG_LEVEL`), then the settings of the
 * enabled components only.
 * A component that is not enabled has its settings neither validated nor used, so
 * `COMPONENTS=ip-events` starts with no AWS setting at all.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./app_config.ts";
 * import { defineComponent } from "./component.ts";
 *
 * const idle = defineComponent({
 *   name: "idle",
 *   summary: "does nothing",
 *   settings: {},
 *   configure: () => ({}),
 *   create: () => ({
 *     routes: [],
 *     checks: {},
 *     describe: () => "idle",
 *     start: () => Promise.resolve(),
 *     stop: () => Promise.resolve(),
 *   }),
 * });
 * const loaded = loadConfig([idle], { COMPONENTS: "idle" }, ["--http-port", "0"]);
 * assert.equal(loaded.app.httpPort, 0);
 * assert.deepEqual(loaded.enabled.map((e) => e.definition.name), ["idle"]);
 * ```
 *
 * @module
 */
import ipaddr from "ipaddr.js";
import { z } from "zod";
import type { ComponentDefinition } from "./component.ts";
import {
  ConfigError,
  type Env,
  integer,
  parseFlags,
  readSettings,
  settingsHelp,
  type SettingsTable,
} from "./settings.ts";

/**
 * The component enabled when `COMPONENTS` is unset: today's behaviour, the main job.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_COMPONENT } from "./app_config.ts";
 * import { loadConfig } from "./app_config.ts";
 * import { COMPONENTS } from "../components.ts";
 * // COMPONENTS unset: the default alone.
 * assert.deepEqual(loadConfig(COMPONENTS, {}).enabled.map((e) => e.definition.name), [DEFAULT_COMPONENT]);
 * ```
 */
export const DEFAULT_COMPONENT = "submissions";

/**
 * The shared settings, given the names of the known components (`COMPONENTS` accepts them).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { appSettings } from "./app_config.ts";
 * import { readSettings } from "./settings.ts";
 * const shared = appSettings(["submissions", "ip-events"]);
 * assert.deepEqual(readSettings(shared, { COMPONENTS: "ip-events" }).COMPONENTS, ["ip-events"]);
 * assert.throws(() => readSettings(shared, { COMPONENTS: "tls-scan" }), /COMPONENTS must be/);
 * ```
 */
export function appSettings(componentNames: readonly string[]) {
  const known = componentNames.join(", ");
  return {
    COMPONENTS: {
      schema: z.string().transform((list) => list.split(",").map((n) => n.trim())).pipe(
        z.array(z.enum(componentNames as [string, ...string[]])).min(1),
      ).transform((names) => [...new Set(names)]),
      default: DEFAULT_COMPONENT,
      allowed: `a comma list of ${known}`,
      help: "the components to run in this process",
    },
    HTTP_PORT: {
      schema: integer(0, 65_535),
      default: "8080",
      allowed: "an integer from 0 to 65535 (0 picks a free port)",
      help: "port of /healthz, /readyz, /metrics and the components' routes",
    },
    HTTP_HOST: {
      schema: z.string().refine((host) => ipaddr.isValid(host)),
      default: "0.0.0.0",
      allowed: "an IPv4 or IPv6 address (0.0.0.0 or :: for every interface)",
      help: "address the HTTP server binds",
    },
    ADMIN_TOKEN: {
      schema: z.string().regex(/^[\x21-\x7e]*$/),
      default: "",
      allowed: "printable ASCII without spaces, or empty",
      help: "when set, every route that changes state (POST /scans, DELETE /scans/:host, " +
        "POST and DELETE /events) needs `Authorization: Bearer <token>`; when empty, " +
        "protected mode: those routes answer loopback peers only (403 to others)",
    },
    IP_EVENTS_API_TOKEN: {
      schema: z.string().regex(/^[\x21-\x7e]*$/),
      default: "",
      allowed: "printable ASCII without spaces, or empty",
      help: "deprecated: read as ADMIN_TOKEN (with a warning) when ADMIN_TOKEN is empty",
    },
    HTTP_REQUEST_TIMEOUT_SECONDS: {
      schema: integer(1, 3_600),
      default: "30",
      allowed: "an integer from 1 to 3600 (seconds)",
      help: "a request's headers and body must arrive within this (headers within 10 s), " +
        "else 408 and the connection closes",
    },
    HTTP_MAX_CONNECTIONS: {
      schema: integer(1, 1_000_000),
      default: "1024",
      allowed: "an integer from 1 to 1000000",
      help: "open HTTP connections at most; further ones are closed at once",
    },
    HTTP_MAX_BODY_BYTES_IN_FLIGHT: {
      schema: integer(4_194_304, 4_294_967_296),
      default: "67108864",
      allowed: "an integer from 4194304 to 4294967296 (bytes)",
      help: "request body bytes the server holds at once over every connection; past it, " +
        "503 with Retry-After",
    },
    SHUTDOWN_TIMEOUT_SECONDS: {
      schema: integer(0, 3_600),
      default: "20",
      allowed: "an integer from 0 to 3600 (seconds)",
      help: "on SIGTERM/SIGINT, time for every component to finish its work in progress",
    },
    LOG_LEVEL: {
      schema: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]),
      default: "info",
      allowed: "one of trace, debug, info, warning, error, fatal",
      help: "lowest level logged (JSON lines)",
    },
  } as const satisfies SettingsTable;
}

/** The shared configuration. */
export interface AppConfig {
  /** The enabled components' names, in `COMPONENTS` order. */
  readonly components: readonly string[];
  /** The port of the one HTTP server (0: a free one). */
  readonly httpPort: number;
  /** The address it binds. Default `0.0.0.0`. */
  readonly httpHost?: string;
  /** `ADMIN_TOKEN`; `undefined` is protected mode (state changes from loopback only). */
  readonly adminToken?: string | undefined;
  /** A request's headers and body must arrive within this. Default 30. */
  readonly httpRequestTimeoutSeconds?: number;
  /** Open HTTP connections at most. Default 1 024. */
  readonly httpMaxConnections?: number;
  /** Request body bytes held at once at most. Default 64 MiB. */
  readonly httpMaxBodyBytesInFlight?: number;
  /** Warnings to log at start (a deprecated setting in use). */
  readonly warnings?: readonly string[];
  /** The graceful-stop budget of every component together. */
  readonly shutdownTimeoutSeconds: number;
  /** The lowest level logged. */
  readonly logLevel: "trace" | "debug" | "info" | "warning" | "error" | "fatal";
}

/** An enabled component with its validated configuration. */
export interface EnabledComponent {
  /** Its definition. */
  readonly definition: ComponentDefinition;
  /** What its `configure` derived; handed to its `create`. */
  readonly config: unknown;
}

/** The whole configuration. */
export interface LoadedConfig {
  /** The shared part. */
  readonly app: AppConfig;
  /** The enabled components, in `COMPONENTS` order. */
  readonly enabled: readonly EnabledComponent[];
}

/**
 * Every setting name of the shared table and of every component (the flags the command line
 * accepts). Two tables naming one setting are a defect.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { settingNames } from "./app_config.ts";
 * assert.ok(settingNames([]).includes("HTTP_PORT"));
 * ```
 */
export function settingNames(definitions: readonly ComponentDefinition[]): string[] {
  const names = Object.keys(appSettings(definitions.map((d) => d.name)));
  for (const definition of definitions) {
    for (const name of Object.keys(definition.settings)) {
      if (names.includes(name)) throw new Error(`setting ${name} is declared twice`);
      names.push(name);
    }
  }
  return names;
}

/**
 * Reads the configuration from `env` and `args` (flags win). Throws {@linkcode ConfigError}
 * with a one-line message on an unknown flag, an unknown component or the first bad value of
 * an enabled component.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError } from "./settings.ts";
 * import { loadConfig } from "./app_config.ts";
 * import { COMPONENTS } from "../components.ts";
 * // main.ts passes Deno.env.toObject() and Deno.args.
 * const { app, enabled } = loadConfig(COMPONENTS, { HTTP_PORT: "9090" }, ["--components", "tls-scan"]);
 * assert.equal(app.httpPort, 9090);
 * assert.deepEqual(enabled.map((e) => e.definition.name), ["tls-scan"]);
 * assert.throws(() => loadConfig(COMPONENTS, {}, ["--components", "mail"]), ConfigError);
 * ```
 */
export function loadConfig(
  definitions: readonly ComponentDefinition[],
  env: Env,
  args: readonly string[] = [],
): LoadedConfig {
  const flags = parseFlags(args, settingNames(definitions));
  const shared = readSettings(appSettings(definitions.map((d) => d.name)), env, flags);
  const enabled = shared.COMPONENTS.map((name) => {
    const definition = definitions.find((d) => d.name === name)!;
    const values = readSettings(definition.settings, env, flags);
    return { definition, config: definition.configure(values, env) };
  });
  const admin = adminToken(shared.ADMIN_TOKEN, shared.IP_EVENTS_API_TOKEN);
  return {
    app: {
      components: shared.COMPONENTS,
      httpPort: shared.HTTP_PORT,
      httpHost: shared.HTTP_HOST,
      adminToken: admin.token,
      httpRequestTimeoutSeconds: shared.HTTP_REQUEST_TIMEOUT_SECONDS,
      httpMaxConnections: shared.HTTP_MAX_CONNECTIONS,
      httpMaxBodyBytesInFlight: shared.HTTP_MAX_BODY_BYTES_IN_FLIGHT,
      warnings: admin.warnings,
      shutdownTimeoutSeconds: shared.SHUTDOWN_TIMEOUT_SECONDS,
      logLevel: shared.LOG_LEVEL,
    },
    enabled,
  };
}

/**
 * The admin token from `ADMIN_TOKEN` and its deprecated alias `IP_EVENTS_API_TOKEN` (which
 * guarded only ip-events' POST and DELETE before ADMIN_TOKEN guarded every component): the alias
 * alone is used with a warning, so an upgrade keeps its clients working; both set to different
 * values is refused, as no one token would be right.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { adminToken } from "./app_config.ts";
 * assert.deepEqual(adminToken("", ""), { token: undefined, warnings: [] });
 * assert.equal(adminToken("", "old").token, "old");
 * assert.match(adminToken("", "old").warnings[0]!, /IP_EVENTS_API_TOKEN is deprecated/);
 * assert.throws(() => adminToken("new", "old"), /set only ADMIN_TOKEN/);
 * ```
 */
export function adminToken(
  admin: string,
  legacy: string,
): { token: string | undefined; warnings: string[] } {
  if (legacy === "" || legacy === admin) {
    const warnings = legacy === ""
      ? []
      : ["IP_EVENTS_API_TOKEN is deprecated and equal to ADMIN_TOKEN: remove it"];
    return { token: admin === "" ? undefined : admin, warnings };
  }
  if (admin !== "") {
    throw new ConfigError(
      "IP_EVENTS_API_TOKEN is deprecated and differs from ADMIN_TOKEN: set only ADMIN_TOKEN",
    );
  }
  return {
    token: legacy,
    warnings: [
      "IP_EVENTS_API_TOKEN is deprecated: it is read as ADMIN_TOKEN, which now guards every " +
      "route that changes state (POST /scans and DELETE /scans/:host too); rename it",
    ],
  };
}

/**
 * The `--help` text: the shared settings, then each component's, under its name and summary.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { configHelp } from "./app_config.ts";
 * assert.match(configHelp([]), /COMPONENTS \/ --components/);
 * ```
 */
export function configHelp(definitions: readonly ComponentDefinition[]): string {
  return settingsHelp([
    {
      title: "Shared by every component:",
      table: appSettings(definitions.map((d) => d.name)),
    },
    ...definitions.map((d) => ({
      title: `${d.name} (COMPONENTS=${d.name}): ${d.summary}:`,
      table: d.settings,
    })),
  ]);
}

export { ConfigError };
