/**
 * `deno task stack`: the local AWS of local_stack.ts as a command, with its flags and the
 * environment variables they stand for, as LocalStack's (`KINESIS_ERROR_PROBABILITY`) and ours:
 * what they mean, their defaults (the public ports 4566, 4567, 4568) and their checks. It prints
 * the service's environment as `KEY=value` lines on stdout and stops on SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * import { parseStackFlags, STACK_USAGE } from "./local_stack_cli.ts";
 *
 * const options = parseStackFlags(Deno.args);
 * if (options === undefined) console.log(STACK_USAGE);
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runMain } from "../common/run_main.ts";
import { type LocalStackOptions, startLocalStack } from "./local_stack.ts";

/**
 * The `--help` text of `deno task stack`.
 *
 * @example
 * ```ts
 * import { STACK_USAGE } from "./local_stack_cli.ts";
 *
 * STACK_USAGE.split("\n")[0]; // "Usage: deno task stack [flags] > .env"
 * ```
 */
export const STACK_USAGE = `Usage: deno task stack [flags] > .env

Starts fauxqs (SQS) and kinesalite (Kinesis) behind fault-injecting proxies, creates the queues
and the stream, prints the service's environment as KEY=value lines, and runs until SIGINT/SIGTERM.

Flags (environment variable in brackets):
  --sqs-port N                       public SQS port (default 4566)
  --kinesis-port N                   public Kinesis port (default 4567)
  --control-port N                   control endpoint port (default 4568)
  --host ADDR                        listen address (default 127.0.0.1; the task's
                                     --allow-net covers 127.0.0.1 and 0.0.0.0)
  --queue NAME                       submissions queue (default submissions)
  --stream NAME                      Kinesis stream (default events)
  --shards N                         shards of the stream (default 2)
  --dlq                              add <queue>-dlq and a redrive policy (default off)
  --max-receive-count N              redrive maxReceiveCount with --dlq (default 5)
  --no-invalid-queue                 do not create <queue>-invalid
  --kinesis-error-probability P      [KINESIS_ERROR_PROBABILITY] LocalStack's injected errors
  --kinesis-partial-failure-probability P  [KINESIS_PARTIAL_FAILURE_PROBABILITY] per record
  --kinesis-throttle                 [KINESIS_THROTTLE=true] per-shard write limits like real
                                     Kinesis: a record over its shard's budget fails with
                                     ProvisionedThroughputExceededException (default off)
  --kinesis-shard-records-per-second N  [KINESIS_SHARD_RECORDS_PER_SECOND] budget of
                                     --kinesis-throttle (default 1000; implies it)
  --kinesis-shard-bytes-per-second N [KINESIS_SHARD_BYTES_PER_SECOND] data + partition key
                                     (default 1048576; implies --kinesis-throttle)
  --kinesis-latency-ms MS            [KINESIS_LATENCY_MS]
  --sqs-latency-ms MS                [SQS_LATENCY_MS]

Control: curl localhost:4568/faults
         curl -X PUT localhost:4568/faults -d '{"kinesis":{"outageSeconds":10}}'
         curl -X POST localhost:4568/faults/reset`;

/**
 * Turns the CLI's flags and environment into {@linkcode LocalStackOptions}; `undefined` for
 * `--help`. A flag wins over its environment variable.
 *
 * @example
 * ```ts
 * import { parseStackFlags } from "./local_stack_cli.ts";
 *
 * parseStackFlags(["--shards", "4", "--kinesis-throttle"])?.shardCount; // 4
 * ```
 *
 * @throws {RangeError} on a value that is not a number (or not a boolean, for KINESIS_THROTTLE).
 */
