/**
 * The submissions demo's options: flags, and the fault variables of the environment (the same as
 * `deno task stack`'s).
 *
 * ```ts
 * import { parseDemoArgs } from "./options.ts";
 * parseDemoArgs(["--seconds", "20"])?.seconds; // 20
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

/** What the demo does; see {@linkcode parseDemoArgs}. */
export interface DemoOptions {
  /** Stop by itself after this many seconds; `undefined`: only on Ctrl-C. */
  readonly seconds: number | undefined;
  /** Submissions per second sent by the fleet. */
  readonly rate: number;
  /** Devices of the fleet. */
  readonly fleetSize: number;
  /** Extra fraction of deliberately invalid submissions (the fleet's `invalidRatio`). */
  readonly invalidRatio: number;
  /** The fleet's seed; `undefined`: random (printed, so a run can be repeated). */
  readonly seed: number | undefined;
  /** Stream records shown per refresh. */
  readonly tail: number;
  /** Longest wait for the service to drain after the fleet stops. */
  readonly drainTimeoutSeconds: number;
  /** LocalStack's `KINESIS_ERROR_PROBABILITY`, injected by the stack's Kinesis proxy. */
  readonly errorProbability: number;
  /** Per-record `PutRecords` failures, injected by the stack's Kinesis proxy. */
  readonly partialFailureProbability: number;
  /**
   * Per-shard write limits like real Kinesis, by the stack's Kinesis proxy: records and bytes
   * per second per shard, or `undefined` for none.
   */
  readonly throttle:
    | { readonly recordsPerSecond: number; readonly bytesPerSecond: number }
    | undefined;
}

/** A usage error: its message is one line, printed with the usage text. */
export class DemoUsageError extends Error {
  /** Makes an error with a one-line `message`. */
  constructor(message: string) {
    super(message);
    this.name = "DemoUsageError";
  }
}

/** The `--help` text. */
export const USAGE = `Usage: deno task demo [submissions] [options]

Runs a local SQS + Kinesis (in this process), the preprocessor (deno run main.ts), a sensor
fleet and a tail of the stream, with a live status line; on Ctrl-C (or after --seconds) drains,
stops the service and reconciles the stream with what the fleet sent. Exit code 0 = nothing lost.

  --seconds N              stop by itself after N seconds (default: run until Ctrl-C)
  --rate R                 submissions per second (default 5; the real fleet sends 10 per 30-45 s)
  --fleet-size N           devices (default 10)
  --invalid-ratio R        extra fraction of invalid submissions, 0..1 (default 0; the fleet's own
                           1 % faults per field are always on)
  --seed N                 the fleet's seed (default: random, printed)
  --tail N                 stream records shown per second (default 2; 0 hides them)
  --drain-timeout N        longest wait, in seconds, for the service to drain (default 60)
  --kinesis-error-probability P          [KINESIS_ERROR_PROBABILITY] LocalStack's injected
                                         PutRecords errors (default 0)
  --kinesis-partial-failure-probability P [KINESIS_PARTIAL_FAILURE_PROBABILITY] per record
  --kinesis-throttle                     [KINESIS_THROTTLE=true] per-shard write limits like
                                         real Kinesis (1000 records/s, 1 MiB/s; default off)
  --kinesis-shard-records-per-second N   [KINESIS_SHARD_RECORDS_PER_SECOND] the throttle's
                                         budget (implies --kinesis-throttle); e.g. 20 to see
                                         the service's shard limiter at the demo's rates
  --kinesis-shard-bytes-per-second N     [KINESIS_SHARD_BYTES_PER_SECOND] (implies it too)

The service reads its own settings from the environment too, e.g. KINESIS_SHARD_RATE_LIMIT=2
with --kinesis-shard-records-per-second 20 (2 % of 1000).

Ctrl-C stops the fleet, then the service drains and stops, and the stream is reconciled. Ctrl-C
while it drains: stop waiting for the drain. Ctrl-C while the service stops: kill it.`;

