/**
 * Every standard credential source, with the service run exactly as `deno task start` runs it
 * (its flags read from deno.json; the compiled binary carries the same) against the local stack:
 * a recording proxy in front of SQS and of Kinesis checks the access key id of every request's
 * SigV4 signature, while a fake STS (IRSA) and a fake container-credentials endpoint (EKS Pod
 * Identity), a fake SSO portal and a fake instance metadata service check the token they receive. Token and config files live in a folder of the
 * repository's `.tmp/` (or of the home directory when the checkout is under `/tmp`), outside
 * `data/` and `/tmp`, as on EKS (`/var/run/secrets/…`) or in a home
 * directory: with the start task's former `--allow-read=data,/tmp` the IRSA case fails, as the
 * last step shows. Instance metadata is disabled throughout (no link-local traffic).
 *
 * @module
 */
import assert from "node:assert/strict";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { createFleet, nextSubmission } from "../../tools/submissions/fleet/generate.ts";
import { startLocalStack } from "../../tools/submissions/local_stack.ts";
import { startService, waitReady } from "../../tools/common/service_process.ts";
import { replaceFlag, SERVICE_COMMAND } from "../../tools/common/start_task.ts";
import { sleep } from "../../src/app/backoff.ts";
import {
  startFakeContainerEndpoint,
  startFakeImds,
  startFakeSsoPortal,
  startFakeSts,
  startRecordingProxy,
} from "./credential_fakes.ts";

const ROOT = new URL("../../", import.meta.url);

/** Deno's own cache folder: the service runs with a fake HOME, but must find its packages. */
async function denoDir(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  return JSON.parse(new TextDecoder().decode(output.stdout)).denoDir;
}

