/**
 * The behaviour every {@linkcode IpEventStore} must have, as tests registered for one
 * implementation: memory_store_test.ts runs them for the memory store, and a shared store
 * (issue 12) runs the same by calling {@linkcode storeContract} with its own factory.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { IpEvent } from "../../src/ip_events/decode_ip_event.ts";
import { formatIpv4, parseIpv4 } from "../../src/ip_events/netblock.ts";
import type { IpEventStore, StoreLimits } from "../../src/ip_events/store.ts";

/** Makes an empty store bounded by `limits`; the contract closes it. */
export type StoreFactory = (limits: StoreLimits) => Promise<IpEventStore> | IpEventStore;

const APP_A = "a".repeat(64);
const APP_B = "b".repeat(64);
const BIG = { maxApps: 1000, maxIpsPerApp: 1000 };

function events(app: string, ...ips: string[]): IpEvent[] {
  return ips.map((text) => ({ appSha256: app, ip: parseIpv4(text)! }));
}

function hosts(first: string): string[] {
  const base = parseIpv4(first)! - 1;
  return Array.from({ length: 14 }, (_, i) => formatIpv4(base + 1 + i));
}

/** Registers the contract's tests for one store implementation. */
export function storeContract(name: string, make: StoreFactory): void {
  const test = (title: string, body: (limits: StoreLimits) => Promise<void>, limits = BIG) =>
    Deno.test(`${name}: ${title}`, () => body(limits));

  async function withStore(limits: StoreLimits, body: (s: IpEventStore) => Promise<void>) {
    const store = await make(limits);
    try {
      await body(store);
    } finally {
      await store.close();
    }
  }

  test("an unknown app reads count 0 and empty sets", (limits) =>
    withStore(limits, async (store) => {
      assert.deepEqual(await store.answer(APP_A), { count: 0, good_ips: [], bad_ips: [] });
    }));

  test("counts every event, good or bad, and keeps apps apart", (limits) =>
    withStore(limits, async (store) => {
      const outcome = store.record([
        ...events(APP_A, "10.0.0.1", "10.0.0.1", "10.0.0.2", "8.8.8.8", "200.1.1.255"),
        ...events(APP_B, "200.1.1.1"),
      ]);
      assert.deepEqual(outcome, { counted: 6, capacity: 0 });
      assert.deepEqual(await store.answer(APP_A), {
        count: 5,
        good_ips: hosts("10.0.0.1"),
        bad_ips: ["8.8.8.8", "200.1.1.255"],
      });
      assert.deepEqual(await store.answer(APP_B), {
        count: 1,
        good_ips: hosts("200.1.1.1"),
        bad_ips: [],
      });
      assert.deepEqual(store.stats(), { apps: 2, ips: 5 });
    }));

  test("batches add up", (limits) =>
    withStore(limits, async (store) => {
      for (let i = 0; i < 100; i++) store.record(events(APP_A, "10.0.0.3"));
      assert.equal((await store.answer(APP_A)).count, 100);
    }));

  test("reset forgets every app; counting starts from zero", (limits) =>
    withStore(limits, async (store) => {
      store.record(events(APP_A, "10.0.0.1", "9.9.9.9"));
      store.record(events(APP_B, "10.0.0.1"));
      await store.reset();
      assert.deepEqual(await store.answer(APP_A), { count: 0, good_ips: [], bad_ips: [] });
      assert.deepEqual(store.stats(), { apps: 0, ips: 0 });
      store.record(events(APP_A, "20.0.0.5"));
      assert.deepEqual(await store.answer(APP_A), {
        count: 1,
        good_ips: hosts("20.0.0.1"),
        bad_ips: [],
      });
    }));

  test(
    "past the apps cap new apps are not tracked; tracked apps stay exact",
    (limits) =>
      withStore(limits, async (store) => {
        const outcome = store.record([
          ...events(APP_A, "10.0.0.1"),
          ...events(APP_B, "10.0.0.1", "10.0.0.2"),
          ...events(APP_A, "10.0.0.2"),
        ]);
        assert.deepEqual(outcome, { counted: 2, capacity: 2 });
        assert.equal((await store.answer(APP_A)).count, 2);
        assert.equal((await store.answer(APP_B)).count, 0);
        assert.equal(store.stats().apps, 1);
      }),
    { maxApps: 1, maxIpsPerApp: 100 },
  );

  test(
    "past the IPs cap new IPs are not kept, but every event is counted",
    (limits) =>
      withStore(limits, async (store) => {
        const outcome = store.record(
          events(APP_A, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.1", "7.7.7.7"),
        );
        assert.deepEqual(outcome, { counted: 6, capacity: 2 });
        assert.deepEqual(await store.answer(APP_A), {
          count: 6,
          good_ips: hosts("10.0.0.1"),
          bad_ips: [],
        });
        assert.deepEqual(store.stats(), { apps: 1, ips: 3 });
        await store.reset();
        assert.deepEqual(store.record(events(APP_A, "7.7.7.7")), { counted: 1, capacity: 0 });
      }),
    { maxApps: 10, maxIpsPerApp: 3 },
  );
}
