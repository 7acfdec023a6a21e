/**
 * How the fault proxy (fault_proxy.ts) answers Kinesis writes, `PutRecords` and `PutRecord`:
 * LocalStack's `KINESIS_ERROR_PROBABILITY` answers, per-record partial failures, and the
 * per-shard write limits of real Kinesis (shard_throttle.ts). Records that pass are forwarded
 * to the emulator; a partly failed call is forwarded reduced to its passed records and the
 * answer merged back into the original order.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { NO_FAULTS } from "./fault_settings.ts";
 * import { emptyStats } from "./fault_stats.ts";
 * import { PutRecordsFaults } from "./put_records_faults.ts";
 * import { readBody, UpstreamRelay } from "./upstream_relay.ts";
 *
 * // Every call answered as LocalStack's KINESIS_ERROR_PROBABILITY=1 does: nothing goes upstream.
 * const upstream = new URL("http://127.0.0.1:1");
 * const stats = emptyStats("kinesis");
 * const relay = new UpstreamRelay({ service: "kinesis", upstream, onUpstreamError: () => {} });
 * const puts = new PutRecordsFaults({
 *   settings: () => ({ ...NO_FAULTS, errorProbability: 1 }),
 *   stats: () => stats,
 *   random: Math.random,
 *   now: () => performance.now(),
 *   upstream,
 *   relay,
 * });
 * const server = http.createServer((req, res) => {
 *   readBody(req, (body) => puts.handle("PutRecords", req, res, body));
 * });
 * await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
 * const { port } = server.address() as { port: number };
 * const records = [{ Data: "eA==", PartitionKey: "a" }, { Data: "eQ==", PartitionKey: "b" }];
 * const body = JSON.stringify({ StreamName: "events", Records: records });
 * const answer = await (await fetch(`http://127.0.0.1:${port}/`, { method: "POST", body })).json();
 * answer.FailedRecordCount; // 1 (LocalStack's count, whatever the number of records)
 * stats.recordsFailed; // 2
 * puts.close();
 * relay.close();
 * await new Promise((resolve) => server.close(resolve));
 * ```
 *
 * @module
 */
import type http from "node:http";
import { Buffer } from "node:buffer";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../src/submissions/aws_clients.ts";
import { listShards } from "../../src/submissions/list_shards.ts";
import { type FaultSettings, NO_FAULTS } from "./fault_settings.ts";
import type { FaultStats } from "./fault_stats.ts";
import { rateExceededMessage, ShardThrottle, type WireRecord } from "./shard_throttle.ts";
import {
  endToEndHeaders,
  parseJsonObject,
  sendJson,
  type UpstreamRelay,
  type UpstreamReply,
} from "./upstream_relay.ts";

/** LocalStack's literal message for its injected throttling errors. */
const LOCALSTACK_RATE_MESSAGE = "Rate exceeded for shard X in stream Y under account Z.";

/** A failed entry of a `PutRecords` response. */
interface RecordError {
  ErrorCode: string;
  ErrorMessage: string;
}

/** Options of {@linkcode PutRecordsFaults}. */
export interface PutRecordsFaultsOptions {
  /** The proxy's current fault settings. */
  readonly settings: () => FaultSettings;
  /** The proxy's current counters, which the writes add to. */
  readonly stats: () => FaultStats;
  /** Source of randomness in [0, 1). */
  readonly random: () => number;
  /** The throttle's clock in milliseconds. */
  readonly now: () => number;
  /** Base URL of the emulator: the throttle lists its shards there, past every fault. */
  readonly upstream: URL;
  /** Forwards what passes to the emulator. */
  readonly relay: UpstreamRelay;
}

/**
 * The Kinesis write path of one proxy, with its shard throttle (made on first use of
 * `throttle`, with its own client straight to the emulator).
 *
 * @example
 * ```ts
 * import { NO_FAULTS } from "./fault_settings.ts";
 * import { emptyStats } from "./fault_stats.ts";
 * import { PutRecordsFaults } from "./put_records_faults.ts";
 * import { UpstreamRelay } from "./upstream_relay.ts";
 *
 * const upstream = new URL("http://127.0.0.1:4567");
 * const relay = new UpstreamRelay({ service: "kinesis", upstream, onUpstreamError: () => {} });
 * let settings = { ...NO_FAULTS, throttle: true };
 * const stats = emptyStats("kinesis");
 * const puts = new PutRecordsFaults({
 *   settings: () => settings,
 *   stats: () => stats,
 *   random: Math.random,
 *   now: () => performance.now(),
 *   upstream,
 *   relay,
 * });
 * settings = { ...settings, shardRecordsPerSecond: 500 };
 * puts.configure(); // the throttle's budgets: 500 records/s per shard from now
 * puts.invalidateShards(); // after a resharding call: the shards are listed again
 * puts.reset(); // full budgets at Kinesis's limits
 * puts.close();
 * relay.close();
 * ```
 */
