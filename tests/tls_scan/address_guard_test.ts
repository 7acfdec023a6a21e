import assert from "node:assert/strict";
import {
  addressRange,
  guardNeverPublic,
  guardTarget,
  isPublicAddress,
  reservedName,
} from "../../src/tls_scan/address_guard.ts";

Deno.test("address ranges: only public unicast passes, IPv4 and IPv6", () => {
  const refused: [string, string][] = [
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "linkLocal"],
    ["100.64.0.1", "carrierGradeNat"],
    ["0.0.0.0", "unspecified"],
    ["224.0.0.251", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "linkLocal"],
    ["fc00::1", "uniqueLocal"],
    ["fd12:3456::1", "uniqueLocal"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:10.0.0.1", "private"],
    ["64:ff9b::a9fe:a9fe", "linkLocal"], // NAT64 of 169.254.169.254
    ["2002:7f00:1::", "loopback"], // 6to4 of 127.0.0.1
    ["2001:db8::1", "reserved"],
  ];
  for (const [address, range] of refused) {
    assert.equal(addressRange(address), range, address);
    assert.equal(isPublicAddress(address), false, address);
  }
  for (const address of ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808"]) {
    assert.equal(isPublicAddress(address), true, address);
  }
});

Deno.test("literals and localhost are refused without resolving anything", async () => {
  let resolved = 0;
  const resolve = () => {
    resolved++;
    return Promise.resolve(["93.184.215.14"]);
  };
  for (const host of ["127.0.0.1", "10.0.0.8", "::1", "fe80::1"]) {
    const verdict = await guardTarget(host, { allowPrivate: false, resolve });
    assert.equal(verdict.kind, "refused", host);
  }
  for (const host of ["localhost", "api.localhost"]) {
    assert.deepEqual(await guardTarget(host, { allowPrivate: false, resolve }), {
      kind: "refused",
      address: host,
      range: "loopback",
    });
  }
  assert.equal(resolved, 0);
});

Deno.test("a name is refused when any of its addresses is not public", async () => {
  const resolve = () => Promise.resolve(["93.184.215.14", "192.168.0.7"]);
  assert.deepEqual(await guardTarget("mixed.example", { allowPrivate: false, resolve }), {
    kind: "refused",
    address: "192.168.0.7",
    range: "private",
  });
  const allowed = await guardTarget("mixed.example", { allowPrivate: true, resolve });
  assert.deepEqual(allowed, { kind: "allowed", addresses: ["93.184.215.14", "192.168.0.7"] });
});

Deno.test("unresolvable names are a finished verdict, also on a resolver timeout", async () => {
  const notFound = () => Promise.reject(Object.assign(new Error("x"), { code: "ENOTFOUND" }));
  assert.deepEqual(await guardTarget("nx.example", { allowPrivate: false, resolve: notFound }), {
    kind: "unresolvable",
    message: "Unable to resolve domain name",
  });
  let release = () => {};
  const hang = () => new Promise<string[]>((resolve) => release = () => resolve([]));
  const slow = await guardTarget("slow.example", {
    allowPrivate: false,
    resolve: hang,
    timeoutMs: 20,
  });
  release();
  assert.equal(slow.kind, "unresolvable");
  assert.match((slow as { message: string }).message, /timed out/);
});

Deno.test("the system resolver resolves localhost when private targets are allowed", async () => {
  const verdict = await guardTarget("localhost", { allowPrivate: true });
  assert.equal(verdict.kind, "allowed");
  if (verdict.kind === "allowed") {
    assert.ok(
      verdict.addresses.every((a) => addressRange(a) === "loopback"),
      String(verdict.addresses),
    );
  }
});

Deno.test("the ssllabs engine's guard: refuses only what can never be public, resolves nothing", () => {
  for (const [host, kind] of [["10.0.0.1", "ipv4"], ["::1", "ipv6"], ["169.254.169.254", "ipv4"]]) {
    assert.equal(guardNeverPublic(host!, kind as "ipv4" | "ipv6").kind, "refused", host);
  }
  for (
    const host of ["localhost", "a.localhost", "x.invalid", "nas.local", "y.onion", "home.arpa"]
  ) {
    assert.ok(reservedName(host), host);
    assert.equal(guardNeverPublic(host, "name").kind, "refused", host);
  }
  // .test and .example are reserved, but RFC 6761 asks software not to treat them specially.
  for (
    const host of ["www.example.com", "intranet.corp.example", "a.test", "localhost.example.com"]
  ) {
    assert.deepEqual(guardNeverPublic(host, "name"), { kind: "allowed", addresses: [] }, host);
  }
  assert.deepEqual(guardNeverPublic("1.1.1.1", "ipv4"), { kind: "allowed", addresses: [] });
});
