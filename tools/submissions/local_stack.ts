/**
 * The project's own local AWS: what the LocalStack 0.14.2 Compose environment gives the
 * service, rebuilt from npm packages because this machine has no Docker.
 *
 * - SQS: fauxqs, queue `submissions` (plus `submissions-invalid`, and optionally
 *   `submissions-dlq` as its redrive target).
 * - Kinesis: kinesalite, stream `events` with 2 shards, waited for until `ACTIVE`.
 * - A fault proxy ({@link ./fault_proxy.ts}) in front of each emulator: those are the public
 *   endpoints. The emulators themselves listen on hidden free ports.
 * - A control endpoint: `GET /faults`, `PUT /faults`, `POST /faults/reset`.
 *
 * Deviations from LocalStack worth knowing: fauxqs binds its hidden port on 0.0.0.0 (it offers
 * no choice); queue URLs are handed out path-style on the public endpoint
 * (`http://127.0.0.1:4566/000000000000/submissions`, as LocalStack 0.14 answers them) although
 * fauxqs's own `CreateQueue`/`GetQueueUrl` answers say `sqs.<region>.localhost`.
 *
 * As a module:
 *
 * ```ts
 * import { startLocalStack } from "./local_stack.ts";
 *
 * await using stack = await startLocalStack({ faults: { kinesis: { errorProbability: 0.1 } } });
 * const { sqs, kinesis } = stack.createClients();
 * // ... run the service against stack.env() ...
 * sqs.destroy();
 * kinesis.destroy();
 * ```
 *
 * As a CLI (`deno task stack`), it listens on 4566 (SQS, like LocalStack), 4567 (Kinesis) and
 * 4568 (control), prints the service's environment as `KEY=value` lines on stdout (so
 * `deno task stack > .env` works; the human header goes to stderr) and stops cleanly on
 * SIGINT/SIGTERM. Initial faults come from the environment (`KINESIS_ERROR_PROBABILITY` as in
 * LocalStack, `KINESIS_PARTIAL_FAILURE_PROBABILITY`, `KINESIS_THROTTLE` with
 * `KINESIS_SHARD_RECORDS_PER_SECOND` / `KINESIS_SHARD_BYTES_PER_SECOND`, `KINESIS_LATENCY_MS`,
 * `SQS_LATENCY_MS`) or from flags; run with `--help` for the list.
 *
 * @module
 */

import { parseArgs } from "node:util";
import type { Server } from "node:http";
import { startFauxqs } from "fauxqs";
import kinesalite from "kinesalite";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";
import { createKinesisClient, createSqsClient } from "../../src/submissions/aws_clients.ts";
import { type FaultProxy, startFaultProxy } from "./fault_proxy.ts";
import type { FaultStats } from "./fault_stats.ts";
import {
  type FaultSettings,
  type FaultSettingsUpdate,
  mergeFaultSettings,
} from "./fault_settings.ts";

/** The region every resource lives in, as in the Compose environment. */
export const REGION = "eu-west-1";

/** Fault settings of both services. */
export interface StackFaultSettings {
  /** Settings of the Kinesis proxy. */
  kinesis: FaultSettings;
  /** Settings of the SQS proxy. */
  sqs: FaultSettings;
}

/** A partial update of the fault settings of either or both services. */
export interface StackFaultUpdate {
  /** Merged into the Kinesis proxy's settings. */
  kinesis?: FaultSettingsUpdate;
  /** Merged into the SQS proxy's settings. */
  sqs?: FaultSettingsUpdate;
}

/** Counters of both proxies. */
export interface StackFaultStats {
  /** Counters of the Kinesis proxy. */
  kinesis: FaultStats;
  /** Counters of the SQS proxy. */
  sqs: FaultStats;
}

/** Runtime control of the injected faults; also served over HTTP by the control endpoint. */
export interface FaultController {
  /**
   * Merges the update into the current settings (both services or neither) and returns the
   * new settings.
   *
   * @throws {RangeError} on an out-of-range value, an unknown key, or a Kinesis-only fault on SQS.
   */
  set(update: StackFaultUpdate): StackFaultSettings;
  /** The current settings. */
  get(): StackFaultSettings;
  /** The counters of both proxies. */
  stats(): StackFaultStats;
  /** Clears every fault and every counter. */
  reset(): void;
}

