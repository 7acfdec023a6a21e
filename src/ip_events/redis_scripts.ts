/**
 * The shared state's layout in Redis and the three Lua scripts over it (flush, read, reset),
 * with the pure encoding of their arguments and decoding of their replies.
 *
 * Keys (every key carries the hash tag `{<prefix>}`, so one Redis Cluster slot holds them all
 * and the scripts may touch keys they compute):
 * - `{p}:gen`: the generation, an integer (absent: 0). `DELETE /events` increments it; every
 *   app key carries it, so a reset is one O(1) step for every instance at once, and the keys of
 *   past generations are swept afterwards (never written again: each script reads the
 *   generation as it runs).
 * - `{p}:g<gen>:<sha>`: the app's hash: field `n` its event count, field `<ip>` (decimal) the
 *   events to that address.
 * - `{p}:seq:<instance>`: the highest flush sequence number applied for one collector instance
 *   (a random id per process), which makes a flush idempotent.
 * - `{p}:apps:<gen>`: the registry of a generation, the set of app shas written in it; and
 *   `{p}:gens`: the set of generations that have a registry. The sweep after a reset reads these
 *   two, so a `DELETE /events` costs what this service's own keys cost, never a `SCAN` of a
 *   keyspace other tenants share (30 DELETEs over 50 000 foreign keys made 1 500 `SCAN` calls
 *   before this registry; none since).
 *
 * A flush sends the instance's aggregate in chunks, each one `EVALSHA` numbered by a sequence
 * of its own (1, 2, …), all in one pipelined round trip. The script applies a chunk only when
 * its number is the next: `seq == max(applied, settled) + 1`, where `settled` is the instance's
 * own word that every lower number is done (acknowledged, or dropped by its DELETE). So a chunk
 * Redis applied but whose reply was lost is a duplicate when it is sent again (`seq ≤ applied`),
 * a chunk behind one that failed is refused (a gap) and sent again in order, and a Redis that
 * lost its data (a restart without persistence) accepts the next chunk instead of refusing it
 * forever.
 *
 * @module
 */

/**
 * The generation key.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { generationKey } from "./redis_scripts.ts";
 * assert.equal(generationKey("edr:ip-events"), "{edr:ip-events}:gen");
 * ```
 */
export function generationKey(prefix: string): string {
  return `{${prefix}}:gen`;
}

/**
 * The applied-sequence key of one instance.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { sequenceKey } from "./redis_scripts.ts";
 * assert.equal(sequenceKey("edr:ip-events", "7f3c"), "{edr:ip-events}:seq:7f3c");
 * ```
 */
export function sequenceKey(prefix: string, instance: string): string {
  return `{${prefix}}:seq:${instance}`;
}

/**
 * The key pattern of every app hash of every generation (for inspection: the service itself
 * never scans for it, it reads the registries).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { appKeyPattern } from "./redis_scripts.ts";
 * assert.equal(appKeyPattern("edr:ip-events"), "{edr:ip-events}:g[0-9]*");
 * ```
 */
export function appKeyPattern(prefix: string): string {
  return `{${prefix}}:g[0-9]*`;
}

/**
 * The set of generations that still have a registry (swept ones are removed from it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { generationsKey } from "./redis_scripts.ts";
 * assert.equal(generationsKey("edr:ip-events"), "{edr:ip-events}:gens");
 * ```
 */
export function generationsKey(prefix: string): string {
  return `{${prefix}}:gens`;
}

/**
 * The registry of one generation: the set of app shas that have a hash in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { registryKey } from "./redis_scripts.ts";
 * assert.equal(registryKey("edr:ip-events", 3), "{edr:ip-events}:apps:3");
 * ```
 */
export function registryKey(prefix: string, generation: number): string {
  return `{${prefix}}:apps:${generation}`;
}

