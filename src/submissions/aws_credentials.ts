/**
 * Which credentials the SQS and Kinesis clients sign with. Always the AWS SDK's own default
 * provider chain (environment keys, SSO, shared config and credentials files and profiles,
 * `credential_process`, web identity (EKS IRSA), container credentials (ECS, EKS Pod Identity),
 * instance metadata), with one exception: dummy `test` keys when nothing at all is configured
 * and every endpoint is on loopback (an emulator on this machine: LocalStack, `deno task stack`).
 * An endpoint override alone never replaces real credentials: a VPC or FIPS endpoint is
 * production.
 *
 * @module
 */
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import ipaddr from "ipaddr.js";
import type { Env } from "../app/settings.ts";
import type { StaticCredentials } from "./aws_clients.ts";

/** How the clients get their credentials: the SDK's chain, or the emulator's dummy keys. */
export type CredentialsPlan = "default-chain" | "loopback-dummy";

/**
 * The variables that configure a credential source of the SDK's chain. One of them set means
 * the operator chose credentials, so no dummy keys.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CREDENTIAL_VARIABLES } from "./aws_credentials.ts";
 * assert.ok(CREDENTIAL_VARIABLES.includes("AWS_WEB_IDENTITY_TOKEN_FILE"));
 * ```
 */
export const CREDENTIAL_VARIABLES: readonly string[] = [
  "AWS_ACCESS_KEY_ID",
  "AWS_PROFILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_CONFIG_FILE",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  // Instance metadata at an address of the operator's choosing: configured, not a default.
  "AWS_EC2_METADATA_SERVICE_ENDPOINT",
];

/**
 * The emulators' keys: LocalStack, fauxqs and kinesalite accept any.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DUMMY_CREDENTIALS } from "./aws_credentials.ts";
 * assert.equal(DUMMY_CREDENTIALS.accessKeyId, "test");
 * ```
 */
export const DUMMY_CREDENTIALS: StaticCredentials = {
  accessKeyId: "test",
  secretAccessKey: "test",
};

/**
 * Whether `url`'s host is this machine: `localhost` (and `*.localhost`, RFC 6761), 127.0.0.0/8
 * or ::1. Decided from the text alone, without resolving a name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLoopbackUrl } from "./aws_credentials.ts";
 * assert.equal(isLoopbackUrl("http://localhost:4566"), true);
 * assert.equal(isLoopbackUrl("http://127.0.0.2:4566"), true);
 * assert.equal(isLoopbackUrl("http://[::1]:4566"), true);
 * assert.equal(isLoopbackUrl("https://vpce-0a1b.sqs.eu-west-1.vpce.amazonaws.com"), false);
 * assert.equal(isLoopbackUrl("http://localstack:4566"), false);
 * ```
 */
export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (!ipaddr.isValid(host)) return false;
  const address = ipaddr.process(host);
  return address.range() === "loopback";
}

/**
 * The plan for these endpoints (`undefined`: the region's AWS endpoint) and this environment:
 * dummy keys only when every endpoint is on loopback, no credential variable is set and no
 * shared config or credentials file exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { credentialsPlan } from "./aws_credentials.ts";
 * const local = ["http://127.0.0.1:4566", "http://127.0.0.1:4567"];
 * assert.equal(credentialsPlan(local, {}, false), "loopback-dummy");
 * assert.equal(credentialsPlan(local, { AWS_PROFILE: "dev" }, false), "default-chain");
 * assert.equal(credentialsPlan(local, {}, true), "default-chain"); // ~/.aws holds a profile
 * assert.equal(credentialsPlan(["https://sqs.vpce.example", local[1]], {}, false), "default-chain");
 * assert.equal(credentialsPlan([undefined, undefined], {}, false), "default-chain");
 * ```
 */
export function credentialsPlan(
  endpoints: readonly (string | undefined)[],
  env: Env,
  sharedFilesExist: boolean,
): CredentialsPlan {
  const local = endpoints.every((url) => url !== undefined && isLoopbackUrl(url));
  const configured = sharedFilesExist ||
    CREDENTIAL_VARIABLES.some((name) => (env[name] ?? "").trim() !== "");
  return local && !configured ? "loopback-dummy" : "default-chain";
}

