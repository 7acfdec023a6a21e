import assert from "node:assert/strict";
import { ConfigError, configHelp, loadConfig, settingNames } from "../../src/app/app_config.ts";
import { defineComponent } from "../../src/app/component.ts";
import { integer } from "../../src/app/settings.ts";
import { COMPONENTS } from "../../src/components.ts";

/** A component whose only setting is required: its configure throws without it. */
const strict = defineComponent({
  name: "strict",
  summary: "needs STRICT_TOKEN",
  settings: {
    STRICT_LIMIT: {
      schema: integer(1, 5),
      default: "1",
      allowed: "an integer from 1 to 5",
      help: "a limit",
    },
  },
  configure(values, env) {
    if (!env.STRICT_TOKEN) throw new ConfigError("STRICT_TOKEN is required by strict");
    return { limit: values.STRICT_LIMIT };
  },
  create: () => {
    throw new Error("not made in these tests");
  },
});
const ALL = [...COMPONENTS, strict];

function rejects(env: Record<string, string>, args: string[], expected: string | RegExp) {
  assert.throws(() => loadConfig(ALL, env, args), (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes("\n"), "one line");
    if (typeof expected === "string") assert.equal(error.message, expected);
    else assert.match(error.message, expected);
    return true;
  });
}

Deno.test("every component's configure has the contract's shape: (values, env)", () => {
  // Function.length counts the parameters before the first default: submissions' third
  // (sharedFiles, a test seam) has one, so the declared shape is the same two in all.
  for (const component of COMPONENTS) assert.equal(component.configure.length, 2, component.name);
});

Deno.test("no COMPONENTS: submissions alone, with the shared defaults", () => {
  const { app, enabled } = loadConfig(ALL, {});
  assert.deepEqual(app, {
    components: ["submissions"],
    httpPort: 8080,
    httpHost: "0.0.0.0",
    adminToken: undefined,
    httpRequestTimeoutSeconds: 30,
    httpMaxConnections: 1024,
    httpMaxBodyBytesInFlight: 64 * 1024 * 1024,
    warnings: [],
    shutdownTimeoutSeconds: 20,
    logLevel: "info",
  });
  assert.deepEqual(enabled.map((e) => e.definition.name), ["submissions"]);
});

Deno.test("COMPONENTS and --components: a comma list, spaces and repeats forgiven, order kept", () => {
  const env = { COMPONENTS: "strict, submissions,strict", STRICT_TOKEN: "t" };
  assert.deepEqual(loadConfig(ALL, env).app.components, ["strict", "submissions"]);
  const flagged = loadConfig(ALL, env, ["--components", "submissions"]);
  assert.deepEqual(flagged.app.components, ["submissions"]);
});

Deno.test("an unknown or empty component list is one line naming what is allowed", () => {
  rejects(
    { COMPONENTS: "bogus" },
    [],
    `COMPONENTS must be a comma list of ${ALL.map((c) => c.name).join(", ")}, got "bogus"`,
  );
  rejects({}, ["--components", "submissions,bogus"], /^--components must be a comma list of/);
  rejects({ COMPONENTS: "," }, [], /^COMPONENTS must be a comma list of/);
});

Deno.test("only the enabled components' settings are validated", () => {
  // Bad submissions settings and no STRICT_TOKEN: neither matters to the other component.
  const badAws = { AWS_REGION: "Europe", SQS_MAX_MESSAGES: "99" };
  const strictOnly = loadConfig(ALL, { ...badAws, COMPONENTS: "strict", STRICT_TOKEN: "t" });
  assert.deepEqual(strictOnly.enabled.map((e) => e.config), [{ limit: 1 }]);
  const submissionsOnly = loadConfig(ALL, { STRICT_LIMIT: "9" });
  assert.deepEqual(submissionsOnly.app.components, ["submissions"]);
  // Enabled, they are.
  rejects({ ...badAws }, [], /^AWS_REGION must be an AWS region name/);
  rejects({ COMPONENTS: "strict" }, [], "STRICT_TOKEN is required by strict");
  rejects({ COMPONENTS: "strict", STRICT_TOKEN: "t", STRICT_LIMIT: "9" }, [], /^STRICT_LIMIT/);
});

Deno.test("every component's flags are known, enabled or not; a setting declared twice is a defect", () => {
  const { enabled } = loadConfig(ALL, {}, ["--strict-limit", "2", "--workers", "3"]);
  assert.equal(enabled.length, 1);
  rejects({}, ["--nope", "1"], /^Unknown option '--nope'/);
  const twin = { ...strict, name: "twin" };
  assert.throws(() => settingNames([strict, twin]), /setting STRICT_LIMIT is declared twice/);
});

Deno.test("--help: the shared settings first, then one section per component", () => {
  const help = configHelp(ALL);
  const at = (text: string) => help.indexOf(text);
  assert.ok(at("Shared by every component:") >= 0);
  assert.ok(at("COMPONENTS / --components") < at("submissions (COMPONENTS=submissions)"));
  assert.ok(at("submissions (COMPONENTS=submissions)") < at("AWS_REGION / --aws-region"));
  assert.ok(at("AWS_REGION / --aws-region") < at("strict (COMPONENTS=strict): needs STRICT_TOKEN"));
  assert.ok(at("strict (COMPONENTS=strict)") < at("STRICT_LIMIT / --strict-limit"));
});

Deno.test("HTTP_HOST, ADMIN_TOKEN and the HTTP bounds; IP_EVENTS_API_TOKEN folds into ADMIN_TOKEN", () => {
  const { app } = loadConfig(ALL, {
    HTTP_HOST: "127.0.0.1",
    ADMIN_TOKEN: "s3cret",
    HTTP_REQUEST_TIMEOUT_SECONDS: "12",
  }, ["--http-max-connections", "64"]);
  assert.equal(app.httpHost, "127.0.0.1");
  assert.equal(app.adminToken, "s3cret");
  assert.equal(app.httpRequestTimeoutSeconds, 12);
  assert.equal(app.httpMaxConnections, 64);
  assert.equal(loadConfig(ALL, { HTTP_HOST: "::" }).app.httpHost, "::");
  assert.throws(() => loadConfig(ALL, { HTTP_HOST: "example.com" }), /HTTP_HOST must be an IPv4/);
  assert.throws(() => loadConfig(ALL, { ADMIN_TOKEN: "two words" }), /ADMIN_TOKEN must be/);
  assert.throws(() => loadConfig(ALL, { HTTP_REQUEST_TIMEOUT_SECONDS: "0" }), /from 1 to 3600/);
  // The deprecated alias: alone, it is the admin token (with a warning); equal, a warning;
  // different, refused (no one token would be right).
  const legacy = loadConfig(ALL, { IP_EVENTS_API_TOKEN: "old" }).app;
  assert.equal(legacy.adminToken, "old");
  assert.match(legacy.warnings?.[0] ?? "", /deprecated: it is read as ADMIN_TOKEN/);
  const same = loadConfig(ALL, { IP_EVENTS_API_TOKEN: "t", ADMIN_TOKEN: "t" }).app;
  assert.equal(same.adminToken, "t");
  assert.match(same.warnings?.[0] ?? "", /remove it/);
  assert.throws(
    () => loadConfig(ALL, { IP_EVENTS_API_TOKEN: "old", ADMIN_TOKEN: "new" }),
    /differs from ADMIN_TOKEN: set only ADMIN_TOKEN/,
  );
});
