/**
 * Reconciles what the fleet sent (its manifest) with what the `events` stream holds. Pure:
 * `deno task verify` (verify.ts), the demo, the end-to-end tests and the benchmarks read the
 * stream (read_stream.ts) and the queue's depth (queue_depth.ts) and hand them over.
 *
 * The service's promise, checked here: every event of every valid submission is published
 * (copies allowed: delivery is at-least-once), the first copies of a submission's events appear in
 * `sequence` order, nothing of an invalid submission is published, and every record is a
 * well-formed {@linkcode EventRecordSchema} whose `event_id` is the deterministic one.
 *
 * @example
 * ```ts
 * import { reconcile } from "./reconcile.ts";
 *
 * const manifest = [{ submission_id: "s", device_id: "d", valid: false, events: 0, kind: "bad" }];
 * const report = reconcile(manifest, [], { queueDepth: { visible: 0, inFlight: 0 } });
 * report.ok; // true: nothing expected, nothing published, the queue empty
 * ```
 *
 * @module
 */
import {
  eventId,
  type EventRecord,
  EventRecordSchema,
} from "../../src/submissions/event_record.ts";
import type { ManifestEntry } from "./fleet/mod.ts";
import type { QueueDepth } from "./queue_depth.ts";
import type { StreamRecord } from "./read_stream.ts";

/** An expected event that is not in the stream. */
export interface MissingEvent {
  /** Its submission. */
  readonly submission_id: string;
  /** Its device. */
  readonly device_id: string;
  /** Its position in the submission. */
  readonly sequence: number;
  /** Its deterministic id. */
  readonly event_id: string;
}

/** A first copy of an event that came after a later event of its submission. */
export interface OrderViolation {
  /** The submission. */
  readonly submission_id: string;
  /** The shard it was read from. */
  readonly shardId: string;
  /** The record's sequence number in the shard. */
  readonly sequenceNumber: string;
  /** The event's `sequence`. */
  readonly sequence: number;
  /** The highest `sequence` of the submission already seen. */
  readonly after: number;
}

/** A record that is not a well-formed event record. */
export interface MalformedRecord {
  /** The shard it was read from. */
  readonly shardId: string;
  /** Its sequence number in the shard. */
  readonly sequenceNumber: string;
  /** Why it is malformed. */
  readonly reason: string;
}

/** Options of {@linkcode reconcile}. */
export interface ReconcileOptions {
  /** The queue's depth at the time of reading; a non-empty queue is not ok. */
  readonly queueDepth?: QueueDepth | undefined;
  /** How many missing events, order violations and malformed records to list. Default 20. */
  readonly maxListed?: number | undefined;
  /** Do not fail on well-formed records of submissions absent from the manifest (a stream that
   * also holds other runs). Default false. */
  readonly allowUnknown?: boolean | undefined;
}

/** What {@linkcode reconcile} found. */
export interface ReconcileReport {
  /** Whether the stream holds exactly what it must (copies aside). */
  readonly ok: boolean;
  /** Why not, one sentence each; empty when ok. */
  readonly problems: readonly string[];
  /** Manifest lines. */
  readonly messages: number;
  /** Manifest lines of valid submissions. */
  readonly validSubmissions: number;
  /** Manifest lines of invalid submissions. */
  readonly invalidSubmissions: number;
  /** Events the valid submissions carry. */
  readonly expectedEvents: number;
  /** Records read. */
  readonly records: number;
  /** Expected events present at least once. */
  readonly presentEvents: number;
  /** Expected events absent. */
  readonly missingEvents: number;
  /** The first missing events. */
  readonly missing: readonly MissingEvent[];
  /** Extra copies of an event id already seen: allowed (at-least-once), counted. */
  readonly duplicates: number;
  /** First copies that came after a later event of their submission. */
  readonly orderViolations: number;
  /** The first order violations. */
  readonly orderViolationSamples: readonly OrderViolation[];
  /** Records of submissions the manifest marks invalid. Must be 0. */
  readonly invalidSubmissionRecords: number;
  /** Well-formed records of submissions absent from the manifest. */
  readonly unknownRecords: number;
  /** Records that are not event records, or whose `event_id` is not the deterministic one. */
  readonly malformedRecords: number;
  /** The first malformed records. */
  readonly malformedSamples: readonly MalformedRecord[];
  /** Records whose `event_count` differs from the events of their submission. */
  readonly eventCountMismatches: number;
  /** Records of a valid submission whose `sequence` is beyond its events. */
  readonly unexpectedSequences: number;
  /** Submissions whose records are on more than one shard (their order is then unverifiable). */
  readonly splitSubmissions: number;
  /** The queue's depth, when given. */
  readonly queueDepth: QueueDepth | undefined;
}

