/**
 * The fault settings of a fault proxy (fault_proxy.ts): what each fault is, the defaults, and
 * the validation every update goes through (the proxy's `set`, the local stack's control
 * endpoint).
 *
 * @example
 * ```ts
 * import { mergeFaultSettings, NO_FAULTS } from "./fault_settings.ts";
 *
 * mergeFaultSettings("kinesis", NO_FAULTS, { errorProbability: 0.1 }).errorProbability; // 0.1
 * ```
 *
 * @module
 */
import {
  SHARD_BYTES_PER_SECOND,
  SHARD_RECORDS_PER_SECOND,
} from "../../src/submissions/kinesis_limits.ts";

/** The AWS service a fault proxy stands in front of. */
export type ServiceName = "kinesis" | "sqs";

/** The fault settings of one proxy, all changeable at run time. */
export interface FaultSettings {
  /**
   * Kinesis only, 0..1: per `PutRecords`/`PutRecord` request, the probability of answering
   * exactly like LocalStack's `KINESIS_ERROR_PROBABILITY` does: `PutRecords` gets HTTP 200 with
   * every record failed (`ProvisionedThroughputExceededException`) and `FailedRecordCount: 1`
   * whatever the number of records; `PutRecord` gets HTTP 400
   * `ProvisionedThroughputExceededException`. Nothing of the request is written.
   */
  errorProbability: number;
  /**
   * Kinesis only, 0..1: per record of a `PutRecords`, the probability that the record fails
   * (alternately `ProvisionedThroughputExceededException` and `InternalFailure`) while the other
   * records of the same request are really written.
   */
  partialFailureProbability: number;
  /**
   * Kinesis only: each shard takes at most `shardRecordsPerSecond` records and
   * `shardBytesPerSecond` bytes per second, like real Kinesis; a record beyond that fails with
   * `ProvisionedThroughputExceededException` ("Rate exceeded for shard shardId-… in stream …")
   * while the rest of its call is written (`PutRecord`: HTTP 400). Off by default.
   */
  throttle: boolean;
  /** Kinesis only: the per-shard record budget of `throttle`, per second. Default 1 000. */
  shardRecordsPerSecond: number;
  /**
   * Kinesis only: the per-shard byte budget of `throttle` (data plus partition key), per second.
   * Default 1 MiB.
   */
  shardBytesPerSecond: number;
  /** Delay, in milliseconds, added before each request is forwarded or answered. */
  latencyMs: number;
  /** End of the current outage, as epoch milliseconds; 0 (or any past time) means none. */
  outageUntil: number;
}

/**
 * A partial update of {@linkcode FaultSettings}: a key absent or `undefined` keeps its setting.
 * `outageSeconds` starts an outage of that many seconds from now (0 ends the current one) and
 * wins over `outageUntil`.
 */
export type FaultSettingsUpdate = { [K in keyof FaultSettings]?: FaultSettings[K] | undefined } & {
  /** Starts an outage lasting this many seconds from now; 0 ends any current outage. */
  outageSeconds?: number | undefined;
};

const UPDATE_KEYS = new Set([
  "errorProbability",
  "partialFailureProbability",
  "throttle",
  "shardRecordsPerSecond",
  "shardBytesPerSecond",
  "latencyMs",
  "outageUntil",
  "outageSeconds",
]);

/** No fault at all; the throttle's budgets at Kinesis's limits. */
export const NO_FAULTS: Readonly<FaultSettings> = {
  errorProbability: 0,
  partialFailureProbability: 0,
  throttle: false,
  shardRecordsPerSecond: SHARD_RECORDS_PER_SECOND,
  shardBytesPerSecond: SHARD_BYTES_PER_SECOND,
  latencyMs: 0,
  outageUntil: 0,
};

/**
 * Validates an update against the current settings and returns the merged settings, leaving
 * `current` untouched. Keys set to `undefined` are ignored.
 *
 * @example
 * ```ts
 * import { mergeFaultSettings, NO_FAULTS } from "./fault_settings.ts";
 *
 * mergeFaultSettings("kinesis", NO_FAULTS, { outageSeconds: 5 }, 1_000).outageUntil; // 6_000
 * ```
 *
 * @throws {RangeError} on an unknown key, an out-of-range value, or a Kinesis-only fault set on
 * SQS.
 */
export function mergeFaultSettings(
  service: ServiceName,
  current: FaultSettings,
  update: FaultSettingsUpdate,
  now: number = Date.now(),
): FaultSettings {
  for (const key of Object.keys(update)) {
    if (!UPDATE_KEYS.has(key)) throw new RangeError(`unknown fault setting "${key}"`);
  }
  const next = { ...current };
  for (const key of ["errorProbability", "partialFailureProbability"] as const) {
    const value = update[key];
    if (value === undefined) continue;
    checkNumber(key, value, 0, 1);
    if (service === "sqs" && value !== 0) {
      throw new RangeError(`${key} applies to Kinesis only, not to SQS`);
    }
    next[key] = value;
  }
  if (update.throttle !== undefined) {
    if (typeof update.throttle !== "boolean") {
      throw new RangeError(`throttle must be true or false, got ${String(update.throttle)}`);
    }
    if (service === "sqs" && update.throttle) {
      throw new RangeError("throttle applies to Kinesis only, not to SQS");
    }
    next.throttle = update.throttle;
  }
  for (const key of ["shardRecordsPerSecond", "shardBytesPerSecond"] as const) {
    const value = update[key];
    if (value === undefined) continue;
    checkNumber(key, value, 1, 1e12);
    next[key] = value;
  }
  if (update.latencyMs !== undefined) {
    checkNumber("latencyMs", update.latencyMs, 0, 600_000);
    next.latencyMs = update.latencyMs;
  }
  if (update.outageUntil !== undefined) {
    checkNumber("outageUntil", update.outageUntil, 0, Number.MAX_SAFE_INTEGER);
    next.outageUntil = update.outageUntil;
  }
  if (update.outageSeconds !== undefined) {
    checkNumber("outageSeconds", update.outageSeconds, 0, 86_400);
    next.outageUntil = update.outageSeconds === 0 ? 0 : now + update.outageSeconds * 1000;
  }
  return next;
}

function checkNumber(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(`${name} must be a number in [${min}, ${max}], got ${String(value)}`);
  }
}
