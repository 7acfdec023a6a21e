/**
 * All three components in one process, as `deno task start` runs them: one port serves every
 * component's routes, `/readyz` lists each component's checks, `/metrics` is one registry with
 * every component's metrics, and SIGTERM stops them all within `SHUTDOWN_TIMEOUT_SECONDS` —
 * even with a `GET /scan` waiting on a host that never answers — and exits 0.
 *
 * @module
 */
import assert from "node:assert/strict";
import { startAllComponents } from "./all_components_service.ts";

const SHUTDOWN_TIMEOUT_SECONDS = 3;

Deno.test("COMPONENTS=submissions,ip-events,tls-scan: one port, one registry, one readiness, one stop", async () => {
  // A TLS target that accepts and never answers: a scan of it runs until the probe's timeout.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) accepted.push(conn);
  })();
  try {
    await using all = await startAllComponents({
      LOG_LEVEL: "info",
      SHUTDOWN_TIMEOUT_SECONDS: String(SHUTDOWN_TIMEOUT_SECONDS),
      TLS_SCAN_ALLOW_PRIVATE: "true",
      TLS_SCAN_TIMEOUT_SECONDS: "30",
      TLS_SCAN_WAIT_SECONDS: "60",
    });
    const { service, base } = all;

    // One readiness over the three components.
    let report: { ready: boolean; components: Record<string, { ready: boolean }> } | undefined;
    for (let i = 0; i < 100 && !report?.ready; i++) {
      report = await (await fetch(`${base}/readyz`)).json();
      if (!report?.ready) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(report?.ready, JSON.stringify(report));
    assert.deepEqual(Object.keys(report.components).sort(), [
      "ip-events",
      "submissions",
      "tls-scan",
    ]);

    // Every component's routes on the one port.
    const events = await fetch(`${base}/events/${"ab".repeat(32)}`);
    assert.deepEqual(await events.json(), { count: 0, good_ips: [], bad_ips: [] });
    const scans = await fetch(`${base}/scans`);
    assert.equal(scans.status, 200);
    await scans.body?.cancel();

    // One registry with every component's metrics.
    const metrics = await (await fetch(`${base}/metrics`)).text();
    for (
      const name of ["edr_submissions_messages_received_total", "edr_ip_events_", "edr_tls_scan_"]
    ) {
      assert.match(metrics, new RegExp(`^${name}`, "m"), name);
    }
    for (const component of ["submissions", "ip-events", "tls-scan"]) {
      assert.match(metrics, new RegExp(`^edr_dependency_up\\{component="${component}"`, "m"));
    }

    // A scan waits on the silent host; SIGTERM must not wait for it past the timeout.
    const { port } = silent.addr as Deno.NetAddr;
    const pending = fetch(`${base}/scan?host=127.0.0.1&port=${port}&fresh=true`)
      .then(async (response) => ({ status: response.status, body: await response.text() }))
      .catch((error: Error) => ({ status: 0, body: error.message }));
    for (let i = 0; i < 100 && accepted.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(accepted.length > 0, "the probe reached the silent host");
    const started = performance.now();
    const status = await service.terminate(SHUTDOWN_TIMEOUT_SECONDS * 1000 + 5_000);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(status.code, 0, service.lastLines().join("\n"));
    assert.ok(seconds < SHUTDOWN_TIMEOUT_SECONDS + 0.5, `stopped in ${seconds.toFixed(2)} s`);
    const log = await all.log();
    assert.doesNotMatch(
      log,
      /shutdown exceeded its timeout/,
      "stopped by the app, not by main's hard deadline",
    );
    for (const component of ["submissions", "ip-events", "tls-scan", "app"]) {
      assert.match(log, new RegExp(`"component":"${component}"`), `${component} logged`);
    }
    // The waiting caller got an answer, not a dropped connection.
    const answer = await pending;
    assert.ok(answer.status > 0, `GET /scan during the stop: ${answer.body}`);
    console.log(
      `all components: stopped in ${seconds.toFixed(2)} s; GET /scan answered ${answer.status}`,
    );
  } finally {
    silent.close();
    await accepting.catch(() => {});
    for (const conn of accepted) conn.close();
  }
});
