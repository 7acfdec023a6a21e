/**
 * The sensor fleet simulator, faithful to the one of the original environment, plus the noise of
 * real fleets, as a module (tests and benchmarks preload queues with it) and as a CLI
 * (`deno task fleet`).
 *
 * Faithful mode (the default): `FLEET_SIZE` devices with fixed UUIDs; every 30–45 s one
 * submission per device, each its own `SendMessage`; the body is padded standard base64 of the
 * UTF-8 JSON; 3–5 `new_process` events (first) and 3–5 `network_connection` events; naive local
 * `time_created` with microseconds; ports uniform in 0..65535; the four 1 % faults.
 *
 * Every message comes with a {@linkcode ManifestEntry} saying whether it is valid and how many
 * events the service must publish for it. Validity is decided from what the generator itself
 * injected, never by calling the service's codec, so reconciling against it is not circular.
 *
 * ```sh
 * deno task fleet                                  # faithful, forever (Ctrl-C stops)
 * deno task fleet --count 20000 --manifest m.jsonl # preload as fast as possible
 * deno task fleet --rate 200 --adversarial --raw-json 0.1 --seed 7
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { sleep } from "../../../src/app/backoff.ts";
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { z } from "zod";
import { createToolClients, readToolEnv, resolveQueueUrl } from "../tool_env.ts";

// ---------------------------------------------------------------------------------------------
// Kinds of message and the manifest

/**
 * Every kind of message the generator can produce, with whether the service must accept it.
 * `ok` is a plain faithful submission; `raw_json` is a valid submission sent as raw JSON instead
 * of base64; the next four are the original simulator's 1 % faults; the rest are the noise of real
 * fleets (`--adversarial`).
 */
export const MESSAGE_KINDS = {
  ok: true,
  raw_json: true,
  bad_submission_id: false,
  bad_device_id: false,
  bad_destination_ip: false,
  null_cmdl: false,
  not_base64: false,
  base64_not_json: false,
  invalid_utf8: false,
  json_not_object: false,
  missing_field: false,
  wrong_type: false,
  port_out_of_range: false,
  ipv6: false,
  huge_cmdl: true,
  unicode_cmdl: true,
  unknown_fields: true,
  unknown_event_type: true,
} as const;

/** One of {@linkcode MESSAGE_KINDS}. */
export type MessageKind = keyof typeof MESSAGE_KINDS;

/** The original simulator's faults, each injected with {@linkcode FleetOptions.faultProbability}. */
export const FAITHFUL_FAULTS = [
  "bad_submission_id",
  "bad_device_id",
  "bad_destination_ip",
  "null_cmdl",
] as const satisfies readonly MessageKind[];

/** The malformed and odd messages real fleets send (`--adversarial`), valid ones included. */
export const ADVERSARIAL_KINDS = [
  "not_base64",
  "base64_not_json",
  "invalid_utf8",
  "json_not_object",
  "missing_field",
  "wrong_type",
  "port_out_of_range",
  "ipv6",
  "huge_cmdl",
  "unicode_cmdl",
  "unknown_fields",
  "unknown_event_type",
] as const satisfies readonly MessageKind[];

/** One deliberate change applied to a message instead of the faithful faults. */
export type Mutation = typeof FAITHFUL_FAULTS[number] | typeof ADVERSARIAL_KINDS[number];

/** One line of the manifest: one message sent to the queue. */
export interface ManifestEntry {
  /** The submission id as sent (the intended id when the body does not carry it as a string). */
  readonly submission_id: string;
  /** The device id as sent (the intended id when the body does not carry it as a string). */
  readonly device_id: string;
  /** Whether the service must accept the message and publish its events. */
  readonly valid: boolean;
  /** The known events the submission carries: what must be published when `valid`. */
  readonly events: number;
  /** `ok`, or the {@linkcode MessageKind}s of the message joined with `+` (`raw_json+null_cmdl`). */
  readonly kind: string;
}

/** The schema of one manifest line, for readers of manifest files. */
export const ManifestEntrySchema: z.ZodType<ManifestEntry> = z.object({
  submission_id: z.string(),
  device_id: z.string(),
  valid: z.boolean(),
  events: z.int().min(0),
  kind: z.string().min(1),
});

/** A message ready to send, with its manifest line. */
export interface FleetMessage {
  /** The SQS message body. */
  readonly body: string;
  /** What the message is and what the service must do with it. */
  readonly manifestEntry: ManifestEntry;
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** A seeded pseudo-random source (sfc32): the same seed yields the same fleet and messages. */
export class SeededRandom {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  /** Seeds the generator; any 32-bit integer (others are truncated). */
  constructor(seed: number) {
    // splitmix32 spreads a small seed over the four words of state.
    let s = seed >>> 0;
    const mix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    for (let i = 0; i < 12; i++) this.float();
  }

