import assert from "node:assert/strict";
import { loadConfig } from "../../src/app/app_config.ts";
import { ConfigError, readSettings } from "../../src/app/settings.ts";
import { COMPONENTS } from "../../src/components.ts";
import { configure, SETTINGS } from "../../src/ip_events/settings.ts";

Deno.test("defaults: UDP 0.0.0.0:3001, 4 MiB buffer, auto path, caps, memory", () => {
  assert.deepEqual(configure(readSettings(SETTINGS, {}), {}), {
    udpHost: "0.0.0.0",
    udpPort: 3001,
    receiveBufferBytes: 4 * 1024 * 1024,
    receiver: "auto",
    maxApps: 100_000,
    maxIpsPerApp: 64,
    store: { kind: "memory" },
  });
});

Deno.test("each setting is read from the env or its flag", () => {
  const config = configure(
    readSettings(SETTINGS, {
      IP_EVENTS_UDP_HOST: "127.0.0.1",
      IP_EVENTS_UDP_RECEIVER: "dgram",
      IP_EVENTS_MAX_APPS: "10",
    }, { IP_EVENTS_UDP_PORT: "0", IP_EVENTS_MAX_IPS_PER_APP: "3" }),
    {},
  );
  assert.equal(config.udpHost, "127.0.0.1");
  assert.equal(config.udpPort, 0);
  assert.equal(config.receiver, "dgram");
  assert.equal(config.maxApps, 10);
  assert.equal(config.maxIpsPerApp, 3);
});

Deno.test("bad values are one-line errors naming the setting and what is allowed", () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ IP_EVENTS_UDP_PORT: "70000" }, /^IP_EVENTS_UDP_PORT must be a port from 0 to 65535/],
    [{ IP_EVENTS_UDP_HOST: "localhost" }, /^IP_EVENTS_UDP_HOST must be an IPv4 address/],
    [{ IP_EVENTS_UDP_HOST: "::1" }, /^IP_EVENTS_UDP_HOST must be an IPv4 address/],
    [{ IP_EVENTS_UDP_RECEIVER: "fast" }, /^IP_EVENTS_UDP_RECEIVER must be auto, recvmmsg/],
    [{ IP_EVENTS_MAX_APPS: "0" }, /^IP_EVENTS_MAX_APPS must be an integer from 1/],
    [{ IP_EVENTS_MAX_IPS_PER_APP: "x" }, /^IP_EVENTS_MAX_IPS_PER_APP must be an integer/],
    [{ IP_EVENTS_UDP_RECEIVE_BUFFER_BYTES: "1" }, /^IP_EVENTS_UDP_RECEIVE_BUFFER_BYTES must/],
  ];
  for (const [env, message] of cases) {
    assert.throws(() => readSettings(SETTINGS, env), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    });
  }
});

Deno.test("COMPONENTS=ip-events needs no AWS setting; its settings are only read when enabled", () => {
  const loaded = loadConfig(COMPONENTS, { COMPONENTS: "ip-events" }, []);
  assert.deepEqual(loaded.enabled.map((e) => e.definition.name), ["ip-events"]);
  // Not enabled: a bad ip-events setting is not even read.
  assert.doesNotThrow(() =>
    loadConfig(COMPONENTS, { COMPONENTS: "submissions", IP_EVENTS_UDP_PORT: "x" }, [])
  );
  assert.throws(
    () => loadConfig(COMPONENTS, { COMPONENTS: "ip-events", IP_EVENTS_UDP_PORT: "x" }, []),
    ConfigError,
  );
});

Deno.test("IP_EVENTS_API_TOKEN, deprecated, is read as ADMIN_TOKEN with a warning", () => {
  const legacy = loadConfig(COMPONENTS, { COMPONENTS: "ip-events", IP_EVENTS_API_TOKEN: "t0ken" });
  assert.equal(legacy.app.adminToken, "t0ken");
  assert.match(legacy.app.warnings?.join("\n") ?? "", /IP_EVENTS_API_TOKEN is deprecated/);
  assert.throws(
    () => loadConfig(COMPONENTS, { IP_EVENTS_API_TOKEN: "two words" }),
    /^ConfigError: IP_EVENTS_API_TOKEN must be printable ASCII/,
  );
});
