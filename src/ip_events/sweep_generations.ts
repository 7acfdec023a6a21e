/**
 * After a reset, the app keys of past generations are never written again (every script reads
 * the generation as it runs); this removes them from the generations' registries
 * (redis_scripts.ts), a page of keys per script call (`UNLINK`: freed off Redis's main thread),
 * so a DELETE of a large state never blocks Redis and never scans keys that are not ours.
 *
 * @module
 */
import { type RedisLink, script } from "./redis_link.ts";
import { generationsKey, SWEEP_SCRIPT } from "./redis_scripts.ts";

const SWEEP = script(SWEEP_SCRIPT);
/** Keys unlinked per script call: short enough not to hold Redis's main thread. */
const PAGE = 500;

/** Options of {@linkcode sweepGenerations}. */
export interface SweepOptions {
  readonly link: RedisLink;
  readonly prefix: string;
  /** Keys of generations below it go. */
  readonly current: number;
  /** Deadline of each command in ms. */
  readonly timeoutMs: number;
  /** Stops between pages (a later reset's sweep takes what is left: it sweeps every past
   * generation still registered). */
  readonly signal?: AbortSignal;
}

/**
 * Unlinks every app key of a generation before `current`; resolves with how many.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { startRedisServer } from "../../tools/ip_events/redis_server.ts";
 * import { openRedisLink, script } from "./redis_link.ts";
 * import { FLUSH_SCRIPT, generationKey, sequenceKey } from "./redis_scripts.ts";
 * import { sweepGenerations } from "./sweep_generations.ts";
 * await using redis = await startRedisServer(); // redis-server on a free loopback port
 * const link = openRedisLink({ url: redis.url });
 * const keys = [generationKey("t"), sequenceKey("t", "i1")];
 * const args = ["t", "1", "0", "60", "ab".repeat(32), "1", "0"]; // one app, generation 0
 * await link.runScripts([{ script: script(FLUSH_SCRIPT), keys, args }], 1000);
 * // The generation-0 hash written above.
 * assert.equal(await sweepGenerations({ link, prefix: "t", current: 1, timeoutMs: 1000 }), 1);
 * await link.close();
 * ```
 */
export async function sweepGenerations(options: SweepOptions): Promise<number> {
  const { link, prefix, current, timeoutMs } = options;
  const members = await link.command(["SMEMBERS", generationsKey(prefix)], timeoutMs);
  const past = [...members as Iterable<string>].map(Number)
    .filter((generation) => Number.isSafeInteger(generation) && generation < current)
    .sort((a, b) => a - b);
  let removed = 0;
  for (const generation of past) {
    for (let done = false; !done;) {
      const call = {
        script: SWEEP,
        keys: [generationsKey(prefix)],
        args: [prefix, String(generation), String(PAGE)],
      };
      const [result] = await link.runScripts([call], timeoutMs);
      if (result!.status === "rejected") throw result!.reason;
      const [unlinked, finished] = result!.value as [number, number];
      removed += Number(unlinked);
      done = Number(finished) === 1;
      // Stopped (closing): what is left stays registered for the next reset's sweep.
      if (!done && options.signal?.aborted) return removed;
    }
  }
  return removed;
}