/** Options of {@linkcode startLocalStack}. */
export interface LocalStackOptions {
  /** Public SQS port (the fault proxy). 0, the default, picks a free port. */
  sqsPort?: number;
  /** Public Kinesis port (the fault proxy). 0, the default, picks a free port. */
  kinesisPort?: number;
  /** Control endpoint port. 0, the default, picks a free port. */
  controlPort?: number;
  /** Address the public endpoints listen on. Defaults to `127.0.0.1`. */
  hostname?: string;
  /** Name of the submissions queue. Defaults to `submissions`. */
  queueName?: string;
  /**
   * Creates the queue the service sends invalid submissions to: `true` (the default) names it
   * `<queueName>-invalid`, a string names it, `false` skips it.
   */
  invalidQueue?: boolean | string;
  /**
   * Creates a dead-letter queue and gives the submissions queue a redrive policy to it. Off by
   * default, like the Compose environment. `true` names it `<queueName>-dlq` with
   * `maxReceiveCount` 5.
   */
  deadLetterQueue?: boolean | { name?: string; maxReceiveCount?: number };
  /** Name of the Kinesis stream. Defaults to `events`. */
  streamName?: string;
  /** Number of shards of the stream. Defaults to 2. */
  shardCount?: number;
  /** Faults in force once the resources exist (creating them never sees a fault). */
  faults?: StackFaultUpdate;
  /** Source of randomness for both proxies, injectable for deterministic tests. */
  random?: () => number;
  /** The Kinesis throttle's clock in milliseconds, injectable for tests. */
  now?: () => number;
}

/** Options of {@linkcode LocalStack.createClients}. */
export interface ClientOptions {
  /** The SDK's `maxAttempts` (1 = no retries). Defaults to the SDK's default, 3. */
  maxAttempts?: number;
}

/** SDK clients configured for the local stack. The caller must `destroy()` both. */
export interface LocalStackClients {
  /** SQS client with its endpoint set explicitly. */
  sqs: SQSClient;
  /** Kinesis client with an HTTP/1.1 handler (its default HTTP/2 one fails on plain http). */
  kinesis: KinesisClient;
}

/** A running local stack; see {@linkcode startLocalStack}. */
export interface LocalStack extends AsyncDisposable {
  /** Public endpoints: the two fault proxies and the control endpoint. */
  readonly endpoints: { sqs: string; kinesis: string; control: string };
  /** Always `eu-west-1`. */
  readonly region: string;
  /** URL of the submissions queue. */
  readonly queueUrl: string;
  /** URL of the queue for invalid submissions, when created. */
  readonly invalidQueueUrl?: string;
  /** URL of the dead-letter queue, when created. */
  readonly deadLetterQueueUrl?: string;
  /** Name of the Kinesis stream. */
  readonly streamName: string;
  /** Runtime control of the injected faults. */
  readonly faults: FaultController;
  /** The environment variables the service needs to run against this stack. */
  env(): Record<string, string>;
  /** New SDK clients for this stack; the caller must `destroy()` them. */
  createClients(options?: ClientOptions): LocalStackClients;
  /** Stops the control endpoint, the proxies and the emulators, freeing every resource. */
  stop(): Promise<void>;
}

/** The part of kinesalite's return value (a node:http server) used here; it ships no types. */
type KinesaliteServer = Pick<Server, "listen" | "close" | "address">;
const createKinesalite = kinesalite as unknown as (
  options: { createStreamMs: number; updateStreamMs: number; shardLimit: number },
) => KinesaliteServer;

const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;
const STACK_KEYS = new Set(["kinesis", "sqs"]);

