/**
 * The Dockerfile and docker-compose.yml, checked as far as a machine without a Docker engine can:
 * Debian's `docker-compose config` accepts the file; every path they name exists; the service's
 * environment is a configuration main.ts accepts; the tools' commands parse; the image's binary,
 * HEALTHCHECK, user and volume agree with deno.json's compile task and with each other. An image
 * build and a `docker compose up` cannot run here and are not claimed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { loadConfig, settingNames } from "../../src/app/app_config.ts";
import { COMPONENTS } from "../../src/components.ts";
import { parseClientArgs } from "../../tools/ip_events/client.ts";
import {
  COMPILE_OUTPUT,
  compileCommand,
  permissionFlags,
  taskCommand,
} from "../../tools/common/start_task.ts";

const ROOT = new URL("../../", import.meta.url);

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(new URL(path, ROOT));
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

interface ComposeService {
  readonly image?: string;
  readonly build?: { context: string; args?: Record<string, string> };
  readonly command?: string[];
  readonly environment?: Record<string, string>;
  readonly volumes?: string[];
  readonly ports?: string[];
}

const compose = parse(await Deno.readTextFile(new URL("docker-compose.yml", ROOT))) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};

/** The Dockerfile's instructions, continuation lines joined, comments dropped. */
const dockerfile = (await Deno.readTextFile(new URL("Dockerfile", ROOT)))
  .replace(/\\\n/g, " ")
  .split("\n")
  .filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"))
  .map((line) => {
    const [instruction, ...rest] = line.trim().split(/\s+/);
    return { instruction: instruction!.toUpperCase(), args: rest.join(" ") };
  });

function instructions(name: string): string[] {
  return dockerfile.filter((i) => i.instruction === name).map((i) => i.args);
}

