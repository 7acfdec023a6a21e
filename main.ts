/**
 * edr-preprocessor: the entrance of a security backend, one binary of components (see
 * src/components.ts): `submissions` (SQS submissions → validated events → Kinesis, the
 * default), and those `COMPONENTS` adds.
 *
 *   deno task start [--flag value …]     (every setting is an env var or a flag; see --help)
 *   edr-preprocessor --version           (the version, the runtime and the commit built)
 *   edr-preprocessor healthcheck         (GET /healthz of the running instance: exit 0 or 1)
 *
 * read config → make and start the enabled components → wait for SIGTERM/SIGINT → stop.
 * Exit codes: 0 after a graceful stop, 1 when a component cannot start, 2 on a configuration
 * error.
 *
 * @module
 */
import { createApp } from "./src/app/app.ts";
import { ConfigError, configHelp, loadConfig } from "./src/app/app_config.ts";
import { probeHealth, probeHost } from "./src/app/healthcheck.ts";
import { getLogger, otelEnabled, setupLogging, teardownLogging } from "./src/app/logging.ts";
import { buildInfo } from "./src/app/version.ts";
import { COMPONENTS } from "./src/components.ts";

if (Deno.args.includes("--version")) {
  const info = buildInfo({ EDR_BUILD_COMMIT: Deno.env.get("EDR_BUILD_COMMIT") });
  console.log(
    `edr-preprocessor ${info.version} (deno ${info.deno}, v8 ${info.v8}, typescript ` +
      `${info.typescript}, commit ${info.commit})`,
  );
  Deno.exit(0);
}

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(`edr-preprocessor: the components of one security-telemetry service

Usage: deno task start [--flag value …]   (or the compiled binary)

${configHelp(COMPONENTS)}`);
  Deno.exit(0);
}

// `healthcheck [--flag value …]`: the same settings (HTTP_PORT) as the instance it probes.
const healthcheck = Deno.args[0] === "healthcheck";
let loaded;
try {
  loaded = loadConfig(
    COMPONENTS,
    Deno.env.toObject(),
    healthcheck ? Deno.args.slice(1) : Deno.args,
  );
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`edr-preprocessor: invalid configuration: ${error.message}`);
  Deno.exit(2);
}

if (healthcheck) {
  const result = await probeHealth(
    probeHost(loaded.app.httpHost ?? "0.0.0.0"),
    loaded.app.httpPort,
  );
  (result.healthy ? console.log : console.error)(`edr-preprocessor healthcheck: ${result.detail}`);
  Deno.exit(result.healthy ? 0 : 1);
}

await setupLogging(loaded.app.logLevel, { otel: otelEnabled(Deno.env.toObject()) });
const logger = getLogger("app", "main");
const app = await createApp(loaded).catch(async (error) => {
  logger.fatal("cannot make the components: {error}", { error: String(error?.message ?? error) });
  await teardownLogging();
  Deno.exit(1);
});

const stopped = Promise.withResolvers<void>();
const stop = (signal: Deno.Signal) => {
  logger.info("received {signal}", { signal });
  // A hard deadline in case something outlives the shutdown timeout: nothing partly published
  // has been deleted, so exiting is safe; undeleted messages come back.
  const deadline = setTimeout(() => {
    logger.error("shutdown exceeded its timeout; exiting");
    Deno.exit(0);
  }, loaded.app.shutdownTimeoutSeconds * 1000 + 1000);
  app.stop().then(() => {
    clearTimeout(deadline);
    stopped.resolve();
  });
};
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => stop(signal));
}

try {
  await app.start();
} catch {
  // Logged by the app, which stopped every component.
  await teardownLogging();
  Deno.exit(1);
}
await stopped.promise;
await teardownLogging();
Deno.exit(0);
