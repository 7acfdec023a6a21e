/**
 * After a reset, the app keys of past generations are never written again (every script reads
 * the generation as it runs); this removes them a `SCAN` page at a time (`UNLINK`: freed off
 * Redis's main thread), so a DELETE of a large state never blocks Redis.
 *
 * @module
 */
import type { RedisLink } from "./redis_link.ts";
import { appKeyPattern, generationOfKey } from "./redis_scripts.ts";

/** Options of {@linkcode sweepGenerations}. */
export interface SweepOptions {
  readonly link: RedisLink;
  readonly prefix: string;
  /** Keys of generations below it go. */
  readonly current: number;
  /** Deadline of each command in ms. */
  readonly timeoutMs: number;
  /** Stops between pages (a later reset's sweep takes what is left). */
  readonly signal?: AbortSignal;
}

/**
 * Unlinks every app key of a generation before `current`; resolves with how many.
 *
 * @example
 * ```ts
 * import { openRedisLink } from "./redis_link.ts";
 * import { sweepGenerations } from "./sweep_generations.ts";
 * const link = openRedisLink({ url: "redis://127.0.0.1:6379" });
 * await link.command(["HSET", `{edr:ip-events}:g1:${"ab".repeat(32)}`, "n", "1"], 1000);
 * await sweepGenerations({ link, prefix: "edr:ip-events", current: 3, timeoutMs: 1000 });
 * // → 1 on an empty Redis: the generation-1 key above
 * await link.close();
 * ```
 */
export async function sweepGenerations(options: SweepOptions): Promise<number> {
  const { link, prefix, current, timeoutMs } = options;
  let cursor = "0";
  let removed = 0;
  do {
    const reply = await link.command(
      ["SCAN", cursor, "MATCH", appKeyPattern(prefix), "COUNT", "1000"],
      timeoutMs,
    ) as [string, string[]];
    cursor = String(reply[0]);
    const old = reply[1].filter((key) => {
      const generation = generationOfKey(prefix, key);
      return generation !== undefined && generation < current;
    });
    if (old.length > 0) removed += Number(await link.command(["UNLINK", ...old], timeoutMs));
  } while (cursor !== "0" && !options.signal?.aborted);
  return removed;
}
