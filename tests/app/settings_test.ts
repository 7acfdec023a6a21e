import assert from "node:assert/strict";
import {
  boolean,
  ConfigError,
  flagName,
  integer,
  optionalHttpUrl,
  parseFlags,
  readSettings,
  settingsHelp,
  type SettingsTable,
} from "../../src/app/settings.ts";

const TABLE = {
  WORKERS: {
    schema: integer(1, 256),
    default: "8",
    allowed: "an integer from 1 to 256",
    help: "concurrent receive loops",
  },
  ENDPOINT: {
    schema: optionalHttpUrl,
    default: "http://localhost:4566",
    allowed: "an http(s) URL, or empty for none",
    help: "where to send",
  },
  VERBOSE: { schema: boolean, default: "false", allowed: "true or false", help: "talk more" },
  NAME: { schema: integer(0, 9).optional(), allowed: "a digit", help: "unset by default" },
} as const satisfies SettingsTable;

Deno.test("defaults, env, flags (a flag wins) and trimming", () => {
  assert.deepEqual(readSettings(TABLE, {}), {
    WORKERS: 8,
    ENDPOINT: "http://localhost:4566",
    VERBOSE: false,
    NAME: undefined,
  });
  const values = readSettings(TABLE, { WORKERS: " 4 ", VERBOSE: "true" }, { WORKERS: "6" });
  assert.equal(values.WORKERS, 6);
  assert.equal(values.VERBOSE, true);
});

Deno.test("empty means unset, except where the schema gives empty a meaning", () => {
  const values = readSettings(TABLE, { WORKERS: "", ENDPOINT: "" });
  assert.equal(values.WORKERS, 8);
  assert.equal(values.ENDPOINT, undefined);
});

Deno.test("a bad value is one line naming the variable, or the flag that gave it", () => {
  assert.throws(() => readSettings(TABLE, { WORKERS: "0" }), {
    name: "ConfigError",
    message: 'WORKERS must be an integer from 1 to 256, got "0"',
  });
  assert.throws(() => readSettings(TABLE, {}, { VERBOSE: "yes" }), {
    message: '--verbose must be true or false, got "yes"',
  });
});

Deno.test("flags: --name value and --name=value; unknown flags and positionals are errors", () => {
  assert.deepEqual(parseFlags(["--workers", "3", "--verbose=true"], Object.keys(TABLE)), {
    WORKERS: "3",
    VERBOSE: "true",
  });
  for (const args of [["--bogus", "1"], ["stray"], ["--workers"]]) {
    assert.throws(() => parseFlags(args, Object.keys(TABLE)), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.ok(!error.message.includes("\n"), "one line");
      assert.match(error.message, /\(see --help\)$/);
      return true;
    });
  }
  assert.equal(flagName("SQS_MAX_MESSAGES"), "sqs-max-messages");
});

Deno.test("--help groups the settings under their section titles, in order", () => {
  const help = settingsHelp([
    { title: "Shared:", table: { VERBOSE: TABLE.VERBOSE } },
    { title: "pipeline:", table: { WORKERS: TABLE.WORKERS, NAME: TABLE.NAME } },
  ]);
  const lines = help.split("\n");
  const at = (text: string) => lines.findIndex((l) => l.includes(text));
  assert.ok(at("Shared:") < at("VERBOSE / --verbose"));
  assert.ok(at("VERBOSE / --verbose") < at("pipeline:"));
  assert.ok(at("pipeline:") < at('WORKERS / --workers  (default "8")'));
  assert.ok(help.includes("NAME / --name  (default unset)"));
  assert.ok(help.includes("concurrent receive loops; an integer from 1 to 256"));
});
