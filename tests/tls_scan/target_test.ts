import assert from "node:assert/strict";
import { parseHost, parsePort, targetKey } from "../../src/tls_scan/target.ts";

Deno.test("good hosts are accepted and normalised", () => {
  const cases: [string, string, string][] = [
    ["example.com", "example.com", "name"],
    ["Example.COM.", "example.com", "name"],
    ["a-b.c-d.example", "a-b.c-d.example", "name"],
    ["xn--bcher-kva.example", "xn--bcher-kva.example", "name"],
    ["localhost", "localhost", "name"],
    ["1.2.3.4", "1.2.3.4", "ipv4"],
    ["2001:DB8::1", "2001:db8::1", "ipv6"],
    ["[2001:db8::1]", "2001:db8::1", "ipv6"],
    ["123.example", "123.example", "name"],
    [`${"a".repeat(63)}.example`, `${"a".repeat(63)}.example`, "name"],
  ];
  for (const [raw, host, kind] of cases) {
    assert.deepEqual(parseHost(raw), { ok: true, host, kind }, raw);
  }
});

Deno.test("a table of bad hosts: each refused with an error naming what is wrong", () => {
  const long = `${"a".repeat(60)}.`.repeat(5) + "com"; // 308 characters
  const cases: [string, RegExp][] = [
    ["", /empty/],
    ["https://example.com", /not a URL/],
    ["example.com/path", /path/],
    ["example.com?x=1", /path, query/],
    ["user@example.com", /userinfo/],
    ["example.com:443", /port/],
    ["example .com", /spaces or control/],
    ["example.com\n", /spaces or control/],
    ["exa\tmple.com", /spaces or control/],
    ["ex\u0000ample.com", /spaces or control/],
    [long, /longer than 253/],
    [`${"a".repeat(64)}.example`, /exceeds 63/],
    ["-bad.example", /invalid/],
    ["bad-.example", /invalid/],
    ["exa!mple.com", /invalid/],
    ["under_score.example", /contains "_"/],
    ["example..com", /empty label/],
    [".example.com", /empty label/],
    ["example.123", /all-numeric/],
    ["127.1", /all-numeric/],
    ["2130706433", /all-numeric/],
    ["1.2.3.256", /all-numeric/],
    ["bücher.example", /non-ASCII.*punycode/],
    ["[example.com]", /IPv6/],
    ["[fe80::1%eth0]", /IPv6/],
  ];
  for (const [raw, error] of cases) {
    const result = parseHost(raw);
    assert.equal(result.ok, false, JSON.stringify(raw));
    if (!result.ok) assert.match(result.error, error, JSON.stringify(raw));
  }
});

Deno.test("ports: default 443, 1..65535, digits only", () => {
  assert.deepEqual(parsePort(undefined), { ok: true, port: 443 });
  assert.deepEqual(parsePort(null), { ok: true, port: 443 });
  assert.deepEqual(parsePort("8443"), { ok: true, port: 8443 });
  for (const bad of ["0", "65536", "-1", "1e3", "44 3", "", "0x1bb", "443.0"]) {
    const result = parsePort(bad);
    assert.equal(result.ok, false, bad);
    if (!result.ok) assert.match(result.error, /port must be an integer from 1 to 65535/);
  }
});

Deno.test("target keys put IPv6 in brackets", () => {
  assert.equal(targetKey({ host: "example.com", port: 443 }), "example.com:443");
  assert.equal(targetKey({ host: "2001:db8::1", port: 8443 }), "[2001:db8::1]:8443");
});