/**
 * Reads the options from the command line and the environment (a flag wins over its variable).
 * Returns `undefined` for `--help`.
 *
 * @throws {DemoUsageError} on an unknown flag or an out-of-range value.
 */
export function parseDemoArgs(
  args: readonly string[],
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): DemoOptions | undefined {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        seconds: { type: "string" },
        rate: { type: "string" },
        "fleet-size": { type: "string" },
        "invalid-ratio": { type: "string" },
        seed: { type: "string" },
        tail: { type: "string" },
        "drain-timeout": { type: "string" },
        "kinesis-error-probability": { type: "string" },
        "kinesis-partial-failure-probability": { type: "string" },
        "kinesis-throttle": { type: "boolean" },
        "kinesis-shard-records-per-second": { type: "string" },
        "kinesis-shard-bytes-per-second": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    throw new DemoUsageError(error instanceof Error ? error.message.split("\n")[0]! : "bad flag");
  }
  if (values.help) return undefined;
  const recordsPerSecond = numberIn(
    "KINESIS_SHARD_RECORDS_PER_SECOND",
    values["kinesis-shard-records-per-second"] ?? env("KINESIS_SHARD_RECORDS_PER_SECOND"),
    1,
    1e9,
  );
  const bytesPerSecond = numberIn(
    "KINESIS_SHARD_BYTES_PER_SECOND",
    values["kinesis-shard-bytes-per-second"] ?? env("KINESIS_SHARD_BYTES_PER_SECOND"),
    1,
    1e12,
  );
  const throttled = values["kinesis-throttle"] === true ||
    booleanIn("KINESIS_THROTTLE", env("KINESIS_THROTTLE")) ||
    recordsPerSecond !== undefined || bytesPerSecond !== undefined;
  return {
    seconds: numberIn("--seconds", values.seconds, 1, 86_400),
    rate: numberIn("--rate", values.rate, 0.01, 1_000) ?? 5,
    fleetSize: integerIn("--fleet-size", values["fleet-size"], 1, 100_000) ?? 10,
    invalidRatio: numberIn("--invalid-ratio", values["invalid-ratio"], 0, 1) ?? 0,
    seed: integerIn("--seed", values.seed, 0, 2 ** 32 - 1),
    tail: integerIn("--tail", values.tail, 0, 50) ?? 2,
    drainTimeoutSeconds: numberIn("--drain-timeout", values["drain-timeout"], 1, 3_600) ?? 60,
    errorProbability: numberIn(
      "KINESIS_ERROR_PROBABILITY",
      values["kinesis-error-probability"] ?? env("KINESIS_ERROR_PROBABILITY"),
      0,
      1,
    ) ?? 0,
    partialFailureProbability: numberIn(
      "KINESIS_PARTIAL_FAILURE_PROBABILITY",
      values["kinesis-partial-failure-probability"] ?? env("KINESIS_PARTIAL_FAILURE_PROBABILITY"),
      0,
      1,
    ) ?? 0,
    throttle: throttled
      ? { recordsPerSecond: recordsPerSecond ?? 1_000, bytesPerSecond: bytesPerSecond ?? 1_048_576 }
      : undefined,
  };
}

function booleanIn(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw.trim() === "") return false;
  if (/^(true|1|yes)$/i.test(raw)) return true;
  if (/^(false|0|no)$/i.test(raw)) return false;
  throw new DemoUsageError(`${name} must be true or false, got "${raw}"`);
}

function numberIn(name: string, raw: string | undefined, min: number, max: number) {
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new DemoUsageError(`${name} must be a number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

function integerIn(name: string, raw: string | undefined, min: number, max: number) {
  const value = numberIn(name, raw, min, max);
  if (value !== undefined && !Number.isInteger(value)) {
    throw new DemoUsageError(`${name} must be an integer, got "${raw}"`);
  }
  return value;
}
