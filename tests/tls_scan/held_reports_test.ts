/**
 * HeldReports, the PostgreSQL store's buffer while the database is down: bounded (the oldest
 * dropped and counted), a target's newer report replacing its older one, written in the order
 * held once the database answers, and a write that fails for another reason kept and said.
 */
import assert from "node:assert/strict";
import { HeldReports } from "../../src/tls_scan/held_reports.ts";
import { errorReport, type TlsReport } from "../../src/tls_scan/report.ts";
import { StoreUnavailableError } from "../../src/tls_scan/store.ts";
import type { Logger } from "../../src/app/logging.ts";

const report = (host: string, message = "Refused"): TlsReport =>
  errorReport({ host, port: 443, engine: "probe", message });

Deno.test("held reports: at most max, the oldest dropped and counted; a newer report replaces", async () => {
  let reachable = false;
  const written: string[] = [];
  let dropped = 0;
  const held = new HeldReports({
    max: 3,
    onDropped: () => dropped++,
    write: (r) => {
      if (!reachable) return Promise.reject(new StoreUnavailableError("ECONNREFUSED"));
      written.push(`${r.host} ${r.status_message}`);
      return Promise.resolve();
    },
  });
  for (const host of ["a.test", "b.test", "c.test"]) held.hold(report(host));
  held.hold(report("a.test", "Timeout")); // replaces a's report and moves it last
  assert.equal(held.size, 3);
  assert.equal(dropped, 0);
  held.hold(report("d.test")); // past max: the oldest (b) goes
  assert.equal(held.size, 3);
  assert.equal(dropped, 1);
  assert.equal(held.latest({ host: "b.test", port: 443 }, "probe"), undefined);
  reachable = true;
  await held.close(performance.now() + 1_000);
  assert.deepEqual(written.map((w) => w.split(" ")[0]), ["c.test", "a.test", "d.test"]);
  assert.match(written[1]!, /Timeout/, "a's newer report is the one written");
  assert.equal(held.size, 0);
});

Deno.test("held reports: a write failing for another reason keeps the report, says so and retries", async () => {
  const errors: string[] = [];
  const logger = {
    error: (message: string, fields?: Record<string, unknown>) =>
      errors.push(`${message} ${String(fields?.error)}`),
    warn: () => {},
    info: () => {},
    debug: () => {},
  } as unknown as Logger;
  let calls = 0;
  const held = new HeldReports({
    logger,
    write: () => {
      calls++;
      return Promise.reject(new Error('column "grade" does not exist'));
    },
  });
  held.hold(report("a.test"));
  // The first attempt after 1 s, a second 2 s later: not given up (waits at most 10 s).
  const until = performance.now() + 10_000;
  while (calls < 2 && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  assert.ok(calls >= 2, `the write was tried ${calls} times`);
  assert.equal(held.size, 1, "kept, not lost");
  assert.ok(errors.some((e) => e.includes("could not write held reports") && e.includes("grade")));
  await held.close(performance.now() + 100);
});
