/**
 * End-to-end throughput: the local stack in this process, N fleet submissions preloaded into the
 * queue, the service as a subprocess draining them into the stream. Next to it, on the same
 * data, two references: a naive consumer (receive 10 → one `PutRecord` per event in order →
 * `DeleteMessage` each) and the emulator's ceiling (a bare loop of full 500-record `PutRecords`,
 * no SQS, in a subprocess of its own like the service; one call at a time as specified, and four
 * at a time, which saturates the emulator).
 *
 * ```sh
 * deno task bench:e2e                              # 20 000 submissions, ours + both references
 * deno task bench:e2e --sweep                      # WORKERS × SQS_MAX_MESSAGES curve
 * deno task bench:e2e --error-probability 0.1      # ours without and with injected errors
 * deno task bench:e2e --throttle --no-references   # a stream throttled like Kinesis: the shard
 *                                                  # limiter off (today) and on, side by side
 * deno task bench:e2e --env PUBLISH_LINGER_MS=20   # any service setting
 * deno task bench:e2e --cpu-prof .bench/prof       # V8 CPU profile of the service
 * ```
 *
 * Every run checks the stream against the fleet's manifest (all events present, in order
 * within each submission) and prints figures; nothing fails on speed.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fixed, int, table } from "../common/figures.ts";
import { runBench } from "../common/lifecycle.ts";
import { loadAverage, machineLine } from "../common/machine.ts";
import { envFlags, generateData } from "./_harness.ts";
import { type OursResult, runOurs, runRepeated } from "./e2e_run.ts";
import { oursRows, sqsBreakdown, throttleRows } from "./e2e_tables.ts";
import { type ReferenceResult, runCeiling, runNaive } from "./references.ts";

const USAGE = `Usage: deno task bench:e2e [options]

  --count N                 submissions to preload (default 20000; 5000 with --sweep)
  --seed N                  fleet seed (default 7)
  --workers N               WORKERS of the service (default: the service's default)
  --max-messages N          SQS_MAX_MESSAGES of the service (default: the service's default)
  --env KEY=VALUE           any other service setting (repeatable)
  --error-probability P     also run with KINESIS_ERROR_PROBABILITY=P, next to the no-fault run
  --throttle                the stream throttles per shard like Kinesis (1 000 records/s,
                            1 MiB/s): ours with the shard limiter off (KINESIS_SHARD_RATE_LIMIT=0,
                            as before it) and on (the default), side by side. Without it
                            the emulator has no limits and the service runs with the limiter
                            off (its own ceiling; --env KINESIS_SHARD_RATE_LIMIT=100 to change)
  --sweep                   vary WORKERS (1,2,4,8) × SQS_MAX_MESSAGES (1,5,10); no references
  --no-references           skip the naive consumer and the emulator's ceiling
  --naive-seconds S         time budget of the naive consumer (default 20)
  --ceiling-concurrency L   PutRecords in flight in the ceiling loop, a list (default 1,4:
                            the bare loop, and the emulator saturated)
  --cpu-prof DIR            write a V8 CPU profile of the service into DIR
  --json PATH               also write every figure as JSON
  --repeat N                run ours (and the ceiling) N times on fresh stacks; show the
                            median and every run's events/s (default 1)
  --progress                print records/s, messages in flight and RSS every second`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string" },
      seed: { type: "string" },
      workers: { type: "string" },
      "max-messages": { type: "string" },
      env: { type: "string", multiple: true },
      "error-probability": { type: "string" },
      throttle: { type: "boolean" },
      sweep: { type: "boolean" },
      "no-references": { type: "boolean" },
      "naive-seconds": { type: "string" },
      "ceiling-concurrency": { type: "string" },
      "cpu-prof": { type: "string" },
      json: { type: "string" },
      progress: { type: "boolean" },
      repeat: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const number = (name: string, value: string | undefined, fallback: number) => {
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, got ${value}`);
    return n;
  };
  const count = number("count", values.count, values.sweep ? 5_000 : 20_000);
  const seed = number("seed", values.seed, 7);
  const errorProbability = number("error-probability", values["error-probability"], 0);
  const repeat = Math.max(1, Math.floor(number("repeat", values.repeat, 1)));
  const workers = values.workers === undefined ? undefined : number("workers", values.workers, 4);
  const maxMessages = values["max-messages"] === undefined
    ? undefined
    : number("max-messages", values["max-messages"], 10);
  const env = envFlags(values.env);

  console.log(`# bench:e2e — ${machineLine()}`);
  const data = generateData(count, seed);
  console.log(
    `data: ${int(count)} submissions (seed ${seed}, 1000 devices), ${int(data.validMessages)} ` +
      `valid, ${int(data.expectedEvents)} events (${
        fixed(data.expectedEvents / data.validMessages, 2)
      }` +
      `/valid submission)`,
  );
  const envLabel = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ");
  const results: OursResult[] = [];
  const references: ReferenceResult[] = [];
  const print = (r: OursResult) =>
    console.log(
      `  ${r.label}: ${int(r.eventsPerSecond)} events/s, ${int(r.messagesPerSecond)} msgs/s in ` +
        `${fixed(r.seconds, 1)} s (preload ${fixed(r.preloadSeconds, 1)} s); stream ` +
        `${r.verified ? "ok" : "NOT OK"}; others used ${fixed(100 * r.othersCpuShare, 0)} % ` +
        `of the CPU; load ${r.load}`,
    );

  if (values.sweep) {
    for (const w of [1, 2, 4, 8]) {
      for (const mm of [1, 5, 10]) {
        const r = await runOurs(data, {
          label: `WORKERS=${w} SQS_MAX_MESSAGES=${mm}`,
          workers: w,
          maxMessages: mm,
          errorProbability,
          env,
        });
        print(r);
        results.push(r);
      }
    }
    console.log(`\n## sweep (${int(count)} submissions each)\n`);
    console.log(
      table(
        ["WORKERS", "SQS_MAX_MESSAGES", "events/s", "msgs/s", "SQS calls/msg", "rec/call", "CPU s"],
        results.map((r) => [
          String(r.settings.workers),
          String(r.settings.maxMessages),
          int(r.eventsPerSecond),
          int(r.messagesPerSecond),
          fixed(r.sqsCallsPerMessage, 3),
          fixed(r.recordsPerCall, 1),
          fixed(r.cpuSeconds, 1),
        ]),
      ),
    );
  } else if (values.throttle) {
    const base = {
      workers,
      maxMessages,
      errorProbability,
      throttle: true,
      progress: values.progress,
    };
    for (const [label, percent] of [["limiter off", "0"], ["limiter on", undefined]] as const) {
      const limit: Record<string, string> = percent === undefined
        ? {}
        : { KINESIS_SHARD_RATE_LIMIT: percent };
      const r = await runRepeated(data, {
        ...base,
        label: `${label}${envLabel ? ` ${envLabel}` : ""}`,
        env: { ...env, ...limit },
      }, repeat);
      print(r);
      results.push(r);
    }
    console.log(`
## against a stream throttled like Kinesis (2 shards, 2 000 records/s)
`);
    console.log(throttleRows(results));
  } else {
    const base = {
      workers,
      maxMessages,
      env,
      cpuProfDir: values["cpu-prof"],
      progress: values.progress,
    };
    const ours = await runRepeated(data, {
      ...base,
      label: `ours${envLabel ? ` ${envLabel}` : ""}`,
      errorProbability: 0,
    }, repeat);
    print(ours);
    results.push(ours);
    if (errorProbability > 0) {
      const faulty = await runRepeated(data, {
        ...base,
        cpuProfDir: undefined,
        label: `ours, KINESIS_ERROR_PROBABILITY=${errorProbability}`,
        errorProbability,
      }, repeat);
      print(faulty);
      results.push(faulty);
    }
    if (!values["no-references"]) {
      const naiveSeconds = number("naive-seconds", values["naive-seconds"], 20);
      const naive = await runNaive(data, count, naiveSeconds);
      console.log(`  naive: ${int(naive.eventsPerSecond)} events/s (${naive.note})`);
      references.push(naive);
      // The bare loop as specified (one call at a time), and the emulator saturated (as many
      // calls in flight as the service's default PUBLISH_MAX_CONCURRENCY): the stricter one.
      const concurrencies = (values["ceiling-concurrency"] ?? "1,4").split(",").map((c) =>
        Math.max(1, Math.floor(number("ceiling-concurrency", c, 1)))
      );
      for (const concurrency of concurrencies) {
        const ceilings: ReferenceResult[] = [];
        for (let i = 0; i < repeat; i++) {
          ceilings.push(await runCeiling(seed, count, concurrency, 60));
        }
        ceilings.sort((a, b) => a.eventsPerSecond - b.eventsPerSecond);
        const ceiling = ceilings[Math.floor((ceilings.length - 1) / 2)]!;
        console.log(`  ceiling: ${int(ceiling.eventsPerSecond)} events/s (${ceiling.label})`);
        references.push(ceiling);
      }
    }
  }

  console.log(`\n## ours\n`);
  console.log(oursRows(results));
  for (const r of results) console.log(`SQS calls, ${r.label}: ${sqsBreakdown(r)}`);
  console.log(
    "\nprocessing = receipt → delete (service histogram, bucket-interpolated); e2e latency = " +
      "send → last event's ApproximateArrivalTimestamp, which on a preloaded backlog is " +
      "mostly queueing (see bench:sustained for latency at a steady rate).",
  );
  if (references.length > 0) {
    const ours = results[0]!;
    console.log(`\n## references (same data)\n`);
    console.log(
      table(
        ["consumer", "events/s", "ours / it", "calls", "note"],
        [
          ["ours", int(ours.eventsPerSecond), "1.00", int(ours.putRecordsCalls), ours.label],
          ...references.map((r) => [
            r.label,
            int(r.eventsPerSecond),
            fixed(ours.eventsPerSecond / r.eventsPerSecond, 2),
            int(r.calls),
            r.note,
          ]),
        ],
      ),
    );
    console.log("\ntargets (figures only, nothing fails):");
    for (const r of references) {
      const ratio = ours.eventsPerSecond / r.eventsPerSecond;
      const target = r.label.startsWith("naive") ? 10 : 0.6;
      console.log(
        `  ours / ${r.label}: ${fixed(ratio, 2)} (target ≥ ${target}: ` +
          `${ratio >= target ? "met" : "missed"})`,
      );
    }
  }
  console.log(`\nload average at the end: ${loadAverage()}`);
  if (values.json !== undefined) {
    await Deno.writeTextFile(
      values.json,
      JSON.stringify({ machine: machineLine(), count, seed, results, references }, null, 2),
    );
  }
}

if (import.meta.main) await runBench("bench:e2e", main);