export class PutRecordsFaults {
  readonly #options: PutRecordsFaultsOptions;
  #throttle: ShardThrottle | undefined;
  #upstreamKinesis: KinesisClient | undefined;

  /** The write path over `options`; nothing is made before the first throttled write. */
  constructor(options: PutRecordsFaultsOptions) {
    this.#options = options;
  }

  /**
   * Answers one write, or forwards it (whole or reduced). Rejects only on a defect of the
   * proxy; the caller then fails the call as a network error would.
   */
  handle(
    operation: "PutRecord" | "PutRecords",
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
  ): Promise<void> {
    // Parsed even without faults, to count the records: JSON.parse of a 500-record body
    // (~250 KB) takes ~0.2 ms, less than scanning it with Buffer.indexOf under Deno.
    return operation === "PutRecord"
      ? this.#putRecord(req, res, body)
      : this.#putRecords(req, res, body, parseJsonObject(body));
  }

  /** Takes the current settings' budgets: a new budget counts from now, not from the next call. */
  configure(): void {
    const settings = this.#options.settings();
    this.#throttle?.configure(settings.shardRecordsPerSecond, settings.shardBytesPerSecond);
  }

  /** The stream's shards may have changed (a resharding call went through): list them again. */
  invalidateShards(): void {
    this.#throttle?.invalidate();
  }

  /** Full budgets at Kinesis's limits again. */
  reset(): void {
    this.#throttle?.reset();
    this.#throttle?.configure(NO_FAULTS.shardRecordsPerSecond, NO_FAULTS.shardBytesPerSecond);
  }

  /** Frees the throttle's own client. */
  close(): void {
    this.#upstreamKinesis?.destroy();
  }