/**
 * Starts fauxqs and kinesalite on hidden ports, a fault proxy in front of each, and the control
 * endpoint; then creates the queues and the stream and waits until the stream is `ACTIVE`.
 * If anything fails on the way, what was already started is stopped again.
 *
 * @example
 * ```ts
 * import { startLocalStack } from "./local_stack.ts";
 *
 * const stack = await startLocalStack({ deadLetterQueue: true });
 * console.log(stack.env());
 * await stack.stop();
 * ```
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const cleanup: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    while (cleanup.length > 0) await cleanup.pop()!();
  };
  try {
    const hostname = options.hostname ?? "127.0.0.1";
    const fauxqs = await startFauxqs({ port: 0, logger: false, defaultRegion: REGION });
    cleanup.push(() => fauxqs.stop());
    const kinesisPort = await startKinesalite(cleanup);
    const random = options.random ?? Math.random;
    const sqsProxy = await startFaultProxy({
      service: "sqs",
      upstream: `http://127.0.0.1:${fauxqs.port}`,
      port: options.sqsPort ?? 0,
      hostname,
      random,
    });
    cleanup.push(() => sqsProxy.close());
    const kinesisProxy = await startFaultProxy({
      service: "kinesis",
      upstream: `http://127.0.0.1:${kinesisPort}`,
      port: options.kinesisPort ?? 0,
      hostname,
      random,
      ...(options.now ? { now: options.now } : {}),
    });
    cleanup.push(() => kinesisProxy.close());
    const faults = createFaultController(kinesisProxy, sqsProxy);
    const control = startControlServer(faults, options.controlPort ?? 0, hostname);
    cleanup.push(() => control.shutdown());
    const endpoints = {
      sqs: sqsProxy.url,
      kinesis: kinesisProxy.url,
      control: `http://127.0.0.1:${control.addr.port}`,
    };
    const createClients = (clientOptions: ClientOptions = {}) =>
      newClients(endpoints, clientOptions);
    const resources = await createResources(createClients(), endpoints.sqs, options);
    if (options.faults) faults.set(options.faults);
    let stopped: Promise<void> | undefined;
    const stop = () => stopped ??= stopAll();
    return {
      endpoints,
      region: REGION,
      ...resources,
      faults,
      env: () => serviceEnv(endpoints, resources),
      createClients,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

async function startKinesalite(cleanup: (() => Promise<void>)[]): Promise<number> {
  // Resharding (SplitShard, MergeShards) done in 10 ms too, not kinesalite's default 500 ms.
  const server = createKinesalite({ createStreamMs: 10, updateStreamMs: 10, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  cleanup.push(() =>
    new Promise<void>((resolve, reject) =>
      server.close((error?: Error) => error ? reject(error) : resolve())
    )
  );
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("kinesalite: no port");
  return address.port;
}

function newClients(
  endpoints: { sqs: string; kinesis: string },
  options: ClientOptions,
): LocalStackClients {
  const common = { region: REGION, credentials: CREDENTIALS, maxAttempts: options.maxAttempts };
  return {
    sqs: createSqsClient({ ...common, endpoint: endpoints.sqs }),
    kinesis: createKinesisClient({ ...common, endpoint: endpoints.kinesis }),
  };
}

/** The names and URLs of what {@linkcode createResources} made. */
interface Resources {
  queueUrl: string;
  invalidQueueUrl?: string;
  deadLetterQueueUrl?: string;
  streamName: string;
}

/**
 * Creates the queues and the stream through the public endpoints, before any fault is set: the
 * stack must come up even when started with `errorProbability: 1` or an outage.
 */
async function createResources(
  clients: LocalStackClients,
  sqsEndpoint: string,
  options: LocalStackOptions,
): Promise<Resources> {
  try {
    const queueName = options.queueName ?? "submissions";
    const streamName = options.streamName ?? "events";
    const deadLetter = await createDeadLetterQueue(
      clients.sqs,
      sqsEndpoint,
      queueName,
      options,
    );
    const queueUrl = await createQueue(
      clients.sqs,
      sqsEndpoint,
      queueName,
      deadLetter?.redrivePolicy,
    );
    const invalidName = options.invalidQueue === false
      ? undefined
      : typeof options.invalidQueue === "string"
      ? options.invalidQueue
      : `${queueName}-invalid`;
    const invalidQueueUrl = invalidName
      ? await createQueue(clients.sqs, sqsEndpoint, invalidName)
      : undefined;
    await createStream(clients.kinesis, streamName, options.shardCount ?? 2);
    return {
      queueUrl,
      ...(invalidQueueUrl ? { invalidQueueUrl } : {}),
      ...(deadLetter ? { deadLetterQueueUrl: deadLetter.url } : {}),
      streamName,
    };
  } finally {
    clients.sqs.destroy();
    clients.kinesis.destroy();
  }
}

async function createQueue(
  sqs: SQSClient,
  endpoint: string,
  name: string,
  redrivePolicy?: string,
): Promise<string> {
  const attributes = redrivePolicy ? { RedrivePolicy: redrivePolicy } : undefined;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
  );
  if (!QueueUrl) throw new Error(`CreateQueue ${name}: no QueueUrl`);
  // fauxqs answers http://sqs.<region>.localhost:<port>/..., a host that does not resolve here.
  // LocalStack 0.14 answers path-style URLs on its edge port, which fauxqs accepts too (it finds
  // the queue by the name in the path): hand out that form, on the public endpoint.
  return `${endpoint}${new URL(QueueUrl).pathname}`;
}

