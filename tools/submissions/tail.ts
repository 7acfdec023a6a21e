/**
 * Follows every shard of the `events` stream and prints each record, as a module (the shard
 * reader is shared with read_stream.ts) and as a CLI (`deno task tail`).
 *
 * ```sh
 * deno task tail                 # new records only (LATEST), one readable line each
 * deno task tail --from-start    # everything still in the stream (TRIM_HORIZON)
 * deno task tail --json | jq .   # one JSON object per record
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import {
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
} from "@aws-sdk/client-kinesis";
import { sleep } from "../../src/app/backoff.ts";
import { abortOptions } from "../../src/submissions/aws_clients.ts";
import { listShards } from "../../src/submissions/list_shards.ts";
import { createToolClients, readToolEnv } from "./tool_env.ts";
import { runMain } from "../common/run_main.ts";

/** One record read from a shard. */
export interface ShardRecord {
  /** The shard it was read from. */
  readonly shardId: string;
  /** Its sequence number: the order within the shard. */
  readonly sequenceNumber: string;
  /** Its partition key. */
  readonly partitionKey: string;
  /** Its data, as written. */
  readonly data: Uint8Array;
  /** When Kinesis accepted it, if reported. */
  readonly arrivalTime: Date | undefined;
}

/** Where a shard reader starts. */
export type StartPosition =
  | "LATEST"
  | "TRIM_HORIZON"
  | { readonly afterSequenceNumber: string };

/** Options of {@linkcode readShard}. */
export interface ReadShardOptions {
  /** The stream. */
  readonly streamName: string;
  /** The shard. */
  readonly shardId: string;
  /** Where to start. Default `LATEST`. */
  readonly from?: StartPosition;
  /** Receives each non-empty page of records, in shard order, before the next is read. */
  readonly onRecords: (records: ShardRecord[]) => void | Promise<void>;
  /** Return once caught up (MillisBehindLatest 0 and an empty page) instead of following. */
  readonly untilCaughtUp?: boolean;
  /** Pause after an empty page, in ms. Default 250. */
  readonly idleMs?: number | undefined;
  /** Records per GetRecords. Default 10,000 (the maximum). */
  readonly limit?: number;
  /** Stops reading; {@linkcode readShard} then resolves with `aborted`. */
  readonly signal?: AbortSignal | undefined;
}

/** Why {@linkcode readShard} returned. */
export type ShardEnd = "closed" | "caught_up" | "aborted";

/**
 * Reads one shard from `from`, page by page, until the shard is closed (resharded), the caller
 * aborts, or with `untilCaughtUp`, it has read everything. An expired iterator is renewed after
 * the last record read, so nothing is skipped; throttling (5 reads/s per shard on AWS) backs off.
 */
export async function readShard(
  kinesis: KinesisClient,
  options: ReadShardOptions,
): Promise<ShardEnd> {
  const { streamName, shardId, signal } = options;
  const idleMs = options.idleMs ?? 250;
  let lastSequence: string | undefined;
  // Only used to renew an expired iterator before any record was seen: from LATEST, restarting
  // at the time of the last successful read re-reads at worst, where LATEST again could skip.
  let lastReadAt: Date | undefined;
  const start = options.from ?? "LATEST";
  let iterator: string | undefined = await shardIterator(kinesis, {
    StreamName: streamName,
    ShardId: shardId,
    ...positionOf(start),
  }, signal);
  let throttled = 0;
  while (!signal?.aborted) {
    if (iterator === undefined) return "closed";
    let page: GetRecordsCommandOutput;
    try {
      page = await kinesis.send(
        new GetRecordsCommand({ ShardIterator: iterator, Limit: options.limit ?? 10_000 }),
        abortOptions(signal),
      );
      throttled = 0;
    } catch (error) {
      if (signal?.aborted) return "aborted";
      const name = (error as { name?: string }).name;
      if (name === "ExpiredIteratorException") {
        const position: StartPosition | { readonly atTimestamp: Date } = lastSequence !== undefined
          ? { afterSequenceNumber: lastSequence }
          : start === "LATEST" && lastReadAt !== undefined
          ? { atTimestamp: lastReadAt }
          : start;
        iterator = await shardIterator(kinesis, {
          StreamName: streamName,
          ShardId: shardId,
          ...positionOf(position),
        }, signal);
        continue;
      }
      if (
        name === "ProvisionedThroughputExceededException" || name === "LimitExceededException"
      ) {
        throttled++;
        await sleep(Math.min(5_000, 200 * 2 ** throttled), signal);
        continue;
      }
      throw error;
    }
    lastReadAt = new Date();
    const records = (page.Records ?? []).map((record): ShardRecord => ({
      shardId,
      sequenceNumber: record.SequenceNumber ?? "",
      partitionKey: record.PartitionKey ?? "",
      data: record.Data ?? new Uint8Array(),
      arrivalTime: record.ApproximateArrivalTimestamp,
    }));
    const last = records.at(-1);
    if (last !== undefined) {
      lastSequence = last.sequenceNumber;
      await options.onRecords(records);
    }
    iterator = page.NextShardIterator;
    if (records.length === 0) {
      if (options.untilCaughtUp && page.MillisBehindLatest === 0) return "caught_up";
      if (iterator !== undefined) await sleep(idleMs, signal);
    }
  }
  return "aborted";
}