// KEYS[1] generation, KEYS[2] this instance's applied sequence.
// ARGV: prefix, seq, settled, ttl seconds, then per app: sha, count, pairs, (ip, n) × pairs.
// The shebang makes Redis refuse the whole script up front when it is out of memory, rather
// than fail it halfway through its writes.
/**
 * The flush script: applies one chunk if it is the next; replies {status, generation}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { openRedisLink, script } from "./redis_link.ts";
 * import { chunkArguments, FLUSH_SCRIPT, generationKey, sequenceKey } from "./redis_scripts.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * const keys = [generationKey("edr:ip-events"), sequenceKey("edr:ip-events", "i1")];
 * const apps = new Map([["ab", { count: 3, ips: new Map([[1, 2], [2, 1]]) }]]);
 * const args = ["edr:ip-events", "1", "0", "604800", ...chunkArguments(apps)];
 * const flush = { script: script(FLUSH_SCRIPT), keys, args };
 * // Applied, generation 0; the same call again is a duplicate, not applied twice.
 * assert.deepEqual(await link.runScripts([flush], 1000), [{ status: "fulfilled", value: [1, "0"] }]);
 * assert.deepEqual(await link.runScripts([flush], 1000), [{ status: "fulfilled", value: [0, "0"] }]);
 * await link.close();
 * ```
 */
export const FLUSH_SCRIPT = `#!lua
local applied = tonumber(redis.call('GET', KEYS[2]) or '0')
local seq = tonumber(ARGV[2])
local settled = tonumber(ARGV[3])
local gen = redis.call('GET', KEYS[1]) or '0'
if seq <= applied then return {0, gen} end
if seq ~= math.max(applied, settled) + 1 then return {-1, gen} end
local base = '{' .. ARGV[1] .. '}:g' .. gen .. ':'
local registry = '{' .. ARGV[1] .. '}:apps:' .. gen
redis.call('SADD', '{' .. ARGV[1] .. '}:gens', gen)
local i = 5
while i <= #ARGV do
  local key = base .. ARGV[i]
  redis.call('SADD', registry, ARGV[i])
  redis.call('HINCRBY', key, 'n', ARGV[i + 1])
  local last = i + 2 + 2 * tonumber(ARGV[i + 2])
  for j = i + 3, last, 2 do
    redis.call('HINCRBY', key, ARGV[j], ARGV[j + 1])
  end
  i = last + 1
end
redis.call('SET', KEYS[2], seq, 'EX', ARGV[4])
return {1, gen}`;

// KEYS[1] generation, KEYS[2] this instance's applied sequence. ARGV: prefix, sha.
/**
 * The read script: {generation, applied sequence, the app's hash as field, value, …}.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { openRedisLink, script } from "./redis_link.ts";
 * import { generationKey, READ_SCRIPT, sequenceKey } from "./redis_scripts.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * const keys = [generationKey("edr:ip-events"), sequenceKey("edr:ip-events", "i1")];
 * const args = ["edr:ip-events", "ab".repeat(32)];
 * const read = { script: script(READ_SCRIPT), keys, args };
 * // An empty Redis: generation 0, nothing applied, no IPs.
 * assert.deepEqual(await link.runScripts([read], 1000), [
 *   { status: "fulfilled", value: ["0", "0", []] },
 * ]);
 * await link.close();
 * ```
 */
export const READ_SCRIPT = `#!lua flags=no-writes
local gen = redis.call('GET', KEYS[1]) or '0'
local applied = redis.call('GET', KEYS[2]) or '0'
return {gen, applied, redis.call('HGETALL', '{' .. ARGV[1] .. '}:g' .. gen .. ':' .. ARGV[2])}`;

// KEYS[1] generation, KEYS[2] this instance's applied sequence. ARGV: dropped up to, ttl.
/**
 * The reset script: a new generation, and this instance's chunks up to `ARGV[1]` (dropped by
 * the DELETE) marked done so none can ever be applied; replies the new generation.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { openRedisLink, script } from "./redis_link.ts";
 * import { generationKey, RESET_SCRIPT, sequenceKey } from "./redis_scripts.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * const keys = [generationKey("edr:ip-events"), sequenceKey("edr:ip-events", "i1")];
 * const reset = { script: script(RESET_SCRIPT), keys, args: ["0", "604800"] };
 * // An empty Redis goes to generation 1.
 * assert.deepEqual(await link.runScripts([reset], 1000), [{ status: "fulfilled", value: 1 }]);
 * await link.close();
 * ```
 */
export const RESET_SCRIPT = `#!lua
local gen = redis.call('INCR', KEYS[1])
local applied = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('SET', KEYS[2], math.max(applied, tonumber(ARGV[1])), 'EX', ARGV[2])
return gen`;

