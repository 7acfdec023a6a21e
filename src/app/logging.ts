/**
 * Structured logging: JSON lines on stderr through npm:@logtape/logtape (the standard library's
 * `@std/log` is gone and JSR is unreachable here). Every line carries `message` (the rendered
 * text: `listening on :8080; …`), `message_template` (the template, stable for log queries:
 * `listening on :{port}; …`), `component` and `logger` (the category), and the fields at the top
 * level. Modules take a logger from {@linkcode getLogger}; nothing logs a message payload.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger, setupLogging, teardownLogging } from "./logging.ts";
 *
 * const stderr: string[] = []; // what console.error would have written
 * const write = console.error;
 * console.error = (line: string) => stderr.push(line);
 * await setupLogging("info");
 * getLogger("submissions", "worker").info("received {count} messages", { count: 10 });
 * getLogger("submissions", "worker").debug("below the level: dropped");
 * await teardownLogging();
 * console.error = write;
 * assert.equal(stderr.length, 1);
 * const { level, component, logger, message, message_template, count } = JSON.parse(stderr[0]!);
 * assert.deepEqual(
 *   [level, component, logger, message, message_template, count],
 *   ["INFO", "submissions", "edr.submissions.worker", "received 10 messages", "received {count} messages", 10],
 * );
 * ```
 *
 * @module
 */
import {
  configure,
  getConsoleSink,
  getLogger as logtapeLogger,
  type Logger,
  type LogLevel,
  type LogRecord,
  reset,
} from "@logtape/logtape";

export type { Logger, LogLevel };

/** The keys every line has; a field of the same name is written as `field_<name>`. */
const RESERVED = new Set([
  "@timestamp",
  "level",
  "component",
  "logger",
  "message",
  "message_template",
]);

/**
 * One log record as one JSON line (without the newline).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRecord } from "./logging.ts";
 * const line = formatRecord({
 *   category: ["edr", "app"],
 *   level: "info",
 *   message: ["listening on :", 8080, ""],
 *   rawMessage: "listening on :{port}",
 *   properties: { port: 8080 },
 *   timestamp: 0,
 * });
 * const parsed = JSON.parse(line);
 * assert.equal(parsed.message, "listening on :8080");
 * assert.equal(parsed.port, 8080); // each property a field of its own
 * ```
 */
export function formatRecord(record: LogRecord): string {
  const line: Record<string, unknown> = {
    "@timestamp": new Date(record.timestamp).toISOString(),
    level: record.level === "warning" ? "WARN" : record.level.toUpperCase(),
    component: record.category[1] ?? "app",
    logger: record.category.join("."),
    message: renderMessage(record.message),
    message_template: typeof record.rawMessage === "string"
      ? record.rawMessage
      : record.rawMessage.join("{}"),
  };
  for (const [key, value] of Object.entries(record.properties)) {
    line[RESERVED.has(key) ? `field_${key}` : key] = value;
  }
  return JSON.stringify(line, (_key, value) => typeof value === "bigint" ? String(value) : value);
}

/** The message with its values in place: strings as they are, anything else as JSON. */
function renderMessage(parts: readonly unknown[]): string {
  let text = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    if (i % 2 === 0 || typeof part === "string") text += String(part);
    else text += JSON.stringify(part, (_key, v) => typeof v === "bigint" ? String(v) : v) ?? "";
  }
  return text;
}

/** Every level to `console.error`: one stream, stderr. */
const STDERR_ONLY = {
  trace: "error",
  debug: "error",
  info: "error",
  warning: "error",
  error: "error",
  fatal: "error",
} as const;

/**
 * Each level to the console method of its severity, which Deno's OpenTelemetry maps to the log
 * record's severity (DEBUG, INFO, WARN, ERROR); `console.debug` and `console.info` write to
 * stdout.
 */
const BY_SEVERITY = {
  trace: "debug",
  debug: "debug",
  info: "info",
  warning: "warn",
  error: "error",
  fatal: "error",
} as const;

/** Options of {@linkcode setupLogging}. */
export interface LoggingOptions {
  /**
   * Deno's OpenTelemetry exports the console (`OTEL_DENO=true`): write each level with the
   * console method of its severity, so exported records carry their real severity; DEBUG and
   * INFO lines then go to stdout, WARN and above to stderr. Default false: every line to stderr.
   */
  readonly otel?: boolean;
}

/**
 * Sends records of `level` and above, as JSON lines, to stderr (stdout stays free for tools);
 * with `otel`, by severity (see {@linkcode LoggingOptions}).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger, setupLogging, teardownLogging } from "./logging.ts";
 * const seen: string[] = [];
 * const [info, warn] = [console.info, console.warn];
 * console.info = () => seen.push("info");
 * console.warn = () => seen.push("warn");
 * await setupLogging("info", { otel: true }); // each level by its severity, for the exporter
 * getLogger("app").info("up");
 * getLogger("app").warn("slow");
 * await teardownLogging();
 * [console.info, console.warn] = [info, warn];
 * assert.deepEqual(seen, ["info", "warn"]);
 * ```
 */
export async function setupLogging(level: LogLevel, options: LoggingOptions = {}): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      console: getConsoleSink({
        formatter: formatRecord,
        levelMap: options.otel ? BY_SEVERITY : STDERR_ONLY,
      }),
    },
    loggers: [
      { category: ["edr"], lowestLevel: level, sinks: ["console"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

/**
 * Whether Deno's OpenTelemetry is on for this process, from its `OTEL_DENO` variable.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { otelEnabled } from "./logging.ts";
 * assert.equal(otelEnabled({ OTEL_DENO: "true" }), true);
 * assert.equal(otelEnabled({}), false);
 * ```
 */
export function otelEnabled(env: Readonly<Record<string, string | undefined>>): boolean {
  return ["true", "1"].includes(env.OTEL_DENO?.trim().toLowerCase() ?? "");
}

/**
 * Flushes and removes the logging configuration (at exit, and between tests).
 *
 * ```ts
 * import { teardownLogging } from "./logging.ts";
 * await teardownLogging();
 * ```
 */
export function teardownLogging(): Promise<void> {
  return reset();
}

/**
 * The logger of a component or one of its parts: category `edr.<component>.<part>…`; the
 * component's name is written on every line. The app itself logs as component `app`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "./logging.ts";
 * const logger = getLogger("ip-events", "receiver");
 * assert.deepEqual(logger.category, ["edr", "ip-events", "receiver"]);
 * ```
 */
export function getLogger(component: string, ...parts: string[]): Logger {
  return logtapeLogger(["edr", component, ...parts]);
}