/** Every shard id of the stream, open and closed, parents before children. */
export async function listShardIds(
  kinesis: KinesisClient,
  streamName: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const shards = await listShards(kinesis, streamName, signal);
  return shards.flatMap((shard) => shard.ShardId ? [shard.ShardId] : []);
}

/** Options of {@linkcode followStream}. */
export interface FollowStreamOptions {
  /** The stream. */
  readonly streamName: string;
  /** Where the shards present at the start begin. Default `LATEST`. */
  readonly from?: "LATEST" | "TRIM_HORIZON";
  /** Receives each page of records of any shard. */
  readonly onRecords: (records: ShardRecord[]) => void | Promise<void>;
  /** Stops following; {@linkcode followStream} then resolves. */
  readonly signal: AbortSignal;
  /** Pause after an empty page, in ms. Default 250. */
  readonly idleMs?: number;
  /** How often to look for shards created by resharding, in ms. Default 30,000. */
  readonly relistMs?: number;
}

/**
 * Follows every shard of the stream until `signal` aborts, including shards that appear later
 * (resharding), which are read from their start so that none of their records is missed.
 */
export async function followStream(
  kinesis: KinesisClient,
  options: FollowStreamOptions,
): Promise<void> {
  const { streamName } = options;
  // One failing reader (or listing) stops the others, so the call never leaves work behind.
  const inner = new AbortController();
  const stop = () => inner.abort();
  options.signal.addEventListener("abort", stop, { once: true });
  if (options.signal.aborted) inner.abort();
  let failure: { error: unknown } | undefined;
  const fail = (error: unknown) => {
    if (!inner.signal.aborted) failure ??= { error };
    inner.abort();
  };
  const readers = new Map<string, Promise<unknown>>();
  const follow = (shardId: string, from: StartPosition) => {
    const reader = readShard(kinesis, {
      streamName,
      shardId,
      from,
      onRecords: options.onRecords,
      idleMs: options.idleMs,
      signal: inner.signal,
    });
    readers.set(shardId, reader.catch(fail));
  };
  try {
    for (const shardId of await listShardIds(kinesis, streamName, inner.signal)) {
      follow(shardId, options.from ?? "LATEST");
    }
    while (await sleep(options.relistMs ?? 30_000, inner.signal)) {
      for (const shardId of await listShardIds(kinesis, streamName, inner.signal)) {
        if (!readers.has(shardId)) follow(shardId, "TRIM_HORIZON");
      }
    }
  } catch (error) {
    fail(error);
  }
  await Promise.all(readers.values());
  options.signal.removeEventListener("abort", stop);
  if (failure !== undefined) throw failure.error;
}

async function shardIterator(
  kinesis: KinesisClient,
  input: GetShardIteratorCommandInput,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const { ShardIterator } = await kinesis.send(
    new GetShardIteratorCommand(input),
    abortOptions(signal),
  );
  return ShardIterator;
}

function positionOf(
  position: StartPosition | { readonly atTimestamp: Date },
): Pick<
  GetShardIteratorCommandInput,
  "ShardIteratorType" | "StartingSequenceNumber" | "Timestamp"