/** What reconciliation tracks per manifest submission. */
interface Expectation {
  readonly entry: ManifestEntry;
  readonly present: Set<number>;
  readonly shards: Set<string>;
  highest: number;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reconciles the manifest with the records read from the stream. Pure. `records` must keep each
 * shard's order (as `readStream` returns them): the order check relies on it.
 *
 * @example
 * ```ts
 * import { reconcile } from "./reconcile.ts";
 *
 * const manifest = [{ submission_id: "s", device_id: "d", valid: true, events: 1, kind: "ok" }];
 * reconcile(manifest, []).problems; // ["1 expected events are missing"]
 * ```
 */
export function reconcile(
  manifest: readonly ManifestEntry[],
  records: readonly StreamRecord[],
  options: ReconcileOptions = {},
): ReconcileReport {
  const maxListed = options.maxListed ?? 20;
  const expectations = new Map<string, Expectation>();
  let expectedEvents = 0;
  for (const entry of manifest) {
    const key = submissionKey(entry.device_id, entry.submission_id);
    // A valid line wins over an invalid one with the same ids (e.g. `not-an-uuid` repeated).
    const known = expectations.get(key);
    if (known !== undefined && (known.entry.valid || !entry.valid)) continue;
    expectations.set(key, { entry, present: new Set(), shards: new Set(), highest: -1 });
  }
  for (const { entry } of expectations.values()) if (entry.valid) expectedEvents += entry.events;
  const validSubmissions = manifest.filter((entry) => entry.valid).length;

  const seen = new Set<string>();
  let duplicates = 0;
  let orderViolations = 0;
  let invalidSubmissionRecords = 0;
  let unknownRecords = 0;
  let malformedRecords = 0;
  let eventCountMismatches = 0;
  let unexpectedSequences = 0;
  const orderViolationSamples: OrderViolation[] = [];
  const malformedSamples: MalformedRecord[] = [];
  for (const record of records) {
    const parsed = parseEventRecord(record.data);
    if (typeof parsed === "string") {
      malformedRecords++;
      if (malformedSamples.length < maxListed) {
        malformedSamples.push({
          shardId: record.shardId,
          sequenceNumber: record.sequenceNumber,
          reason: parsed,
        });
      }
      continue;
    }
    // Later copies are at-least-once duplicates: counted, then ignored for everything else.
    if (seen.has(parsed.event_id)) {
      duplicates++;
      continue;
    }
    seen.add(parsed.event_id);
    const expectation = expectations.get(submissionKey(parsed.device_id, parsed.submission_id));
    if (expectation === undefined) {
      unknownRecords++;
      continue;
    }
    if (!expectation.entry.valid) {
      invalidSubmissionRecords++;
      continue;
    }
    if (parsed.event_count !== expectation.entry.events) eventCountMismatches++;
    if (parsed.sequence >= expectation.entry.events) {
      unexpectedSequences++;
      continue;
    }
    expectation.present.add(parsed.sequence);
    expectation.shards.add(record.shardId);
    if (parsed.sequence < expectation.highest) {
      orderViolations++;
      if (orderViolationSamples.length < maxListed) {
        orderViolationSamples.push({
          submission_id: parsed.submission_id,
          shardId: record.shardId,
          sequenceNumber: record.sequenceNumber,
          sequence: parsed.sequence,
          after: expectation.highest,
        });
      }
    } else {
      expectation.highest = parsed.sequence;
    }
  }

  const missing: MissingEvent[] = [];
  let missingEvents = 0;
  let splitSubmissions = 0;
  for (const { entry, present, shards } of expectations.values()) {
    if (!entry.valid) continue;
    if (shards.size > 1) splitSubmissions++;
    for (let sequence = 0; sequence < entry.events; sequence++) {
      if (present.has(sequence)) continue;
      missingEvents++;
      if (missing.length < maxListed) {
        missing.push({
          submission_id: entry.submission_id,
          device_id: entry.device_id,
          sequence,
          event_id: eventId(entry.device_id, entry.submission_id, sequence),
        });
      }
    }
  }

  const queueDepth = options.queueDepth;
  const problems = [
    missingEvents > 0 && `${missingEvents} expected events are missing`,
    orderViolations > 0 && `${orderViolations} events are out of order`,
    invalidSubmissionRecords > 0 &&
    `${invalidSubmissionRecords} records come from invalid submissions`,
    malformedRecords > 0 && `${malformedRecords} records are malformed`,
    eventCountMismatches > 0 && `${eventCountMismatches} records have a wrong event_count`,
    unexpectedSequences > 0 && `${unexpectedSequences} records have a sequence beyond their ` +
      "submission's events",
    unknownRecords > 0 && !options.allowUnknown &&
    `${unknownRecords} records belong to no submission of the manifest`,
    queueDepth !== undefined && queueDepth.visible + queueDepth.inFlight > 0 &&
    `the queue still holds ${queueDepth.visible} visible and ${queueDepth.inFlight} ` +
      "in-flight messages",
  ].filter((problem): problem is string => typeof problem === "string");

  return {
    ok: problems.length === 0,
    problems,
    messages: manifest.length,
    validSubmissions,
    invalidSubmissions: manifest.length - validSubmissions,
    expectedEvents,
    records: records.length,
    presentEvents: expectedEvents - missingEvents,
    missingEvents,
    missing,
    duplicates,
    orderViolations,
    orderViolationSamples,
    invalidSubmissionRecords,
    unknownRecords,
    malformedRecords,
    malformedSamples,
    eventCountMismatches,
    unexpectedSequences,
    splitSubmissions,
    queueDepth,
  };
}

/** Case-insensitive, like `eventId`: a record and its manifest line match whatever the case. */
function submissionKey(deviceId: string, submissionId: string): string {
  return `${deviceId.toLowerCase()}/${submissionId.toLowerCase()}`;
}

/** The record as an event record, or why it is not one. */
function parseEventRecord(data: Uint8Array): EventRecord | string {
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return "data is not UTF-8";
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "data is not JSON";
  }
  const result = EventRecordSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    return `not an event record: ${issue?.path.join(".") || "record"}: ${issue?.message}`;
  }
  const record = result.data;
  const expected = eventId(record.device_id, record.submission_id, record.sequence);
  if (record.event_id !== expected) {
    return `event_id ${record.event_id} is not eventId(device_id, submission_id, sequence) = ` +
      expected;
  }
  return record;
}
