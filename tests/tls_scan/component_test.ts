import assert from "node:assert/strict";
import { loadConfig } from "../../src/app/app_config.ts";
import { ConfigError } from "../../src/app/settings.ts";
import { COMPONENTS } from "../../src/components.ts";
import { startService as startProcess } from "../../tools/common/service_process.ts";
import { SERVICE_COMMAND } from "../../tools/common/start_task.ts";
import { startFakeSslLabs } from "../../tools/tls_scan/fake_ssllabs.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { readyHost } from "../../tools/tls_scan/ssllabs_fixtures.ts";
import { startService } from "./service_harness.ts";

function configError(env: Record<string, string>): string {
  try {
    loadConfig(COMPONENTS, { COMPONENTS: "tls-scan", ...env });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.ok(!error.message.includes("\n"), "one line");
    return error.message;
  }
  throw new Error("no ConfigError");
}

Deno.test("settings: one-line errors; ssllabs requires SSLLABS_EMAIL; no AWS setting is read", () => {
  assert.match(
    configError({ TLS_SCAN_ENGINE: "ssllabs" }),
    /^SSLLABS_EMAIL must be set with TLS_SCAN_ENGINE=ssllabs/,
  );
  assert.match(
    configError({ TLS_SCAN_ENGINE: "nmap" }),
    /^TLS_SCAN_ENGINE must be probe or ssllabs, got "nmap"$/,
  );
  assert.match(
    configError({ TLS_SCAN_CONCURRENCY: "0" }),
    /^TLS_SCAN_CONCURRENCY must be an integer from 1 to 64/,
  );
  assert.match(
    configError({ SSLLABS_TIME_SCALE: "0" }),
    /^SSLLABS_TIME_SCALE must be a number above 0/,
  );
  assert.match(
    configError({ TLS_SCAN_ALLOW_PRIVATE: "yes" }),
    /^TLS_SCAN_ALLOW_PRIVATE must be true or false/,
  );
  // Bad AWS settings do not matter when submissions is not enabled.
  const loaded = loadConfig(COMPONENTS, {
    COMPONENTS: "tls-scan",
    AWS_REGION: "nowhere",
    SQS_MAX_MESSAGES: "99",
  });
  assert.deepEqual(loaded.enabled.map((e) => e.definition.name), ["tls-scan"]);
  const config = loaded.enabled[0]!.config as Record<string, unknown>;
  assert.deepEqual(
    [config.engine, config.dbPath, config.waitSeconds, config.maxAgeHours, config.expiryWarnDays],
    ["probe", "data/tls-scan.db", 90, 24, 30],
  );
  assert.equal(config.allowPrivate, false);
});

Deno.test("deno task start's permissions run tls-scan alone: no AWS, openssl, a database in /tmp", async () => {
  const tasks =
    JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url))).tasks;
  assert.ok(
    tasks.start.endsWith(SERVICE_COMMAND.slice(2).join(" ")),
    "the demos run what users run",
  );
  await using fleet = await startFleet({ only: ["good"] });
  const dir = await Deno.makeTempDir({ dir: "/tmp", prefix: "tls-start-" });
  const env: Record<string, string> = {
    COMPONENTS: "tls-scan",
    HTTP_PORT: "0",
    TLS_SCAN_DB: `${dir}/db/reports.db`,
    TLS_SCAN_ALLOW_PRIVATE: "true",
    TLS_SCAN_CA_FILE: fleet.caFile,
  };
  for (const name of Object.keys(Deno.env.toObject())) if (name.startsWith("AWS_")) env[name] = "";
  const service = await startProcess(env, `${dir}/service.log`);
  try {
    const base = `http://127.0.0.1:${service.port}`;
    const report =
      await (await fetch(`${base}/scan?host=localhost&port=${fleet.target("good").port}`)).json();
    assert.equal(report.grade, "A", JSON.stringify(report));
    const ready = await fetch(`${base}/readyz`);
    assert.deepEqual((await ready.json()).components["tls-scan"], {
      ready: true,
      checks: { openssl: true, database: true },
    });
    assert.equal((await service.terminate(10_000)).code, 0);
    assert.ok((await Deno.stat(`${dir}/db/reports.db`)).isFile);
  } finally {
    await service.kill();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ssllabs through GET /scan: the report, the call metrics, and 502 when SSL Labs refuses us", async () => {
  const email = "sec@example.org";
  await using fake = await startFakeSslLabs({
    email,
    hosts: {
      "www.example.com": { result: readyHost("www.example.com", { grade: "A+" }) },
      "busy.example": {
        result: readyHost("busy.example"),
        flow: ["DNS", "IN_PROGRESS", "IN_PROGRESS"],
      },
    },
  });
  const env = {
    TLS_SCAN_ENGINE: "ssllabs",
    SSLLABS_API_URL: fake.url,
    SSLLABS_TIME_SCALE: "0.001",
    TLS_SCAN_ALLOW_PRIVATE: "false",
  };
  const resolve = () => Promise.resolve(["93.184.215.14"]);
  {
    await using service = await startService({ ...env, SSLLABS_EMAIL: email }, { resolve });
    const answer = await service.json("/scan?host=www.example.com");
    assert.equal(answer.status, 200);
    assert.deepEqual([answer.body.engine, answer.body.grade, answer.body.from_cache], [
      "ssllabs",
      "A+",
      false,
    ]);
    const metrics = await (await service.get("/metrics")).text();
    assert.match(metrics, /^edr_tls_scan_ssllabs_calls_total\{call="analyze",status="200"\} 3$/m);
    assert.match(metrics, /^edr_tls_scan_ssllabs_assessments_max 2$/m);
    assert.match(metrics, /^edr_tls_scan_scans_total\{engine="ssllabs",outcome="ready"\} 1$/m);
    // Eight concurrent callers for one host, half of them fresh: one assessment, one flow of calls.
    const answers = await Promise.all(
      Array.from(
        { length: 8 },
        (_, i) => service.json(`/scan?host=busy.example${i % 2 ? "&fresh=true" : ""}`),
      ),
    );
    assert.ok(answers.every((a) => a.status === 200 && a.body.grade === "A"));
    const calls = fake.callsFor("busy.example");
    assert.equal(calls.filter((c) => c.started).length, 1, "one assessment");
    assert.equal(calls.length, 4, "the start and three polls, nothing twice");
  }
  await using refused = await startService({ ...env, SSLLABS_EMAIL: "nobody@example.org" }, {
    resolve,
  });
  const answer = await refused.json("/scan?host=www.example.com");
  assert.equal(answer.status, 502);
  assert.match(String(answer.body.error), /441/);
  const ready = await refused.get("/readyz");
  assert.equal(ready.status, 503);
  await ready.body?.cancel();
});
