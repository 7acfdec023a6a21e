/**
 * The submissions component, the seed of the product: EDR sensors' submissions from the SQS
 * queue, validated and split into events, every event published in order and without loss to
 * the Kinesis stream. Its settings are in {@link ./config.ts}; the pipeline in
 * {@link ./service.ts}; the pure codec (body → records) in {@link ./codec.ts}.
 *
 * ```ts
 * import { loadConfig } from "../app/app_config.ts";
 * import { createApp } from "../app/app.ts";
 * import { submissions } from "./mod.ts";
 *
 * const app = await createApp(loadConfig([submissions], { COMPONENTS: "submissions" }));
 * await app.start();
 * await app.stop();
 * ```
 *
 * @module
 */
import { type ComponentContext, defineComponent } from "../app/component.ts";
import { createKinesisClient, createSqsClient } from "./aws_clients.ts";
import { type Config, deriveConfig, SETTINGS } from "./config.ts";
import type { RecordSink } from "./kinesis_sink.ts";
import { SubmissionsService } from "./service.ts";

export type { Config as SubmissionsConfig } from "./config.ts";
export { SubmissionsService } from "./service.ts";

/** What a test may replace in the pipeline it makes. */
export interface SubmissionsOverrides {
  /** Replaces the Kinesis sink (fault injection). */
  readonly sink?: RecordSink;
}

/**
 * Makes the pipeline with its SQS and Kinesis clients (aws_clients.ts, the one factory); the
 * service destroys them when it stops.
 *
 * ```ts
 * import { createRegistry } from "../app/metrics.ts";
 * import { getLogger } from "../app/logging.ts";
 * import { readSettings } from "../app/settings.ts";
 * import { deriveConfig, SETTINGS } from "./config.ts";
 * import { createSubmissions } from "./mod.ts";
 *
 * const config = deriveConfig(readSettings(SETTINGS, {}), {});
 * const context = { registry: createRegistry().registry, logger: getLogger("submissions") };
 * const service = createSubmissions(config, context);
 * ```
 */
export function createSubmissions(
  config: Config,
  context: ComponentContext,
  overrides: SubmissionsOverrides = {},
): SubmissionsService {
  const clientOptions = { region: config.region, credentials: config.credentials };
  return new SubmissionsService({
    config,
    sqs: createSqsClient({ ...clientOptions, endpoint: config.sqsEndpoint }),
    kinesis: createKinesisClient({ ...clientOptions, endpoint: config.kinesisEndpoint }),
    registry: context.registry,
    ...overrides,
  });
}

/**
 * The component definition (`COMPONENTS=submissions`, the default).
 *
 * ```ts
 * import { readSettings } from "../app/settings.ts";
 * import { submissions } from "./mod.ts";
 * const config = submissions.configure(readSettings(submissions.settings, {}), {});
 * config.streamName; // "events"
 * ```
 */
export const submissions = defineComponent({
  name: "submissions",
  summary: "SQS submissions → validated events → Kinesis",
  settings: SETTINGS,
  configure: deriveConfig,
  create: (config, context) => createSubmissions(config, context),
});