async function createDeadLetterQueue(
  sqs: SQSClient,
  endpoint: string,
  queueName: string,
  options: LocalStackOptions,
): Promise<{ url: string; redrivePolicy: string } | undefined> {
  const dlq = options.deadLetterQueue;
  if (!dlq) return undefined;
  const settings = dlq === true ? {} : dlq;
  const url = await createQueue(sqs, endpoint, settings.name ?? `${queueName}-dlq`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error(`GetQueueAttributes ${url}: no QueueArn`);
  const redrivePolicy = JSON.stringify({
    deadLetterTargetArn: arn,
    maxReceiveCount: settings.maxReceiveCount ?? 5,
  });
  return { url, redrivePolicy };
}

async function createStream(kinesis: KinesisClient, name: string, shards: number): Promise<void> {
  await kinesis.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: name }));
    if (summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE") return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`stream ${name} not ACTIVE after 10 s`);
}

function serviceEnv(
  endpoints: { sqs: string; kinesis: string },
  resources: Resources,
): Record<string, string> {
  return {
    AWS_REGION: REGION,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    SQS_QUEUE_URL: resources.queueUrl,
    KINESIS_STREAM_NAME: resources.streamName,
    ...(resources.invalidQueueUrl ? { SQS_INVALID_QUEUE_URL: resources.invalidQueueUrl } : {}),
  };
}

/** Builds the {@linkcode FaultController} over the two proxies. */
export function createFaultController(kinesis: FaultProxy, sqs: FaultProxy): FaultController {
  const get = (): StackFaultSettings => ({ kinesis: kinesis.get(), sqs: sqs.get() });
  return {
    get,
    set(update) {
      checkStackUpdate(update);
      // Validate both halves before applying either, so a bad update changes nothing.
      if (update.kinesis) mergeFaultSettings("kinesis", kinesis.get(), update.kinesis);
      if (update.sqs) mergeFaultSettings("sqs", sqs.get(), update.sqs);
      if (update.kinesis) kinesis.set(update.kinesis);
      if (update.sqs) sqs.set(update.sqs);
      return get();
    },
    stats: () => ({ kinesis: kinesis.stats(), sqs: sqs.stats() }),
    reset() {
      kinesis.reset();
      sqs.reset();
    },
  };
}

function checkStackUpdate(update: unknown): asserts update is StackFaultUpdate {
  if (typeof update !== "object" || update === null || Array.isArray(update)) {
    throw new RangeError("fault update must be an object like { kinesis: {...}, sqs: {...} }");
  }
  for (const [key, value] of Object.entries(update)) {
    if (!STACK_KEYS.has(key)) throw new RangeError(`unknown service "${key}"`);
    if (value !== undefined && (typeof value !== "object" || value === null)) {
      throw new RangeError(`${key} must be an object of fault settings`);
    }
  }
}

/**
 * Serves the fault controller over HTTP:
 * - `GET /faults` → `{ settings: {kinesis, sqs}, stats: {kinesis, sqs} }`
 * - `PUT /faults` with `{ "kinesis": {...}, "sqs": {...} }` → merges, answers like `GET`
 * - `POST /faults/reset` → clears faults and counters, answers like `GET`
 */
function startControlServer(
  faults: FaultController,
  port: number,
  hostname: string,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ port, hostname, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    try {
      if (path === "/faults" && request.method === "GET") return snapshot(faults);
      if (path === "/faults" && request.method === "PUT") {
        faults.set(await request.json());
        return snapshot(faults);
      }
      if (path === "/faults/reset" && request.method === "POST") {
        faults.reset();
        return snapshot(faults);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return Response.json({ error: message }, { status: 400 });
    }
    const known = path === "/faults" || path === "/faults/reset";
    return Response.json({ error: `${request.method} ${path} not supported` }, {
      status: known ? 405 : 404,
    });
  });
}

function snapshot(faults: FaultController): Response {
  return Response.json({ settings: faults.get(), stats: faults.stats() });
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

const HELP = `Usage: deno task stack [flags] > .env

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

/** Turns the CLI's flags and environment into {@linkcode LocalStackOptions}. */
function cliOptions(args: string[]): LocalStackOptions | undefined {
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

async function main(): Promise<void> {
  const options = cliOptions(Deno.args);
  if (!options) {
    console.log(HELP);
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

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(`local_stack: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(1);
  }
}