Deno.test("docker-compose config (Debian's docker-compose, no engine) accepts the file", async () => {
  const output = await new Deno.Command("docker-compose", {
    args: ["-f", "docker-compose.yml", "config", "-q"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
});

Deno.test("compose: every host path it mounts or runs exists; named volumes are declared", async () => {
  let checked = 0;
  for (const [name, service] of Object.entries(compose.services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(":")[0]!;
      if (source.startsWith(".")) {
        assert.ok(await exists(source), `${name}: ${source} does not exist`);
      } else {
        assert.ok(source in compose.volumes, `${name}: volume ${source} is not declared`);
      }
      checked++;
    }
    for (const arg of service.command ?? []) {
      if (/\.(ts|sh)$/.test(arg)) {
        assert.ok(await exists(arg), `${name}: ${arg} does not exist`);
        checked++;
      }
    }
    if (service.build) {
      assert.ok(await exists(`${service.build.context}/Dockerfile`), `${name}: no Dockerfile`);
    }
  }
  assert.ok(checked >= 6, `only ${checked} paths checked`);
});

Deno.test("Dockerfile and compose: every repository path their comments and commands name exists", async () => {
  let checked = 0;
  for (const file of ["Dockerfile", "docker-compose.yml"]) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    const paths = text.matchAll(/(?<![\w./-])((?:src|tools|tests|docker|deploy)\/[\w./-]*[\w/])/g);
    for (const [, path] of paths) {
      assert.ok(await exists(path!), `${file} names ${path}, which does not exist`);
      checked++;
    }
  }
  assert.ok(checked >= 3, `only ${checked} paths named`);
});

Deno.test("compose: the preprocessor runs all three components with a configuration main.ts accepts", () => {
  const env = compose.services.preprocessor!.environment!;
  const loaded = loadConfig(COMPONENTS, env);
  assert.deepEqual(loaded.app.components, ["submissions", "ip-events", "tls-scan"]);
  // Every variable is a setting of the service, or one the AWS SDK reads itself.
  const known = new Set([
    ...settingNames(COMPONENTS),
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
  ]);
  for (const name of Object.keys(env)) {
    assert.ok(known.has(name), `${name} is neither a setting nor an SDK variable`);
  }
  assert.equal(env.IP_EVENTS_STORE, "redis");
  assert.match(env.IP_EVENTS_REDIS_URL!, /^redis:\/\/redis:/);
  assert.ok("redis" in compose.services && "localstack" in compose.services);
  assert.equal(env.TLS_SCAN_STORE, "postgres");
  assert.match(env.TLS_SCAN_DATABASE_URL!, /^postgres:\/\/edr:[^@]+@postgres:5432\//);
  assert.ok("postgres" in compose.services, "tls-scan's database is a service of its own");
  const ports = compose.services.preprocessor!.ports!;
  assert.ok(ports.includes(`${env.HTTP_PORT}:${env.HTTP_PORT}`), `HTTP ${ports}`);
  assert.ok(
    ports.includes(`${env.IP_EVENTS_UDP_PORT}:${env.IP_EVENTS_UDP_PORT}/udp`),
    `UDP ${ports}`,
  );
});

Deno.test("compose: the ip-events client's and the fleet's commands parse and aim at the services", () => {
  const env = compose.services.preprocessor!.environment!;
  const client = compose.services["ip-events-client"]!.command!;
  const options = parseClientArgs(client.slice(client.indexOf("tools/ip_events/client.ts") + 1));
  assert.equal(options.host, "preprocessor");
  assert.equal(options.tcp, Number(env.HTTP_PORT));
  assert.equal(options.udp, Number(env.IP_EVENTS_UDP_PORT));
  const fleet = compose.services.fleet!;
  assert.ok(fleet.command!.includes("tools/submissions/fleet/cli.ts"));
  assert.equal(fleet.environment!.AWS_ENDPOINT_URL, env.AWS_ENDPOINT_URL);
});

Deno.test("Dockerfile: what it copies exists; its binary, HEALTHCHECK, user and volume agree", async () => {
  // What .dockerignore leaves out of the build context, and the exceptions (`!path`) it keeps.
  const ignore = (await Deno.readTextFile(new URL(".dockerignore", ROOT))).split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"));
  const ignored = (path: string) =>
    ignore.some((line) => path === line || path.startsWith(`${line}/`)) &&
    !ignore.includes(`!${path}`);
  for (const copy of instructions("COPY").filter((args) => !args.startsWith("--from"))) {
    const sources = copy.split(/\s+/).slice(0, -1);
    for (const source of sources) {
      assert.ok(await exists(source), `COPY ${source}: missing`);
      assert.ok(!ignored(source), `COPY ${source}: left out by .dockerignore`);
    }
  }
  // The build stage runs the compile task (tools/compile.ts, copied); the run stage copies its
  // output.
  const output = COMPILE_OUTPUT;
  assert.ok(instructions("RUN").includes("deno task compile"));
  assert.ok(ignored("tools/demo.ts"), "the other tools stay out of the image's context");
  const [, from, to] = instructions("COPY").find((args) => args.startsWith("--from=build"))!
    .split(/\s+/);
  assert.equal(from, `/app/${output}`);
  assert.deepEqual(instructions("ENTRYPOINT"), [`["${to}"]`]);
  const healthcheck = instructions("HEALTHCHECK")[0]!;
  assert.match(healthcheck, new RegExp(`CMD \\["${to}", "healthcheck"\\]$`));
  // Non-root with a fixed uid; data/ under the working directory is the volume.
  assert.deepEqual(instructions("USER"), ["10001:10001"]);
  assert.equal(instructions("WORKDIR").at(-1), "/srv/edr");
  assert.deepEqual(instructions("VOLUME"), ["/srv/edr/data"]);
  for (const label of ["title", "description", "version", "revision", "licenses"]) {
    assert.ok(instructions("LABEL")[0]!.includes(`org.opencontainers.image.${label}=`), label);
  }
});

Deno.test("deno.json: the compiled binary carries exactly the start task's permissions", async () => {
  // The list is written once, in the start task; the compile task runs tools/compile.ts.
  assert.equal(taskCommand("start").at(-1), "main.ts");
  assert.equal(taskCommand("compile").at(-1), "tools/compile.ts");
  assert.ok(!taskCommand("compile").includes("--allow-net"), "the compile task repeats no flag");
  // tools/compile.ts runs `deno compile` with the start task's flags: a `deno` first on PATH
  // records its arguments and exits 3 (the tool passes the code on).
  const dir = await Deno.makeTempDir({ prefix: "compile-" });
  try {
    await Deno.writeTextFile(
      `${dir}/deno`,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${dir}/args"\nexit 3\n`,
    );
    await Deno.chmod(`${dir}/deno`, 0o755);
    const { code } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-run=deno", "tools/compile.ts", "--target", "x86_64-unknown-linux-gnu"],
      cwd: ROOT,
      env: { PATH: `${dir}:${Deno.env.get("PATH")}` },
      stderr: "null",
    }).output();
    assert.equal(code, 3);
    const args = (await Deno.readTextFile(`${dir}/args`)).trimEnd().split("\n");
    assert.deepEqual(["deno", ...args], compileCommand(["--target", "x86_64-unknown-linux-gnu"]));
    assert.equal(args[0], "compile");
    assert.deepEqual(permissionFlags(args), permissionFlags(taskCommand("start")));
    assert.deepEqual(args.slice(-5), [
      "--output",
      COMPILE_OUTPUT,
      "--target",
      "x86_64-unknown-linux-gnu",
      "main.ts",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
