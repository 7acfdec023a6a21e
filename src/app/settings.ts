/**
 * The settings machinery every component shares. A setting is an environment variable that is
 * also a CLI flag (`SQS_MAX_MESSAGES` ↔ `--sqs-max-messages`; a flag wins over the variable).
 * A component declares its settings in one table: each setting's zod schema over the raw string,
 * its default, what is allowed and what it means, so the parser, the one-line errors and the
 * `--help` text cannot disagree.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { integer, readSettings, type SettingsTable } from "./settings.ts";
 *
 * const TABLE = {
 *   WORKERS: { schema: integer(1, 256), default: "8", allowed: "an integer from 1 to 256",
 *     help: "concurrent receive loops" },
 * } as const satisfies SettingsTable;
 *
 * const values = readSettings(TABLE, { WORKERS: "4" }, { WORKERS: "6" });
 * assert.equal(values.WORKERS, 6); // the flag wins over the variable, parsed to a number
 * assert.equal(readSettings(TABLE, {}).WORKERS, 8); // neither: the default
 * assert.throws(() => readSettings(TABLE, { WORKERS: "0" }), /WORKERS must be an integer from 1 to 256/);
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { errorMessage } from "./error_message.ts";

/** One setting: its schema over the raw string, its default and a human description. */
export interface Setting {
  /** Parses and checks the raw string (after trimming); its output is the setting's value. */
  readonly schema: z.ZodType;
  /** The raw value used when the setting is unset or empty. */
  readonly default?: string;
  /** What values are allowed, phrased to complete "NAME must be …". */
  readonly allowed: string;
  /** What the setting does, for `--help`. */
  readonly help: string;
}

/** A component's settings, by environment variable name. */
export type SettingsTable = Readonly<Record<string, Setting>>;

/** The parsed values of a table's settings. */
export type SettingValues<T extends SettingsTable> = {
  readonly [K in keyof T]: z.output<T[K]["schema"]>;
};

/**
 * A component's configuration type, inferred from its `configure` function: every component's
 * `settings.ts` declares `SETTINGS` (a {@linkcode SettingsTable}), `configure(values, env)` and
 * `type XConfig = ConfigOf<typeof configure>`, so the type cannot drift from what is derived.
 */
export type ConfigOf<F extends (...args: never[]) => unknown> = Readonly<ReturnType<F>>;

/** The process environment, or a test's stand-in for it. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Flag values given on the command line, by setting name (`WORKERS`, not `--workers`). */
export type Flags = Readonly<Record<string, string>>;

/**
 * An integer from `min` to `max` written in decimal.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { integer } from "./settings.ts";
 * assert.equal(integer(1, 10).parse("3"), 3);
 * assert.equal(integer(1, 10).safeParse("11").success, false);
 * assert.equal(integer(1, 10).safeParse("3.5").success, false);
 * ```
 */
export function integer(min: number, max: number): z.ZodType<number> {
  return z.string().regex(/^-?\d+$/).transform(Number).pipe(z.int().min(min).max(max));
}

/**
 * An http or https URL.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { httpUrl } from "./settings.ts";
 * assert.equal(httpUrl.parse("http://localhost:4566"), "http://localhost:4566");
 * assert.equal(httpUrl.safeParse("ftp://localhost").success, false);
 * ```
 */
export const httpUrl: z.ZodType<string> = z.url({ protocol: /^https?$/ });

/**
 * An http or https URL, or the empty string, which means "none" (`undefined`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { optionalHttpUrl } from "./settings.ts";
 * assert.equal(optionalHttpUrl.parse(""), undefined);
 * assert.equal(optionalHttpUrl.parse("https://sqs.eu-west-1.amazonaws.com"), "https://sqs.eu-west-1.amazonaws.com");
 * ```
 */
export const optionalHttpUrl: z.ZodType<string | undefined> = z.union([
  z.literal("").transform(() => undefined),
  httpUrl,
]);

/**
 * `true` or `false`, spelled out.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { boolean } from "./settings.ts";
 * assert.equal(boolean.parse("true"), true);
 * assert.equal(boolean.parse("false"), false);
 * assert.equal(boolean.safeParse("1").success, false);
 * ```
 */
export const boolean: z.ZodType<boolean> = z.enum(["true", "false"]).transform((v) => v === "true");