/**
 * Whether the SDK's default shared files exist: `~/.aws/credentials` or `~/.aws/config` (the
 * paths it reads when `AWS_SHARED_CREDENTIALS_FILE` and `AWS_CONFIG_FILE` are unset). A file
 * that cannot be checked counts as absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedFilesExist } from "./aws_credentials.ts";
 * assert.equal(sharedFilesExist({}), false); // no HOME: no ~/.aws
 * ```
 */
export function sharedFilesExist(env: Env): boolean {
  const home = env.HOME ?? env.USERPROFILE;
  if (!home) return false;
  return ["credentials", "config"].some((file) => {
    try {
      return Deno.statSync(`${home}/.aws/${file}`).isFile;
    } catch {
      return false;
    }
  });
}

/** What the clients receive as `credentials`: static keys or a provider. */
export type ClientCredentials =
  | StaticCredentials
  | ReturnType<typeof fromNodeProviderChain>;

/**
 * The credentials for a plan: the dummy keys, or the SDK's default chain (one provider shared by
 * both clients, so the chain runs once and refreshes expiring credentials once). `region` is the
 * region of the STS and SSO calls some sources make.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { credentialsFor, DUMMY_CREDENTIALS } from "./aws_credentials.ts";
 * assert.equal(credentialsFor("loopback-dummy", "eu-west-1"), DUMMY_CREDENTIALS);
 * assert.equal(typeof credentialsFor("default-chain", "eu-west-1"), "function");
 * ```
 */
export function credentialsFor(plan: CredentialsPlan, region: string): ClientCredentials {
  if (plan === "loopback-dummy") return DUMMY_CREDENTIALS;
  return fromNodeProviderChain({ clientConfig: { region } });
}

// The SDK marks resolved credentials with `$source`, its feature ids by name; the first match
// in this order names the source (a profile that assumes a role with web identity is both).
const SOURCES: readonly (readonly [feature: string, name: string])[] = [
  ["CREDENTIALS_PROFILE_SSO", "SSO (profile)"],
  ["CREDENTIALS_PROFILE_SSO_LEGACY", "SSO (profile)"],
  ["CREDENTIALS_SSO", "SSO"],
  ["CREDENTIALS_SSO_LEGACY", "SSO"],
  ["CREDENTIALS_PROFILE_PROCESS", "credential_process (profile)"],
  ["CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN", "web identity (profile)"],
  ["CREDENTIALS_PROFILE_SOURCE_PROFILE", "assumed role (profile)"],
  ["CREDENTIALS_PROFILE", "shared config and credentials files (profile)"],
  ["CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN", "web identity token file (IRSA)"],
  ["CREDENTIALS_ENV_VARS", "environment keys"],
  ["CREDENTIALS_HTTP", "container credentials endpoint (ECS or EKS Pod Identity)"],
  ["CREDENTIALS_IMDS", "instance metadata (IMDS)"],
];

/**
 * Names where resolved credentials came from, for the start-up log: never a key or a secret.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeCredentials, DUMMY_CREDENTIALS } from "./aws_credentials.ts";
 * const fromEnv = { accessKeyId: "AKIA", secretAccessKey: "s", $source: { CREDENTIALS_ENV_VARS: "g" } };
 * assert.equal(describeCredentials(fromEnv), "environment keys");
 * assert.equal(describeCredentials(DUMMY_CREDENTIALS), "dummy keys (loopback endpoints, nothing configured)");
 * ```
 */
export function describeCredentials(credentials: object): string {
  if (credentials === DUMMY_CREDENTIALS) {
    return "dummy keys (loopback endpoints, nothing configured)";
  }
  const features = Object.keys((credentials as { $source?: object }).$source ?? {});
  const source = SOURCES.find(([feature]) => features.includes(feature));
  if (source) return source[1];
  // The chain's instance-metadata provider (and its ECS fallback) leave no mark.
  return features.length > 0 ? features.join("+") : "instance or container metadata";
}
