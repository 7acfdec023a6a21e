import assert from "node:assert/strict";
import fc from "fast-check";
import {
  answerFor,
  blockOf,
  chooseBlock,
  formatIpv4,
  NO_EVENTS,
  parseIpv4,
} from "../../src/ip_events/netblock.ts";

const SEED = 28;

function ip(text: string): number {
  const value = parseIpv4(text);
  assert.ok(value !== undefined, text);
  return value;
}

function observed(...entries: [string, number][]): Map<number, number> {
  return new Map(entries.map(([text, events]) => [ip(text), events]));
}

function hosts(base: number): string[] {
  return Array.from({ length: 14 }, (_, i) => formatIpv4(base + 1 + i));
}

Deno.test("formats and parses dotted quads without signed arithmetic", () => {
  assert.equal(formatIpv4(0), "0.0.0.0");
  assert.equal(formatIpv4(2 ** 31), "128.0.0.0");
  assert.equal(formatIpv4(2 ** 32 - 1), "255.255.255.255");
  assert.equal(parseIpv4("255.255.255.255"), 2 ** 32 - 1);
  assert.equal(parseIpv4("256.0.0.1"), undefined);
  assert.equal(parseIpv4("1.2.3"), undefined);
  assert.equal(blockOf(2 ** 32 - 1), ip("255.255.255.240"));
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => {
      assert.equal(parseIpv4(formatIpv4(n)), n);
      assert.ok(blockOf(n) >= 0 && blockOf(n) % 16 === 0 && n - blockOf(n) < 16);
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

Deno.test("an app with no events has count 0 and empty sets", () => {
  assert.deepEqual(answerFor(0, new Map()), NO_EVENTS);
  assert.deepEqual(NO_EVENTS, { count: 0, good_ips: [], bad_ips: [] });
});

Deno.test("all 14 hosts are good as soon as one is seen", () => {
  const answer = answerFor(1, observed(["10.1.2.37", 1]));
  assert.deepEqual(answer, { count: 1, good_ips: hosts(ip("10.1.2.32")), bad_ips: [] });
});

Deno.test("0.0.0.0/28 and 255.255.255.240/28, network and broadcast observed", () => {
  assert.deepEqual(answerFor(3, observed(["0.0.0.0", 1], ["0.0.0.1", 1], ["0.0.0.15", 1])), {
    count: 3,
    good_ips: hosts(0),
    bad_ips: ["0.0.0.0", "0.0.0.15"],
  });
  const top = ip("255.255.255.240");
  const answer = answerFor(
    4,
    observed(["255.255.255.255", 2], ["255.255.255.254", 1], ["255.255.255.240", 1]),
  );
  assert.deepEqual(answer, {
    count: 4,
    good_ips: hosts(top),
    bad_ips: ["255.255.255.240", "255.255.255.255"],
  });
  assert.equal(answer.good_ips.at(-1), "255.255.255.254");
});

Deno.test("only network or broadcast addresses seen: their block's hosts are good, they are bad", () => {
  assert.deepEqual(answerFor(2, observed(["10.0.0.0", 1], ["10.0.0.15", 1])), {
    count: 2,
    good_ips: hosts(ip("10.0.0.0")),
    bad_ips: ["10.0.0.0", "10.0.0.15"],
  });
});

Deno.test("the block with the most distinct hosts wins, not the most events", () => {
  const ips = observed(["10.0.0.1", 1], ["10.0.0.2", 1], ["192.168.1.1", 1000]);
  assert.equal(chooseBlock(ips), ip("10.0.0.0"));
  assert.deepEqual(answerFor(1002, ips).bad_ips, ["192.168.1.1"]);
});

Deno.test("network and broadcast do not count as hosts when choosing", () => {
  const ips = observed(["10.0.0.0", 5], ["10.0.0.15", 5], ["10.0.0.1", 1], ["20.0.0.1", 1], [
    "20.0.0.2",
    1,
  ]);
  assert.equal(chooseBlock(ips), ip("20.0.0.0"));
});

Deno.test("ties: more events, then the lower block", () => {
  const moreEvents = observed(["10.0.0.1", 1], ["200.0.0.1", 2]);
  assert.equal(chooseBlock(moreEvents), ip("200.0.0.0"));
  const sameEvents = observed(["200.0.0.1", 2], ["10.0.0.1", 2], ["150.0.0.1", 2]);
  assert.equal(chooseBlock(sameEvents), ip("10.0.0.0"));
  const high = observed(["250.0.0.1", 1], ["129.0.0.1", 1]);
  assert.equal(chooseBlock(high), ip("129.0.0.0")); // both ≥ 2^31, compared unsigned
});

Deno.test("bad IPs are sorted numerically, not as text", () => {
  const answer = answerFor(
    4,
    observed(["1.1.1.1", 1], ["9.0.0.0", 1], ["10.0.0.0", 1], [
      "200.0.0.0",
      1,
    ]),
  );
  assert.deepEqual(answer.bad_ips, ["9.0.0.0", "10.0.0.0", "200.0.0.0"]);
});

Deno.test("property: a /28 and bad IPs at least 28 away give back exactly that /28 and those IPs", () => {
  const scenario = fc.record({
    base: fc.integer({ min: 0, max: 2 ** 28 - 1 }).map((n) => n * 16),
    seenHosts: fc.uniqueArray(fc.integer({ min: 1, max: 14 }), { minLength: 2, maxLength: 14 }),
    bad: fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { maxLength: 10 }),
  });
  fc.assert(
    fc.property(scenario, ({ base, seenHosts, bad }) => {
      const far = bad.filter((b) => Math.abs(b - base) >= 28);
      const ips = new Map<number, number>();
      for (const h of seenHosts) ips.set(base + h, 1);
      for (const b of far) ips.set(b, 1);
      // The app's /28 must hold more distinct hosts than any block of bad IPs.
      const badHosts = new Map<number, Set<number>>();
      for (const b of far.filter((b) => b % 16 !== 0 && b % 16 !== 15)) {
        badHosts.set(blockOf(b), (badHosts.get(blockOf(b)) ?? new Set()).add(b));
      }
      fc.pre([...badHosts.values()].every((set) => set.size < seenHosts.length));
      const answer = answerFor(ips.size, ips);
      assert.deepEqual(answer.good_ips, hosts(base));
      assert.deepEqual(answer.bad_ips, [...new Set(far)].sort((a, b) => a - b).map(formatIpv4));
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

Deno.test("property: good and bad are disjoint, cover what was seen, and good is one /28", () => {
  const ips = fc.array(
    fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 5 })),
    { minLength: 1, maxLength: 40 },
  );
  fc.assert(
    fc.property(ips, (entries) => {
      const map = new Map(entries);
      const answer = answerFor(entries.length, map);
      const good = new Set(answer.good_ips);
      assert.equal(good.size, 14);
      assert.ok(answer.bad_ips.every((b) => !good.has(b)));
      for (const seen of map.keys()) {
        assert.ok(good.has(formatIpv4(seen)) || answer.bad_ips.includes(formatIpv4(seen)));
      }
      const goodNumbers = answer.good_ips.map(ip);
      assert.equal(goodNumbers[0]! % 16, 1);
      assert.deepEqual(goodNumbers, goodNumbers.map((_, i) => goodNumbers[0]! + i));
      const badNumbers = answer.bad_ips.map(ip);
      assert.deepEqual(badNumbers, [...badNumbers].sort((a, b) => a - b));
    }),
    { seed: SEED, numRuns: 2000 },
  );
});
