/**
 * The one connection to Redis of a collector instance, made here and passed to the store:
 * node-redis 6 (`npm:@redis/client`: the core the `redis` meta-package re-exports), chosen over npm:ioredis 5 by measurement
 * (bench/ip_events/redis_client_bench.ts, BENCHMARKS.md): pipelined `HINCRBY` +13–23 %/s at
 * 35–45 % less client CPU; the `EVALSHA` flushes the store sends level (+1–2 %/s) at 10–17 %
 * less client CPU.
 *
 * What the store needs from a client, and no more: scripts run by `EVALSHA` in one pipelined
 * write, each settling on its own (`NOSCRIPT` after a Redis restart: the script is loaded and
 * those calls sent again, which is safe: Redis ran none of them); plain commands; a deadline
 * on every call. Nothing is queued while disconnected and nothing is resent behind the store's
 * back (`disableOfflineQueue`): a call made while Redis is away fails at once, and a call in
 * flight when the connection drops fails, so the store alone decides what is sent again.
 * Reconnection runs in the background with the service's backoff.
 *
 * @module
 */
import { createClient, type RedisClientType } from "@redis/client";
import { createHash } from "node:crypto";
import { backoffDelay } from "../app/backoff.ts";

/** Options of {@linkcode openRedisLink}. */
export interface RedisLinkOptions {
  /** `redis://` or `rediss://` (TLS), with or without a password. */
  readonly url: string;
  /** A password given apart from the URL. */
  readonly password?: string | undefined;
  /** Connection lost or refused (each time the state changes from up to down). */
  readonly onDown?: (error: Error) => void;
  /** Connected (again). */
  readonly onUp?: () => void;
}

/** A Lua script and its SHA-1 (what `EVALSHA` names it by). */
export interface Script {
  readonly source: string;
  readonly sha: string;
}

/** One script call: the script, its keys, its other arguments. */
export interface ScriptCall {
  readonly script: Script;
  readonly keys: readonly string[];
  readonly args: readonly string[];
}

/** The connection the Redis store uses. */
export interface RedisLink {
  /** Connected and ready for commands. */
  readonly isReady: boolean;
  /** Lost or refused since it was last ready: calls fail at once. */
  readonly isDown: boolean;
  /**
   * Runs the calls in one pipelined write, in order; each settles on its own (a rejection is
   * a reply error, a lost connection or the deadline: Redis may or may not have run it).
   */
  runScripts(
    calls: readonly ScriptCall[],
    timeoutMs: number,
  ): Promise<PromiseSettledResult<unknown>[]>;
  /** One command (`PING`, `SCAN`, `UNLINK`, `INFO`…) by a deadline. */
  command(args: readonly string[], timeoutMs: number): Promise<unknown>;
  /** Closes the connection (pending calls fail). */
  close(): Promise<void>;
}

/**
 * Makes a script from its source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { script } from "./redis_link.ts";
 * assert.equal(script("return 1").sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
 * ```
 */
export function script(source: string): Script {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * A call that did not settle by its deadline (Redis may still run it).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisTimeoutError } from "./redis_link.ts";
 * assert.equal(new RedisTimeoutError(1000).message, "no reply from Redis within 1000 ms");
 * ```
 */
export class RedisTimeoutError extends Error {
  /** Names the deadline. */
  constructor(timeoutMs: number) {
    super(`no reply from Redis within ${timeoutMs} ms`);
    this.name = "RedisTimeoutError";
  }
}

/**
 * Opens the link: connecting starts at once and goes on in the background (a Redis that is
 * down at start is an outage like any other, not a failed start).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { openRedisLink } from "./redis_link.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * // Rejects when Redis is down or slower than 1 s.
 * assert.equal(await link.command(["PING"], 1000), "PONG");
 * await link.close();
 * ```
 */
export function openRedisLink(options: RedisLinkOptions): RedisLink {
  const client = createClient({
    url: options.url,
    ...(options.password === undefined ? {} : { password: options.password }),
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 2_000,
      // Capped at 2 s: a Redis back from an outage is found within ~2 s, jittered across
      // instances.
      reconnectStrategy: (retries) =>
        Math.max(20, backoffDelay(retries + 1, { baseMs: 100, capMs: 2_000 })),
    },
  }) as RedisClientType;
  // "down": an error since the last ready. A call made while down fails at once; a call made
  // before the first connection is up waits for it (within its deadline), never sent twice.
  let down = false;
  let readyWaiters: (() => void)[] = [];
  client.on("error", (error: Error) => {
    if (down) return;
    down = true;
    options.onDown?.(error);
  });
  client.on("ready", () => {
    const wasDown = down;
    down = false;
    for (const wake of readyWaiters) wake();
    readyWaiters = [];
    if (wasDown) options.onUp?.();
  });
  let closed = false;
  const connecting = client.connect().catch(() => {/* reported through "error" */});

  const withDeadline = async <T>(call: () => Promise<T>, timeoutMs: number): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(timeoutMs)), timeoutMs);
    });
    try {
      if (!client.isReady && !down && !closed) {
        const ready = new Promise<void>((resolve) => readyWaiters.push(resolve));
        await Promise.race([ready, late]);
      }
      return await Promise.race([call(), late]);
    } finally {
      clearTimeout(timer);
    }
  };
  const evalsha = (call: ScriptCall) =>
    client.sendCommand([
      "EVALSHA",
      call.script.sha,
      String(call.keys.length),
      ...call.keys,
      ...call.args,
    ]);

  return {
    get isReady() {
      return client.isReady;
    },
    get isDown() {
      return down || closed;
    },
    async runScripts(calls, timeoutMs) {
      const run = async () => {
        // Issued in one tick: node-redis writes them to the socket together.
        const first = await Promise.allSettled(calls.map(evalsha));
        const missing = first.flatMap((result, i) => isNoScript(result) ? [i] : []);
        if (missing.length === 0) return first;
        const scripts = new Map(missing.map((i) => [calls[i]!.script.sha, calls[i]!.script]));
        for (const s of scripts.values()) await client.sendCommand(["SCRIPT", "LOAD", s.source]);
        const again = await Promise.allSettled(missing.map((i) => evalsha(calls[i]!)));
        missing.forEach((index, j) => first[index] = again[j]!);
        return first;
      };
      try {
        return await withDeadline(run, timeoutMs);
      } catch (error) {
        return calls.map(() => ({ status: "rejected", reason: error }));
      }
    },
    command: (args, timeoutMs) => withDeadline(() => client.sendCommand([...args]), timeoutMs),
    async close() {
      if (closed) return;
      closed = true;
      for (const wake of readyWaiters) wake();
      // Connected: QUIT after the pending replies; reconnecting: nothing to wait for.
      if (client.isReady) {
        try {
          await client.close();
        } catch {
          client.destroy();
        }
      } else {
        client.destroy();
      }
      await connecting;
    },
  };
}

function isNoScript(result: PromiseSettledResult<unknown>): boolean {
  return result.status === "rejected" &&
    String((result.reason as Error)?.message ?? "").startsWith("NOSCRIPT");
}
