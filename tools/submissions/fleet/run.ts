/**
 * Running a fleet against a queue: faithful rounds (one `SendMessage` per device every 30–45 s),
 * a paced rate, or a count as fast as possible.
 *
 * ```ts
 * import { runFleet } from "./run.ts";
 * // const stats = await runFleet({ sqs, queueUrl, seed: 7, count: 1_000 });
 * ```
 *
 * @module
 */
import { errorMessage } from "../../../src/app/error_message.ts";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { sleep } from "../../../src/app/backoff.ts";
import { SeededRandom } from "../../common/seeded_random.ts";
import {
  createFleet,
  type Fleet,
  type FleetOptions,
  generateMessages,
  nextRound,
} from "./generate.ts";
import type { FleetMessage } from "./manifest.ts";
import { sendMessages } from "./send.ts";

/** Options of {@linkcode runFleet}. */
export interface RunFleetOptions extends FleetOptions {
  /** The SQS client (from src/submissions/aws_clients.ts or tool_env.ts). */
  readonly sqs: SQSClient;
  /** The queue to send to. */
  readonly queueUrl: string;
  /**
   * Total messages. Alone: sent as fast as possible with `SendMessageBatch`. With `rate`: the
   * paced run stops after this many. Default: unbounded (until `signal` aborts).
   */
  readonly count?: number | undefined;
  /** Messages per second, paced; batched when several are due at once. */
  readonly rate?: number | undefined;
  /** Faithful mode only: stop after this many rounds. Default: unbounded. */
  readonly rounds?: number | undefined;
  /** Faithful mode: the pause between rounds, drawn uniformly in `[min, max]` ms. */
  readonly roundIntervalMs?: readonly [number, number] | undefined;
  /** Batches in flight at once (count and rate modes). Default 4. */
  readonly concurrency?: number | undefined;
  /** Called once per message SQS confirmed: write the manifest here. */
  readonly onSent?: ((message: FleetMessage) => void) | undefined;
  /** Stops the run; {@linkcode runFleet} then resolves with what was sent. */
  readonly signal?: AbortSignal | undefined;
  /** Progress lines (rounds, rates). Default: none. */
  readonly log?: ((line: string) => void) | undefined;
}

/** What a run sent. */
export interface FleetRunStats {
  /** The seed used: pass it again to reproduce the run. */
  readonly seed: number;
  /** Messages SQS confirmed. */
  sent: number;
  /** Of them, valid ones. */
  valid: number;
  /** Events the service must publish (of valid messages). */
  events: number;
  /** SQS calls made. */
  requests: number;
  /** Entries resent after a failure. */
  resent: number;
  /** Messages faithful mode could not send (logged and left out of the manifest). */
  failed: number;
  /** Wall time of the run. */
  elapsedMs: number;
}

/**
 * Runs the fleet until done or aborted: faithful rounds by default, `rate` paced, or `count` as
 * fast as possible. Resolves with what was sent; every sent message went through `onSent`.
 */
export async function runFleet(options: RunFleetOptions): Promise<FleetRunStats> {
  const fleet = createFleet(options);
  const started = performance.now();
  const stats: FleetRunStats = {
    seed: fleet.seed,
    sent: 0,
    valid: 0,
    events: 0,
    requests: 0,
    resent: 0,
    failed: 0,
    elapsedMs: 0,
  };
  const onSent = (message: FleetMessage) => {
    stats.sent++;
    if (message.manifestEntry.valid) {
      stats.valid++;
      stats.events += message.manifestEntry.events;
    }
    options.onSent?.(message);
  };
  try {
    if (options.rate !== undefined) await runPaced(fleet, options, stats, onSent);
    else if (options.count !== undefined) await runBulk(fleet, options, stats, onSent);
    else await runRounds(fleet, options, stats, onSent);
  } catch (error) {
    if (!options.signal?.aborted) throw error;
  }
  stats.elapsedMs = performance.now() - started;
  return stats;
}

async function runBulk(
  fleet: Fleet,
  options: RunFleetOptions,
  stats: FleetRunStats,
  onSent: (message: FleetMessage) => void,
): Promise<void> {
  const result = await sendMessages(
    options.sqs,
    options.queueUrl,
    generateMessages(fleet, options.count ?? 0),
    { concurrency: options.concurrency, onSent, signal: options.signal },
  );
  stats.requests += result.requests;
  stats.resent += result.resent;
}

async function runPaced(
  fleet: Fleet,
  options: RunFleetOptions,
  stats: FleetRunStats,
  onSent: (message: FleetMessage) => void,
): Promise<void> {
  const rate = options.rate ?? 1;
  if (!(rate > 0)) throw new RangeError(`rate must be positive, got ${rate}`);
  const limit = options.count ?? Infinity;
  const start = performance.now();
  let generated = 0;
  let lastLog = start;
  while (generated < limit && !options.signal?.aborted) {
    // Everything due by now goes out together; a slow send is caught up, not dropped.
    const due = Math.min(limit, Math.floor(((performance.now() - start) * rate) / 1000) + 1);
    if (due > generated) {
      const result = await sendMessages(
        options.sqs,
        options.queueUrl,
        generateMessages(fleet, due - generated),
        { concurrency: options.concurrency, onSent, signal: options.signal },
      );
      generated = due;
      stats.requests += result.requests;
      stats.resent += result.resent;
    }
    const now = performance.now();
    if (options.log !== undefined && now - lastLog >= 10_000) {
      options.log(`sent ${stats.sent} (${((stats.sent * 1000) / (now - start)).toFixed(1)}/s)`);
      lastLog = now;
    }
    if (generated >= limit) break;
    await sleep(Math.max(1, start + (generated * 1000) / rate - now), options.signal);
  }
}

async function runRounds(
  fleet: Fleet,
  options: RunFleetOptions,
  stats: FleetRunStats,
  onSent: (message: FleetMessage) => void,
): Promise<void> {
  const [minPause, maxPause] = options.roundIntervalMs ?? [30_000, 45_000];
  // A separate stream for the pauses keeps the messages of a seed independent of the timing.
  const timing = new SeededRandom(fleet.seed ^ 0x5bd1e995);
  for (let round = 1; options.rounds === undefined || round <= options.rounds; round++) {
    let sentThisRound = 0;
    for (const message of nextRound(fleet)) {
      if (options.signal?.aborted) return;
      try {
        // Faithful: each submission is its own SendMessage, as the original simulator does.
        await options.sqs.send(
          // Not aborted mid-flight, so that every message SQS accepted is in the manifest.
          new SendMessageCommand({ QueueUrl: options.queueUrl, MessageBody: message.body }),
        );
        stats.requests++;
        sentThisRound++;
        onSent(message);
      } catch (error) {
        if (options.signal?.aborted) return;
        // The simulator keeps going when one send fails; the manifest leaves the message out.
        stats.failed++;
        options.log?.(`send failed: ${errorMessage(error)}`);
      }
    }
    options.log?.(`round ${round}: sent ${sentThisRound} submissions (total ${stats.sent})`);
    if (round === options.rounds) return;
    if (!await sleep(timing.int(minPause, maxPause), options.signal)) return;
  }
}
