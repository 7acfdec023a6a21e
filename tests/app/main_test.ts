/**
 * main.ts as users run it: a configuration error is one line on stderr and exit code 2;
 * `--help` lists the settings grouped by component and exits 0.
 *
 * @module
 */
import assert from "node:assert/strict";
import { VERSION } from "../../src/app/version.ts";
import { COMPONENTS } from "../../src/components.ts";
import { noUpdateCheck } from "../../tools/common/no_update_check.ts";

const ROOT = new URL("../../", import.meta.url);

/** Runs `deno run main.ts` with exactly `env` (nothing from this shell) and `args`. */
async function runMain(env: Record<string, string>, args: string[] = []) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-sys=osRelease", "main.ts", ...args],
    cwd: ROOT,
    clearEnv: true,
    env: noUpdateCheck({ PATH: Deno.env.get("PATH") ?? "", ...env }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

const KNOWN = COMPONENTS.map((c) => c.name).join(", ");

Deno.test("COMPONENTS=bogus exits 2 with one line naming the known components", async () => {
  const { code, stdout, stderr } = await runMain({ COMPONENTS: "bogus" });
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `edr-preprocessor: invalid configuration: COMPONENTS must be a comma list of ${KNOWN}, got "bogus"\n`,
  );
});

Deno.test("an unknown flag and a bad value of an enabled component exit 2 with one line", async () => {
  for (
    const [env, args, expected] of [
      [{}, ["--bogus", "1"], "Unknown option '--bogus'"],
      [{ WORKERS: "0" }, [], 'WORKERS must be an integer from 1 to 256, got "0"'],
    ] as const
  ) {
    const { code, stderr } = await runMain(env, [...args]);
    assert.equal(code, 2, stderr);
    assert.equal(stderr.split("\n").length, 2, `one line: ${stderr}`);
    assert.ok(stderr.includes(expected), stderr);
  }
});

Deno.test("--help exits 0 and groups the settings by component", async () => {
  const { code, stdout } = await runMain({}, ["--help"]);
  assert.equal(code, 0);
  assert.ok(
    stdout.indexOf("Shared by every component:") < stdout.indexOf("HTTP_PORT / --http-port"),
  );
  for (const definition of COMPONENTS) {
    const section = stdout.indexOf(`${definition.name} (COMPONENTS=${definition.name})`);
    assert.ok(section > 0, definition.name);
    for (const name of Object.keys(definition.settings)) {
      assert.ok(stdout.indexOf(`  ${name} / --`) > section, `${name} under ${definition.name}`);
    }
  }
});

Deno.test("--version prints the version of deno.json, the runtime and the commit built", async () => {
  const { code, stdout } = await runMain({ EDR_BUILD_COMMIT: "0123abc" }, ["--version"]);
  assert.equal(code, 0);
  assert.equal(
    stdout,
    `edr-preprocessor ${VERSION} (deno ${Deno.version.deno}, v8 ${Deno.version.v8}, ` +
      `typescript ${Deno.version.typescript}, commit 0123abc)\n`,
  );
});

Deno.test("healthcheck: exit 0 when /healthz answers 200 on HTTP_PORT, 1 with the reason otherwise", async () => {
  const paths: string[] = [];
  let status = 200;
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => {
      paths.push(new URL(request.url).pathname);
      return new Response("ok", { status });
    },
  );
  const port = String(server.addr.port);
  const healthy = await runMain({ HTTP_PORT: port }, ["healthcheck"]);
  assert.equal(healthy.code, 0, healthy.stderr);
  assert.equal(
    healthy.stdout,
    `edr-preprocessor healthcheck: GET /healthz on :${port} answered 200\n`,
  );
  status = 503;
  const failing = await runMain({}, ["healthcheck", "--http-port", port]);
  assert.equal(failing.code, 1);
  assert.equal(
    failing.stderr,
    `edr-preprocessor healthcheck: GET /healthz on :${port} answered 503\n`,
  );
  assert.deepEqual(paths, ["/healthz", "/healthz"]);
  await server.shutdown();
  const down = await runMain({ HTTP_PORT: port }, ["healthcheck"]);
  assert.equal(down.code, 1);
  assert.match(
    down.stderr,
    new RegExp(`^edr-preprocessor healthcheck: GET /healthz on :${port} failed: `),
  );
});
