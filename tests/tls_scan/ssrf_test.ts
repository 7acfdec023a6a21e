import assert from "node:assert/strict";
import { startFakeSslLabs } from "../../tools/tls_scan/fake_ssllabs.ts";
import { readyHost } from "../../tools/tls_scan/ssllabs_fixtures.ts";
import { startService } from "./service_harness.ts";

/** A listener that only counts who connects to it. */
function sentinel() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const accepting = (async () => {
    for await (const conn of listener) {
      connections++;
      conn.close();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    connections: () => connections,
    async close() {
      listener.close();
      await accepting;
    },
  };
}

/** Names that resolve to loopback/private addresses (as a hostile DNS answer would). */
const resolve = (host: string) =>
  Promise.resolve(
    ({
      "internal.example": ["127.0.0.1"],
      "mixed.example": ["93.184.215.14", "10.0.0.5"],
      "metadata.example": ["169.254.169.254"],
    } as Record<string, string[]>)[host] ?? [],
  );

Deno.test("403 for loopback, private, link-local, CGNAT, unspecified, multicast: the sentinel sees no connection", async () => {
  const watch = sentinel();
  await using service = await startService({ TLS_SCAN_ALLOW_PRIVATE: "false" }, { resolve });
  try {
    const hosts = [
      "127.0.0.1",
      "localhost",
      "internal.example",
      "mixed.example",
      "metadata.example",
      "10.1.2.3",
      "172.16.0.1",
      "192.168.0.1",
      "169.254.169.254",
      "100.64.0.1",
      "0.0.0.0",
      "224.0.0.1",
      "::1",
      "[::1]",
      "fe80::1",
      "fc00::1",
      "ff02::1",
      "::ffff:127.0.0.1",
    ];
    for (const host of hosts) {
      const answer = await service.json(
        `/scan?host=${encodeURIComponent(host)}&port=${watch.port}`,
      );
      assert.equal(answer.status, 403, host);
      if (host.endsWith(".example")) {
        // A name refused for what it resolves to: the address is never echoed (internal DNS
        // enumeration), neither in the message nor in a field.
        assert.match(
          String(answer.body.error),
          /^refusing to scan .*: it resolves to an address that is not public$/,
          host,
        );
        const text = JSON.stringify(answer.body);
        for (const leaked of ["127.0.0.1", "10.0.0.5", "169.254", "loopback", "private"]) {
          assert.ok(!text.includes(leaked), `${host}: ${text}`);
        }
      } else {
        assert.match(
          String(answer.body.error),
          /^refusing to scan .*: .* is an? .* address$/,
          host,
        );
      }
    }
    const fresh = await service.json(`/scan?host=internal.example&port=${watch.port}&fresh=true`);
    assert.equal(fresh.status, 403);
    const posted = await fetch(`${service.base}/scans`, {
      method: "POST",
      body: JSON.stringify({
        hosts: [
          "127.0.0.1",
          "localhost",
          { host: "10.0.0.1", port: watch.port },
          "internal.example", // resolves to loopback now: refused at watch time, not echoed
          "printer.local",
        ],
      }),
    });
    const body = await posted.json();
    assert.equal(body.accepted, 0);
    assert.equal(body.rejected, 5);
    assert.match(body.rejections[0].error, /refused: 127\.0\.0\.1 is a loopback address/);
    assert.deepEqual(body.rejections[3], {
      index: 3,
      host: "internal.example",
      error: "refused: it resolves to an address that is not public",
    });
    assert.match(body.rejections[4].error, /printer\.local is a special-use \(never public\)/);
    assert.equal(watch.connections(), 0, "no connection reached the sentinel");
  } finally {
    await watch.close();
  }
});

Deno.test("with TLS_SCAN_ALLOW_PRIVATE=true the same target is scanned (the sentinel is reached)", async () => {
  const watch = sentinel();
  await using service = await startService({ TLS_SCAN_ALLOW_PRIVATE: "true" }, { resolve });
  try {
    const answer = await service.json(`/scan?host=internal.example&port=${watch.port}`);
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, "ERROR", "the sentinel closes at once: not TLS");
    assert.equal(watch.connections(), 1);
  } finally {
    await watch.close();
  }
});

Deno.test("ssllabs engine: only never-public targets are refused (no API call), names are not resolved here", async () => {
  await using fake = await startFakeSslLabs({
    email: "sec@example.org",
    hosts: { "internal.example": { result: readyHost("internal.example") } },
  });
  await using service = await startService({
    TLS_SCAN_ENGINE: "ssllabs",
    TLS_SCAN_ALLOW_PRIVATE: "false",
    SSLLABS_API_URL: fake.url,
    SSLLABS_EMAIL: "sec@example.org",
    SSLLABS_TIME_SCALE: "0.001",
  }, { resolve });
  for (const host of ["127.0.0.1", "10.1.2.3", "[::1]", "localhost", "db.localhost", "x.invalid"]) {
    assert.equal((await service.json(`/scan?host=${host}`)).status, 403, host);
  }
  assert.deepEqual(fake.calls.filter((c) => c.call === "analyze"), []);
  // A public name that resolves to loopback *here* (split-horizon DNS): SSL Labs resolves it
  // on its side, so it is asked.
  const internal = await service.json("/scan?host=internal.example");
  assert.equal(internal.status, 200);
  assert.equal(internal.body.status, "READY");
  assert.ok(fake.calls.some((c) => c.call === "analyze" && c.params.host === "internal.example"));
});
