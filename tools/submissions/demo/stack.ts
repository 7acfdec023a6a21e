/**
 * What the demo runs beside the service, in the background: the sensor fleet sending to the
 * local queue, and a tail of the stream.
 *
 * ```ts
 * import { startFleet, startTail } from "./stack.ts";
 * // const fleet = startFleet(sqs, queueUrl, options);
 * // const tail = startTail(kinesis, "events", 2);
 * ```
 *
 * @module
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sleep } from "../../../src/app/backoff.ts";
import {
  createFleet,
  generateMessages,
  type ManifestEntry,
  randomSeed,
  sendMessages,
} from "../fleet/mod.ts";
import { followStream, formatRecord, type ShardRecord } from "../tail.ts";
import type { DemoOptions } from "./options.ts";

/** The fleet, sending in the background. */
export interface FleetRun {
  /** The seed; pass it with `--seed` to send the same submissions again. */
  readonly seed: number;
  /** One entry per message SQS confirmed, in confirmation order. */
  readonly manifest: readonly ManifestEntry[];
  /** Resolves when the fleet stops sending (stopped, or failed): with its error, if any. */
  readonly ended: Promise<unknown>;
  /** Stops sending; resolves once the send in progress is confirmed, like `ended`. */
  stop(): Promise<unknown>;
}

/**
 * Sends `rate` submissions per second, paced, with the fleet's faithful faults. Its own loop
 * rather than `runFleet`, whose abort cuts a `SendMessageBatch` short: a message SQS took but never
 * confirmed would then be in the queue and not in the manifest, and reconcile would flag it.
 * Here a stop only ends the pause between two sends.
 */
export function startFleet(sqs: SQSClient, queueUrl: string, options: DemoOptions): FleetRun {
  const fleet = createFleet({
    fleetSize: options.fleetSize,
    seed: options.seed ?? randomSeed(),
    invalidRatio: options.invalidRatio,
  });
  const manifest: ManifestEntry[] = [];
  const stopping = new AbortController();
  const run = async () => {
    const started = performance.now();
    let generated = 0;
    while (!stopping.signal.aborted) {
      // Everything due by now goes out together, so a slow send is caught up, not dropped.
      const due = Math.floor(((performance.now() - started) * options.rate) / 1000) + 1;
      if (due > generated) {
        const messages = [...generateMessages(fleet, due - generated)];
        generated = due;
        await sendMessages(sqs, queueUrl, messages, {
          onSent: (message) => manifest.push(message.manifestEntry),
        });
      }
      const next = started + (generated * 1000) / options.rate;
      await sleep(Math.max(1, next - performance.now()), stopping.signal);
    }
  };
  const ended = run().then(() => undefined, (error: unknown) => error ?? new Error("fleet failed"));
  return {
    seed: fleet.seed,
    manifest,
    ended,
    stop() {
      stopping.abort();
      return ended;
    },
  };
}

/** The stream, followed in the background. */
export interface TailRun {
  /** The newest records since the previous call, formatted; at most `max`. */
  take(max: number): string[];
  /** Stops following; never rejects (the tail is for show, the reconciliation is the check). */
  stop(): Promise<void>;
}

/** Follows every shard of the stream from LATEST, keeping the newest few records. */
export function startTail(kinesis: KinesisClient, streamName: string, keep: number): TailRun {
  const controller = new AbortController();
  let newest: ShardRecord[] = [];
  const following = followStream(kinesis, {
    streamName,
    from: "LATEST",
    signal: controller.signal,
    onRecords(records) {
      if (keep === 0) return;
      newest = [...newest, ...records].slice(-keep);
    },
  }).catch(() => {
    // A tail that stops early only shows less.
  });
  return {
    take(max) {
      const taken = newest.slice(-max);
      newest = [];
      // Pages of the two shards interleave arbitrarily: show the records in arrival order.
      taken.sort((a, b) => (a.arrivalTime?.getTime() ?? 0) - (b.arrivalTime?.getTime() ?? 0));
      return taken.map(formatRecord);
    },
    async stop() {
      controller.abort();
      await following;
    },
  };
}
