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
 * This file starts and stops it all; its parts: local_stack_resources.ts (the queues and the
 * stream) and fault_control.ts (the faults of both proxies and the control endpoint);
 * local_stack_cli.ts is `deno task stack`.
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
 * const clients = stack.createClients();
 * // ... run the service against stack.env() ...
 * clients.destroy();
 * ```
 *
 * As a CLI (`deno task stack`, local_stack_cli.ts), it listens on 4566 (SQS, like LocalStack), 4567 (Kinesis) and
 * 4568 (control), prints the service's environment as `KEY=value` lines on stdout (so
 * `deno task stack > .env` works; the human header goes to stderr) and stops cleanly on
 * SIGINT/SIGTERM. Initial faults come from the environment (`KINESIS_ERROR_PROBABILITY` as in
 * LocalStack, `KINESIS_PARTIAL_FAILURE_PROBABILITY`, `KINESIS_THROTTLE` with
 * `KINESIS_SHARD_RECORDS_PER_SECOND` / `KINESIS_SHARD_BYTES_PER_SECOND`, `KINESIS_LATENCY_MS`,
 * `SQS_LATENCY_MS`) or from flags; run with `--help` for the list.
 *
 * @module
 */

import { startFauxqs } from "fauxqs";
import { createKinesisClient, createSqsClient } from "../../src/submissions/aws_clients.ts";
import { startFaultProxy } from "./fault_proxy.ts";
import { startKinesalite } from "./kinesalite_server.ts";
import {
  createFaultController,
  type FaultController,
  type StackFaultUpdate,
  startControlServer,
} from "./fault_control.ts";
import { type ToolClients, toolClients } from "./tool_env.ts";
import {
  createResources,
  type StackResourceOptions,
  type StackResources,
} from "./local_stack_resources.ts";

/**
 * The region every resource lives in, as in the Compose environment.
 *
 * @example
 * ```ts
 * import { REGION } from "./local_stack.ts";
 *
 * REGION; // "eu-west-1"
 * ```
 */
export const REGION = "eu-west-1";

/** Options of {@linkcode startLocalStack}. */
export interface LocalStackOptions extends StackResourceOptions {
  /** Public SQS port (the fault proxy). 0, the default, picks a free port. */
  sqsPort?: number;
  /** Public Kinesis port (the fault proxy). 0, the default, picks a free port. */
  kinesisPort?: number;
  /** Control endpoint port. 0, the default, picks a free port. */
  controlPort?: number;
  /** Address the public endpoints listen on. Defaults to `127.0.0.1`. */
  hostname?: string | undefined;
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
  maxAttempts?: number | undefined;
}

/**
 * SDK clients configured for the local stack, shaped as the tools' own (tool_env.ts): SQS with its
 * endpoint set explicitly, Kinesis with an HTTP/1.1 handler (its default HTTP/2 one fails on
 * plain http). `destroy()` them when done.
 */
export type LocalStackClients = ToolClients;

/** A running local stack; see {@linkcode startLocalStack}. */
export interface LocalStack extends AsyncDisposable {
  /** Public endpoints: the two fault proxies and the control endpoint. */
  readonly endpoints: { sqs: string; kinesis: string; control: string };
  /** Always `eu-west-1`. */
  readonly region: string;
  /** URL of the submissions queue. */
  readonly queueUrl: string;
  /** URL of the queue for invalid submissions, when created. */
  readonly invalidQueueUrl?: string | undefined;
  /** URL of the dead-letter queue, when created. */
  readonly deadLetterQueueUrl?: string | undefined;
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

const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

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
    const kinesalite = await startKinesalite();
    cleanup.push(() => kinesalite.close());
    const kinesisPort = kinesalite.port;
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
      now: options.now,
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

function newClients(
  endpoints: { sqs: string; kinesis: string },
  options: ClientOptions,
): LocalStackClients {
  const common = { region: REGION, credentials: CREDENTIALS, maxAttempts: options.maxAttempts };
  return toolClients(
    createSqsClient({ ...common, endpoint: endpoints.sqs }),
    createKinesisClient({ ...common, endpoint: endpoints.kinesis }),
  );
}

function serviceEnv(
  endpoints: { sqs: string; kinesis: string },
  resources: StackResources,
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
