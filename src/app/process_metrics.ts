/**
 * The process and runtime metrics under their standard names (`process_*` as every Prometheus
 * client library writes them, `nodejs_*` as prom-client names V8's figures), so stock dashboards
 * find them. Each is read at scrape time from one cheap synchronous call: no timers, no
 * event-loop monitor, no GC observer running on the event loop the UDP receiver shares (which
 * prom-client's `collectDefaultMetrics` would start; its RSS reading is also 0 under Deno).
 * `process_open_fds` and `process_max_fds` appear only when `/proc/self` may be read (Deno wants
 * every permission for it: `--allow-all`).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { registerProcessMetrics } from "./process_metrics.ts";
 *
 * const registry = new Registry();
 * registerProcessMetrics(registry);
 * const text = await registry.metrics();
 * assert.match(text, /^process_resident_memory_bytes [1-9]\d*$/m);
 * assert.match(text, /^process_cpu_seconds_total \d/m);
 * ```
 *
 * @module
 */
import process from "node:process";
import v8 from "node:v8";
import client from "prom-client";

/** Open file descriptors now (`/proc/self/fd` entries). */
function openFds(): number {
  let count = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
  return count;
}

/** The soft limit on open files from `/proc/self/limits`. */
function maxFds(): number {
  const text = Deno.readTextFileSync("/proc/self/limits");
  const match = /^Max open files\s+(\d+)/m.exec(text);
  if (!match) throw new Error("no Max open files line");
  return Number(match[1]);
}

/**
 * The descriptor figures when `/proc/self` can be read here: Deno asks for more than
 * `--allow-read` there (all permissions), and `deno task start` grants neither.
 */
function fdReaders(): { openFds: () => number; maxFds: number } | undefined {
  if (Deno.permissions.querySync({ name: "read", path: "/proc/self" }).state !== "granted") {
    return undefined;
  }
  try {
    openFds();
    return { openFds, maxFds: maxFds() };
  } catch {
    return undefined;
  }
}

/**
 * Registers the process and runtime metrics on `registry`.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { registerProcessMetrics } from "./process_metrics.ts";
 *
 * const registry = new Registry();
 * registerProcessMetrics(registry);
 * const start = await registry.getSingleMetricAsString("process_start_time_seconds");
 * const seconds = Number(start.split("\n").at(-1)!.split(" ")[1]);
 * assert.ok(Math.abs(seconds - Date.now() / 1000) < 3600);
 * ```
 */
export function registerProcessMetrics(registry: client.Registry): void {
  const registers = [registry];
  const cpu = () => process.cpuUsage();
  new client.Counter({
    name: "process_cpu_user_seconds_total",
    help: "Total user CPU time spent in seconds",
    registers,
    collect() {
      this.reset();
      this.inc(cpu().user / 1e6);
    },
  });
  new client.Counter({
    name: "process_cpu_system_seconds_total",
    help: "Total system CPU time spent in seconds",
    registers,
    collect() {
      this.reset();
      this.inc(cpu().system / 1e6);
    },
  });
  new client.Counter({
    name: "process_cpu_seconds_total",
    help: "Total user and system CPU time spent in seconds",
    registers,
    collect() {
      const { user, system } = cpu();
      this.reset();
      this.inc((user + system) / 1e6);
    },
  });
  const startSeconds = performance.timeOrigin / 1000;
  new client.Gauge({
    name: "process_start_time_seconds",
    help: "Start time of the process since unix epoch in seconds",
    registers,
    collect() {
      this.set(startSeconds);
    },
  });
  const memoryGauge = (name: string, help: string, key: keyof Deno.MemoryUsage) =>
    new client.Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(Deno.memoryUsage()[key]);
      },
    });
  memoryGauge("process_resident_memory_bytes", "Resident memory size in bytes", "rss");
  memoryGauge("nodejs_heap_size_total_bytes", "V8 heap size committed in bytes", "heapTotal");
  memoryGauge("nodejs_heap_size_used_bytes", "V8 heap size used in bytes", "heapUsed");
  memoryGauge("nodejs_external_memory_bytes", "Memory of objects bound to V8 objects", "external");
  new client.Gauge({
    name: "nodejs_heap_space_size_total_bytes",
    help: "V8 heap space size committed in bytes, by space",
    labelNames: ["space"] as const,
    registers,
    collect() {
      for (const space of v8.getHeapSpaceStatistics()) {
        this.set({ space: space.space_name.replace(/_space$/, "") }, space.space_size);
      }
    },
  });
  const fds = fdReaders();
  if (fds) {
    new client.Gauge({
      name: "process_open_fds",
      help: "Number of open file descriptors",
      registers,
      collect() {
        this.set(fds.openFds());
      },
    });
    new client.Gauge({
      name: "process_max_fds",
      help: "Maximum number of open file descriptors",
      registers,
      collect() {
        this.set(fds.maxFds);
      },
    });
  }
}
