import assert from "node:assert/strict";
import { ConfigError, configHelp, loadConfig as loadAppConfig } from "../../src/app/app_config.ts";
import { flagName } from "../../src/app/settings.ts";
import { COMPONENTS } from "../../src/components.ts";
import { SETTINGS, type SubmissionsConfig } from "../../src/submissions/settings.ts";

/** The submissions pipeline's configuration, read as main.ts reads it, and the shared part. */
function loadConfig(env: Record<string, string>, args: string[] = []) {
  const { app, enabled } = loadAppConfig(COMPONENTS, env, args);
  assert.deepEqual(enabled.map((e) => e.definition.name), ["submissions"]);
  return { ...app, ...(enabled[0]!.config as SubmissionsConfig) };
}

Deno.test("defaults: the region's AWS endpoints with the SDK's credentials, submissions → events", () => {
  const config = loadConfig({});
  assert.equal(config.region, "eu-west-1");
  // Never localhost by default: a deployment that forgets the endpoint talks to AWS.
  assert.equal(config.sqsEndpoint, undefined);
  assert.equal(config.kinesisEndpoint, undefined);
  assert.equal(config.queueName, "submissions");
  assert.equal(config.streamName, "events");
  assert.equal(config.maxMessages, 10);
  assert.equal(config.visibilityTimeoutSeconds, 30);
  assert.equal(config.waitTimeSeconds, 20);
  assert.equal(config.partitionKey, "device_id");
  assert.equal(config.workers, 8);
  assert.equal(config.credentials, "default-chain");
});

Deno.test("environment variables and flags are read; a flag wins", () => {
  const config = loadConfig(
    {
      SQS_MAX_MESSAGES: "3",
      SQS_VISIBILITY_TIMEOUT: "7",
      WORKERS: "2",
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:9324",
      SQS_INVALID_QUEUE_URL: "http://127.0.0.1:9324/000000000000/invalid",
      AWS_ACCESS_KEY_ID: "AKIA",
    },
    ["--workers", "6", "--kinesis-partition-key=submission_id", "--http-port", "0"],
  );
  assert.equal(config.maxMessages, 3);
  assert.equal(config.visibilityTimeoutSeconds, 7);
  assert.equal(config.workers, 6);
  assert.equal(config.partitionKey, "submission_id");
  assert.equal(config.httpPort, 0);
  assert.equal(config.sqsEndpoint, "http://127.0.0.1:9324");
  assert.equal(config.kinesisEndpoint, undefined);
  assert.equal(config.invalidQueueUrl, "http://127.0.0.1:9324/000000000000/invalid");
  // Real credentials in the environment are left to the SDK's provider chain.
  assert.equal(config.credentials, "default-chain");
});

