/**
 * Reconciles what the fleet sent (its manifest) with what the `events` stream holds, as a module
 * and as a CLI (`deno task verify --manifest PATH`, exit 1 when not ok).
 *
 * The service's promise, checked here: every event of every valid submission is published
 * (copies allowed: delivery is at-least-once), the first copies of a submission's events appear in
 * `sequence` order, nothing of an invalid submission is published, and every record is a
 * well-formed {@linkcode EventRecordSchema} whose `event_id` is the deterministic one.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import {
  eventId,
  type EventRecord,
  EventRecordSchema,
} from "../../src/submissions/event_record.ts";
import { type ManifestEntry, ManifestEntrySchema } from "./fleet/mod.ts";
import { sleep } from "../../src/app/backoff.ts";
import { listShardIds, readShard } from "./tail.ts";
import { createToolClients, readToolEnv, resolveQueueUrl } from "./tool_env.ts";

/** One record of the stream, where it was read. */
export interface StreamRecord {
  /** The shard it was read from. */
  readonly shardId: string;
  /** Its sequence number within the shard. */
  readonly sequenceNumber: string;
  /** Its data, as written. */
  readonly data: Uint8Array;
  /** When Kinesis accepted it (`ApproximateArrivalTimestamp`), if reported. */
  readonly arrivalTime?: Date | undefined;
}

/** Options of {@linkcode readStream}. */
export interface ReadStreamOptions {
  /** Stops reading; {@linkcode readStream} then returns what it has. */
  readonly signal?: AbortSignal;
}

/**
 * Reads every shard of the stream from TRIM_HORIZON until caught up (MillisBehindLatest 0 and an
 * empty page) or closed. Records come shard by shard, each shard in its own order, which is the
 * only order Kinesis defines.
 */
export async function readStream(
  kinesis: KinesisClient,
  streamName: string,
  options: ReadStreamOptions = {},
): Promise<StreamRecord[]> {
  const shardIds = await listShardIds(kinesis, streamName, options.signal);
  const perShard = await Promise.all(shardIds.map(async (shardId) => {
    const records: StreamRecord[] = [];
    await readShard(kinesis, {
      streamName,
      shardId,
      from: "TRIM_HORIZON",
      untilCaughtUp: true,
      idleMs: 200,
      signal: options.signal,
      onRecords(page) {
        for (const { sequenceNumber, data, arrivalTime } of page) {
          records.push({ shardId, sequenceNumber, data, arrivalTime });
        }
      },
    });
    return records;
  }));
  return perShard.flat();
}

/** Messages still in the queue. */
export interface QueueDepth {
  /** Waiting to be received (ApproximateNumberOfMessages). */
  readonly visible: number;
  /** Received, not yet deleted (ApproximateNumberOfMessagesNotVisible). */
  readonly inFlight: number;
}

/** The queue's approximate depth. */
export async function getQueueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

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
  readonly queueDepth?: QueueDepth;
  /** How many missing events, order violations and malformed records to list. Default 20. */
  readonly maxListed?: number;
  /** Do not fail on well-formed records of submissions absent from the manifest (a stream that
   * also holds other runs). Default false. */
  readonly allowUnknown?: boolean;
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
 * shard's order (as {@linkcode readStream} returns them): the order check relies on it.
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

// ---------------------------------------------------------------------------------------------
// Manifest files and the report

/** Parses a manifest file (JSON lines; blank lines ignored). Throws naming the bad line. */
export function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`manifest line ${i + 1} is not JSON`);
    }
    const result = ManifestEntrySchema.safeParse(value);
    if (!result.success) {
      throw new Error(`manifest line ${i + 1}: ${result.error.issues[0]?.message ?? "invalid"}`);
    }
    entries.push(result.data);
  }
  return entries;
}

/** The report as readable text, a few lines, samples included. */
export function formatReport(report: ReconcileReport): string {
  const lines = [
    `verify: ${report.ok ? "OK" : "NOT OK"}`,
    `  manifest: ${report.messages} messages, ${report.validSubmissions} valid submissions ` +
    `(${report.expectedEvents} events), ${report.invalidSubmissions} invalid`,
    `  stream:   ${report.records} records, ${report.presentEvents}/${report.expectedEvents} ` +
    `expected events present, ${report.duplicates} duplicate copies`,
    `  missing events:             ${report.missingEvents}`,
    `  order violations:           ${report.orderViolations}`,
    `  records of invalid subm.:   ${report.invalidSubmissionRecords}`,
    `  records not in manifest:    ${report.unknownRecords}`,
    `  malformed records:          ${report.malformedRecords}`,
    `  event_count mismatches:     ${report.eventCountMismatches}`,
    `  sequences beyond events:    ${report.unexpectedSequences}`,
    `  submissions on >1 shard:    ${report.splitSubmissions}`,
  ];
  if (report.queueDepth !== undefined) {
    lines.push(
      `  queue depth:                ${report.queueDepth.visible} visible + ` +
        `${report.queueDepth.inFlight} in flight`,
    );
  }
  const more = (shown: number, total: number) =>
    total > shown ? [`    ... and ${total - shown} more`] : [];
  if (report.missing.length > 0) {
    lines.push("  first missing events:");
    for (const m of report.missing) {
      lines.push(
        `    ${m.device_id}/${m.submission_id} #${m.sequence} (event_id ${m.event_id})`,
      );
    }
    lines.push(...more(report.missing.length, report.missingEvents));
  }
  if (report.orderViolationSamples.length > 0) {
    lines.push("  first order violations:");
    for (const v of report.orderViolationSamples) {
      lines.push(
        `    ${v.submission_id} #${v.sequence} after #${v.after} (${v.shardId} ${v.sequenceNumber})`,
      );
    }
    lines.push(...more(report.orderViolationSamples.length, report.orderViolations));
  }
  if (report.malformedSamples.length > 0) {
    lines.push("  first malformed records:");
    for (const m of report.malformedSamples) {
      lines.push(`    ${m.shardId} ${m.sequenceNumber}: ${m.reason}`);
    }
    lines.push(...more(report.malformedSamples.length, report.malformedRecords));
  }
  for (const problem of report.problems) lines.push(`  problem: ${problem}`);
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// CLI

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

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`verify: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(2);
  }
}
