/**
 * Tests of `deno task demo`: the whole command run as users run it (a subprocess, not a
 * terminal, with LocalStack's 10 % Kinesis errors), and its pure helpers.
 */
import assert from "node:assert/strict";
import { metricTotals } from "../../tools/common/metrics_text.ts";
import { parseDemoArgs } from "../../tools/submissions/demo/options.ts";
import { formatStatus, serviceCounters } from "../../tools/submissions/demo/status_line.ts";
import { dieWithParent } from "../../tools/common/parent_death.ts";

const ROOT = new URL("../../", import.meta.url);

/** Runs `deno task demo …` to completion, killing it after `timeoutMs`; returns its output. */
async function runDemo(
  args: readonly string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const wrapped = dieWithParent(Deno.execPath(), ["task", "demo", ...args]);
  const child = new Deno.Command(wrapped.command, {
    args: wrapped.args,
    cwd: ROOT,
    env: { ...env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // SIGINT, not SIGKILL: the demo then still stops its service and its stack.
  const timer = setTimeout(() => child.kill("SIGINT"), timeoutMs);
  try {
    const { code, stdout, stderr } = await child.output();
    const decoder = new TextDecoder();
    return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/** The number captured by `pattern`'s first group in `text`; fails naming `what` if absent. */
function numberAfter(text: string, pattern: RegExp, what: string): number {
  const match = pattern.exec(text);
  assert.ok(match?.[1] !== undefined, `no ${what} in the demo's output:\n${text}`);
  return Number(match[1]);
}

Deno.test("demo: with KINESIS_ERROR_PROBABILITY=0.1, retries happen and nothing is lost", async () => {
  const started = performance.now();
  const { code, stdout, stderr } = await runDemo(
    ["--seconds", "8"],
    { KINESIS_ERROR_PROBABILITY: "0.1" },
    35_000,
  );
  const output = `${stdout}\n--- stderr ---\n${stderr}`;
  assert.equal(code, 0, output);

  // Not a terminal: plain status lines, no carriage returns or escape sequences.
  assert.ok(!stdout.includes("\r") && !stdout.includes("\x1b["), output);
  assert.match(stdout, /^\[\s*\d+s\]\s+sent \d+\s+received \d+\s+published \d+/m, output);

  const retries = numberAfter(stdout, /^service totals: .*\bretries (\d+)/m, "retries");
  assert.ok(retries > 0, `retries must be > 0\n${output}`);
  assert.match(stdout, /^reconciliation: OK$/m, output);
  const [, expected, present, missing] =
    /^\s+events\s+(\d+) expected, (\d+) present, (\d+) missing$/m.exec(stdout) ?? [];
  assert.ok(expected !== undefined, output);
  assert.ok(Number(expected) > 0, output);
  assert.equal(present, expected, output);
  assert.equal(missing, "0", output);
  assert.equal(numberAfter(stdout, /(\d+) order violations/, "order violations"), 0, output);
  assert.equal(numberAfter(stdout, /(\d+) from invalid submissions/, "invalid records"), 0, output);

  // The service's JSON log went to the file it names, not to the terminal.
  const logPath = /^service logs: (.+)$/m.exec(stdout)?.[1];
  assert.ok(logPath !== undefined, output);
  try {
    const log = await Deno.readTextFile(logPath);
    assert.match(log, /"message_template":"listening on :\{port\}/);
    assert.match(log, /"message":"stopped"/);
    assert.doesNotMatch(stdout, /"@timestamp"/);
  } finally {
    await Deno.remove(logPath);
  }
  console.log(
    `demo run: ${((performance.now() - started) / 1000).toFixed(1)} s, retries ${retries}`,
  );
});

Deno.test("deno task demo: an unknown component is a usage error (exit 2) naming the known ones", async () => {
  const { code, stderr } = await runDemo(["bogus"], {}, 30_000);
  assert.equal(code, 2);
  assert.match(stderr, /demo: unknown component "bogus" \(known: submissions/);
});

Deno.test("parseDemoArgs: defaults, flags over the environment, one-line errors", () => {
  const env = (values: Record<string, string>) => (name: string) => values[name];
  assert.deepEqual(parseDemoArgs([], env({})), {
    seconds: undefined,
    rate: 5,
    fleetSize: 10,
    invalidRatio: 0,
    seed: undefined,
    tail: 2,
    drainTimeoutSeconds: 60,
    errorProbability: 0,
    partialFailureProbability: 0,
    throttle: undefined,
  });
  const options = parseDemoArgs(
    ["--seconds", "20", "--kinesis-error-probability", "0.2"],
    env({ KINESIS_ERROR_PROBABILITY: "0.1", KINESIS_PARTIAL_FAILURE_PROBABILITY: "0.05" }),
  );
  assert.equal(options?.seconds, 20);
  assert.equal(options?.errorProbability, 0.2);
  assert.equal(options?.partialFailureProbability, 0.05);
  assert.equal(options?.throttle, undefined);
  assert.deepEqual(parseDemoArgs(["--kinesis-throttle"], env({}))?.throttle, {
    recordsPerSecond: 1_000,
    bytesPerSecond: 1_048_576,
  });
  assert.deepEqual(
    parseDemoArgs(
      ["--kinesis-shard-records-per-second", "20"],
      env({ KINESIS_SHARD_BYTES_PER_SECOND: "4096" }),
    )?.throttle,
    { recordsPerSecond: 20, bytesPerSecond: 4096 },
    "a budget implies the throttle",
  );
  assert.throws(
    () => parseDemoArgs([], env({ KINESIS_THROTTLE: "maybe" })),
    /KINESIS_THROTTLE must be true or false, got "maybe"/,
  );
  assert.equal(parseDemoArgs(["--help"], env({})), undefined);
  assert.throws(() => parseDemoArgs(["--rate", "fast"], env({})), /--rate must be a number/);
  assert.throws(
    () => parseDemoArgs([], env({ KINESIS_ERROR_PROBABILITY: "2" })),
    /KINESIS_ERROR_PROBABILITY must be a number from 0 to 1, got "2"/,
  );
  assert.throws(() => parseDemoArgs(["--fleet-size", "2.5"], env({})), /must be an integer/);
  assert.throws(() => parseDemoArgs(["--bogus"], env({})), /bogus/);
});

Deno.test("metricTotals and formatStatus: labelled series add up into one status line", () => {
  const text = [
    "# HELP edr_submissions_messages_invalid_total Messages rejected, by reason",
    "# TYPE edr_submissions_messages_invalid_total counter",
    'edr_submissions_messages_invalid_total{reason="invalid_device_id"} 2',
    'edr_submissions_messages_invalid_total{reason="invalid_network_connection"} 1',
    "edr_submissions_messages_received_total 40",
    "edr_submissions_events_published_total 301",
    'edr_submissions_record_retries_total{error_code="ProvisionedThroughputExceededException"} 21',
    "edr_submissions_messages_in_flight 2",
    'edr_submissions_put_records_records_bucket{le="+Inf"} 7',
  ].join("\n");
  const totals = metricTotals(text);
  assert.equal(totals.get("edr_submissions_messages_invalid_total"), 3);
  assert.equal(totals.get("edr_submissions_put_records_records_bucket"), 7);
  const counters = serviceCounters(totals);
  assert.deepEqual(counters, {
    received: 40,
    published: 301,
    invalid: 3,
    retries: 21,
    inFlight: 2,
  });
  assert.equal(
    formatStatus({
      elapsedSeconds: 8.7,
      phase: "running",
      sent: 40,
      counters,
      eventsPerSecond: 38.25,
      queue: { visible: 0, inFlight: 2 },
    }),
    "[  8s]  sent 40  received 40  published 301  invalid 3  retries 21  38.3 events/s  " +
      "queue 0 (2 in flight)",
  );
  assert.equal(
    formatStatus({
      elapsedSeconds: 12,
      phase: "draining",
      sent: 41,
      counters: undefined,
      eventsPerSecond: undefined,
      queue: undefined,
    }),
    "[ 12s]  draining  sent 41  metrics unavailable  queue ?",
  );
});
