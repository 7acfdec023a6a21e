/**
 * Structured logging: JSON lines on stderr through npm:@logtape/logtape (the standard library's
 * `@std/log` is gone and JSR is unreachable here). Every line carries `message` (the rendered
 * text: `listening on :8080; …`), `message_template` (the template, stable for log queries:
 * `listening on :{port}; …`), `component` and `logger` (the category), and the fields at the top
 * level. Modules take a logger from {@linkcode getLogger}; nothing logs a message payload.
 *
 * ```ts
 * import { getLogger, setupLogging, teardownLogging } from "./logging.ts";
 *
 * await setupLogging("info");
 * getLogger("submissions", "worker").info("received {count} messages", { count: 10 });
 * // {"@timestamp":"…","level":"INFO","component":"submissions","logger":"edr.submissions.worker",
 * //  "message":"received 10 messages","message_template":"received {count} messages","count":10}
 * await teardownLogging();
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
 * import { formatRecord } from "./logging.ts";
 * const line = formatRecord({
 *   category: ["edr", "app"],
 *   level: "info",
 *   message: ["listening on :", 8080, ""],
 *   rawMessage: "listening on :{port}",
 *   properties: { port: 8080 },
 *   timestamp: 0,
 * });
 * JSON.parse(line).message; // "listening on :8080"
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

/**
 * Sends records of `level` and above, as JSON lines, to stderr (stdout stays free for tools).
 *
 * ```ts
 * import { setupLogging, teardownLogging } from "./logging.ts";
 * await setupLogging("warning");
 * await teardownLogging();
 * ```
 */
export async function setupLogging(level: LogLevel): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      stderr: getConsoleSink({
        formatter: formatRecord,
        levelMap: {
          trace: "error",
          debug: "error",
          info: "error",
          warning: "error",
          error: "error",
          fatal: "error",
        },
      }),
    },
    loggers: [
      { category: ["edr"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
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
 * import { getLogger } from "./logging.ts";
 * const logger = getLogger("ip-events", "receiver"); // category edr.ip-events.receiver
 * ```
 */
export function getLogger(component: string, ...parts: string[]): Logger {
  return logtapeLogger(["edr", component, ...parts]);
}
