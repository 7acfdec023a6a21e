/**
 * The counters of a fault proxy (fault_proxy.ts): requests by operation, faults injected by
 * kind, the records of Kinesis writes (received, failed, throttled, passed on), and the
 * parameters of SQS `ReceiveMessage` calls.
 *
 * @example
 * ```ts
 * import { emptyStats, ReceiveMessageTally } from "./fault_stats.ts";
 *
 * const stats = emptyStats("sqs");
 * const tally = new ReceiveMessageTally();
 * tally.observe({ MaxNumberOfMessages: 10, WaitTimeSeconds: 20 });
 * stats.receiveMessage = tally.values(); // [{ MaxNumberOfMessages: 10, ..., count: 1 }]
 * ```
 *
 * @module
 */
import type { ServiceName } from "./fault_settings.ts";

/** How often one combination of `ReceiveMessage` parameters was seen. */
export interface ReceiveMessageParams {
  /** `MaxNumberOfMessages` as sent, or `null` when the request left it out. */
  MaxNumberOfMessages: number | null;
  /** `VisibilityTimeout` as sent, or `null` when the request left it out. */
  VisibilityTimeout: number | null;
  /** `WaitTimeSeconds` as sent, or `null` when the request left it out. */
  WaitTimeSeconds: number | null;
  /** Number of `ReceiveMessage` requests that carried exactly these values. */
  count: number;
}

/** Counters of one proxy since it started or was last reset. */
export interface FaultStats {
  /** The service this proxy fronts. */
  service: ServiceName;
  /** Requests received per operation (`PutRecords`, `ReceiveMessage`, ...), refused ones included. */
  requests: Record<string, number>;
  /** Requests answered with an injected fault, by kind. */
  injected: {
    /** `PutRecords`/`PutRecord` requests answered LocalStack-style (`errorProbability`). */
    errorProbability: number;
    /** `PutRecords` requests with at least one record failed by `partialFailureProbability`. */
    partialFailure: number;
    /** `PutRecords`/`PutRecord` requests with at least one record refused by `throttle`. */
    throttled: number;
    /** Requests refused (socket destroyed) because of an outage. */
    outage: number;
  };
  /** `PutRecords` requests received (Kinesis). */
  putRecordsCalls: number;
  /** `PutRecords` requests forwarded to the emulator, whole or reduced to their passed records. */
  putRecordsForwarded: number;
  /** Records received in `PutRecords` and `PutRecord` requests. */
  recordsReceived: number;
  /** Records answered with an injected error code (never written), throttled ones included. */
  recordsFailed: number;
  /** Records refused by `throttle` (also counted in `recordsFailed`). */
  recordsThrottled: number;
  /** Records refused by `throttle`, by shard id. */
  throttledByShard: Record<string, number>;
  /** Records passed on to the emulator (received minus failed, for parseable requests). */
  recordsPassed: number;
  /** Distinct `ReceiveMessage` parameter combinations seen (SQS), with their counts. */
  receiveMessage: ReceiveMessageParams[];
  /** Requests that failed because the emulator could not be reached or broke the connection. */
  upstreamErrors: number;
}

/**
 * Counters at zero for a proxy in front of `service`.
 *
 * @example
 * ```ts
 * import { emptyStats } from "./fault_stats.ts";
 *
 * emptyStats("kinesis").recordsFailed; // 0
 * ```
 */
export function emptyStats(service: ServiceName): FaultStats {
  return {
    service,
    requests: {},
    injected: { errorProbability: 0, partialFailure: 0, throttled: 0, outage: 0 },
    putRecordsCalls: 0,
    putRecordsForwarded: 0,
    recordsReceived: 0,
    recordsFailed: 0,
    recordsThrottled: 0,
    throttledByShard: {},
    recordsPassed: 0,
    receiveMessage: [],
    upstreamErrors: 0,
  };
}

/**
 * Counts `ReceiveMessage` requests by their combination of parameters, so a test can tell what
 * the service really asks SQS for.
 *
 * @example
 * ```ts
 * import { ReceiveMessageTally } from "./fault_stats.ts";
 *
 * const tally = new ReceiveMessageTally();
 * tally.observe({ MaxNumberOfMessages: 10 });
 * tally.observe({ MaxNumberOfMessages: 10 });
 * tally.values()[0]?.count; // 2
 * ```
 */
export class ReceiveMessageTally {
  readonly #seen = new Map<string, ReceiveMessageParams>();

  /** Counts one request, given its parsed JSON body. */
  observe(payload: Record<string, unknown>): void {
    const params = {
      MaxNumberOfMessages: numberOrNull(payload.MaxNumberOfMessages),
      VisibilityTimeout: numberOrNull(payload.VisibilityTimeout),
      WaitTimeSeconds: numberOrNull(payload.WaitTimeSeconds),
    };
    const key =
      `${params.MaxNumberOfMessages}|${params.VisibilityTimeout}|${params.WaitTimeSeconds}`;
    const seen = this.#seen.get(key);
    if (seen) seen.count++;
    else this.#seen.set(key, { ...params, count: 1 });
  }

  /** Every combination seen, in the order first seen (live objects: copy before handing out). */
  values(): ReceiveMessageParams[] {
    return [...this.#seen.values()];
  }

  /** Forgets every request. */
  clear(): void {
    this.#seen.clear();
  }
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}