  /** A float in [0, 1). */
  float(): number {
    const t = (((this.#a + this.#b) | 0) + this.#d) | 0;
    this.#d = (this.#d + 1) | 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) | 0;
    this.#c = (this.#c << 21) | (this.#c >>> 11);
    this.#c = (this.#c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** An integer uniform in `min..max`, both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** A uniformly chosen element of a non-empty list. */
  pick<T>(items: readonly T[]): T {
    const item = items[Math.floor(this.float() * items.length)];
    if (item === undefined) throw new RangeError("pick from an empty list");
    return item;
  }

  /** A random version 4 UUID (lower-case), reproducible from the seed. */
  uuid(): string {
    const bytes = Array.from({ length: 16 }, () => this.int(0, 255));
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
      hex.slice(20)
    }`;
  }
}

/** A seed from the OS's randomness, for runs that did not ask for one. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

// ---------------------------------------------------------------------------------------------
// The fleet

/** One simulated sensor. Its id never changes for the life of the fleet. */
export interface Device {
  /** The device's UUID. */
  readonly deviceId: string;
  /** The device's own (private) IPv4 address: the `source_ip` of its connections. */
  readonly sourceIp: string;
  /** The users who start processes on the device. */
  readonly users: readonly string[];
}

/** Options of {@linkcode createFleet}. */
export interface FleetOptions {
  /** Number of devices. Default 10 (the original `FLEET_SIZE`). */
  readonly fleetSize?: number;
  /** The seed of every random choice. Default: random (see {@linkcode Fleet.seed}). */
  readonly seed?: number;
  /** Probability of each faithful fault. Default 0.01, as in the original simulator. */
  readonly faultProbability?: number;
  /** Extra fraction of messages made deliberately invalid. Default 0. */
  readonly invalidRatio?: number;
  /** Fraction of messages replaced by one of the {@linkcode ADVERSARIAL_KINDS}. Default 0. */
  readonly adversarialRatio?: number;
  /** Fraction of bodies sent as raw JSON instead of base64. Default 0. */
  readonly rawJsonRatio?: number;
  /** The devices' clock, for `time_created`. Default: the system clock. */
  readonly clock?: () => Date;
}

/** A fleet of devices and the random state that generates their submissions. */
export interface Fleet {
  /** The seed actually used; pass it again to reproduce the run. */
  readonly seed: number;
  /** The devices, fixed for the life of the fleet. */
  readonly devices: readonly Device[];
  /** The random source; every generated message advances it. */
  readonly random: SeededRandom;
  /** The settings in effect. */
  readonly settings: Readonly<Required<Omit<FleetOptions, "seed">>>;
  /** The device {@linkcode nextSubmission} uses next (round-robin). */
  cursor: number;
}

const USERS = ["alice", "bob", "carol", "dave", "erin", "SYSTEM", "root", "svc_backup"];
const UNICODE_USERS = ["Jürgen", "Zoë", "山田太郎", "Ølaf", "Мария", "محمد"];
const COMMAND_LINES = [
  "C:\\Windows\\System32\\svchost.exe -k netsvcs -p",
  "C:\\Windows\\explorer.exe",
  '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer',
  "powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\scripts\\inventory.ps1",
  "cmd.exe /c whoami /all",
  "rundll32.exe shell32.dll,Control_RunDLL",
  "notepad.exe C:\\Users\\alice\\Documents\\notes.txt",
  "/usr/bin/python3 /opt/agent/collect.py --interval 30",
  "/bin/bash -c 'curl -fsSL https://example.com/install.sh | sh'",
  "/usr/sbin/sshd -D",
  "/usr/bin/git fetch --prune origin",
  "ssh -i ~/.ssh/id_ed25519 deploy@10.20.30.40",
];
const UNICODE_COMMAND_LINES = [
  "C:\\Users\\Jürgen\\Документы\\отчёт.exe /флаг",
  '"C:\\Program Files\\应用\\启动器.exe" --语言=中文',
  "/usr/bin/echo 'héllo wörld' 🚀🔥 \u202Eexe.txt",
  "notepad.exe C:\\Users\\محمد\\ملف.txt",
  'cmd.exe /c echo "tab\there" & echo line\nbreak',
  "e\u0301\u0301 combining and zero\u200Bwidth 🇫🇮 👩‍💻",
];

/** Creates a fleet: its devices get fixed ids drawn from the seed. */
export function createFleet(options: FleetOptions = {}): Fleet {
  const settings = {
    fleetSize: options.fleetSize ?? 10,
    faultProbability: options.faultProbability ?? 0.01,
    invalidRatio: options.invalidRatio ?? 0,
    adversarialRatio: options.adversarialRatio ?? 0,
    rawJsonRatio: options.rawJsonRatio ?? 0,
    clock: options.clock ?? (() => new Date()),
  };
  if (!Number.isInteger(settings.fleetSize) || settings.fleetSize < 1) {
    throw new RangeError(`fleetSize must be a positive integer, got ${settings.fleetSize}`);
  }
  for (const name of ["faultProbability", "invalidRatio", "adversarialRatio", "rawJsonRatio"]) {
    const value = settings[name as "invalidRatio"];
    if (!(value >= 0 && value <= 1)) throw new RangeError(`${name} must be in 0..1, got ${value}`);
  }
  if (settings.invalidRatio + settings.adversarialRatio > 1) {
    throw new RangeError("invalidRatio + adversarialRatio must not exceed 1");
  }
  const seed = (options.seed ?? randomSeed()) >>> 0;
  const random = new SeededRandom(seed);
  const devices = Array.from({ length: settings.fleetSize }, (): Device => ({
    deviceId: random.uuid(),
    sourceIp: `10.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`,
    users: [random.pick(USERS), random.pick(USERS), "SYSTEM"],
  }));
  return { seed, devices, random, settings, cursor: 0 };
}

/** The next message of the fleet, devices taken round-robin. */
export function nextSubmission(fleet: Fleet): FleetMessage {
  const index = fleet.cursor;
  fleet.cursor = (fleet.cursor + 1) % fleet.devices.length;
  return generateMessage(fleet, index);
}

/** One round: one message per device, in device order. */
export function nextRound(fleet: Fleet): FleetMessage[] {
  return fleet.devices.map((_, index) => generateMessage(fleet, index));
}

/** Lazily yields `count` messages round-robin over the devices, generated as they are pulled. */
export function* generateMessages(fleet: Fleet, count: number): Generator<FleetMessage> {
  for (let i = 0; i < count; i++) yield nextSubmission(fleet);
}

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** A submission being built, with the faithful event lists it started with. */
interface Draft {
  readonly submission: JsonObject;
  readonly processes: JsonObject[];
  readonly connections: JsonObject[];
  readonly random: SeededRandom;
}

/** Generates the next message of the device at `deviceIndex`. */
export function generateMessage(fleet: Fleet, deviceIndex: number): FleetMessage {
  const device = fleet.devices[deviceIndex];
  if (device === undefined) throw new RangeError(`no device ${deviceIndex}`);
  const { random, settings } = fleet;
  const submissionId = random.uuid();
  const processes = Array.from({ length: random.int(3, 5) }, (): JsonObject => ({
    cmdl: random.pick(COMMAND_LINES),
    user: random.pick(device.users),
  }));
  const connections = Array.from({ length: random.int(3, 5) }, (): JsonObject => ({
    source_ip: device.sourceIp,
    destination_ip: randomIpv4(random),
    destination_port: random.int(0, 65535),
  }));
  const submission: JsonObject = {
    submission_id: submissionId,
    device_id: device.deviceId,
    time_created: naiveLocalTime(settings.clock(), random.int(0, 999)),
    // new_process first: the original simulator's key order, which defines `sequence`.
    events: { new_process: processes, network_connection: connections },
  };
  const draft: Draft = { submission, processes, connections, random };

  // A message carries either the simulator's own faults or one deliberate mutation, never both,
  // so that a mutation can never undo a fault (or the reverse) behind the manifest's back.
  const kinds: MessageKind[] = [];
  const mutation = chooseMutation(fleet);
  let body: string | undefined;
  if (mutation === undefined) {
    kinds.push(...injectFaithfulFaults(draft, settings.faultProbability));
  } else {
    kinds.push(mutation);
    body = applyMutation(draft, mutation);
  }
  if (body === undefined) {
    const json = JSON.stringify(submission);
    if (random.chance(settings.rawJsonRatio)) {
      kinds.push("raw_json");
      body = sqsSafeJson(json);
    } else {
      body = new TextEncoder().encode(json).toBase64();
    }
  }
  return {
    body,
    manifestEntry: {
      submission_id: typeof submission.submission_id === "string"
        ? submission.submission_id
        : submissionId,
      device_id: typeof submission.device_id === "string" ? submission.device_id : device.deviceId,
      valid: kinds.every((kind) => MESSAGE_KINDS[kind]),
      events: processes.length + connections.length,
      kind: kinds.length === 0 ? "ok" : kinds.join("+"),
    },
  };
}

/** `2021-03-28T15:44:18.592840`: the device's local wall-clock time, no zone, microseconds. */
export function naiveLocalTime(date: Date, extraMicroseconds: number): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, "0");
  const micros = date.getMilliseconds() * 1000 + extraMicroseconds;
  return `${pad(date.getFullYear(), 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(micros, 6)}`;
}

function randomIpv4(random: SeededRandom): string {
  return `${random.int(1, 223)}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(0, 255)}`;
}

function chooseMutation(fleet: Fleet): Mutation | undefined {
  const { invalidRatio, adversarialRatio } = fleet.settings;
  const draw = fleet.random.float();
  if (draw < invalidRatio) {
    // The adversarial invalid kinds join the pool only when the run asked for adversarial input,
    // so that `--invalid-ratio` alone stays within what the original simulator sends.
    const pool: Mutation[] = adversarialRatio > 0
      ? [...FAITHFUL_FAULTS, ...ADVERSARIAL_KINDS.filter((kind) => !MESSAGE_KINDS[kind])]
      : [...FAITHFUL_FAULTS];
    return fleet.random.pick(pool);
  }
  if (draw < invalidRatio + adversarialRatio) return fleet.random.pick(ADVERSARIAL_KINDS);
  return undefined;
}

function injectFaithfulFaults(draft: Draft, p: number): MessageKind[] {
  const { submission, processes, connections, random } = draft;
  const kinds: MessageKind[] = [];
  if (random.chance(p)) {
    submission.submission_id = "not-an-uuid";
    kinds.push("bad_submission_id");
  }
  if (random.chance(p)) {
    submission.device_id = "not-an-uuid";
    kinds.push("bad_device_id");
  }
  let nullCmdl = false;
  for (const process of processes) {
    if (random.chance(p)) {
      process.cmdl = null;
      nullCmdl = true;
    }
  }
  let badIp = false;
  for (const connection of connections) {
    if (random.chance(p)) {
      connection.destination_ip = "not-an-ip";
      badIp = true;
    }
  }
  if (nullCmdl) kinds.push("null_cmdl");
  if (badIp) kinds.push("bad_destination_ip");
  return kinds;
}

/** Applies `mutation` to the draft; returns the whole body when the mutation is the body. */
function applyMutation(draft: Draft, mutation: Mutation): string | undefined {
  const { submission, processes, connections, random } = draft;
  const anyProcess = () => random.pick(processes);
  const anyConnection = () => random.pick(connections);
  switch (mutation) {
    case "bad_submission_id":
      submission.submission_id = "not-an-uuid";
      return undefined;
    case "bad_device_id":
      submission.device_id = "not-an-uuid";
      return undefined;
    case "null_cmdl":
      anyProcess().cmdl = null;
      return undefined;
    case "bad_destination_ip":
      anyConnection().destination_ip = "not-an-ip";
      return undefined;
    case "not_base64":
      return notBase64Body(JSON.stringify(submission), random);
    case "base64_not_json":
      return base64Utf8(notJsonText(submission, random));
    case "invalid_utf8":
      return invalidUtf8Body(draft);
    case "json_not_object":
      return base64Utf8(
        random.pick([JSON.stringify([submission]), '"submission"', "42", "null", "true"]),
      );
    case "missing_field":
      removeField(draft);
      return undefined;
    case "wrong_type":
      giveWrongType(draft);
      return undefined;
    case "port_out_of_range":
      anyConnection().destination_port = random.pick([65536, 70000, 99999, -1, -443, 2 ** 31]);
      return undefined;
    case "ipv6": {
      const connection = anyConnection();
      const field = random.pick(["source_ip", "destination_ip"]);
      connection[field] = random.pick([
        "2001:db8::1",
        "fe80::1ff:fe23:4567:890a",
        "::1",
        "::ffff:192.0.2.128",
        "2a00:1450:4001:80b::200e",
      ]);
      return undefined;
    }
    case "huge_cmdl":
      anyProcess().cmdl = hugeCommandLine(random);
      return undefined;
    case "unicode_cmdl": {
      const process = anyProcess();
      process.cmdl = random.pick(UNICODE_COMMAND_LINES);
      process.user = random.pick(UNICODE_USERS);
      return undefined;
    }
    case "unknown_fields":
      submission.sensor_version = "7.2.1";
      submission.os = { family: "windows", build: 19045 };
      for (const process of processes) process.pid = random.int(4, 65535);
      for (const connection of connections) connection.protocol = random.pick(["tcp", "udp"]);
      return undefined;
    case "unknown_event_type":
      addUnknownEventType(draft);
      return undefined;
  }
}

function base64Utf8(text: string): string {
  return new TextEncoder().encode(text).toBase64();
}

/** Bodies a misconfigured sensor sends instead of padded standard base64. */
function notBase64Body(json: string, random: SeededRandom): string {
  switch (random.int(0, 3)) {
    case 0: // Padding stripped.
      return unpaddedBase64(json);
    case 1: // MIME-style line breaks every 76 characters (a submission is always longer).
      return base64Utf8(json).replace(/.{76}/g, "$&\r\n");
    case 2: // The URL-safe alphabet, unpadded as base64url usually is.
      return unpaddedBase64(json).replaceAll("+", "-").replaceAll("/", "_");
    default:
      return random.pick([
        "ERROR: sensor buffer overflow at 0x7ffe4c2a",
        "<submission><device_id>unknown</device_id></submission>",
        "submission_id=1&device_id=2",
      ]);
  }
}

/** Base64 without its padding; blanks grow the JSON until it needs padding, so some is lost. */
function unpaddedBase64(json: string): string {
  let text = json;
  while (new TextEncoder().encode(text).length % 3 === 0) text += " ";
  return base64Utf8(text).replace(/=+$/, "");
}

/** Text that base64 carries fine but that is not JSON. */
function notJsonText(submission: JsonObject, random: SeededRandom): string {
  const json = JSON.stringify(submission);
  switch (random.int(0, 2)) {
    case 0: // Truncated in transit: the outer object is never closed.
      return json.slice(0, random.int(1, json.length - 1));
    case 1: // A Python sensor sending str(dict): single quotes.
      return json.replaceAll('"', "'");
    default:
      return `<submission id="${String(submission.submission_id)}"/>`;
  }
}

/** A CP-1252 sensor: `ü` as the single byte 0xFC, which is never valid UTF-8. */
function invalidUtf8Body(draft: Draft): string {
  const process = draft.random.pick(draft.processes);
  process.cmdl = "C:\\Users\\Jürgen\\Desktop\\tool.exe";
  process.user = "Jürgen";
  // Every other character of a faithful submission is ASCII, so one byte per character is exact.
  const json = JSON.stringify(draft.submission);
  return Uint8Array.from(json, (char) => char.charCodeAt(0)).toBase64();
}

function removeField(draft: Draft): void {
  const { submission, random } = draft;
  const target = random.pick([
    "submission_id",
    "device_id",
    "time_created",
    "events",
    "cmdl",
    "user",
    "source_ip",
    "destination_ip",
    "destination_port",
  ]);
  if (target === "cmdl" || target === "user") delete random.pick(draft.processes)[target];
  else if (target in submission) delete submission[target];
  else delete random.pick(draft.connections)[target];
}

function giveWrongType(draft: Draft): void {
  const { submission, processes, connections, random } = draft;
  const events = submission.events as JsonObject;
  switch (random.int(0, 7)) {
    case 0: {
      const connection = random.pick(connections);
      connection.destination_port = String(connection.destination_port);
      break;
    }
    case 1: {
      const connection = random.pick(connections);
      connection.destination_port = Number(connection.destination_port) + 0.5;
      break;
    }
    case 2:
      submission.events = [...processes, ...connections];
      break;
    case 3:
      events.new_process = random.pick(processes);
      break;
    case 4:
      random.pick(processes).user = 1001;
      break;
    case 5:
      random.pick(processes).cmdl = ["cmd.exe", "/c", "dir"];
      break;
    case 6:
      submission.time_created = Math.floor(draft.random.float() * 2e9);
      break;
    default:
      submission.device_id = random.int(1, 1_000_000);
  }
}

/** An ASCII command line of 100–140 KB: large, yet its base64 body stays under 256 KiB. */
function hugeCommandLine(random: SeededRandom): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const chunk = Array.from({ length: 1024 }, () => alphabet[random.int(0, 63)]).join("");
  const prefix = "powershell.exe -NoProfile -EncodedCommand ";
  const length = random.int(100_000, 140_000);
  return (prefix + chunk.repeat(Math.ceil(length / chunk.length))).slice(0, length);
}

function addUnknownEventType(draft: Draft): void {
  const { submission, random } = draft;
  const events = submission.events as JsonObject;
  const name = random.pick(["file_write", "dns_query", "registry_change", "__proto__"]);
  const extra: Json[] = Array.from({ length: random.int(1, 3) }, () => ({
    path: `C:\\Temp\\${random.uuid()}.tmp`,
    bytes: random.int(0, 1 << 20),
  }));
  // The unknown key goes before, between or after the known ones: it must not shift `sequence`.
  const keys = Object.keys(events);
  keys.splice(random.int(0, keys.length), 0, name);
  const reordered: JsonObject = {};
  for (const key of keys) {
    // defineProperty, not assignment: assigning `__proto__` would set the prototype instead.
    Object.defineProperty(reordered, key, {
      value: key === name ? extra : events[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  submission.events = reordered;
}

/**
 * Raw JSON bodies travel as SQS text, which forbids U+FFFE, U+FFFF and (in some emulators) any
 * character outside the BMP: send those as JSON `\u` escapes, which decode to the same string.
 */
function sqsSafeJson(json: string): string {
  return json.replace(
    /[\uD800-\uDFFF\uFFFE\uFFFF]/g,
    (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// ---------------------------------------------------------------------------------------------
// Sending

/** The largest `SendMessageBatch` payload (the sum of the bodies) classic SQS and LocalStack
 * 0.14 accept: 256 KiB. */
export const MAX_BATCH_BYTES = 262_144;

/** Options of {@linkcode sendMessages}. */
export interface SendMessagesOptions {
  /** Batches in flight at once. Default 4. */
  readonly concurrency?: number;
  /** Attempts per entry before giving up with an error. Default 8. */
  readonly maxAttempts?: number;
  /** Called once per message SQS confirmed, in confirmation order. */
  readonly onSent?: (message: FleetMessage) => void;
  /** Stops sending; the promise then rejects with the abort reason. */
  readonly signal?: AbortSignal;
}

/** What {@linkcode sendMessages} did. */
export interface SendStats {
  /** Messages SQS confirmed. */
  sent: number;
  /** `SendMessageBatch` calls that SQS answered. */
  requests: number;
  /** Entries sent again after SQS reported them failed (or the call failed). */
  resent: number;
}

/**
 * Sends every message with `SendMessageBatch` (up to 10 entries and {@linkcode MAX_BATCH_BYTES}
 * per call, `concurrency` calls at once), resending the entries SQS lists as `Failed` until they
 * are confirmed. `messages` is pulled lazily, so a generator of millions costs no memory.
 * Rejects on a sender fault (a message SQS will never take) or after `maxAttempts`.
 */
export async function sendMessages(
  sqs: SQSClient,
  queueUrl: string,
  messages: Iterable<FleetMessage>,
  options: SendMessagesOptions = {},
): Promise<SendStats> {
  const stats: SendStats = { sent: 0, requests: 0, resent: 0 };
  const nextBatch = batcher(messages[Symbol.iterator]());
  let stopped = false;
  const worker = async () => {
    while (!stopped) {
      const batch = nextBatch();
      if (batch.length === 0) return;
      try {
        await sendBatch(sqs, queueUrl, batch, stats, options);
      } catch (error) {
        stopped = true; // the other workers finish their batch and stop pulling
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker),
  );
  for (const result of results) if (result.status === "rejected") throw result.reason;
  return stats;
}

/** Packs consecutive messages into batches of at most 10 entries and MAX_BATCH_BYTES. */
function batcher(iterator: Iterator<FleetMessage>): () => FleetMessage[] {
  let carried: FleetMessage | undefined;
  let done = false;
  return () => {
    const batch: FleetMessage[] = [];
    let bytes = 0;
    while (batch.length < 10) {
      let message = carried;
      carried = undefined;
      if (message === undefined && !done) {
        const next = iterator.next();
        if (next.done) done = true;
        else message = next.value;
      }
      if (message === undefined) break;
      const size = utf8Length(message.body);
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) {
        carried = message;
        break;
      }
      batch.push(message);
      bytes += size;
    }
    return batch;
  };
}

async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  batch: readonly FleetMessage[],
  stats: SendStats,
  options: SendMessagesOptions,
): Promise<void> {
  const maxAttempts = options.maxAttempts ?? 8;
  let pending = batch.map((message, index) => ({ id: String(index), message }));
  for (let attempt = 1;; attempt++) {
    let problem: string;
    try {
      const out = await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: pending.map((e): SendMessageBatchRequestEntry => ({
            Id: e.id,
            MessageBody: e.message.body,
          })),
        }),
        // No abort signal: a send cut off mid-flight may still have been accepted by SQS, and
        // then its message would be missing from the manifest. Aborts stop the waits instead.
      );
      stats.requests++;
      // Only an entry listed as Successful is sent; anything else is sent again.
      const confirmed = new Set((out.Successful ?? []).map((entry) => entry.Id));
      for (const entry of pending) {
        if (!confirmed.has(entry.id)) continue;
        stats.sent++;
        options.onSent?.(entry.message);
      }
      pending = pending.filter((entry) => !confirmed.has(entry.id));
      if (pending.length === 0) return;
      const failures = out.Failed ?? [];
      const senderFault = failures.find((failure) => failure.SenderFault === true);
      if (senderFault !== undefined) {
        throw new Error(
          `SQS refused a message for good (${senderFault.Code}): ${senderFault.Message}`,
        );
      }
      problem = failures[0]?.Code ?? "entry neither Successful nor Failed";
    } catch (error) {
      // Permissions, bad requests and our own sender-fault error are final.
      if (options.signal?.aborted || !isRetryable(error)) throw error;
      problem = error instanceof Error ? error.message : String(error);
    }
    if (attempt >= maxAttempts) {
      throw new Error(
        `${pending.length} messages still unsent after ${attempt} attempts: ${problem}`,
      );
    }
    stats.resent += pending.length;
    await sleep(Math.min(2_000, 50 * 2 ** attempt), options.signal);
    options.signal?.throwIfAborted();
  }
}

/** Errors worth another attempt: SQS-side faults, throttling, timeouts and broken connections. */
function isRetryable(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { $fault, $retryable, name, code } = error as {
    $fault?: string;
    $retryable?: unknown;
    name?: string;
    code?: string;
  };
  if ($fault === "server" || $retryable !== undefined) return true;
  if ($fault === "client") return false;
  return name === "TimeoutError" ||
    ["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN"].includes(code ?? "");
}

function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 4;
      i++; // the low surrogate belongs to the same character
    } else bytes += 3;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Running a fleet

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
  readonly count?: number;
  /** Messages per second, paced; batched when several are due at once. */
  readonly rate?: number;
  /** Faithful mode only: stop after this many rounds. Default: unbounded. */
  readonly rounds?: number;
  /** Faithful mode: the pause between rounds, drawn uniformly in `[min, max]` ms. */
  readonly roundIntervalMs?: readonly [number, number];
  /** Batches in flight at once (count and rate modes). Default 4. */
  readonly concurrency?: number;
  /** Called once per message SQS confirmed: write the manifest here. */
  readonly onSent?: (message: FleetMessage) => void;
  /** Stops the run; {@linkcode runFleet} then resolves with what was sent. */
  readonly signal?: AbortSignal;
  /** Progress lines (rounds, rates). Default: none. */
  readonly log?: (line: string) => void;
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
        options.log?.(`send failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    options.log?.(`round ${round}: sent ${sentThisRound} submissions (total ${stats.sent})`);
    if (round === options.rounds) return;
    if (!await sleep(timing.int(minPause, maxPause), options.signal)) return;
  }
}

// ---------------------------------------------------------------------------------------------
// Manifest file

/** Writes manifest lines to a file, buffered. */
export interface ManifestWriter {
  /** Appends one line. */
  write(entry: ManifestEntry): void;
  /** Writes the buffered lines and closes the file. */
  close(): void;
}

/** Options of {@linkcode createManifestWriter}. */
export interface ManifestWriterOptions {
  /**
   * Characters buffered before they are written. Default 64 Ki, for bulk runs; 0 writes every
   * line at once, so a long faithful run killed abruptly still leaves a complete manifest.
   */
  readonly bufferChars?: number;
}

/** Creates (or truncates) `path` and returns a writer of JSON lines. */
export function createManifestWriter(
  path: string,
  options: ManifestWriterOptions = {},
): ManifestWriter {
  const bufferChars = options.bufferChars ?? 64 * 1024;
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let buffered: string[] = [];
  let bufferedChars = 0;
  const flush = () => {
    if (buffered.length === 0) return;
    const bytes = encoder.encode(buffered.join(""));
    buffered = [];
    bufferedChars = 0;
    // writeSync may write less than asked: loop until all is out.
    for (let offset = 0; offset < bytes.length;) {
      offset += file.writeSync(bytes.subarray(offset));
    }
  };
  return {
    write(entry) {
      const line = `${JSON.stringify(manifestLine(entry))}\n`;
      buffered.push(line);
      bufferedChars += line.length;
      if (bufferedChars >= bufferChars) flush();
    },
    close() {
      flush();
      file.close();
    },
  };
}

/** The entry with its keys in the documented order (and nothing else). */
function manifestLine(entry: ManifestEntry): ManifestEntry {
  const { submission_id, device_id, valid, events, kind } = entry;
  return { submission_id, device_id, valid, events, kind };
}

// ---------------------------------------------------------------------------------------------
// CLI

const USAGE = `Usage: deno task fleet [options]

Faithful by default: FLEET_SIZE devices, one submission each every 30-45 s, until Ctrl-C.

  --fleet-size N        devices (default: FLEET_SIZE or 10)
  --seed N              seed of every random choice (default: random, printed)
  --rounds N            faithful mode: stop after N rounds
  --rate N              N submissions per second, paced
  --count N             N submissions in total; without --rate, as fast as possible (batched)
  --invalid-ratio R     extra fraction of deliberately invalid submissions (0..1)
  --adversarial         mix in the malformed and odd messages real fleets send
  --adversarial-ratio R fraction of adversarial messages (default 0.2 with --adversarial)
  --raw-json R          fraction of bodies sent as raw JSON instead of base64 (0..1)
  --fault-probability P probability of each faithful fault (default 0.01)
  --concurrency N       batches in flight (default 4)
  --manifest PATH       write one JSON line per message sent
  --quiet               no progress lines

Environment: see tools/submissions/tool_env.ts (AWS_ENDPOINT_URL, SQS_QUEUE_URL, SQS_QUEUE_NAME, ...).`;

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      "fleet-size": { type: "string" },
      seed: { type: "string" },
      rounds: { type: "string" },
      rate: { type: "string" },
      count: { type: "string" },
      "invalid-ratio": { type: "string" },
      adversarial: { type: "boolean" },
      "adversarial-ratio": { type: "string" },
      "raw-json": { type: "string" },
      "fault-probability": { type: "string" },
      concurrency: { type: "string" },
      manifest: { type: "string" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const number = (name: string, value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new Error(`--${name}: not a number: ${value}`);
    return parsed;
  };
  const adversarialRatio = number("adversarial-ratio", values["adversarial-ratio"]) ??
    (values.adversarial ? 0.2 : 0);
  const log = values.quiet ? undefined : (line: string) => console.error(`fleet: ${line}`);

  const env = readToolEnv();
  const clients = createToolClients(env);
  const count = number("count", values.count);
  const rate = number("rate", values.rate);
  // Only a bulk run is short enough to buffer the manifest safely.
  const manifest = values.manifest === undefined ? undefined : createManifestWriter(
    values.manifest,
    { bufferChars: count !== undefined && rate === undefined ? 64 * 1024 : 0 },
  );
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    const queueUrl = await resolveQueueUrl(clients.sqs, env);
    const seed = number("seed", values.seed) ?? randomSeed();
    const fleetSize = number("fleet-size", values["fleet-size"]) ??
      number("FLEET_SIZE", Deno.env.get("FLEET_SIZE")) ?? 10;
    log?.(`seed ${seed}, ${fleetSize} devices, queue ${queueUrl}`);
    const stats = await runFleet({
      sqs: clients.sqs,
      queueUrl,
      seed,
      fleetSize,
      rounds: number("rounds", values.rounds),
      rate,
      count,
      invalidRatio: number("invalid-ratio", values["invalid-ratio"]),
      adversarialRatio,
      rawJsonRatio: number("raw-json", values["raw-json"]),
      faultProbability: number("fault-probability", values["fault-probability"]),
      concurrency: number("concurrency", values.concurrency),
      onSent: manifest === undefined
        ? undefined
        : (message) => manifest.write(message.manifestEntry),
      signal: controller.signal,
      log,
    });
    const seconds = stats.elapsedMs / 1000;
    console.error(
      `fleet: sent ${stats.sent} messages (${stats.valid} valid, ${stats.events} events to publish)` +
        ` in ${seconds.toFixed(2)} s = ${(stats.sent / seconds).toFixed(0)} messages/s; ` +
        `${stats.requests} requests, ${stats.resent} resent, ${stats.failed} failed; seed ${stats.seed}`,
    );
    return stats.failed === 0 ? 0 : 1;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    manifest?.close();
    clients.destroy();
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (error) {
    console.error(`fleet: ${error instanceof Error ? error.message : String(error)}`);
    Deno.exit(2);
  }
}
