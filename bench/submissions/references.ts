/**
 * The two references bench:e2e (e2e.ts) compares the service with, on the same data: a naive
 * consumer (receive 10 → one `PutRecord` per event in order → `DeleteMessage` each) and the
 * emulator's ceiling (a bare loop of full 500-record `PutRecords`, no SQS, in a subprocess of
 * its own like the service: this file, run with the ceiling's flags).
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runCeiling, runNaive } from "./references.ts";
 *
 * const naive = await runNaive(generateData(1_000, 7), 1_000, 3);
 * const ceiling = await runCeiling(7, 1_000, 1, 10);
 * ceiling.eventsPerSecond / naive.eventsPerSecond; // ~17: what batching alone is worth
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { PutRecordCommand, PutRecordsCommand } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../src/submissions/aws_clients.ts";
import { decodeMessage, type OutgoingRecord } from "../../src/submissions/codec.ts";
import { sendMessages } from "../../tools/submissions/fleet/mod.ts";
import { REGION } from "../../tools/submissions/local_stack.ts";
import { onInterrupt, runBench } from "../common/lifecycle.ts";
import { type BenchData, generateData, REPO_ROOT, withStack } from "./_harness.ts";

const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };

/** A reference's throughput. */
export interface ReferenceResult {
  /** Its name in the tables. */
  readonly label: string;
  /** Events it published. */
  readonly events: number;
  /** Messages it consumed (0 for the ceiling, which reads no queue). */
  readonly messages: number;
  /** How long it took. */
  readonly seconds: number;
  /** Its throughput. */
  readonly eventsPerSecond: number;
  /** AWS calls it made. */
  readonly calls: number;
  /** One line on how it went. */
  readonly note: string;
}

/**
 * The naive consumer, in this process as a first implementation would be written: receive 10,
 * one `PutRecord` per event in order, `DeleteMessage` each; the first `count` messages of
 * `data`, for at most `maxSeconds`.
 *
 * @example
 * ```ts
 * import { generateData } from "./_harness.ts";
 * import { runNaive } from "./references.ts";
 *
 * const naive = await runNaive(generateData(1_000, 7), 1_000, 3);
 * naive.note; // "385 of 1000 messages in the 3 s budget"
 * ```
 */
export async function runNaive(
  data: BenchData,
  count: number,
  maxSeconds: number,
): Promise<ReferenceResult> {
  const messages = data.messages.slice(0, count);
  return await withStack({}, async (stack): Promise<ReferenceResult> => {
    const clients = stack.createClients();
    const { sqs, kinesis } = clients;
    try {
      await sendMessages(sqs, stack.queueUrl, messages, { concurrency: 8 });
      const started = performance.now();
      const deadline = started + maxSeconds * 1000;
      let done = 0;
      let events = 0;
      let calls = 0;
      while (done < messages.length && performance.now() < deadline) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: stack.queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            VisibilityTimeout: 60,
          }),
        );
        calls++;
        for (const message of Messages) {
          if (performance.now() >= deadline) break;
          const decoded = decodeMessage(message.Body ?? "", { processedAt: new Date() });
          if (decoded.ok) {
            // One at a time, each awaited: the obvious way to keep a submission's order.
            for (const record of decoded.records) {
              await kinesis.send(
                new PutRecordCommand({
                  StreamName: stack.streamName,
                  Data: record.data,
                  PartitionKey: record.partitionKey,
                }),
              );
              calls++;
              events++;
            }
          }
          await sqs.send(
            new DeleteMessageCommand({
              QueueUrl: stack.queueUrl,
              ReceiptHandle: message.ReceiptHandle!,
            }),
          );
          calls++;
          done++;
        }
      }
      const seconds = (performance.now() - started) / 1000;
      return {
        label: "naive consumer",
        events,
        messages: done,
        seconds,
        eventsPerSecond: events / seconds,
        calls,
        note: `${done} of ${messages.length} messages in the ${maxSeconds} s budget`,
      };
    } finally {
      clients.destroy();
    }
  });
}

/** What the ceiling subprocess prints (one JSON line). */
interface CeilingOutput {
  records: number;
  calls: number;
  failed: number;
  seconds: number;
}

/**
 * The emulator's ceiling on a fresh stack: this file as a subprocess sends the records of
 * `count` seeded submissions in full 500-record `PutRecords` calls, `concurrency` at a time,
 * for at most `maxSeconds`.
 *
 * @example
 * ```ts
 * import { runCeiling } from "./references.ts";
 *
 * const ceiling = await runCeiling(7, 1_000, 4, 60);
 * ceiling.note; // "15 calls, 0 records failed"
 * ```
 */
export async function runCeiling(
  seed: number,
  count: number,
  concurrency: number,
  maxSeconds: number,
): Promise<ReferenceResult> {
  return await withStack({}, async (stack) => {
    const child = new Deno.Command("deno", {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-sys",
        new URL(import.meta.url).pathname,
        "--kinesis-endpoint",
        stack.endpoints.kinesis,
        "--stream",
        stack.streamName,
        "--seed",
        String(seed),
        "--count",
        String(count),
        "--concurrency",
        String(concurrency),
        "--seconds",
        String(maxSeconds),
      ],
      cwd: REPO_ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const forget = onInterrupt(async () => {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
    });
    try {
      const output = await child.output();
      if (!output.success) throw new Error(`the ceiling subprocess failed (${output.code})`);
      const result = JSON.parse(new TextDecoder().decode(output.stdout)) as CeilingOutput;
      return {
        label: `emulator ceiling (500-record PutRecords, ${concurrency} in flight)`,
        events: result.records,
        messages: 0,
        seconds: result.seconds,
        eventsPerSecond: result.records / result.seconds,
        calls: result.calls,
        note: `${result.calls} calls, ${result.failed} records failed`,
      };
    } finally {
      forget();
    }
  });
}

/** The ceiling subprocess: the same records, full 500-record calls, nothing else. */
async function ceilingChild(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      "kinesis-endpoint": { type: "string" },
      stream: { type: "string" },
      seed: { type: "string" },
      count: { type: "string" },
      concurrency: { type: "string" },
      seconds: { type: "string" },
    },
  });
  const seed = Number(values.seed);
  const count = Number(values.count);
  const concurrency = Number(values.concurrency ?? 1);
  const maxSeconds = Number(values.seconds ?? 60);
  const data = generateData(count, seed);
  const processedAt = new Date();
  const records: OutgoingRecord[] = [];
  for (const message of data.messages) {
    const decoded = decodeMessage(message.body, { processedAt });
    if (decoded.ok) records.push(...decoded.records);
  }
  const kinesis = createKinesisClient({
    region: REGION,
    credentials: CREDENTIALS,
    endpoint: String(values["kinesis-endpoint"]),
  });
  const streamName = String(values.stream);
  let next = 0;
  let calls = 0;
  let failed = 0;
  let sent = 0;
  const started = performance.now();
  const deadline = started + maxSeconds * 1000;
  const loop = async () => {
    while (next < records.length && performance.now() < deadline) {
      const batch = records.slice(next, next + 500);
      next += batch.length;
      const output = await kinesis.send(
        new PutRecordsCommand({
          StreamName: streamName,
          Records: batch.map((r) => ({ Data: r.data, PartitionKey: r.partitionKey })),
        }),
      );
      calls++;
      failed += output.FailedRecordCount ?? 0;
      sent += batch.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  kinesis.destroy();
  const output: CeilingOutput = { records: sent - failed, calls, failed, seconds };
  console.log(JSON.stringify(output));
}

if (import.meta.main) await runBench("bench:e2e ceiling", () => ceilingChild(Deno.args));
