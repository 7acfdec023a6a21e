/**
 * The machine a benchmark runs on: one line for the report's head, the load average, and the
 * CPU the whole machine has used (to tell how much other work shared it with the measurement).
 *
 * ```ts
 * import { machineBusySeconds, machineLine } from "./machine.ts";
 *
 * console.log(machineLine()); // "2 cores, 23.5 GiB RAM, deno 2.9.6, load average 0.52 0.40 0.31"
 * const busy = await machineBusySeconds();
 * ```
 *
 * @module
 */
import { CLOCK_TICKS } from "./proc_sampler.ts";

/**
 * One line about the machine, for the report's head.
 *
 * @example
 * ```ts
 * import { machineLine } from "./machine.ts";
 *
 * console.log(`# bench:e2e — ${machineLine()}`);
 * ```
 */
export function machineLine(): string {
  const memory = `${(Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1)} GiB`;
  return `${navigator.hardwareConcurrency} cores, ${memory} RAM, deno ${Deno.version.deno}, ` +
    `load average ${loadAverage()}`;
}

/**
 * The load averages (1, 5, 15 min).
 *
 * @example
 * ```ts
 * import { loadAverage } from "./machine.ts";
 *
 * loadAverage(); // "0.52 0.40 0.31"
 * ```
 */
export function loadAverage(): string {
  return Deno.loadavg().map((n) => n.toFixed(2)).join(" ");
}

/**
 * CPU seconds the whole machine has spent busy since boot (all cores; /proc/stat's first line
 * minus idle and iowait). Compared with our own processes' CPU over a run, it tells how much
 * other work (another engineer's test suite) shared the machine with the measurement.
 *
 * @example
 * ```ts
 * import { machineBusySeconds } from "./machine.ts";
 *
 * const before = await machineBusySeconds();
 * // ... the run ...
 * const busy = (await machineBusySeconds()) - before; // CPU seconds, every process
 * ```
 */
export async function machineBusySeconds(): Promise<number> {
  const output = await new Deno.Command("cat", {
    args: ["/proc/stat"],
    stdin: "null",
    stderr: "null",
  }).output();
  const line = new TextDecoder().decode(output.stdout).split("\n")[0] ?? "";
  const [, ...fields] = line.trim().split(/\s+/);
  const ticks = fields.slice(0, 8).map(Number);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return (ticks.reduce((a, b) => a + b, 0) - idle) / CLOCK_TICKS;
}
