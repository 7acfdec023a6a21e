/**
 * Reads a V8 `.cpuprofile` (what `deno run --cpu-prof` writes; `bench:e2e --cpu-prof DIR` makes
 * one of the service) and prints where the time went: self time per function, then per package.
 *
 * ```sh
 * deno task bench:e2e --count 20000 --no-references --cpu-prof .bench/prof
 * deno run --allow-read bench/submissions/profile_top.ts .bench/prof/*.cpuprofile [--top 30]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";

/** The parts of the `.cpuprofile` JSON used here. */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly lineNumber?: number;
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Self time in microseconds by key, largest first. */
export function selfTimes(
  profile: CpuProfile,
  keyOf: (frame: { functionName: string; url: string }) => string,
): [string, number][] {
  const perNode = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    perNode.set(id, (perNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const perKey = new Map<string, number>();
  for (const node of profile.nodes) {
    const us = perNode.get(node.id);
    if (us === undefined) continue;
    const key = keyOf(node.callFrame);
    perKey.set(key, (perKey.get(key) ?? 0) + us);
  }
  return [...perKey].sort((a, b) => b[1] - a[1]);
}

/** `npm:@smithy/core`, `src/submissions/codec.ts`, `deno runtime`, or V8's own entries as they are. */
function packageOf({ functionName, url }: { functionName: string; url: string }): string {
  const npm = /registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (npm !== undefined) return `npm:${npm}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return "deno runtime";
  if (url.startsWith("file://")) {
    return url.slice(url.lastIndexOf("/", url.lastIndexOf("/") - 1) + 1);
  }
  return functionName === "" ? "(native)" : functionName;
}

function functionOf({ functionName, url }: { functionName: string; url: string }): string {
  const where = url.replace(/^.*registry\.npmjs\.org\//, "npm:").replace(
    /^file:\/\/.*?\/(src|bench|tools)\//,
    "$1/",
  );
  return `${functionName || "(anonymous)"}${where ? `  ${where}` : ""}`;
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    options: { top: { type: "string" } },
    allowPositionals: true,
  });
  const top = Number(values.top ?? 25);
  for (const path of positionals) {
    const profile = JSON.parse(await Deno.readTextFile(path)) as CpuProfile;
    const total = profile.timeDeltas.reduce((a, b) => a + b, 0);
    const line = ([key, us]: [string, number]) =>
      `${(us / 1000).toFixed(0).padStart(7)} ms ${
        ((100 * us) / total).toFixed(1).padStart(5)
      } %  ${key}`;
    console.log(`${path}: ${(total / 1e6).toFixed(1)} s sampled ("(idle)" is time waiting)\n`);
    console.log("by function (self time):");
    for (const entry of selfTimes(profile, functionOf).slice(0, top)) console.log(line(entry));
    console.log("\nby package (self time):");
    for (const entry of selfTimes(profile, packageOf).slice(0, 15)) console.log(line(entry));
  }
}
