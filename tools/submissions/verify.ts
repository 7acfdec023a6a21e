/**
 * `deno task verify --manifest PATH`: reads the whole stream (and the queue's depth) and
 * reconciles it with a fleet manifest (reconcile.ts); prints the report (format_report.ts) or
 * its JSON; exits 1 when not ok, 2 on a usage error.
 *
 * ```sh
 * deno task fleet --count 2000 --manifest m.jsonl
 * deno task verify --manifest m.jsonl --wait-drain 60
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sleep } from "../../src/app/backoff.ts";
import { parseManifest } from "./fleet/mod.ts";
import { formatReport } from "./format_report.ts";
import { getQueueDepth, type QueueDepth } from "./queue_depth.ts";
import { readStream } from "./read_stream.ts";
import { reconcile } from "./reconcile.ts";
import { createToolClients, readToolEnv, resolveQueueUrl } from "./tool_env.ts";
import { runMain } from "../common/run_main.ts";

const USAGE = `Usage: deno task verify --manifest PATH [options]

Reads the whole stream and reconciles it with a fleet manifest; exits 1 when not ok.

  --manifest PATH     the manifest written by deno task fleet --manifest
  --wait-drain SECS   first wait up to SECS for the queue to empty (default 0)
  --no-queue          do not look at the queue's depth
  --allow-unknown     do not fail on records of submissions absent from the manifest
  --max-listed N      list at most N missing events / violations / malformed records (20)
  --json              print the report as JSON

Environment: see tools/submissions/tool_env.ts (AWS_ENDPOINT_URL, SQS_QUEUE_URL, KINESIS_STREAM_NAME, ...).`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      manifest: { type: "string" },
      "wait-drain": { type: "string" },
      "no-queue": { type: "boolean" },
      "allow-unknown": { type: "boolean" },
      "max-listed": { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help || values.manifest === undefined) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const manifest = parseManifest(await Deno.readTextFile(values.manifest));
  const env = readToolEnv();
  const clients = createToolClients(env);
  try {
    let queueDepth: QueueDepth | undefined;
    if (!values["no-queue"]) {
      const queueUrl = await resolveQueueUrl(clients.sqs, env);
      const deadline = Date.now() + Number(values["wait-drain"] ?? 0) * 1000;
      queueDepth = await getQueueDepth(clients.sqs, queueUrl);
      while (queueDepth.visible + queueDepth.inFlight > 0 && Date.now() < deadline) {
        await sleep(1_000);
        queueDepth = await getQueueDepth(clients.sqs, queueUrl);
      }
    }
    const records = await readStream(clients.kinesis, env.streamName);
    const report = reconcile(manifest, records, {
      queueDepth,
      allowUnknown: values["allow-unknown"],
      maxListed: values["max-listed"] === undefined ? undefined : Number(values["max-listed"]),
    });
    console.log(values.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return report.ok ? 0 : 1;
  } finally {
    clients.destroy();
  }
}

if (import.meta.main) await runMain("verify", () => main(Deno.args));
