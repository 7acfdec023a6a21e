/**
 * Which Redis client for the collector's flushes: `npm:redis` 6 (node-redis) or `npm:ioredis`
 * 5, under this Deno, against a real redis-server on loopback. A flush is one pipelined round
 * trip; two shapes of it are measured:
 *
 * - `hincrby`: one `HINCRBY` per (app, IP) pair plus one per app's total, pipelined (what a
 *   flush without a script sends);
 * - `evalsha`: one `EVALSHA` per chunk of pairs, its arguments the pairs (what the store
 *   sends: a batch id checked and the increments applied inside one script).
 *
 * Each shape runs `--flushes` flushes of `--pairs` pairs over `--apps` apps, for each client in
 * turn, `--rounds` times, and prints increments per second and this process's CPU per 10 000
 * increments (the client's cost; Redis's own CPU is printed beside it).
 *
 *   deno task bench:ip-events:redis-client [--pairs 1000] [--apps 100] [--flushes 300] [--rounds 3]
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { createClient } from "@redis/client";
import { Redis } from "npm:ioredis@5.11.1"; // this benchmark only: not in the import map
import { startRedisServer } from "../../tools/ip_events/redis_server.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    pairs: { type: "string", default: "1000" },
    apps: { type: "string", default: "100" },
    flushes: { type: "string", default: "300" },
    rounds: { type: "string", default: "3" },
  },
});
const PAIRS = Number(values.pairs);
const APPS = Number(values.apps);
const FLUSHES = Number(values.flushes);
const ROUNDS = Number(values.rounds);
const CHUNK = 500;

// The script's work mirrors the store's: per app, its total and its (IP, n) pairs.
const SCRIPT = `
local i = 1
while i <= #ARGV do
  local key = ARGV[i]
  local pairs = tonumber(ARGV[i + 1])
  local total = 0
  for j = 0, pairs - 1 do
    local n = tonumber(ARGV[i + 3 + 2 * j])
    redis.call('HINCRBY', key, ARGV[i + 2 + 2 * j], n)
    total = total + n
  end
  redis.call('HINCRBY', key, 'n', total)
  i = i + 2 + 2 * pairs
end
return 1`;

/** One app's share of a flush: its key and its (IP, count) pairs. */
interface AppBatch {
  readonly key: string;
  readonly pairs: readonly [string, string][];
}

function makeFlush(seed: number): AppBatch[] {
  const apps: AppBatch[] = [];
  const perApp = Math.ceil(PAIRS / APPS);
  for (let a = 0; a < APPS; a++) {
    const pairs: [string, string][] = [];
    for (let p = 0; p < perApp && a * perApp + p < PAIRS; p++) {
      pairs.push([String((seed * 7919 + a * 131 + p) % 4_294_967_296), String(1 + (p % 3))]);
    }
    apps.push({ key: `bench:app:${a}`, pairs });
  }
  return apps;
}

