import assert from "node:assert/strict";
import { LocalTally } from "../../src/ip_events/local_tally.ts";

const A = "a".repeat(64);
const B = "b".repeat(64);
const C = "c".repeat(64);

Deno.test("take hands over the deltas once; admitted apps and IPs stay counted against the caps", () => {
  const tally = new LocalTally({ maxApps: 2, maxIpsPerApp: 2 });
  assert.deepEqual(
    tally.record([
      { appSha256: A, ip: 1 },
      { appSha256: A, ip: 1 },
      { appSha256: A, ip: 2 },
      { appSha256: A, ip: 3 }, // past the IPs cap: counted, not kept
      { appSha256: B, ip: 4 },
      { appSha256: C, ip: 4 }, // past the apps cap
    ]),
    { counted: 5, capacity: 2 },
  );
  assert.equal(tally.pendingEvents, 5);
  const taken = tally.take();
  assert.deepEqual(taken.get(A), { count: 4, ips: new Map([[1, 2], [2, 1]]) });
  assert.deepEqual(taken.get(B), { count: 1, ips: new Map([[4, 1]]) });
  assert.equal(tally.pendingEvents, 0);
  assert.equal(tally.take().size, 0);
  // Still admitted after the take: C is refused, A's third IP too.
  assert.deepEqual(tally.record([{ appSha256: C, ip: 1 }, { appSha256: A, ip: 3 }]), {
    counted: 1,
    capacity: 2,
  });
  assert.deepEqual(tally.pending(A), { count: 1, ips: new Map() });
  assert.deepEqual(tally.stats(), { apps: 2, ips: 3 });
});

Deno.test("rebase keeps only what is pending or on its way; clear forgets all", () => {
  const tally = new LocalTally({ maxApps: 2, maxIpsPerApp: 10 });
  tally.record([{ appSha256: A, ip: 1 }, { appSha256: B, ip: 2 }]);
  const inFlight = tally.take();
  tally.record([{ appSha256: A, ip: 5 }]);
  tally.rebase([new Map([[B, inFlight.get(B)!]])]);
  assert.deepEqual(tally.stats(), { apps: 2, ips: 2 }); // A (pending, ip 5), B (on its way)
  assert.deepEqual(tally.record([{ appSha256: A, ip: 5 }]), { counted: 1, capacity: 0 });
  assert.deepEqual(tally.pending(A), { count: 2, ips: new Map([[5, 2]]) });
  tally.rebase([]);
  assert.deepEqual(tally.stats(), { apps: 1, ips: 1 });
  assert.deepEqual(tally.record([{ appSha256: C, ip: 1 }]), { counted: 1, capacity: 0 });
  tally.clear();
  assert.deepEqual(tally.stats(), { apps: 0, ips: 0 });
  assert.equal(tally.pendingEvents, 0);
  assert.equal(tally.pending(A), undefined);
});