async function writeFile(path: string, text: string): Promise<string> {
  await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  await Deno.writeTextFile(path, text);
  return path;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/**
 * Where the token and config files go: the repository's `.tmp/`, unless the checkout itself
 * lies under `/tmp` (a CI clone may), whose files the former flags could read: then a folder in
 * the home directory, which they could not.
 */
function filesFolder(): string {
  const inRepo = new URL(".tmp/", ROOT).pathname;
  if (!inRepo.startsWith("/tmp/")) return inRepo;
  const home = Deno.env.get("HOME");
  assert.ok(home && !home.startsWith("/tmp"), "a home directory outside /tmp");
  return `${home}/.cache/edr-preprocessor-tests`;
}

Deno.test("credential sources: keys, profiles, IRSA, Pod Identity, SSO, IMDS, dummy keys, under the start task's flags", async (t) => {
  await using stack = await startLocalStack();
  await using sqsProxy = startRecordingProxy(stack.endpoints.sqs);
  await using kinesisProxy = startRecordingProxy(stack.endpoints.kinesis);
  await using sts = startFakeSts("ASIAIRSAEXAMPLE");
  await using container = startFakeContainerEndpoint("ASIAPODIDENTITYEXAMPLE");
  await using imds = startFakeImds("ASIAIMDSEXAMPLE");
  await using portal = startFakeSsoPortal("ASIASSOEXAMPLE");
  const clients = stack.createClients();
  const parent = filesFolder();
  await Deno.mkdir(parent, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: parent, prefix: "creds-" });
  const fleet = createFleet({ seed: 15, faultProbability: 0 });
  const base = {
    COMPONENTS: "submissions",
    HTTP_PORT: "0",
    LOG_LEVEL: "info",
    SQS_WAIT_TIME_SECONDS: "1",
    // A message one run received but did not finish comes back to the next within seconds,
    // not after the default 30 (it made a step wait 30 s for its PutRecords now and then).
    SQS_VISIBILITY_TIMEOUT: "3",
    AWS_REGION: "eu-west-1",
    AWS_ENDPOINT_URL_SQS: sqsProxy.url,
    AWS_ENDPOINT_URL_KINESIS: kinesisProxy.url,
    SQS_QUEUE_URL: stack.env().SQS_QUEUE_URL!,
    KINESIS_STREAM_NAME: stack.env().KINESIS_STREAM_NAME!,
    AWS_EC2_METADATA_DISABLED: "true",
    DENO_DIR: await denoDir(),
  };

  /** Runs the service with `env` until one submission is published; the key ids it signed with. */
  async function run(name: string, env: Record<string, string>) {
    const home = `${dir}/${name}/home`;
    await Deno.mkdir(home, { recursive: true });
    const log = `${dir}/${name}/service.log`;
    sqsProxy.seen.length = kinesisProxy.seen.length = kinesisProxy.calls.length = 0;
    const service = await startService({ ...base, HOME: home, ...env }, log, 60_000);
    try {
      await waitReady(service, 60_000);
      await clients.sqs.send(
        new SendMessageCommand({
          QueueUrl: base.SQS_QUEUE_URL,
          MessageBody: nextSubmission(fleet).body,
        }),
      );
      await waitFor(
        () => kinesisProxy.calls.includes("Kinesis_20131202.PutRecords"),
        `${name}: a PutRecords`,
      );
      assert.equal((await service.terminate(30_000)).code, 0);
    } finally {
      await service.kill();
    }
    const text = await Deno.readTextFile(log);
    const line = text.split("\n").find((l) => l.includes("credentials from"));
    assert.ok(line, `${name}: no start-up line naming the credentials\n${text}`);
    return { sqs: [...new Set(sqsProxy.seen)], kinesis: [...new Set(kinesisProxy.seen)], line };
  }

  try {
    await t.step("environment keys, with endpoint overrides: the keys, never `test`", async () => {
      const seen = await run("keys", {
        AWS_ACCESS_KEY_ID: "AKIAENVKEYSEXAMPLE",
        AWS_SECRET_ACCESS_KEY: "secret",
      });
      assert.deepEqual(seen.sqs, ["AKIAENVKEYSEXAMPLE"]);
      assert.deepEqual(seen.kinesis, ["AKIAENVKEYSEXAMPLE"]);
      assert.match(seen.line, /environment keys/);
      assert.ok(!seen.line.includes("secret"), "never a secret in the log");
    });

    await t.step("a named profile in ~/.aws (AWS_PROFILE)", async () => {
      const home = `${dir}/profile/home`;
      await writeFile(
        `${home}/.aws/credentials`,
        "[default]\naws_access_key_id = AKIADEFAULTWRONG\naws_secret_access_key = s\n\n" +
          "[edr]\naws_access_key_id = AKIAPROFILEHOME\naws_secret_access_key = s\n",
      );
      await writeFile(`${home}/.aws/config`, "[profile edr]\nregion = eu-west-1\n");
      const seen = await run("profile", { AWS_PROFILE: "edr" });
      assert.deepEqual(seen.sqs, ["AKIAPROFILEHOME"]);
      assert.deepEqual(seen.kinesis, ["AKIAPROFILEHOME"]);
      assert.match(seen.line, /shared config and credentials files/);
    });

    await t.step("files at any path (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE)", async () => {
      const etc = `${dir}/files/etc/edr`;
      const seen = await run("files", {
        AWS_SHARED_CREDENTIALS_FILE: await writeFile(
          `${etc}/credentials`,
          "[default]\naws_access_key_id = AKIAPROFILEFILES\naws_secret_access_key = s\n",
        ),
        AWS_CONFIG_FILE: await writeFile(`${etc}/config`, "[default]\nregion = eu-west-1\n"),
      });
      assert.deepEqual([...seen.sqs, ...seen.kinesis], ["AKIAPROFILEFILES", "AKIAPROFILEFILES"]);
    });

    await t.step("IRSA: the web identity token file, exchanged at STS", async () => {
      const token = `irsa-${crypto.randomUUID()}`;
      const file = await writeFile(
        `${dir}/irsa/var/run/secrets/eks.amazonaws.com/serviceaccount/token`,
        token,
      );
      const seen = await run("irsa", {
        AWS_WEB_IDENTITY_TOKEN_FILE: file,
        AWS_ROLE_ARN: "arn:aws:iam::111122223333:role/edr-preprocessor",
        AWS_ROLE_SESSION_NAME: "edr",
        AWS_ENDPOINT_URL_STS: sts.url,
      });
      assert.ok(sts.seen.length >= 1);
      assert.deepEqual([...new Set(sts.seen)], [token]);
      assert.deepEqual(sts.roles.at(-1), "arn:aws:iam::111122223333:role/edr-preprocessor");
      assert.deepEqual([...seen.sqs, ...seen.kinesis], ["ASIAIRSAEXAMPLE", "ASIAIRSAEXAMPLE"]);
      assert.match(seen.line, /web identity/);
    });

    await t.step("EKS Pod Identity: the container endpoint with the token file", async () => {
      const token = `pod-identity-${crypto.randomUUID()}`;
      const file = await writeFile(
        `${dir}/pod/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token`,
        token,
      );
      const seen = await run("pod-identity", {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${container.url}/v1/credentials`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: file,
      });
      assert.ok(container.seen.length >= 1);
      assert.deepEqual([...new Set(container.seen)], [token]);
      assert.deepEqual(
        [...seen.sqs, ...seen.kinesis],
        ["ASIAPODIDENTITYEXAMPLE", "ASIAPODIDENTITYEXAMPLE"],
      );
      assert.match(seen.line, /container credentials endpoint/);
    });

    await t.step(
      "SSO: an sso-session profile and its cached token, at the SSO portal",
      async () => {
        const home = `${dir}/sso/home`;
        await writeFile(
          `${home}/.aws/config`,
          "[profile edr-sso]\nsso_session = edr\nsso_account_id = 111122223333\n" +
            "sso_role_name = EdrRole\nregion = eu-west-1\n\n[sso-session edr]\n" +
            "sso_start_url = https://edr.awsapps.com/start\nsso_region = eu-west-1\n",
        );
        // `aws sso login` caches the token under the SHA-1 of the session name.
        const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode("edr"));
        const name = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
          .join("");
        const token = `sso-${crypto.randomUUID()}`;
        await writeFile(
          `${home}/.aws/sso/cache/${name}.json`,
          JSON.stringify({
            accessToken: token,
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
            region: "eu-west-1",
            startUrl: "https://edr.awsapps.com/start",
          }),
        );
        const seen = await run("sso", { AWS_PROFILE: "edr-sso", AWS_ENDPOINT_URL_SSO: portal.url });
        assert.ok(portal.seen.length >= 1);
        assert.deepEqual([...new Set(portal.seen)], [token]);
        assert.deepEqual([...seen.sqs, ...seen.kinesis], ["ASIASSOEXAMPLE", "ASIASSOEXAMPLE"]);
        assert.match(seen.line, /SSO/);
      },
    );

    await t.step(
      "EC2 instance metadata (IMDSv2) at AWS_EC2_METADATA_SERVICE_ENDPOINT",
      async () => {
        const seen = await run("imds", {
          AWS_EC2_METADATA_DISABLED: "false",
          AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url,
        });
        assert.ok(imds.seen.length >= 1, "credentials asked with the IMDSv2 session token");
        assert.deepEqual([...seen.sqs, ...seen.kinesis], ["ASIAIMDSEXAMPLE", "ASIAIMDSEXAMPLE"]);
        assert.match(seen.line, /instance or container metadata/);
      },
    );

    await t.step("nothing configured, loopback endpoints: the emulator's dummy keys", async () => {
      const seen = await run("dummy", {});
      assert.deepEqual([...seen.sqs, ...seen.kinesis], ["test", "test"]);
      assert.match(seen.line, /dummy keys/);
    });

    await t.step(
      "the start task's former --allow-read=data,/tmp cannot read the IRSA token",
      async () => {
        const narrow = replaceFlag(SERVICE_COMMAND, "--allow-read", "--allow-read=data,/tmp");
        assert.ok(narrow.includes("--allow-read=data,/tmp"), "the start task reads everything");
        const log = `${dir}/narrow.log`;
        const env = {
          ...base,
          HOME: `${dir}/irsa/home`,
          AWS_WEB_IDENTITY_TOKEN_FILE:
            `${dir}/irsa/var/run/secrets/eks.amazonaws.com/serviceaccount/token`,
          AWS_ROLE_ARN: "arn:aws:iam::111122223333:role/edr-preprocessor",
          AWS_ENDPOINT_URL_STS: sts.url,
        };
        await assert.rejects(startService(env, log, 60_000, narrow), /exited with code 1/);
        assert.match(await Deno.readTextFile(log), /no AWS credentials.*Requires read access/);
      },
    );
  } finally {
    clients.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
