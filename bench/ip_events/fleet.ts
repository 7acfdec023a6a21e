/**
 * What the rate benchmark measures: one collector with the memory store, or N collectors
 * sharing a redis-server of their own (`--store redis --instances N`), with the CPU of each
 * process and Redis's command counts read before and after a run.
 *
 * @module
 */
import { readProc } from "../common/proc_sampler.ts";
import {
  type CollectorProcess,
  startCollectorProcess,
} from "../../tools/ip_events/collector_process.ts";
import { type RedisServer, startRedisServer } from "../../tools/ip_events/redis_server.ts";
import { openRedisLink, type RedisLink } from "../../src/ip_events/redis_link.ts";

/** Options of {@linkcode startFleet}. */
export interface FleetOptions {
  readonly store: "memory" | "redis";
  readonly instances: number;
  /** Settings every collector gets. */
  readonly env?: Record<string, string>;
  /** IP_EVENTS_FLUSH_MS for the Redis store. Default 100. */
  readonly flushMs?: number;
}

/** Readings of every process at one moment. */
export interface FleetReading {
  /** CPU seconds so far, per collector. */
  readonly collectorsCpu: readonly number[];
  /** redis-server's CPU seconds so far (`INFO cpu`), if there is one. */
  readonly redisCpu: number | undefined;
  /** Commands Redis processed so far, those its scripts ran included. */
  readonly redisCommands: number | undefined;
  /** `EVALSHA` calls so far (the collectors' round-trip commands). */
  readonly evalshaCalls: number | undefined;
}

/** The running processes. */
export interface Fleet extends AsyncDisposable {
  readonly options: FleetOptions;
  readonly collectors: readonly CollectorProcess[];
  readonly redis: RedisServer | undefined;
  /** The client's flags: `--tcp` (the first instance), `--udp` (all), `--settle`. */
  clientArgs(): string[];
  /** Reads every process's counters. */
  read(): Promise<FleetReading>;
  /** e.g. "2 collectors, store redis (flush every 100 ms)". */
  describe(): string;
}

/**
 * Starts the collectors (and Redis).
 *
 * @example
 * ```ts ignore
 * await using fleet = await startFleet({ store: "redis", instances: 2 });
 * const before = await fleet.read();
 * ```
 */
export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const flushMs = options.flushMs ?? 100;
  const redis = options.store === "redis" ? await startRedisServer() : undefined;
  const link: RedisLink | undefined = redis ? openRedisLink({ url: redis.url }) : undefined;
  const collectors: CollectorProcess[] = [];
  const close = async () => {
    for (const collector of collectors) await collector[Symbol.asyncDispose]();
    await link?.close();
    await redis?.[Symbol.asyncDispose]();
  };
  try {
    for (let i = 0; i < options.instances; i++) {
      collectors.push(
        await startCollectorProcess({
          env: {
            ...options.env,
            ...(redis
              ? {
                IP_EVENTS_STORE: "redis",
                IP_EVENTS_REDIS_URL: redis.url,
                IP_EVENTS_FLUSH_MS: String(flushMs),
              }
              : {}),
          },
        }),
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  const info = async (section: string) => String(await link!.command(["INFO", section], 2_000));
  const field = (text: string, pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? NaN);
  return {
    options,
    collectors,
    redis,
    clientArgs: () => [
      "--tcp",
      String(collectors[0]!.httpPort),
      "--udp",
      collectors.map((c) => c.udpPort).join(","),
      // The other instances' last flush must be in Redis before the client's GETs.
      ...(redis ? ["--settle", String(3 * flushMs)] : []),
    ],
    async read() {
      const collectorsCpu = await Promise.all(
        collectors.map(async (c) => (await readProc(c.pid))?.cpuSeconds ?? NaN),
      );
      if (!link) {
        return {
          collectorsCpu,
          redisCpu: undefined,
          redisCommands: undefined,
          evalshaCalls: undefined,
        };
      }
      const [cpu, stats, commands] = await Promise.all([
        info("cpu"),
        info("stats"),
        info("commandstats"),
      ]);
      return {
        collectorsCpu,
        redisCpu: field(cpu, /used_cpu_user:([\d.]+)/) + field(cpu, /used_cpu_sys:([\d.]+)/),
        redisCommands: field(stats, /total_commands_processed:(\d+)/),
        evalshaCalls: field(commands, /cmdstat_evalsha:calls=(\d+)/) || 0,
      };
    },
    describe: () =>
      `${options.instances} collector${options.instances > 1 ? "s" : ""}, store ${options.store}` +
      (redis ? ` (redis-server ${redis.port}, flush every ${flushMs} ms)` : ""),
    [Symbol.asyncDispose]: close,
  };
}

/** CPU and Redis figures between two readings, per datagram sent. */
export interface FleetUsage {
  /** Per collector, share of a core. */
  readonly collectorsCore: readonly number[];
  /** redis-server's share of a core. */
  readonly redisCore: number | undefined;
  /** Redis commands per datagram (scripts' own commands included). */
  readonly commandsPerDatagram: number | undefined;
  /** `EVALSHA` round-trip commands per datagram. */
  readonly evalshaPerDatagram: number | undefined;
  /** CPU seconds of every collector and Redis together. */
  readonly cpuSeconds: number;
}

/**
 * What happened between `before` and `after` for `datagrams` datagrams sent in `seconds`
 * (shares of a core are over the sending time).
 *
 * @example
 * ```ts ignore
 * const usage = fleetUsage(before, await fleet.read(), report.sent, report.seconds);
 * ```
 */
export function fleetUsage(
  before: FleetReading,
  after: FleetReading,
  datagrams: number,
  seconds: number,
): FleetUsage {
  const collectors = after.collectorsCpu.map((cpu, i) => cpu - before.collectorsCpu[i]!);
  const redis = after.redisCpu === undefined ? undefined : after.redisCpu - before.redisCpu!;
  const per = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : (a - b) / datagrams;
  return {
    collectorsCore: collectors.map((cpu) => cpu / seconds),
    redisCore: redis === undefined ? undefined : redis / seconds,
    commandsPerDatagram: per(after.redisCommands, before.redisCommands),
    evalshaPerDatagram: per(after.evalshaCalls, before.evalshaCalls),
    cpuSeconds: collectors.reduce((a, b) => a + b, 0) + (redis ?? 0),
  };
}
