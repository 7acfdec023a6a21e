/**
 * The sensor fleet simulator's generator, faithful to the one of the original environment:
 * `FLEET_SIZE` devices with fixed UUIDs; each submission with 3–5 `new_process` events (first)
 * and 3–5 `network_connection` events; naive local `time_created` with microseconds; ports
 * uniform in 0..65535; padded standard base64 of the UTF-8 JSON; the four 1 % faults
 * (faults.ts), and optionally the noise of real fleets.
 *
 * Every message comes with a {@linkcode ManifestEntry} saying whether it is valid and how many
 * events the service must publish for it. Validity is decided from what the generator itself
 * injected, never by calling the service's codec, so reconciling against it is not circular.
 *
 * ```ts
 * import { createFleet, generateMessages } from "./generate.ts";
 *
 * const fleet = createFleet({ seed: 7, fleetSize: 3 });
 * const messages = [...generateMessages(fleet, 10)]; // the same 10 bodies for seed 7
 * ```
 *
 * @module
 */
import { randomSeed, SeededRandom } from "../../common/seeded_random.ts";
import {
  applyMutation,
  chooseMutation,
  type Draft,
  injectFaithfulFaults,
  type JsonObject,
} from "./faults.ts";
import type { FleetMessage } from "./manifest.ts";
import { MESSAGE_KINDS, type MessageKind } from "./message_kinds.ts";

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
  readonly fleetSize?: number | undefined;
  /** The seed of every random choice. Default: random (see {@linkcode Fleet.seed}). */
  readonly seed?: number | undefined;
  /** Probability of each faithful fault. Default 0.01, as in the original simulator. */
  readonly faultProbability?: number | undefined;
  /** Extra fraction of messages made deliberately invalid. Default 0. */
  readonly invalidRatio?: number | undefined;
  /** Fraction of messages replaced by one of the {@linkcode ADVERSARIAL_KINDS}. Default 0. */
  readonly adversarialRatio?: number | undefined;
  /** Fraction of bodies sent as raw JSON instead of base64. Default 0. */
  readonly rawJsonRatio?: number | undefined;
  /** The devices' clock, for `time_created`. Default: the system clock. */
  readonly clock?: (() => Date) | undefined;
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
  readonly settings: {
    readonly [K in Exclude<keyof FleetOptions, "seed">]-?: NonNullable<FleetOptions[K]>;
  };
  /** The device {@linkcode nextSubmission} uses next (round-robin). */
  cursor: number;
}

const USERS = ["alice", "bob", "carol", "dave", "erin", "SYSTEM", "root", "svc_backup"];
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
  const mutation = chooseMutation(random, settings);
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
