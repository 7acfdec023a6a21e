/**
 * A real Prometheus (Debian's `prometheus`) scrapes the service running all three components
 * (`deno task start`; the Redis and PostgreSQL stores, the local queue and stream, a TLS fleet)
 * and loads
 * deploy/prometheus/rules: the target is up, every rule group evaluates without error, every
 * metric the rules and the Grafana dashboards name is in the scrape, and alerts follow real
 * conditions: a watched certificate that expired fires EdrTlsCertificateExpiringCritical, and
 * Redis stopped makes EdrIpEventsStoreDown pending. On an otherwise healthy service nothing else
 * fires.
 *
 * @module
 */
import assert from "node:assert/strict";
import { dieWithParent } from "../../tools/common/parent_death.ts";
import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { startPostgres } from "../../tools/tls_scan/postgres_server.ts";
import { startAllComponents } from "../app/all_components_service.ts";
import { dashboardQueries, filesIn, metricNames, ROOT, ruleFiles } from "./deploy_files.ts";

const JOB = "edr-preprocessor";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Polls `probe` until it returns a value (not `undefined`), or fails with `what`. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
}

interface Alert {
  labels: Record<string, string>;
  state: "pending" | "firing";
}

Deno.test("a real Prometheus scrapes all three components and evaluates the rules", async () => {
  await using redis = await startRedisServer();
  await using fleet = await startFleet({ only: ["expired"] });
  await using postgres = await startPostgres();
  await using all = await startAllComponents({
    HTTP_HOST: "127.0.0.1",
    IP_EVENTS_STORE: "redis",
    IP_EVENTS_REDIS_URL: redis.url,
    TLS_SCAN_STORE: "postgres",
    TLS_SCAN_DATABASE_URL: await postgres.createDatabase("edr_prometheus"),
    TLS_SCAN_ALLOW_PRIVATE: "true",
    TLS_SCAN_CA_FILE: fleet.caFile,
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "1",
  }, "edr-prometheus-service-");
  const { service, base } = all;
  const dir = await Deno.makeTempDir({ prefix: "edr-prometheus-" });
  let prometheus: Deno.ChildProcess | undefined;
  try {
    // A watched host whose certificate expired 30 days ago.
    const expired = fleet.target("expired");
    const watch = await fetch(`${base}/scans`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ hosts: [{ host: "localhost", port: expired.port }] }),
    });
    assert.deepEqual(await watch.json(), {
      accepted: 1,
      added: 1,
      already_watched: 0,
      rejected: 0,
      rejections: [],
    });

    const rules = await filesIn("deploy/prometheus/rules", ".yml");
    const promPort = freePort();
    await Deno.writeTextFile(
      `${dir}/prometheus.yml`,
      JSON.stringify({
        global: { scrape_interval: "1s", evaluation_interval: "1s" },
        rule_files: rules.map((path) => new URL(path, ROOT).pathname),
        scrape_configs: [{
          job_name: JOB,
          static_configs: [{ targets: [`127.0.0.1:${service.port}`] }],
        }],
      }),
    );
    const { command, args } = dieWithParent("prometheus", [
      `--config.file=${dir}/prometheus.yml`,
      `--storage.tsdb.path=${dir}/data`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    prometheus = new Deno.Command(command, {
      args,
      stdout: "null",
      stderr: "null",
    }).spawn();
    const api = async (path: string) => {
      const response = await fetch(`http://127.0.0.1:${promPort}${path}`);
      const body = await response.json();
      assert.equal(body.status, "success", JSON.stringify(body));
      return body.data;
    };

    // The target is up.
    await waitFor("the target up", async () => {
      const { activeTargets } = await api("/api/v1/targets");
      const ours = activeTargets.find((t: { labels: { job: string } }) => t.labels.job === JOB);
      return ours?.health === "up" ? ours : undefined;
    });

    // Every rule group evaluated, every rule healthy.
    const groups = await waitFor("every rule evaluated", async () => {
      const { groups } = await api("/api/v1/rules");
      const all = groups.flatMap((g: { rules: { health: string }[] }) => g.rules);
      return all.length > 0 && all.every((r: { health: string }) => r.health !== "unknown")
        ? groups
        : undefined;
    });
    const expectedGroups = (await ruleFiles()).flatMap((f) => f.groups.map((g) => g.name));
    assert.deepEqual(groups.map((g: { name: string }) => g.name).sort(), expectedGroups.sort());
    for (const group of groups) {
      for (const rule of group.rules) {
        assert.equal(rule.health, "ok", `${group.name}/${rule.name}: ${rule.lastError}`);
      }
    }

    // Every metric the rules and dashboards name is in the scrape (its metadata: a labelled
    // counter has no sample before its first increment, but its TYPE line is there).
    const metadata = await api(`/api/v1/targets/metadata?match_target={job="${JOB}"}`);
    const types = new Map<string, string>(
      metadata.map((m: { metric: string; type: string }) => [m.metric, m.type]),
    );
    const exposes = (name: string) => {
      if (types.has(name) || name === "up") return true;
      const base = name.replace(/_(bucket|sum|count)$/, "");
      return base !== name && ["histogram", "summary"].includes(types.get(base) ?? "");
    };
    const named = new Map<string, string>();
    for (const file of await ruleFiles()) {
      for (const group of file.groups) {
        for (const rule of group.rules) {
          for (const name of metricNames(rule.expr)) named.set(name, file.path);
        }
      }
    }
    for (const [path, exprs] of await dashboardQueries()) {
      for (const expr of exprs) for (const name of metricNames(expr)) named.set(name, path);
    }
    assert.ok(named.size > 50, `${named.size} metric names`);
    const missing = [...named].filter(([name]) => !exposes(name));
    assert.deepEqual(missing, [], "metrics named in deploy/ that the service does not expose");

    // The expired certificate fires its alert, with the host's labels.
    const alerts = () => api("/api/v1/alerts").then((d) => d.alerts as Alert[]);
    const critical = await waitFor(
      "EdrTlsCertificateExpiringCritical firing",
      async () =>
        (await alerts()).find((a) =>
          a.labels.alertname === "EdrTlsCertificateExpiringCritical" && a.state === "firing"
        ),
    );
    assert.equal(critical.labels.host, "localhost");
    assert.equal(critical.labels.port, String(expired.port));
    assert.equal(critical.labels.job, JOB);
    // Nothing else fires on a healthy, idle service.
    const firing = (await alerts()).filter((a) => a.state === "firing");
    assert.deepEqual(firing.map((a) => a.labels.alertname), ["EdrTlsCertificateExpiringCritical"]);

    // Redis stopped: the collector's readiness probe fails and the store alert becomes pending
    // (it fires after its `for: 1m`).
    await redis.stop("SIGKILL");
    const storeDown = await waitFor(
      "EdrIpEventsStoreDown pending",
      async () => (await alerts()).find((a) => a.labels.alertname === "EdrIpEventsStoreDown"),
    );
    assert.equal(storeDown.labels.dependency, "store");
    assert.equal(storeDown.labels.component, "ip-events");
    console.log(
      `prometheus: ${groups.length} rule groups healthy, ${named.size} metric names exposed, ` +
        `${critical.labels.alertname} firing, EdrIpEventsStoreDown ${storeDown.state}`,
    );
  } finally {
    if (prometheus) {
      try {
        prometheus.kill("SIGTERM");
      } catch { /* already gone */ }
      await prometheus.status;
    }
    await Deno.remove(dir, { recursive: true });
  }
});
