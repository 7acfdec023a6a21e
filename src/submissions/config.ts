/**
 * The service's configuration: environment variables, each also a CLI flag
 * (`SQS_MAX_MESSAGES` ↔ `--sqs-max-messages`; a flag wins over the variable). One table defines
 * every setting's schema, default and allowed range, so the parser, the one-line errors and the
 * `--help` text cannot disagree.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { z } from "zod";

/** One setting: its schema over the raw string, its default and a human description. */
interface Setting {
  readonly schema: z.ZodType;
  readonly default?: string;
  /** What values are allowed, phrased to complete "NAME must be …". */
  readonly allowed: string;
  readonly help: string;
}

const integer = (min: number, max: number) =>
  z.string().regex(/^-?\d+$/).transform(Number).pipe(z.int().min(min).max(max));
const url = z.url({ protocol: /^https?$/ });
const optionalUrl = z.union([z.literal("").transform(() => undefined), url]);

/** Every setting, by environment variable name. */
export const SETTINGS = {
  AWS_REGION: {
    schema: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/),
    default: "eu-west-1",
    allowed: "an AWS region name such as eu-west-1",
    help: "AWS region of the queue and the stream",
  },
  AWS_ENDPOINT_URL: {
    schema: optionalUrl,
    default: "http://localhost:4566",
    allowed: "an http(s) URL, or empty for the real AWS endpoints",
    help: "endpoint of every AWS service (LocalStack's edge port by default)",
  },
  AWS_ENDPOINT_URL_SQS: {
    schema: optionalUrl.optional(),
    allowed: "an http(s) URL",
    help: "SQS endpoint; default AWS_ENDPOINT_URL",
  },
  AWS_ENDPOINT_URL_KINESIS: {
    schema: optionalUrl.optional(),
    allowed: "an http(s) URL",
    help: "Kinesis endpoint; default AWS_ENDPOINT_URL",
  },
  SQS_QUEUE_NAME: {
    schema: z.string().regex(/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/),
    default: "submissions",
    allowed: "a queue name of 1 to 80 letters, digits, - and _",
    help: "queue to consume; resolved with GetQueueUrl unless SQS_QUEUE_URL is set",
  },
  SQS_QUEUE_URL: {
    schema: url.optional(),
    allowed: "an http(s) URL",
    help: "queue URL; wins over SQS_QUEUE_NAME",
  },
  KINESIS_STREAM_NAME: {
    schema: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
    default: "events",
    allowed: "a stream name of 1 to 128 letters, digits, _ . and -",
    help: "stream to publish events to",
  },
  KINESIS_PARTITION_KEY: {
    schema: z.enum(["device_id", "submission_id"]),
    default: "device_id",
    allowed: "device_id or submission_id",
    help: "record field used as partition key (constant within a submission, so order holds)",
  },
  SQS_MAX_MESSAGES: {
    schema: integer(1, 10),
    default: "10",
    allowed: "an integer from 1 to 10",
    help: "MaxNumberOfMessages of each ReceiveMessage",
  },
  SQS_VISIBILITY_TIMEOUT: {
    schema: integer(2, 43_200),
    default: "30",
    allowed: "an integer from 2 to 43200 (seconds)",
    help: "VisibilityTimeout of each ReceiveMessage and of each heartbeat extension",
  },
  SQS_WAIT_TIME_SECONDS: {
    schema: integer(0, 20),
    default: "20",
    allowed: "an integer from 0 to 20 (seconds)",
    help: "long-poll WaitTimeSeconds of each ReceiveMessage",
  },
  SQS_INVALID_QUEUE_URL: {
    schema: optionalUrl.optional(),
    allowed: "an http(s) URL",
    help: "if set, invalid messages are copied here (reason as attribute) before deletion",
  },
  WORKERS: {
    schema: integer(1, 256),
    // 8: the best of the WORKERS x SQS_MAX_MESSAGES sweep in BENCHMARKS.md (+17 % over 4).
    default: "8",
    allowed: "an integer from 1 to 256",
    help: "concurrent receive loops",
  },
  MAX_IN_FLIGHT_MESSAGES: {
    schema: integer(1, 100_000),
    default: "1000",
    allowed: "an integer from 1 to 100000",
    help: "messages being processed at once, over all workers (backpressure)",
  },
  PUBLISH_LINGER_MS: {
    schema: integer(0, 1_000),
    default: "10",
    allowed: "an integer from 0 to 1000 (milliseconds)",
    help: "how long a record may wait to share a PutRecords call",
  },
  PUBLISH_MAX_CONCURRENCY: {
    schema: integer(1, 64),
    default: "4",
    allowed: "an integer from 1 to 64",
    help: "PutRecords calls in flight at once",
  },
  PUBLISH_TIMEOUT_SECONDS: {
    schema: integer(1, 43_200),
    default: "900",
    allowed: "an integer from 1 to 43200 (seconds)",
    help: "after this long a message still not published is released for redelivery",
  },
  HTTP_PORT: {
    schema: integer(0, 65_535),
    default: "8080",
    allowed: "an integer from 0 to 65535 (0 picks a free port)",
    help: "port of /healthz, /readyz and /metrics",
  },
  SHUTDOWN_TIMEOUT_SECONDS: {
    schema: integer(0, 3_600),
    default: "20",
    allowed: "an integer from 0 to 3600 (seconds)",
    help: "on SIGTERM/SIGINT, time to finish in-flight messages before releasing the rest",
  },
  LOG_LEVEL: {
    schema: z.enum(["trace", "debug", "info", "warning", "error", "fatal"]),
    default: "info",
    allowed: "one of trace, debug, info, warning, error, fatal",
    help: "lowest level logged (JSON lines)",
  },
} as const satisfies Record<string, Setting>;

