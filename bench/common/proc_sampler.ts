/**
 * A process's RSS and CPU time, read from /proc while a benchmark runs: one reading
 * ({@linkcode readProc}) or a reading every few hundred milliseconds ({@linkcode ProcSampler}).
 *
 * ```ts
 * import { ProcSampler, readProc } from "./proc_sampler.ts";
 *
 * const sampler = new ProcSampler(Deno.pid, 250);
 * // ... the run ...
 * sampler.stop();
 * console.log(sampler.peakRssBytes, (await readProc(Deno.pid))?.cpuSeconds);
 * ```
 *
 * @module
 */

/**
 * Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux).
 *
 * @example
 * ```ts
 * import { CLOCK_TICKS } from "./proc_sampler.ts";
 *
 * const cpuSeconds = (250 + 50) / CLOCK_TICKS; // utime + stime of /proc/<pid>/stat: 3 s
 * ```
 */
export const CLOCK_TICKS = 100;

/** One reading of a process. */
export interface ProcSample {
  /** Epoch milliseconds. */
  readonly at: number;
  /** Resident set size in bytes (VmRSS). */
  readonly rssBytes: number;
  /** User plus system CPU time so far, in seconds. */
  readonly cpuSeconds: number;
}

/**
 * Reads a process's VmRSS and utime+stime; `undefined` once it is gone. Deno lets only
 * `--allow-all` read /proc directly, so `cat` (under `--allow-run`) reads it for us: about a
 * millisecond of CPU per sample.
 *
 * @example
 * ```ts
 * import { readProc } from "./proc_sampler.ts";
 *
 * const sample = await readProc(Deno.pid);
 * console.log(sample?.rssBytes, sample?.cpuSeconds);
 * ```
 */
export async function readProc(pid: number): Promise<ProcSample | undefined> {
  try {
    const output = await new Deno.Command("cat", {
      args: [`/proc/${pid}/status`, `/proc/${pid}/stat`],
      stdin: "null",
      stderr: "null",
    }).output();
    if (!output.success) return undefined;
    const text = new TextDecoder().decode(output.stdout);
    const rssKb = Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? NaN);
    // /proc/<pid>/stat is the last line; the command name (2nd field) may hold spaces, so count
    // fields after its closing parenthesis: utime and stime are the 14th and 15th fields.
    const stat = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const utime = Number(stat[11]);
    const stime = Number(stat[12]);
    if (!Number.isFinite(rssKb) || !Number.isFinite(utime)) return undefined;
    return { at: Date.now(), rssBytes: rssKb * 1024, cpuSeconds: (utime + stime) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * Samples a process every `intervalMs` until stopped.
 *
 * @example
 * ```ts
 * import { ProcSampler } from "./proc_sampler.ts";
 *
 * const sampler = new ProcSampler(Deno.pid, 100);
 * await new Promise((resolve) => setTimeout(resolve, 500));
 * sampler.stop();
 * console.log(sampler.samples.length, sampler.peakRssBytes);
 * ```
 */
export class ProcSampler {
  readonly #pid: number;
  readonly #timer: ReturnType<typeof setInterval>;
  #busy = false;
  /** Every sample taken, in order. */
  readonly samples: ProcSample[] = [];

  /** Starts sampling `pid` (`Deno.pid` for this process) at once. */
  constructor(pid: number, intervalMs = 250) {
    this.#pid = pid;
    this.#timer = setInterval(() => {
      // A slow sample (busy machine) is skipped rather than queued behind.
      if (this.#busy) return;
      this.#busy = true;
      this.sample().finally(() => this.#busy = false);
    }, intervalMs);
  }

  /** Takes one sample now (also called by the timer); returns it. */
  async sample(): Promise<ProcSample | undefined> {
    const sample = await readProc(this.#pid);
    if (sample !== undefined) this.samples.push(sample);
    return sample;
  }

  /** The highest RSS seen, in bytes. */
  get peakRssBytes(): number {
    return this.samples.reduce((max, s) => Math.max(max, s.rssBytes), 0);
  }

  /** Stops the timer. */
  stop(): void {
    clearInterval(this.#timer);
  }
}