> {
  if (position === "LATEST" || position === "TRIM_HORIZON") return { ShardIteratorType: position };
  if ("atTimestamp" in position) {
    return { ShardIteratorType: "AT_TIMESTAMP", Timestamp: position.atTimestamp };
  }
  return {
    ShardIteratorType: "AFTER_SEQUENCE_NUMBER",
    StartingSequenceNumber: position.afterSequenceNumber,
  };
}

// ---------------------------------------------------------------------------------------------
// Formatting

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The record's data as JSON, or `undefined` when it is not UTF-8 JSON. */
export function parseRecordData(data: Uint8Array): unknown {
  try {
    return JSON.parse(utf8.decode(data));
  } catch {
    return undefined;
  }
}

/**
 * One readable line per record: arrival time, shard, device, submission, sequence/event_count,
 * event type and a short summary of the data. Tolerates any data (malformed records included).
 */
export function formatRecord(record: ShardRecord): string {
  const time = record.arrivalTime?.toISOString().slice(11, 23) ?? "--:--:--.---";
  const shardNumber = /^shardId-(\d+)$/.exec(record.shardId)?.[1];
  const shard = shardNumber === undefined ? record.shardId : `shard-${Number(shardNumber)}`;
  const value = parseRecordData(record.data);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return `${time} ${shard} MALFORMED ${record.data.byteLength} bytes, partition key ${
      short(record.partitionKey)
    }`;
  }
  const event = value as Record<string, unknown>;
  const data = (typeof event.data === "object" && event.data !== null ? event.data : {}) as Record<
    string,
    unknown
  >;
  let summary: string;
  if (event.event_type === "new_process") {
    summary = `${clip(data.user, 20)}: ${clip(data.cmdl, 80)}`;
  } else if (event.event_type === "network_connection") {
    summary = `${clip(data.source_ip, 40)} -> ${clip(data.destination_ip, 40)}:${
      clip(data.destination_port, 10)
    }`;
  } else {
    summary = clip(JSON.stringify(event.data), 80);
  }
  return `${time} ${shard} dev=${short(event.device_id)} sub=${short(event.submission_id)} ` +
    `${String(event.sequence)}/${String(event.event_count)} ${String(event.event_type)} ${summary}`;
}

/** One JSON line per record: its place in the stream and its data (parsed, else base64). */
export function formatRecordJson(record: ShardRecord): string {
  const value = parseRecordData(record.data);
  return JSON.stringify({
    shard_id: record.shardId,
    sequence_number: record.sequenceNumber,
    partition_key: record.partitionKey,
    arrival_time: record.arrivalTime?.toISOString() ?? null,
    ...(value === undefined ? { data_base64: record.data.toBase64() } : { data: value }),
  });
}

function short(id: unknown): string {
  return typeof id === "string" ? id.slice(0, 8) : String(id);
}

/**
 * A one-line, bounded rendering of untrusted text: control characters, line separators and
 * bidirectional overrides are escaped, so a record cannot break or disguise the terminal line.
 */
function clip(value: unknown, max: number): string {
  const text = (typeof value === "string" ? value : JSON.stringify(value ?? null)).replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
  if (text.length <= max) return text;
  // Never cut a surrogate pair in half.
  return `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, "")}…`;
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `Usage: deno task tail [--from-start] [--json]

Follows every shard of the stream (KINESIS_STREAM_NAME, default events) until Ctrl-C
(SIGINT) or SIGTERM.

  --from-start   start at the oldest record (TRIM_HORIZON) instead of new records only (LATEST)
  --json         one JSON object per record instead of a readable line

Environment: see tools/submissions/tool_env.ts (AWS_ENDPOINT_URL, KINESIS_STREAM_NAME, ...).`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "from-start": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const env = readToolEnv();
  const clients = createToolClients(env);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const format = values.json ? formatRecordJson : formatRecord;
  let count = 0;
  try {
    console.error(
      `tail: following ${env.streamName} from ${values["from-start"] ? "TRIM_HORIZON" : "LATEST"}`,
    );
    await followStream(clients.kinesis, {
      streamName: env.streamName,
      from: values["from-start"] ? "TRIM_HORIZON" : "LATEST",
      signal: controller.signal,
      onRecords(records) {
        count += records.length;
        console.log(records.map(format).join("\n"));
      },
    });
    console.error(`tail: ${count} records`);
    return 0;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    clients.destroy();
  }
}

if (import.meta.main) await runMain("tail", () => main(Deno.args));