/** The name of a setting's environment variable. */
export type SettingName = keyof typeof SETTINGS;

type Raw = { [K in SettingName]: z.output<(typeof SETTINGS)[K]["schema"]> };

/** Derives what the rest of the service reads from the validated raw settings. */
function derive(raw: Raw, env: Readonly<Record<string, string | undefined>>) {
  const sqsEndpoint = raw.AWS_ENDPOINT_URL_SQS ?? raw.AWS_ENDPOINT_URL;
  const kinesisEndpoint = raw.AWS_ENDPOINT_URL_KINESIS ?? raw.AWS_ENDPOINT_URL;
  const local = sqsEndpoint !== undefined || kinesisEndpoint !== undefined;
  return {
    region: raw.AWS_REGION,
    sqsEndpoint,
    kinesisEndpoint,
    // LocalStack accepts any credentials; elsewhere the SDK's provider chain decides.
    credentials: local && !env.AWS_ACCESS_KEY_ID
      ? { accessKeyId: "test", secretAccessKey: "test" }
      : undefined,
    queueName: raw.SQS_QUEUE_NAME,
    queueUrl: raw.SQS_QUEUE_URL,
    invalidQueueUrl: raw.SQS_INVALID_QUEUE_URL,
    streamName: raw.KINESIS_STREAM_NAME,
    partitionKey: raw.KINESIS_PARTITION_KEY,
    maxMessages: raw.SQS_MAX_MESSAGES,
    visibilityTimeoutSeconds: raw.SQS_VISIBILITY_TIMEOUT,
    waitTimeSeconds: raw.SQS_WAIT_TIME_SECONDS,
    workers: raw.WORKERS,
    maxInFlightMessages: raw.MAX_IN_FLIGHT_MESSAGES,
    publishLingerMs: raw.PUBLISH_LINGER_MS,
    publishMaxConcurrency: raw.PUBLISH_MAX_CONCURRENCY,
    publishTimeoutSeconds: raw.PUBLISH_TIMEOUT_SECONDS,
    httpPort: raw.HTTP_PORT,
    shutdownTimeoutSeconds: raw.SHUTDOWN_TIMEOUT_SECONDS,
    logLevel: raw.LOG_LEVEL,
  };
}

/** The validated configuration. */
export type Config = Readonly<ReturnType<typeof derive>>;

/** A configuration error: its message is one line naming the variable and what is allowed. */
export class ConfigError extends Error {
  /** Makes an error with a one-line `message`. */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The CLI flag of a setting: `SQS_MAX_MESSAGES` → `sqs-max-messages`. */
export function flagName(name: SettingName): string {
  return name.toLowerCase().replaceAll("_", "-");
}

const NAMES = Object.keys(SETTINGS) as SettingName[];

/**
 * Reads the configuration from `env` and `args` (flags win). Throws {@linkcode ConfigError} with
 * a one-line message on the first bad value or unknown flag.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>>,
  args: readonly string[] = [],
): Config {
  const flags = parseFlags(args);
  const raw: Record<string, unknown> = {};
  for (const name of NAMES) {
    const setting: Setting = SETTINGS[name];
    const given = (flags[name] ?? env[name])?.trim();
    // Empty means unset, except where empty is itself meaningful (AWS_ENDPOINT_URL="": real AWS).
    const value = given === undefined || given === "" && !setting.schema.safeParse("").success
      ? setting.default
      : given;
    const parsed = setting.schema.safeParse(value);
    if (!parsed.success) {
      const source = flags[name] === undefined ? name : `--${flagName(name)}`;
      throw new ConfigError(`${source} must be ${setting.allowed}, got ${JSON.stringify(value)}`);
    }
    raw[name] = parsed.data;
  }
  return derive(raw as Raw, env);
}

function parseFlags(args: readonly string[]): Partial<Record<SettingName, string>> {
  const options = Object.fromEntries(NAMES.map((n) => [flagName(n), { type: "string" as const }]));
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }));
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new ConfigError(`${message} (see --help)`);
  }
  const flags: Partial<Record<SettingName, string>> = {};
  for (const name of NAMES) {
    const value = values[flagName(name)];
    if (typeof value === "string") flags[name] = value;
  }
  return flags;
}

/** The `--help` text: every variable, its flag, default and meaning. */
export function configHelp(): string {
  const lines = ["Configuration (environment variable, or the CLI flag; the flag wins):", ""];
  for (const name of NAMES) {
    const setting: Setting = SETTINGS[name];
    const fallback = setting.default === undefined ? "unset" : JSON.stringify(setting.default);
    lines.push(`  ${name} / --${flagName(name)}  (default ${fallback})`);
    lines.push(`      ${setting.help}; ${setting.allowed}`);
  }
  return lines.join("\n");
}
