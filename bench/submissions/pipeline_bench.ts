/**
 * The in-process pipeline on realistic fleet submissions: {@linkcode decodeMessage} (base64
 * decode, JSON parse, zod validation, event building with UUIDv5 ids, record serialization)
 * next to a baseline that only does the bare `atob` + `JSON.parse` + `JSON.stringify` of the
 * same bodies, so `deno bench` prints how many times the floor the pipeline costs.
 *
 * ```sh
 * deno task bench     # deno bench (the ratio), then this file as a script (events/s summary)
 * ```
 *
 * Figures only: nothing here fails on speed.
 *
 * @module
 */
import { decodeMessage } from "../../src/submissions/codec.ts";
import { createFleet, generateMessages } from "../../tools/submissions/fleet/mod.ts";

/** The fleet seed: the same submissions on every run. */
const SEED = 20_250_101;
/** Submissions in the sample: enough variety (sizes, faults) that no single body dominates. */
const SAMPLE_SIZE = 1_000;
/** One iteration of the summary processes the whole sample this many times. */
const SUMMARY_ROUNDS = 20;

/** Realistic bodies from the fleet simulator: 1 000 devices, faithful 1 % faults included. */
export function sampleBodies(count = SAMPLE_SIZE, seed = SEED): string[] {
  const fleet = createFleet({ seed, fleetSize: 1_000 });
  return Array.from(generateMessages(fleet, count), (m) => m.body);
}

const bodies = sampleBodies();
const processedAt = new Date();
let cursor = 0;

/** The next body, round-robin, so one iteration is one submission. */
function nextBody(): string {
  const body = bodies[cursor]!;
  cursor = (cursor + 1) % bodies.length;
  return body;
}

/** The floor: decoding and re-serializing the same bytes with no validation or splitting. */
function bare(body: string): number {
  return JSON.stringify(JSON.parse(atob(body))).length;
}

/** The real thing; returns the records so the work cannot be optimized away. */
function pipeline(body: string): number {
  const decoded = decodeMessage(body, { processedAt });
  return decoded.ok ? decoded.records.length : 0;
}

Deno.bench({
  name: "bare atob + JSON.parse + JSON.stringify",
  group: "per submission",
  baseline: true,
  fn() {
    bare(nextBody());
  },
});

Deno.bench({
  name: "decodeMessage (decode, validate, build, serialize)",
  group: "per submission",
  fn() {
    pipeline(nextBody());
  },
});

/** Times `fn` over every body, `rounds` times, after a warm-up; submissions per second. */
function throughput(fn: (body: string) => number, rounds: number): number {
  for (const body of bodies) fn(body); // warm-up: JIT and zod's lazy schema compilation
  const started = performance.now();
  let sink = 0;
  for (let r = 0; r < rounds; r++) for (const body of bodies) sink += fn(body);
  const seconds = (performance.now() - started) / 1000;
  if (sink < 0) console.log(sink); // keeps `sink` alive
  return (bodies.length * rounds) / seconds;
}

if (import.meta.main) {
  let valid = 0;
  let events = 0;
  for (const body of bodies) {
    const decoded = decodeMessage(body, { processedAt });
    if (!decoded.ok) continue;
    valid++;
    events += decoded.records.length;
  }
  const eventsPerSubmission = events / valid;
  const recordBytes = bodies.flatMap((body) => {
    const decoded = decodeMessage(body, { processedAt });
    return decoded.ok ? decoded.records.map((r) => r.data.byteLength + r.partitionKey.length) : [];
  });
  const bareRate = throughput(bare, SUMMARY_ROUNDS);
  const pipelineRate = throughput(pipeline, SUMMARY_ROUNDS);
  const avgBytes = recordBytes.reduce((a, b) => a + b, 0) / recordBytes.length;
  console.log(
    [
      `pipeline summary (${bodies.length} fleet submissions × ${SUMMARY_ROUNDS} rounds, ` +
      `seed ${SEED}; ${valid} valid, ${eventsPerSubmission.toFixed(2)} events each, ` +
      `records ${avgBytes.toFixed(0)} bytes on average)`,
      `  bare atob+parse+stringify: ${fmt(bareRate)} submissions/s`,
      `  decodeMessage:             ${fmt(pipelineRate)} submissions/s = ` +
      `${fmt(pipelineRate * (valid / bodies.length) * eventsPerSubmission)} events/s ` +
      `(${(1e6 / pipelineRate).toFixed(1)} µs per submission, ` +
      `${(bareRate / pipelineRate).toFixed(1)}× the bare floor)`,
    ].join("\n"),
  );
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