Deno.test("dummy keys only for loopback endpoints with nothing configured; an override is not a credential", () => {
  const local = { AWS_ENDPOINT_URL: "http://localhost:4566" };
  assert.equal(loadConfig(local).credentials, "loopback-dummy");
  assert.equal(
    loadConfig({
      AWS_ENDPOINT_URL_SQS: "http://127.0.0.1:1",
      AWS_ENDPOINT_URL_KINESIS: "http://[::1]:2",
    })
      .credentials,
    "loopback-dummy",
  );
  for (
    const env of <Record<string, string>[]> [
      { ...local, AWS_ACCESS_KEY_ID: "AKIA", AWS_SECRET_ACCESS_KEY: "s" },
      { ...local, AWS_PROFILE: "dev" },
      { ...local, AWS_WEB_IDENTITY_TOKEN_FILE: "/var/run/secrets/eks.amazonaws.com/token" },
      { ...local, AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://169.254.170.23/v1/credentials" },
      { ...local, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/x" },
      { ...local, AWS_SHARED_CREDENTIALS_FILE: "/etc/edr/credentials" },
      { ...local, AWS_EC2_METADATA_SERVICE_ENDPOINT: "http://127.0.0.1:1338" },
      // A VPC or FIPS endpoint is production: the SDK's chain, even with nothing configured.
      { AWS_ENDPOINT_URL_SQS: "https://vpce-1.sqs.eu-west-1.vpce.amazonaws.com" },
      { AWS_ENDPOINT_URL: "https://kinesis-fips.eu-west-1.amazonaws.com" },
      // One endpoint on loopback is not enough.
      { ...local, AWS_ENDPOINT_URL_KINESIS: "https://kinesis.eu-west-1.amazonaws.com" },
      { AWS_ENDPOINT_URL: "http://localstack:4566" },
    ]
  ) {
    assert.equal(loadConfig(env).credentials, "default-chain", JSON.stringify(env));
  }
});

Deno.test("a profile in ~/.aws counts as configured, so loopback endpoints get it, not dummy keys", async () => {
  const home = await Deno.makeTempDir();
  try {
    const env = { AWS_ENDPOINT_URL: "http://127.0.0.1:4566", HOME: home };
    assert.equal(loadConfig(env).credentials, "loopback-dummy");
    await Deno.mkdir(`${home}/.aws`);
    await Deno.writeTextFile(`${home}/.aws/credentials`, "[default]\naws_access_key_id = AKIA\n");
    assert.equal(loadConfig(env).credentials, "default-chain");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("an empty AWS_ENDPOINT_URL means the real AWS endpoints; empty numbers mean unset", () => {
  const config = loadConfig({ AWS_ENDPOINT_URL: "", WORKERS: "" });
  assert.equal(config.sqsEndpoint, undefined);
  assert.equal(config.kinesisEndpoint, undefined);
  assert.equal(config.credentials, "default-chain");
  assert.equal(config.workers, 8);
});

Deno.test("a bad value stops start-up with one line naming the variable and the range", () => {
  const cases: [Record<string, string>, string[], string][] = [
    [{ SQS_MAX_MESSAGES: "11" }, [], 'SQS_MAX_MESSAGES must be an integer from 1 to 10, got "11"'],
    [{ SQS_MAX_MESSAGES: "0" }, [], 'SQS_MAX_MESSAGES must be an integer from 1 to 10, got "0"'],
    [{ SQS_WAIT_TIME_SECONDS: "21" }, [], "SQS_WAIT_TIME_SECONDS must be an integer from 0 to 20"],
    [{ SQS_VISIBILITY_TIMEOUT: "1.5" }, [], "SQS_VISIBILITY_TIMEOUT must be an integer from 2"],
    [{ WORKERS: "many" }, [], 'WORKERS must be an integer from 1 to 256, got "many"'],
    [{}, ["--workers", "0"], '--workers must be an integer from 1 to 256, got "0"'],
    [{ HTTP_PORT: "70000" }, [], "HTTP_PORT must be an integer from 0 to 65535"],
    [{ AWS_ENDPOINT_URL: "ftp://x" }, [], "AWS_ENDPOINT_URL must be an http(s) URL"],
    [{ SQS_QUEUE_URL: "not a url" }, [], "SQS_QUEUE_URL must be an http(s) URL"],
    [{ LOG_LEVEL: "verbose" }, [], "LOG_LEVEL must be one of trace, debug, info"],
    [{ KINESIS_PARTITION_KEY: "user" }, [], "KINESIS_PARTITION_KEY must be device_id or"],
    [{ AWS_REGION: "Europe" }, [], "AWS_REGION must be an AWS region name"],
    [{}, ["--bogus", "1"], "Unknown option '--bogus'"],
  ];
  for (const [env, args, expected] of cases) {
    assert.throws(() => loadConfig(env, args), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(error.message.startsWith(expected), `${error.message} ≠ ${expected}…`);
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    });
  }
});

Deno.test("--help lists every variable with its flag", () => {
  const help = configHelp(COMPONENTS);
  for (const name of [...Object.keys(SETTINGS), "HTTP_PORT", "LOG_LEVEL", "COMPONENTS"]) {
    assert.ok(help.includes(`${name} / --${flagName(name)}`), name);
  }
});
