/**
 * What `POST /scans` refuses to watch. Literals and reserved names are judged as given (no
 * DNS): what can never be public. For the probe (which connects from here), names are also
 * resolved, many at once within a budget: a name that resolves to a loopback or private
 * address now is refused at watch time, with a reason that never names the address (internal
 * DNS enumeration). A name that does not resolve, or not within the budget, is accepted and
 * judged again at every scan (DNS answers change): a watched name that comes to resolve to a
 * non-public address is refused then and backs off in the scheduler (scheduler.ts).
 *
 * @module
 */
import pLimit from "p-limit";
import { describeRange, guardNeverPublic, guardTarget, type Resolver } from "./address_guard.ts";
import type { HostKind } from "./target.ts";

/** One host of a `POST /scans`, already validated. */
export interface WatchCandidate {
  readonly host: string;
  readonly kind: HostKind;
}

/** Options of {@linkcode refuseToWatch}. */
export interface WatchGuardOptions {
  /** Resolve names here (the probe), or judge them only by name (SSL Labs). */
  readonly resolveNames: boolean;
  /** The resolver. Default: the system's. */
  readonly resolve?: Resolver | undefined;
  /** Names resolved at once. Default 32. */
  readonly concurrency?: number;
  /** Deadline of one resolution, ms. Default 2 000. */
  readonly timeoutMs?: number;
  /** Deadline of all of them, ms: names not judged by then are accepted. Default 10 000. */
  readonly budgetMs?: number;
}

/**
 * The refusal of each candidate that must not be watched, by its index in `candidates`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseToWatch } from "./watch_guard.ts";
 * const resolve = (host: string) =>
 *   Promise.resolve(host === "intranet.example" ? ["10.1.2.3"] : ["93.184.215.14"]);
 * const refused = await refuseToWatch([
 *   { host: "127.0.0.1", kind: "ipv4" },
 *   { host: "intranet.example", kind: "name" },
 *   { host: "www.example", kind: "name" },
 * ], { resolveNames: true, resolve });
 * assert.deepEqual([...refused], [
 *   [0, "refused: 127.0.0.1 is a loopback address"],
 *   [1, "refused: it resolves to an address that is not public"],
 * ]);
 * ```
 */
export async function refuseToWatch(
  candidates: readonly WatchCandidate[],
  options: WatchGuardOptions,
): Promise<Map<number, string>> {
  const refused = new Map<number, string>();
  const names: number[] = [];
  for (const [index, { host, kind }] of candidates.entries()) {
    const verdict = guardNeverPublic(host, kind);
    if (verdict.kind === "refused") {
      refused.set(
        index,
        `refused: ${verdict.address} is a ${describeRange(verdict.range)} address`,
      );
    } else if (kind === "name") names.push(index);
  }
  if (!options.resolveNames || names.length === 0) return refused;
  const limit = pLimit(options.concurrency ?? 32);
  const budget = AbortSignal.timeout(options.budgetMs ?? 10_000);
  await Promise.all(names.map((index) =>
    limit(async () => {
      if (budget.aborted) return; // out of budget: judged when scanned
      const verdict = await guardTarget(candidates[index]!.host, {
        allowPrivate: false,
        kind: "name",
        timeoutMs: options.timeoutMs ?? 2_000,
        resolve: options.resolve,
      });
      if (verdict.kind === "refused") {
        refused.set(index, "refused: it resolves to an address that is not public");
      }
    })
  ));
  return new Map([...refused].sort(([a], [b]) => a - b));
}
