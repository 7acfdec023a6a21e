import assert from "node:assert/strict";
import { SqliteStore } from "../../src/tls_scan/sqlite_store.ts";
import { readyReport, storeContract } from "./store_contract.ts";

storeContract("sqlite", (options) => Promise.resolve(SqliteStore.open(":memory:", options)));

Deno.test("sqlite: the file keeps reports, the watch list and the report count across a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tls-sqlite-" });
  try {
    const path = `${dir}/nested/reports.db`;
    const first = SqliteStore.open(path, { maxReports: 2 });
    await first.watch([{ host: "a.test", port: 443 }], 10, 0);
    await first.save(readyReport("a.test", "A"));
    await first.save(readyReport("b.test", "B"));
    await first.close();
    const again = SqliteStore.open(path, { maxReports: 2 });
    assert.equal(await again.watchedCount(), 1);
    assert.equal((await again.latest({ host: "a.test", port: 443 }, "probe"))?.report.grade, "A");
    assert.equal((await again.save(readyReport("c.test", "C"))).evicted, 1, "b.test, unwatched");
    assert.equal((await again.watchStats("probe")).reports, 2);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
