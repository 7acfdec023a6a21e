/**
 * `deno task fleet`: the sensor-fleet simulator against a queue, faithful by default.
 *
 * ```sh
 * deno task fleet                                  # faithful, forever (Ctrl-C stops)
 * deno task fleet --count 20000 --manifest m.jsonl # preload as fast as possible
 * deno task fleet --rate 200 --adversarial --raw-json 0.1 --seed 7
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { randomSeed } from "../../common/seeded_random.ts";
import { createToolClients, readToolEnv, resolveQueueUrl } from "../tool_env.ts";
import { createManifestWriter } from "./manifest.ts";
import { runFleet } from "./run.ts";
import { runMain } from "../../common/run_main.ts";

const USAGE = `Usage: deno task fleet [options]

Faithful by default: FLEET_SIZE devices, one submission each every 30-45 s, until Ctrl-C.

  --fleet-size N        devices (default: FLEET_SIZE or 10)
  --seed N              seed of every random choice (default: random, printed)
  --rounds N            faithful mode: stop after N rounds
  --rate N              N submissions per second, paced
  --count N             N submissions in total; without --rate, as fast as possible (batched)
  --invalid-ratio R     extra fraction of deliberately invalid submissions (0..1)
  --adversarial         mix in the malformed and odd messages real fleets send
  --adversarial-ratio R fraction of adversarial messages (default 0.2 with --adversarial)
  --raw-json R          fraction of bodies sent as raw JSON instead of base64 (0..1)
  --fault-probability P probability of each faithful fault (default 0.01)
  --concurrency N       batches in flight (default 4)
  --manifest PATH       write one JSON line per message sent
  --quiet               no progress lines

Environment: see tools/submissions/tool_env.ts (AWS_ENDPOINT_URL, SQS_QUEUE_URL, SQS_QUEUE_NAME, ...).`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "fleet-size": { type: "string" },
      seed: { type: "string" },
      rounds: { type: "string" },
      rate: { type: "string" },
      count: { type: "string" },
      "invalid-ratio": { type: "string" },
      adversarial: { type: "boolean" },
      "adversarial-ratio": { type: "string" },
      "raw-json": { type: "string" },
      "fault-probability": { type: "string" },
      concurrency: { type: "string" },
      manifest: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const number = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${name}: not a number: ${value}`);
    return parsed;
  };
  const adversarialRatio = number("adversarial-ratio", values["adversarial-ratio"]) ??
    (values.adversarial ? 0.2 : 0);
  const log = values.quiet ? undefined : (line: string) => console.error(`fleet: ${line}`);

  const env = readToolEnv();
  const clients = createToolClients(env);
  const count = number("count", values.count);
  const rate = number("rate", values.rate);
  // Only a bulk run is short enough to buffer the manifest safely.
  const manifest = values.manifest === undefined ? undefined : createManifestWriter(
    values.manifest,
    { bufferChars: count !== undefined && rate === undefined ? 64 * 1024 : 0 },
  );
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const queueUrl = await resolveQueueUrl(clients.sqs, env);
    const seed = number("seed", values.seed) ?? randomSeed();
    const fleetSize = number("fleet-size", values["fleet-size"]) ??
      number("FLEET_SIZE", Deno.env.get("FLEET_SIZE")) ?? 10;
    log?.(`seed ${seed}, ${fleetSize} devices, queue ${queueUrl}`);
    const stats = await runFleet({
      sqs: clients.sqs,
      queueUrl,
      seed,
      fleetSize,
      rounds: number("rounds", values.rounds),
      rate,
      count,
      invalidRatio: number("invalid-ratio", values["invalid-ratio"]),
      adversarialRatio,
      rawJsonRatio: number("raw-json", values["raw-json"]),
      faultProbability: number("fault-probability", values["fault-probability"]),
      concurrency: number("concurrency", values.concurrency),
      onSent: manifest === undefined
        ? undefined
        : (message) => manifest.write(message.manifestEntry),
      signal: controller.signal,
      log,
    });
    const seconds = stats.elapsedMs / 1000;
    console.error(
      `fleet: sent ${stats.sent} messages (${stats.valid} valid, ${stats.events} events to publish)` +
        ` in ${seconds.toFixed(2)} s = ${(stats.sent / seconds).toFixed(0)} messages/s; ` +
        `${stats.requests} requests, ${stats.resent} resent, ${stats.failed} failed; seed ${stats.seed}`,
    );
    return stats.failed === 0 ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    manifest?.close();
    clients.destroy();
  }
}

if (import.meta.main) await runMain("fleet", () => main(Deno.args));
