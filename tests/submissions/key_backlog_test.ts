import assert from "node:assert/strict";
import { KeyBacklog } from "../../src/submissions/key_backlog.ts";
import { deferralSeconds } from "../../src/submissions/worker.ts";

Deno.test("key backlog: counts records per key, forgets a key at zero", () => {
  const backlog = new KeyBacklog();
  backlog.add("a", 8);
  backlog.add("a", 2);
  backlog.add("b", 1);
  backlog.remove("a", 3);
  assert.equal(backlog.records("a"), 7);
  assert.equal(backlog.keys, 2);
  backlog.remove("b", 1);
  backlog.remove("a", 7);
  assert.equal(backlog.records("a"), 0);
  assert.equal(backlog.keys, 0, "no key kept at zero: the map stays bounded by what waits");
});

Deno.test("deferral: 1 s, then twice as long per receive, at most 60 s", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map(deferralSeconds), [1, 2, 4, 8, 16, 32, 60, 60]);
  assert.equal(deferralSeconds(0), 1);
});