export function parseStackFlags(args: string[]): LocalStackOptions | undefined {
  const { values } = parseArgs({
    args,
    options: {
      "help": { type: "boolean", short: "h" },
      "sqs-port": { type: "string" },
      "kinesis-port": { type: "string" },
      "control-port": { type: "string" },
      "host": { type: "string" },
      "queue": { type: "string" },
      "stream": { type: "string" },
      "shards": { type: "string" },
      "dlq": { type: "boolean" },
      "max-receive-count": { type: "string" },
      "no-invalid-queue": { type: "boolean" },
      "kinesis-error-probability": { type: "string" },
      "kinesis-partial-failure-probability": { type: "string" },
      "kinesis-throttle": { type: "boolean" },
      "kinesis-shard-records-per-second": { type: "string" },
      "kinesis-shard-bytes-per-second": { type: "string" },
      "kinesis-latency-ms": { type: "string" },
      "sqs-latency-ms": { type: "string" },
    },
  });
  if (values.help) return undefined;
  const flagOrEnv = (flag: keyof typeof values, env: string) =>
    optionalNumber(`--${flag}`, (values[flag] as string | undefined) ?? Deno.env.get(env));
  const maxReceiveCount = optionalNumber("--max-receive-count", values["max-receive-count"]);
  const shardRecordsPerSecond = flagOrEnv(
    "kinesis-shard-records-per-second",
    "KINESIS_SHARD_RECORDS_PER_SECOND",
  );
  const shardBytesPerSecond = flagOrEnv(
    "kinesis-shard-bytes-per-second",
    "KINESIS_SHARD_BYTES_PER_SECOND",
  );
  const throttle = values["kinesis-throttle"] ||
    optionalBoolean("KINESIS_THROTTLE", Deno.env.get("KINESIS_THROTTLE")) ||
    shardRecordsPerSecond !== undefined || shardBytesPerSecond !== undefined;
  return {
    sqsPort: optionalNumber("--sqs-port", values["sqs-port"]) ?? 4566,
    kinesisPort: optionalNumber("--kinesis-port", values["kinesis-port"]) ?? 4567,
    controlPort: optionalNumber("--control-port", values["control-port"]) ?? 4568,
    hostname: values.host,
    queueName: values.queue,
    streamName: values.stream,
    shardCount: optionalNumber("--shards", values.shards),
    deadLetterQueue: values.dlq ? { maxReceiveCount } : false,
    invalidQueue: !values["no-invalid-queue"],
    faults: {
      kinesis: {
        errorProbability: flagOrEnv("kinesis-error-probability", "KINESIS_ERROR_PROBABILITY"),
        partialFailureProbability: flagOrEnv(
          "kinesis-partial-failure-probability",
          "KINESIS_PARTIAL_FAILURE_PROBABILITY",
        ),
        throttle: throttle || undefined,
        shardRecordsPerSecond,
        shardBytesPerSecond,
        latencyMs: flagOrEnv("kinesis-latency-ms", "KINESIS_LATENCY_MS"),
      },
      sqs: { latencyMs: flagOrEnv("sqs-latency-ms", "SQS_LATENCY_MS") },
    },
  };
}

/** Reads an optional number from a flag or an environment variable. */
function optionalNumber(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const number = Number(value);
  if (!Number.isFinite(number)) throw new RangeError(`${name} must be a number, got "${value}"`);
  return number;
}

/** Reads an optional boolean environment variable: true/1/yes or false/0/no (any case). */
function optionalBoolean(name: string, value: string | undefined): boolean | undefined {
  if (value === undefined || value === "") return undefined;
  if (/^(true|1|yes)$/i.test(value)) return true;
  if (/^(false|0|no)$/i.test(value)) return false;
  throw new RangeError(`${name} must be true or false, got "${value}"`);
}

async function main(): Promise<void> {
  const options = parseStackFlags(Deno.args);
  if (!options) {
    console.log(STACK_USAGE);
    return;
  }
  const stack = await startLocalStack(options);
  const { kinesis, sqs } = stack.faults.get();
  console.error(
    [
      `# local AWS (${stack.region}) ready; Ctrl-C to stop`,
      `#   SQS      ${stack.endpoints.sqs}  (fauxqs, latency ${sqs.latencyMs} ms)`,
      `#   Kinesis  ${stack.endpoints.kinesis}  (kinesalite, stream ${stack.streamName}; ` +
      `errorProbability ${kinesis.errorProbability}, partialFailureProbability ` +
      `${kinesis.partialFailureProbability}, latency ${kinesis.latencyMs} ms, ` +
      (kinesis.throttle
        ? `throttled at ${kinesis.shardRecordsPerSecond} records/s and ` +
          `${kinesis.shardBytesPerSecond} bytes/s per shard)`
        : "not throttled)"),
      `#   control  ${stack.endpoints.control}/faults`,
    ].join("\n"),
  );
  console.log(Object.entries(stack.env()).map(([key, value]) => `${key}=${value}`).join("\n"));
  await new Promise<void>((resolve) => {
    const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
    const onSignal = () => {
      for (const signal of signals) Deno.removeSignalListener(signal, onSignal);
      resolve();
    };
    for (const signal of signals) Deno.addSignalListener(signal, onSignal);
  });
  await stack.stop();
  console.error("# local AWS stopped");
}

if (import.meta.main) await runMain("local_stack", main, { failureCode: 1 });