function scriptArgs(apps: readonly AppBatch[]): string[][] {
  const chunks: string[][] = [];
  let current: string[] = [];
  for (const app of apps) {
    current.push(app.key, String(app.pairs.length));
    for (const [ip, n] of app.pairs) current.push(ip, n);
    if (current.length >= CHUNK * 2) {
      chunks.push(current);
      current = [];
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

interface Client {
  readonly name: string;
  hincrby(apps: readonly AppBatch[]): Promise<void>;
  evalsha(sha: string, chunks: readonly string[][]): Promise<void>;
  load(script: string): Promise<string>;
  info(): Promise<string>;
  flushdb(): Promise<void>;
  close(): Promise<void>;
}

async function nodeRedis(url: string): Promise<Client> {
  const client = createClient({ url, disableOfflineQueue: true });
  await client.connect();
  return {
    name: "redis 6.3.1",
    async hincrby(apps) {
      const multi = client.multi();
      for (const app of apps) {
        let total = 0;
        for (const [ip, n] of app.pairs) {
          multi.hIncrBy(app.key, ip, Number(n));
          total += Number(n);
        }
        multi.hIncrBy(app.key, "n", total);
      }
      await multi.execAsPipeline();
    },
    async evalsha(sha, chunks) {
      const multi = client.multi();
      for (const args of chunks) multi.evalSha(sha, { arguments: args });
      await multi.execAsPipeline();
    },
    load: (script) => client.scriptLoad(script),
    info: () => client.info("cpu"),
    flushdb: async () => void await client.flushDb(),
    close: async () => void await client.close(),
  };
}

async function ioRedis(url: string): Promise<Client> {
  const client = new Redis(url, { enableOfflineQueue: true, lazyConnect: true });
  await client.connect();
  return {
    name: "ioredis 5.11.1",
    async hincrby(apps) {
      const pipeline = client.pipeline();
      for (const app of apps) {
        let total = 0;
        for (const [ip, n] of app.pairs) {
          pipeline.hincrby(app.key, ip, Number(n));
          total += Number(n);
        }
        pipeline.hincrby(app.key, "n", total);
      }
      await pipeline.exec();
    },
    async evalsha(sha, chunks) {
      const pipeline = client.pipeline();
      for (const args of chunks) pipeline.evalsha(sha, 0, ...args);
      await pipeline.exec();
    },
    load: async (script) => String(await client.script("LOAD", script)),
    info: () => client.info("cpu"),
    flushdb: async () => void await client.flushdb(),
    close: async () => void await client.quit(),
  };
}

function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Redis's own CPU (`INFO cpu`: user and system seconds of the server process), in ms. */
async function redisCpuMs(client: Client): Promise<number> {
  const info = await client.info();
  const field = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(info)![1]);
  return (field("used_cpu_user") + field("used_cpu_sys")) * 1000;
}

interface Figure {
  readonly perSecond: number;
  readonly cpuPer10k: number;
  readonly redisCpuPer10k: number;
}

async function measure(
  client: Client,
  shape: "hincrby" | "evalsha",
  sha: string,
): Promise<Figure> {
  const flushes = Array.from({ length: 16 }, (_, i) => makeFlush(i));
  const chunks = flushes.map(scriptArgs);
  const increments = FLUSHES * (PAIRS + APPS);
  await client.flushdb();
  const started = performance.now();
  const cpu = cpuMs();
  const redisCpu = await redisCpuMs(client);
  for (let i = 0; i < FLUSHES; i++) {
    if (shape === "hincrby") await client.hincrby(flushes[i % 16]!);
    else await client.evalsha(sha, chunks[i % 16]!);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    perSecond: increments / seconds,
    cpuPer10k: (cpuMs() - cpu) / increments * 10_000,
    redisCpuPer10k: (await redisCpuMs(client) - redisCpu) / increments * 10_000,
  };
}

await using redis = await startRedisServer();
const clients = [await nodeRedis(redis.url), await ioRedis(redis.url)];
const sha = await clients[0]!.load(SCRIPT);
await clients[1]!.load(SCRIPT);
const results = new Map<string, Figure[]>();
try {
  for (const client of clients) {
    for (const shape of ["hincrby", "evalsha"] as const) {
      await measure(client, shape, sha); // warm-up
    }
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const client of clients) {
      for (const shape of ["hincrby", "evalsha"] as const) {
        const key = `${client.name} ${shape}`;
        const figure = await measure(client, shape, sha);
        results.set(key, [...results.get(key) ?? [], figure]);
      }
    }
  }
} finally {
  for (const client of clients) await client.close();
}

console.log(
  `${FLUSHES} flushes of ${PAIRS} (app, IP) pairs over ${APPS} apps (+ ${APPS} totals), ` +
    `one pipelined round trip each; ${ROUNDS} rounds, median [min–max]`,
);
console.log(
  "| client | flush shape | increments/s | client CPU ms / 10 000 | redis CPU ms / 10 000 |",
);
console.log("|---|---|---|---|---|");
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const span = (xs: number[], digits: number) =>
  `${median(xs).toFixed(digits)} [${Math.min(...xs).toFixed(digits)}–${
    Math.max(...xs).toFixed(digits)
  }]`;
for (const [key, figures] of results) {
  const [name, shape] = [key.slice(0, key.lastIndexOf(" ")), key.slice(key.lastIndexOf(" ") + 1)];
  console.log(
    `| ${name} | ${shape} | ${span(figures.map((f) => Math.round(f.perSecond)), 0)} | ${
      span(figures.map((f) => f.cpuPer10k), 1)
    } | ${span(figures.map((f) => f.redisCpuPer10k), 1)} |`,
  );
}
