import assert from "node:assert/strict";
import { getLogger, otelEnabled, setupLogging, teardownLogging } from "../../src/app/logging.ts";

/** The JSON lines logged while `run` runs, at `level`. */
async function capture(
  level: "info" | "warning",
  run: () => void,
): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const original = console.error;
  console.error = (line: string) => lines.push(line);
  try {
    await setupLogging(level);
    run();
    await teardownLogging();
  } finally {
    console.error = original;
  }
  return lines.map((line) => JSON.parse(line));
}

Deno.test("each line: the rendered message, its template, the component, the fields at the top level", async () => {
  const [line, ...rest] = await capture("info", () => {
    getLogger("submissions", "service").info(
      "listening on :{port}; {workers} workers, queue {queue}, tags {tags}",
      { port: 8080, workers: 8, queue: "submissions", tags: ["a", 1] },
    );
  });
  assert.equal(rest.length, 0);
  assert.equal(line!.message, 'listening on :8080; 8 workers, queue submissions, tags ["a",1]');
  assert.equal(
    line!.message_template,
    "listening on :{port}; {workers} workers, queue {queue}, tags {tags}",
  );
  assert.equal(line!.component, "submissions");
  assert.equal(line!.logger, "edr.submissions.service");
  assert.equal(line!.level, "INFO");
  assert.equal(line!.port, 8080);
  assert.equal(line!.queue, "submissions");
  assert.ok(!Number.isNaN(Date.parse(line!["@timestamp"] as string)));
});

Deno.test("the app logs as component app; a field named like a reserved key is kept aside", async () => {
  const [line] = await capture("info", () => {
    getLogger("app").warn("odd {message}", { message: "field", level: 3, big: 2n ** 70n });
  });
  assert.equal(line!.component, "app");
  assert.equal(line!.level, "WARN");
  assert.equal(line!.message, "odd field");
  assert.equal(line!.field_message, "field");
  assert.equal(line!.field_level, 3);
  assert.equal(line!.big, "1180591620717411303424");
});

Deno.test("records below the level are not written", async () => {
  const lines = await capture("warning", () => {
    const logger = getLogger("ip-events");
    logger.info("not this");
    logger.error("this {n}", { n: 1 });
  });
  assert.deepEqual(lines.map((l) => [l.component, l.message]), [["ip-events", "this 1"]]);
});

Deno.test("every level goes to console.error, or with otel to the method of its severity", async () => {
  const methods = ["debug", "info", "warn", "error"] as const;
  const seen: string[] = [];
  const originals = methods.map((m) => console[m]);
  for (const m of methods) {
    console[m] = (line: string) => seen.push(`${m} ${JSON.parse(line).level}`);
  }
  const logger = getLogger("app", "test");
  const logAll = () => {
    logger.debug("d");
    logger.info("i");
    logger.warn("w");
    logger.error("e");
    logger.fatal("f");
  };
  try {
    await setupLogging("debug");
    logAll();
    await teardownLogging();
    assert.deepEqual(seen.splice(0), [
      "error DEBUG",
      "error INFO",
      "error WARN",
      "error ERROR",
      "error FATAL",
    ]);
    await setupLogging("debug", { otel: true });
    logAll();
    await teardownLogging();
    assert.deepEqual(seen, [
      "debug DEBUG",
      "info INFO",
      "warn WARN",
      "error ERROR",
      "error FATAL",
    ]);
  } finally {
    methods.forEach((m, i) => console[m] = originals[i]!);
  }
});

Deno.test("otelEnabled reads Deno's OTEL_DENO", () => {
  assert.equal(otelEnabled({ OTEL_DENO: "true" }), true);
  assert.equal(otelEnabled({ OTEL_DENO: "1" }), true);
  assert.equal(otelEnabled({ OTEL_DENO: "false" }), false);
  assert.equal(otelEnabled({}), false);
});