  /** Draws one random number only when the probability can matter, so tests can script it. */
  #roll(probability: number): boolean {
    return probability > 0 && this.#options.random() < probability;
  }

  /** The throttle (`configure` keeps its budgets current). */
  #shardThrottle(): ShardThrottle {
    if (this.#throttle === undefined) {
      // Straight to the emulator, so no fault of this proxy affects the listing. The region and
      // keys are dummies: the emulator checks neither.
      const kinesis = createKinesisClient({
        region: "eu-west-1",
        endpoint: this.#options.upstream.href,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        maxAttempts: 1,
      });
      this.#upstreamKinesis = kinesis;
      const settings = this.#options.settings();
      this.#throttle = new ShardThrottle({
        listShards: (streamName) => listShards(kinesis, streamName),
        recordsPerSecond: settings.shardRecordsPerSecond,
        bytesPerSecond: settings.shardBytesPerSecond,
        now: this.#options.now,
      });
    }
    return this.#throttle;
  }

  /** Per record, the shard that refused it (`throttle`), or `undefined`; all `undefined` when off. */
  async #throttled(
    payload: Record<string, unknown> | undefined,
    records: readonly WireRecord[],
    skip: readonly boolean[],
  ): Promise<(string | undefined)[]> {
    if (!this.#options.settings().throttle || typeof payload?.StreamName !== "string") return [];
    const refused = await this.#shardThrottle().admit(payload.StreamName, records, skip);
    const stats = this.#options.stats();
    let count = 0;
    for (const shardId of refused) {
      if (shardId === undefined) continue;
      count++;
      stats.throttledByShard[shardId] = (stats.throttledByShard[shardId] ?? 0) + 1;
    }
    if (count > 0) stats.injected.throttled++;
    stats.recordsThrottled += count;
    stats.recordsFailed += count;
    return refused;
  }

  async #putRecord(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) {
    const settings = this.#options.settings();
    const stats = this.#options.stats();
    stats.recordsReceived++;
    if (this.#roll(settings.errorProbability)) {
      stats.injected.errorProbability++;
      stats.recordsFailed++;
      // LocalStack's body carries `__type` and `ErrorMessage`; `message` is what the SDK reads.
      return sendJson(res, 400, {
        __type: "ProvisionedThroughputExceededException",
        message: LOCALSTACK_RATE_MESSAGE,
        ErrorMessage: LOCALSTACK_RATE_MESSAGE,
      });
    }
    if (settings.throttle) {
      const payload = parseJsonObject(body);
      const [shardId] = await this.#throttled(payload, payload ? [payload] : [], []);
      if (shardId !== undefined) {
        const message = rateExceededMessage(shardId, String(payload?.StreamName));
        return sendJson(res, 400, { __type: "ProvisionedThroughputExceededException", message });
      }
    }
    this.#options.stats().recordsPassed++;
    this.#options.relay.forward(req, res, body);
  }

  async #putRecords(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    payload: Record<string, unknown> | undefined,
  ): Promise<void> {
    const settings = this.#options.settings();
    const stats = this.#options.stats();
    stats.putRecordsCalls++;
    const records = Array.isArray(payload?.Records) ? payload.Records as unknown[] : undefined;
    const count = records?.length ?? 0;
    stats.recordsReceived += count;
    if (this.#roll(settings.errorProbability)) {
      stats.injected.errorProbability++;
      stats.recordsFailed += count;
      const entry = {
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: LOCALSTACK_RATE_MESSAGE,
      };
      // Exactly LocalStack's answer: FailedRecordCount is 1 whatever the number of records.
      return sendJson(res, 200, { FailedRecordCount: 1, Records: records?.map(() => entry) ?? [] });
    }
    // Partial failures are drawn first (the same draws with or without the throttle); the
    // records they fail take no budget.
    const partial = records?.map(() => this.#roll(settings.partialFailureProbability)) ?? [];
    const partialCount = partial.filter(Boolean).length;
    const throttled = await this.#throttled(payload, (records ?? []) as WireRecord[], partial);
    // The counters as they are now: a reset while the throttle was deciding starts new ones.
    const after = this.#options.stats();
    const failed = partial.map((isPartial, i) => isPartial || throttled[i] !== undefined);
    const failedCount = failed.filter(Boolean).length;
    if (!payload || !records || failedCount === 0) {
      after.putRecordsForwarded++;
      after.recordsPassed += count;
      return this.#options.relay.forward(req, res, body);
    }
    if (partialCount > 0) after.injected.partialFailure++;
    after.recordsFailed += partialCount;
    const streamName = typeof payload.StreamName === "string" ? payload.StreamName : "unknown";
    const partialErrors = failedEntries(partialCount, streamName);
    let partialIndex = 0;
    const errors = failed.flatMap((isFailed, i) => {
      if (!isFailed) return [];
      const shardId = throttled[i];
      return shardId === undefined ? [partialErrors[partialIndex++]!] : [{
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: rateExceededMessage(shardId, streamName),
      }];
    });
    if (failedCount === count) {
      return sendJson(res, 200, { FailedRecordCount: count, Records: errors });
    }
    const passed = records.filter((_, i) => !failed[i]);
    after.putRecordsForwarded++;
    after.recordsPassed += passed.length;
    const reduced = Buffer.from(JSON.stringify({ ...payload, Records: passed }));
    this.#options.relay.forward(
      req,
      res,
      reduced,
      (reply) => mergePutRecords(res, reply, failed, errors),
    );
  }
}

/** The error entries for `count` partially failed records, alternating the two error codes. */
function failedEntries(count: number, streamName: string): RecordError[] {
  // Which shard the record would have gone to is unknown here (kinesalite owns the hash ranges).
  const throttled = {
    ErrorCode: "ProvisionedThroughputExceededException",
    ErrorMessage: `Rate exceeded for shard in stream ${streamName} under account 000000000000.`,
  };
  const internal = { ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure." };
  return Array.from({ length: count }, (_, i) => ({ ...(i % 2 === 0 ? throttled : internal) }));
}

/**
 * Answers a partially failed `PutRecords`: the emulator's entries for the passed records and
 * the injected errors, back in the order of the original request.
 */
function mergePutRecords(
  res: http.ServerResponse,
  reply: UpstreamReply,
  failed: boolean[],
  errors: RecordError[],
): void {
  const upstream = reply.status === 200 ? parseJsonObject(reply.body) : undefined;
  const entries = Array.isArray(upstream?.Records) ? upstream.Records as unknown[] : undefined;
  if (!upstream || !entries) {
    // The emulator rejected the whole (reduced) request: pass its answer on as it is.
    res.writeHead(reply.status, endToEndHeaders(reply.headers));
    res.end(reply.body);
    return;
  }
  let passedIndex = 0;
  let errorIndex = 0;
  const merged = failed.map((isFailed) => isFailed ? errors[errorIndex++] : entries[passedIndex++]);
  const upstreamFailed = typeof upstream.FailedRecordCount === "number"
    ? upstream.FailedRecordCount
    : 0;
  sendJson(res, 200, {
    ...upstream,
    FailedRecordCount: errors.length + upstreamFailed,
    Records: merged,
  });
}
