/**
 * The netblock rule: an app normally talks to the 14 hosts of one /28 (network + 1 … network +
 * 14). Its /28 is the one holding the most distinct observed host addresses (ties: more events
 * to those hosts, then the lower block); `good_ips` are all 14 hosts of it, seen or not, and
 * `bad_ips` every other distinct observed address, the block's network and broadcast addresses
 * included. Addresses are plain numbers 0 .. 2^32 − 1: no signed 32-bit arithmetic (`%` and `-`,
 * never `&` or `>>`), since half of all IPv4 addresses are ≥ 2^31.
 *
 * @module
 */

/** The answer for one app, as `GET /events/:app_sha256` returns it. */
export interface AppAnswer {
  /** Every event counted for the app, good or bad IP. */
  readonly count: number;
  /** The 14 hosts of the app's /28, ascending (empty when the app has no event). */
  readonly good_ips: readonly string[];
  /** Every other distinct observed address, ascending. */
  readonly bad_ips: readonly string[];
}

/** The answer for an app with no event. */
export const NO_EVENTS: AppAnswer = Object.freeze({ count: 0, good_ips: [], bad_ips: [] });

/** The number of host addresses in a /28 (16 minus network and broadcast). */
const HOSTS_PER_BLOCK = 14;

/**
 * Formats an address given as an unsigned 32-bit number as a dotted quad.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatIpv4 } from "./netblock.ts";
 * assert.equal(formatIpv4(4294967295), "255.255.255.255");
 * ```
 */
export function formatIpv4(ip: number): string {
  return `${Math.floor(ip / 16777216)}.${Math.floor(ip / 65536) % 256}.${
    Math.floor(ip / 256) % 256
  }.${ip % 256}`;
}

/**
 * Parses a dotted quad into an unsigned 32-bit number, or `undefined` when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseIpv4 } from "./netblock.ts";
 * assert.equal(parseIpv4("192.168.0.1"), 3232235521);
 * ```
 */
export function parseIpv4(text: string): number | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((ip, octet) => ip * 256 + octet, 0);
}

/**
 * The network address of the /28 holding `ip`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blockOf } from "./netblock.ts";
 * // 255.255.255.240
 * assert.equal(blockOf(4294967295), 4294967280);
 * ```
 */
export function blockOf(ip: number): number {
  return ip - (ip % 16);
}

/**
 * The app's /28: the network address of the block with the most distinct observed hosts, then
 * the most events to them, then the lowest; `undefined` when `ips` is empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { chooseBlock } from "./netblock.ts";
 * assert.equal(chooseBlock(new Map([[17, 1], [18, 1], [33, 5]])), 16);
 * ```
 */
export function chooseBlock(ips: ReadonlyMap<number, number>): number | undefined {
  const blocks = new Map<number, { hosts: number; events: number }>();
  for (const [ip, events] of ips) {
    const block = blockOf(ip);
    let score = blocks.get(block);
    if (!score) blocks.set(block, score = { hosts: 0, events: 0 });
    if (isHost(ip)) {
      score.hosts += 1;
      score.events += events;
    }
  }
  let best: number | undefined;
  let bestScore = { hosts: -1, events: -1 };
  for (const [block, score] of blocks) {
    const better = score.hosts !== bestScore.hosts
      ? score.hosts > bestScore.hosts
      : score.events !== bestScore.events
      ? score.events > bestScore.events
      : block < best!;
    if (better) {
      best = block;
      bestScore = score;
    }
  }
  return best;
}

/**
 * The answer for an app from its event count and its observed addresses (address → events).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerFor } from "./netblock.ts";
 * // 192.168.0.1 seen twice, 10.0.0.0 once.
 * const answer = answerFor(3, new Map([[3232235521, 2], [167772160, 1]]));
 * assert.equal(answer.good_ips[0], "192.168.0.1");
 * assert.equal(answer.good_ips.at(-1), "192.168.0.14");
 * assert.deepEqual(answer.bad_ips, ["10.0.0.0"]);
 * ```
 */
export function answerFor(count: number, ips: ReadonlyMap<number, number>): AppAnswer {
  const block = chooseBlock(ips);
  if (count === 0 && block === undefined) return NO_EVENTS;
  const good: string[] = [];
  if (block !== undefined) {
    for (let host = 1; host <= HOSTS_PER_BLOCK; host++) good.push(formatIpv4(block + host));
  }
  const bad = [...ips.keys()]
    .filter((ip) => !(block !== undefined && blockOf(ip) === block && isHost(ip)))
    .sort((a, b) => a - b)
    .map(formatIpv4);
  return { count, good_ips: good, bad_ips: bad };
}

function isHost(ip: number): boolean {
  const offset = ip % 16;
  return offset !== 0 && offset !== 15;
}