// KEYS[1] the generations set. ARGV: prefix, generation, keys per call.
/**
 * The sweep script: pops up to `ARGV[3]` shas from a past generation's registry and unlinks
 * their hashes (`UNLINK`: freed off Redis's main thread); once the registry is empty, the
 * generation leaves the generations set. Replies {keys unlinked, 1 when the generation is done}.
 * Popping and unlinking in one script: a failure never forgets a key it did not unlink.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { openRedisLink, script } from "./redis_link.ts";
 * import { generationsKey, SWEEP_SCRIPT } from "./redis_scripts.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * const call = { script: script(SWEEP_SCRIPT), keys: [generationsKey("t")], args: ["t", "0", "500"] };
 * // An empty Redis: nothing unlinked, nothing left of generation 0.
 * assert.deepEqual(await link.runScripts([call], 1000), [{ status: "fulfilled", value: [0, 1] }]);
 * await link.close();
 * ```
 */
export const SWEEP_SCRIPT = `#!lua
local registry = '{' .. ARGV[1] .. '}:apps:' .. ARGV[2]
local shas = redis.call('SPOP', registry, ARGV[3])
if #shas > 0 then
  local keys = {}
  for i, sha in ipairs(shas) do keys[i] = '{' .. ARGV[1] .. '}:g' .. ARGV[2] .. ':' .. sha end
  redis.call('UNLINK', unpack(keys))
end
if redis.call('SCARD', registry) == 0 then
  redis.call('SREM', KEYS[1], ARGV[2])
  return {#shas, 1}
end
return {#shas, 0}`;

/** One app's events not yet in Redis: its count and events per IP. */
export interface AppDelta {
  count: number;
  readonly ips: Map<number, number>;
}

/** What a flush chunk's reply says. */
export type ChunkStatus = "applied" | "duplicate" | "gap";

/**
 * The flush script's arguments after `prefix, seq, settled, ttl` for a chunk of apps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chunkArguments } from "./redis_scripts.ts";
 * // App ab: 3 events; one address (1) seen twice.
 * assert.deepEqual(chunkArguments(new Map([["ab", { count: 3, ips: new Map([[1, 2]]) }]])), [
 *   "ab", "3", "1", "1", "2",
 * ]);
 * ```
 */
export function chunkArguments(apps: ReadonlyMap<string, AppDelta>): string[] {
  const args: string[] = [];
  for (const [sha, delta] of apps) {
    args.push(sha, String(delta.count), String(delta.ips.size));
    for (const [ip, n] of delta.ips) args.push(String(ip), String(n));
  }
  return args;
}

/**
 * Decodes the flush script's reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseFlushReply } from "./redis_scripts.ts";
 * assert.deepEqual(parseFlushReply([1, "4"]), { status: "applied", generation: 4 });
 * ```
 */
export function parseFlushReply(reply: unknown): { status: ChunkStatus; generation: number } {
  if (!Array.isArray(reply) || reply.length !== 2) {
    throw new Error(`unexpected flush reply ${JSON.stringify(reply)}`);
  }
  const code = Number(reply[0]);
  const status = code === 1 ? "applied" : code === 0 ? "duplicate" : code === -1 ? "gap" : null;
  if (status === null) throw new Error(`unexpected flush status ${JSON.stringify(reply[0])}`);
  return { status, generation: Number(reply[1]) };
}

/** The read script's reply, decoded. */
export interface ReadReply {
  readonly generation: number;
  /** The highest of this instance's chunks Redis applied. */
  readonly applied: number;
  readonly count: number;
  readonly ips: Map<number, number>;
}

/**
 * Decodes the read script's reply.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseReadReply } from "./redis_scripts.ts";
 * assert.equal(parseReadReply(["2", "7", ["n", "3", "167772161", "3"]]).count, 3);
 * ```
 */
export function parseReadReply(reply: unknown): ReadReply {
  if (!Array.isArray(reply) || reply.length !== 3 || !Array.isArray(reply[2])) {
    throw new Error(`unexpected read reply ${JSON.stringify(reply)}`);
  }
  const fields = reply[2] as unknown[];
  let count = 0;
  const ips = new Map<number, number>();
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const field = String(fields[i]);
    const value = Number(fields[i + 1]);
    if (field === "n") count = value;
    else ips.set(Number(field), value);
  }
  return { generation: Number(reply[0]), applied: Number(reply[1]), count, ips };
}
