/**
 * Memory of the in-memory store: RSS and V8 heap after N distinct apps of one event each (a
 * flood of random shas), and after apps filled to the IPs cap (a flood of random IPs), with the
 * caps as given. Run with --v8-flags=--expose-gc so the figures are after a full collection.
 *
 *   deno task bench:ip-events:memory [--apps 200000] [--max-apps 100000] [--ips 64]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { MemoryStore } from "../../src/ip_events/memory_store.ts";
import { SeededRandom } from "../../tools/common/seeded_random.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    apps: { type: "string", default: "200000" },
    "max-apps": { type: "string", default: "100000" },
    ips: { type: "string", default: "64" },
  },
});
const apps = Number(values.apps);
const maxApps = Number(values["max-apps"]);
const maxIpsPerApp = Number(values.ips);
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
function settle() {
  gc?.();
  const { rss, heapUsed } = Deno.memoryUsage();
  return { rss, heapUsed };
}

const random = new SeededRandom(200_000);
const hex = () => random.int(0, 15).toString(16);
const sha = () => Array.from({ length: 64 }, hex).join("");
const u32 = () => random.int(0, 2 ** 32 - 1);

const before = settle();
const store = new MemoryStore({ maxApps, maxIpsPerApp });
let capacity = 0;
for (let i = 0; i < apps; i++) {
  capacity += store.record([{ appSha256: sha(), ip: u32() }]).capacity;
}
const shas = settle();
console.log(
  `${apps} distinct shas, one event each (caps ${maxApps} apps): ${store.stats().apps} tracked, ` +
    `${capacity} dropped (capacity); RSS +${mb(shas.rss - before.rss)}, heap +${
      mb(shas.heapUsed - before.heapUsed)
    } (${Math.round((shas.heapUsed - before.heapUsed) / store.stats().apps)} bytes/app)`,
);

const tracked = store.stats().apps;
await store.reset();
const full = new MemoryStore({ maxApps, maxIpsPerApp });
const fullBefore = settle();
for (let i = 0; i < tracked; i++) {
  const app = sha();
  const batch = Array.from({ length: maxIpsPerApp + 10 }, () => ({ appSha256: app, ip: u32() }));
  full.record(batch);
}
const ips = settle();
console.log(
  `${tracked} apps × ${maxIpsPerApp} random IPs (the worst case of both caps): ` +
    `${full.stats().ips} IPs tracked; RSS +${mb(ips.rss - fullBefore.rss)}, heap +${
      mb(ips.heapUsed - fullBefore.heapUsed)
    } (${Math.round((ips.heapUsed - fullBefore.heapUsed) / full.stats().ips)} bytes/IP); ` +
    `RSS ${mb(ips.rss)}`,
);
