/**
 * edr-preprocessor: EDR telemetry submissions from SQS, validated and split into events, each
 * published in order to Kinesis.
 *
 *   deno task start [--flag value …]     (every setting is an env var or a flag; see --help)
 *
 * Exit codes: 0 after a graceful stop (SIGTERM/SIGINT), 2 on a configuration error.
 *
 * @module
 */
import { createKinesisClient, createSqsClient } from "./src/submissions/aws_clients.ts";
import { ConfigError, configHelp, loadConfig } from "./src/submissions/config.ts";
import { getLogger, setupLogging, teardownLogging } from "./src/app/logging.ts";
import { PreprocessorService } from "./src/submissions/service.ts";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(`edr-preprocessor: SQS submissions → validated events → Kinesis\n\n${configHelp()}`);
  Deno.exit(0);
}

let config;
try {
  config = loadConfig(Deno.env.toObject(), Deno.args);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`edr-preprocessor: invalid configuration: ${error.message}`);
  Deno.exit(2);
}

await setupLogging(config.logLevel);
const logger = getLogger("main");
const clientOptions = { region: config.region, credentials: config.credentials };
const sqs = createSqsClient({ ...clientOptions, endpoint: config.sqsEndpoint });
const kinesis = createKinesisClient({ ...clientOptions, endpoint: config.kinesisEndpoint });
const service = new PreprocessorService({ config, sqs, kinesis });

const stopped = Promise.withResolvers<void>();
const stop = (signal: Deno.Signal) => {
  logger.info("received {signal}", { signal });
  // A hard deadline in case something outlives the shutdown timeout: nothing partly published
  // has been deleted, so exiting is safe; undeleted messages come back.
  const deadline = setTimeout(() => {
    logger.error("shutdown exceeded its timeout; exiting");
    Deno.exit(0);
  }, config.shutdownTimeoutSeconds * 1000 + 1000);
  service.stop().then(() => {
    clearTimeout(deadline);
    stopped.resolve();
  });
};
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => stop(signal));
}

await service.start();
await stopped.promise;
sqs.destroy();
kinesis.destroy();
await teardownLogging();
Deno.exit(0);
