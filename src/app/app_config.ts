/**
 * The service's configuration: the shared settings (`COMPONENTS`, `HTTP_PORT`,
 * `SHUTDOWN_TIMEOUT_SECONDS`, `LOG_LEVEL`), then the settings of the enabled components only.
 * A component that is not enabled has its settings neither validated nor used, so
 * `COMPONENTS=ip-events` starts with no AWS setting at all.
 *
 * ```ts
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
 * loaded.app.httpPort; // 0
 * loaded.enabled.map((e) => e.definition.name); // ["idle"]
 * ```
 *
 * @module
 */
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
 * import { DEFAULT_COMPONENT } from "./app_config.ts";
 * DEFAULT_COMPONENT; // "submissions"
 * ```
 */
export const DEFAULT_COMPONENT = "submissions";

/**
 * The shared settings, given the names of the known components (`COMPONENTS` accepts them).
 *
 * ```ts
 * import { appSettings } from "./app_config.ts";
 * import { readSettings } from "./settings.ts";
 * readSettings(appSettings(["submissions", "ip-events"]), { COMPONENTS: "ip-events" }).COMPONENTS;
 * // ["ip-events"]
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
 * import { settingNames } from "./app_config.ts";
 * settingNames([]).includes("HTTP_PORT"); // true
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
 * import { loadConfig } from "./app_config.ts";
 * import { COMPONENTS } from "../components.ts";
 * const { app, enabled } = loadConfig(COMPONENTS, Deno.env.toObject(), Deno.args);
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
  return {
    app: {
      components: shared.COMPONENTS,
      httpPort: shared.HTTP_PORT,
      shutdownTimeoutSeconds: shared.SHUTDOWN_TIMEOUT_SECONDS,
      logLevel: shared.LOG_LEVEL,
    },
    enabled,
  };
}

/**
 * The `--help` text: the shared settings, then each component's, under its name and summary.
 *
 * ```ts
 * import { configHelp } from "./app_config.ts";
 * configHelp([]).includes("COMPONENTS / --components"); // true
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
