/**
 * Structured logging: JSON lines on stderr through npm:@logtape/logtape (the standard library's
 * `@std/log` is gone and JSR is unreachable here). Modules take a logger from
 * {@linkcode getLogger} under the `edr` category; nothing logs a message payload.
 *
 * @module
 */
import {
  configure,
  getConsoleSink,
  getJsonLinesFormatter,
  getLogger as logtapeLogger,
  type Logger,
  type LogLevel,
  reset,
} from "@logtape/logtape";

export type { Logger, LogLevel };

/** Sends records of `level` and above, as JSON lines, to stderr (stdout stays free for tools). */
export async function setupLogging(level: LogLevel): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      stderr: getConsoleSink({
        // The message stays its template (stable for log queries); fields sit at the top level.
        formatter: getJsonLinesFormatter({ message: "template", properties: "flatten" }),
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

/** Flushes and removes the logging configuration (at exit, and between tests). */
export function teardownLogging(): Promise<void> {
  return reset();
}

/** The logger of a component, e.g. `getLogger("worker")` → category `edr.worker`. */
export function getLogger(component: string): Logger {
  return logtapeLogger(["edr", component]);
}
