import assert from "node:assert/strict";
import { ConfigError, readSettings } from "../../src/app/settings.ts";
import {
  configureStore,
  describeStore,
  STORE_SETTINGS,
} from "../../src/ip_events/store_settings.ts";

const read = (env: Record<string, string>) => configureStore(readSettings(STORE_SETTINGS, env));

Deno.test("memory by default; redis with its URL, password and flush period", () => {
  assert.deepEqual(read({}), { kind: "memory" });
  assert.deepEqual(
    read({ IP_EVENTS_STORE: "redis", IP_EVENTS_REDIS_URL: "rediss://cache:6380/2" }),
    {
      kind: "redis",
      url: "rediss://cache:6380/2",
      password: undefined,
      flushMs: 100,
    },
  );
  assert.deepEqual(
    read({
      IP_EVENTS_STORE: "redis",
      IP_EVENTS_REDIS_URL: "redis://cache",
      IP_EVENTS_REDIS_PASSWORD: "pw",
      IP_EVENTS_FLUSH_MS: "250",
    }),
    { kind: "redis", url: "redis://cache", password: "pw", flushMs: 250 },
  );
});

Deno.test("a clear error for each bad combination, never echoing a password", () => {
  const fails = (env: Record<string, string>, pattern: RegExp) =>
    assert.throws(() => read(env), (e) => e instanceof ConfigError && pattern.test(e.message));
  fails({ IP_EVENTS_STORE: "disk" }, /^IP_EVENTS_STORE must be memory or redis, got "disk"$/);
  fails({ IP_EVENTS_STORE: "redis" }, /IP_EVENTS_REDIS_URL must be set when IP_EVENTS_STORE=redis/);
  fails(
    { IP_EVENTS_STORE: "redis", IP_EVENTS_REDIS_URL: "http://:hunter2@cache" },
    /^IP_EVENTS_REDIS_URL must be a redis:\/\/ or rediss:\/\/ .*got "http:\/\/:\*\*\*@cache"$/,
  );
  fails(
    { IP_EVENTS_STORE: "redis", IP_EVENTS_REDIS_URL: "cache:6379" },
    /IP_EVENTS_REDIS_URL must be/,
  );
  fails({ IP_EVENTS_STORE: "redis", IP_EVENTS_REDIS_URL: "not a url" }, /not a URL$/);
  fails(
    {
      IP_EVENTS_STORE: "redis",
      IP_EVENTS_REDIS_URL: "redis://:a@cache",
      IP_EVENTS_REDIS_PASSWORD: "b",
    },
    /password is given twice/,
  );
  fails({ IP_EVENTS_FLUSH_MS: "0" }, /^IP_EVENTS_FLUSH_MS must be an integer from 1 to 60000/);
  assert.throws(
    () => read({ IP_EVENTS_STORE: "redis", IP_EVENTS_REDIS_URL: "redis://:hunter2@/x" }),
    (e) => e instanceof ConfigError && !/hunter2/.test(e.message),
  );
});

Deno.test("the description hides the password", () => {
  assert.equal(
    describeStore({
      kind: "redis",
      url: "redis://user:pw@cache:6379/1",
      password: undefined,
      flushMs: 50,
    }),
    "store redis redis://user:***@cache:6379/1, flushed every 50 ms",
  );
  assert.equal(describeStore({ kind: "memory" }), "store memory");
});
