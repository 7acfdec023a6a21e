/**
 * The submissions component, the seed of the product: EDR sensors' submissions from the SQS
 * queue, validated and split into events, every event published in order and without loss to
 * the Kinesis stream. Its settings are in {@link ./settings.ts}; the pipeline in
 * {@link ./service.ts}; the pure codec (body → records) in {@link ./codec.ts}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SendMessageCommand } from "@aws-sdk/client-sqs";
 * import { loadConfig } from "../app/app_config.ts";
 * import { createApp } from "../app/app.ts";
 * import { submissions } from "./mod.ts";
 * import { startLocalStack } from "../../tools/submissions/local_stack.ts";
 * import { readStream } from "../../tools/submissions/read_stream.ts";
 *
 * await using stack = await startLocalStack(); // SQS and Kinesis emulators on loopback
 * const app = await createApp(loadConfig([submissions], {
 *   COMPONENTS: "submissions",
 *   HTTP_PORT: "0",
 *   AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs, // loopback only: dummy keys, nothing configured
 *   AWS_ENDPOINT_URL_KINESIS: stack.endpoints.kinesis,
 *   SQS_QUEUE_URL: stack.queueUrl,
 *   KINESIS_STREAM_NAME: stack.streamName,
 * }));
 * await app.start();
 *
 * // One submission of two events in, two events out, keyed by device.
 * const clients = stack.createClients();
 * const deviceId = "8c0f1a52-5d7e-4b0a-9a2b-3f9d2c1e4b6a";
 * const body = JSON.stringify({
 *   submission_id: "3d951732-72d5-49ed-b6fd-38b85afb6cfc",
 *   device_id: deviceId,
 *   time_created: "2024-05-01T12:00:00",
 *   events: { new_process: [{ cmdl: "calc.exe", user: "alice" }, { cmdl: "cmd.exe", user: "bob" }] },
 * });
 * await clients.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: body }));
 * let records = await readStream(clients.kinesis, stack.streamName);
 * const deadline = Date.now() + 30_000;
 * while (records.length < 2 && Date.now() < deadline) {
 *   records = await readStream(clients.kinesis, stack.streamName);
 * }
 * const events = records.map((record) => JSON.parse(new TextDecoder().decode(record.data)));
 * assert.deepEqual(events.map((e) => [e.device_id, e.sequence, e.event_type, e.data.cmdl]), [
 *   [deviceId, 0, "new_process", "calc.exe"],
 *   [deviceId, 1, "new_process", "cmd.exe"],
 * ]);
 *
 * clients.destroy();
 * await app.stop();
 * ```
 *
 * @module
 */
import { type ComponentContext, defineComponent } from "../app/component.ts";
import { errorMessage } from "../app/error_message.ts";
import { createKinesisClient, createSqsClient } from "./aws_clients.ts";
import { type ClientCredentials, credentialsFor, describeCredentials } from "./aws_credentials.ts";
import { configure, SETTINGS, type SubmissionsConfig } from "./settings.ts";
import type { RecordSink } from "./kinesis_sink.ts";
import { SubmissionsService } from "./service.ts";

export type { SubmissionsConfig } from "./settings.ts";
export { SubmissionsService } from "./service.ts";

/** What a test may replace in the pipeline it makes. */
export interface SubmissionsOverrides {
  /** Replaces the Kinesis sink (fault injection). */
  readonly sink?: RecordSink;
  /** The clients' credentials, already resolved once ({@linkcode resolveCredentials}). */
  readonly credentials?: ClientCredentials;
}

/**
 * Makes the pipeline with its SQS and Kinesis clients (aws_clients.ts, the one factory); the
 * service destroys them when it stops.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createRegistry } from "../app/metrics.ts";
 * import { getLogger } from "../app/logging.ts";
 * import { readSettings } from "../app/settings.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * import { createSubmissions } from "./mod.ts";
 *
 * const config = configure(readSettings(SETTINGS, {}), {});
 * const context = { registry: createRegistry().registry, logger: getLogger("submissions") };
 * const service = createSubmissions(config, context);
 * assert.equal(service.state, "idle"); // the app starts it
 * ```
 */
export function createSubmissions(
  config: SubmissionsConfig,
  context: ComponentContext,
  overrides: SubmissionsOverrides = {},
): SubmissionsService {
  const { credentials = credentialsFor(config.credentials, config.region), ...rest } = overrides;
  const clientOptions = { region: config.region, credentials };
  return new SubmissionsService({
    config,
    sqs: createSqsClient({ ...clientOptions, endpoint: config.sqsEndpoint }),
    kinesis: createKinesisClient({ ...clientOptions, endpoint: config.kinesisEndpoint }),
    registry: context.registry,
    ...rest,
  });
}

/**
 * The clients' credentials, resolved once before anything starts, so that start-up logs the
 * endpoints and where the credentials came from (never a key), and a deployment without any
 * stops at once with one clear line instead of failing every call.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { getLogger } from "../app/logging.ts";
 * import { readSettings } from "../app/settings.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * import { resolveCredentials } from "./mod.ts";
 *
 * const env = { AWS_ENDPOINT_URL: "http://127.0.0.1:4566" }; // an emulator, nothing configured
 * const config = configure(readSettings(SETTINGS, env), env, false);
 * const credentials = await resolveCredentials(config, getLogger("submissions"));
 * assert.deepEqual(credentials, { accessKeyId: "test", secretAccessKey: "test" });
 * ```
 */
export async function resolveCredentials(
  config: SubmissionsConfig,
  logger: ComponentContext["logger"],
): Promise<ClientCredentials> {
  const credentials = credentialsFor(config.credentials, config.region);
  let source;
  try {
    source = describeCredentials(
      typeof credentials === "function" ? await credentials() : credentials,
    );
  } catch (error) {
    const reason = errorMessage(error);
    throw new Error(
      `no AWS credentials (${reason}); configure a source (README "Deploy"), or point ` +
        "AWS_ENDPOINT_URL at an emulator on loopback",
    );
  }
  const aws = `the region's AWS endpoint (${config.region})`;
  logger.info("AWS: SQS {sqs}, Kinesis {kinesis}; credentials from {source}", {
    sqs: config.sqsEndpoint ?? aws,
    kinesis: config.kinesisEndpoint ?? aws,
    source,
  });
  return credentials;
}

/** The component definition (`COMPONENTS=submissions`, the default). */
export const submissions = defineComponent({
  name: "submissions",
  summary: "SQS submissions → validated events → Kinesis",
  settings: SETTINGS,
  configure,
  create: async (config, context) =>
    createSubmissions(config, context, {
      credentials: await resolveCredentials(config, context.logger),
    }),
});