/**
 * A configuration error: its message is one line naming the variable (or flag) and what is
 * allowed. `main.ts` prints it and exits 2.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError } from "./settings.ts";
 * const error = new ConfigError('WORKERS must be an integer from 1 to 256, got "0"');
 * assert.equal(`${error}`, 'ConfigError: WORKERS must be an integer from 1 to 256, got "0"');
 * ```
 */
export class ConfigError extends Error {
  /** Makes an error with a one-line `message`. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/**
 * The CLI flag of a setting, without the dashes.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { flagName } from "./settings.ts";
 * assert.equal(flagName("SQS_MAX_MESSAGES"), "sqs-max-messages");
 * ```
 */
export function flagName(name: string): string {
  return name.toLowerCase().replaceAll("_", "-");
}

/**
 * Parses `args` as `--flag value` / `--flag=value` pairs of the settings `names`; throws
 * {@linkcode ConfigError} on an unknown flag, a missing value or a positional argument.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ConfigError, parseFlags } from "./settings.ts";
 * assert.deepEqual(parseFlags(["--workers", "6"], ["WORKERS"]), { WORKERS: "6" });
 * assert.deepEqual(parseFlags(["--workers=6"], ["WORKERS"]), { WORKERS: "6" });
 * assert.throws(() => parseFlags(["--wokers", "6"], ["WORKERS"]), ConfigError);
 * ```
 */
export function parseFlags(args: readonly string[], names: readonly string[]): Flags {
  const options = Object.fromEntries(names.map((n) => [flagName(n), { type: "string" as const }]));
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }));
  } catch (error) {
    const message = errorMessage(error, { firstLine: true });
    throw new ConfigError(`${message} (see --help)`);
  }
  const flags: Record<string, string> = {};
  for (const name of names) {
    const value = values[flagName(name)];
    if (typeof value === "string") flags[name] = value;
  }
  return flags;
}

/**
 * Reads every setting of `table` from `flags` (which win) and `env`. An unset or empty value
 * takes the default, except where empty is itself meaningful to the schema
 * (`AWS_ENDPOINT_URL=""`: the real AWS endpoints). Throws {@linkcode ConfigError} with a
 * one-line message on the first bad value.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { integer, readSettings } from "./settings.ts";
 * const table = {
 *   PORT: { schema: integer(0, 65535), default: "8080", allowed: "a port", help: "the port" },
 * };
 * assert.equal(readSettings(table, {}).PORT, 8080);
 * assert.equal(readSettings(table, { PORT: "9090" }).PORT, 9090);
 * assert.throws(() => readSettings(table, { PORT: "http" }), /PORT must be a port, got "http"/);
 * ```
 */
export function readSettings<T extends SettingsTable>(
  table: T,
  env: Env,
  flags: Flags = {},
): SettingValues<T> {
  const values: Record<string, unknown> = {};
  for (const [name, setting] of Object.entries(table)) {
    const given = (flags[name] ?? env[name])?.trim();
    const value = given === undefined || given === "" && !setting.schema.safeParse("").success
      ? setting.default
      : given;
    const parsed = setting.schema.safeParse(value);
    if (!parsed.success) {
      const source = flags[name] === undefined ? name : `--${flagName(name)}`;
      throw new ConfigError(`${source} must be ${setting.allowed}, got ${JSON.stringify(value)}`);
    }
    values[name] = parsed.data;
  }
  return values as SettingValues<T>;
}

/** One group of settings in the `--help` text. */
export interface HelpSection {
  /** The heading, e.g. `submissions: SQS submissions → validated events → Kinesis`. */
  readonly title: string;
  /** The settings listed under it. */
  readonly table: SettingsTable;
}

/**
 * The `--help` text: per section, every variable with its flag, default and meaning.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { integer, settingsHelp } from "./settings.ts";
 * const table = {
 *   PORT: { schema: integer(0, 65535), default: "8080", allowed: "a port", help: "the port" },
 * };
 * assert.match(settingsHelp([{ title: "Shared", table }]), /PORT \/ --port/);
 * ```
 */
export function settingsHelp(sections: readonly HelpSection[]): string {
  const lines = ["Configuration (environment variable, or the CLI flag; the flag wins):"];
  for (const { title, table } of sections) {
    lines.push("", `${title}`);
    for (const [name, setting] of Object.entries(table)) {
      const fallback = setting.default === undefined ? "unset" : JSON.stringify(setting.default);
      lines.push(`  ${name} / --${flagName(name)}  (default ${fallback})`);
      lines.push(`      ${setting.help}; ${setting.allowed}`);
    }
  }
  return lines.join("\n");
}
