/**
 * What the fleet does to a submission instead of sending it clean: the original simulator's 1 %
 * faults, and one deliberate mutation (a deliberately invalid or odd message) at a time.
 *
 * ```ts
 * import { SeededRandom } from "../../common/seeded_random.ts";
 * import { chooseMutation } from "./faults.ts";
 *
 * chooseMutation(new SeededRandom(1), { invalidRatio: 1, adversarialRatio: 0 }); // a faithful fault
 * ```
 *
 * @module
 */
import type { SeededRandom } from "../../common/seeded_random.ts";
import {
  ADVERSARIAL_KINDS,
  FAITHFUL_FAULTS,
  MESSAGE_KINDS,
  type MessageKind,
  type Mutation,
} from "./message_kinds.ts";

const UNICODE_USERS = ["Jürgen", "Zoë", "山田太郎", "Ølaf", "Мария", "محمد"];
const UNICODE_COMMAND_LINES = [
  "C:\\Users\\Jürgen\\Документы\\отчёт.exe /флаг",
  '"C:\\Program Files\\应用\\启动器.exe" --语言=中文',
  "/usr/bin/echo 'héllo wörld' 🚀🔥 \u202Eexe.txt",
  "notepad.exe C:\\Users\\محمد\\ملف.txt",
  'cmd.exe /c echo "tab\there" & echo line\nbreak',
  "e\u0301\u0301 combining and zero\u200Bwidth 🇫🇮 👩‍💻",
];

/** A JSON value of a submission being built. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
/** A JSON object of a submission being built. */
export type JsonObject = { [key: string]: Json };

/** A submission being built, with the faithful event lists it started with. */
export interface Draft {
  readonly submission: JsonObject;
  readonly processes: JsonObject[];
  readonly connections: JsonObject[];
  readonly random: SeededRandom;
}

/** The fleet's mix of deliberate mutations. */
export interface MutationRatios {
  /** Fraction of messages made deliberately invalid. */
  readonly invalidRatio: number;
  /** Fraction of messages replaced by one of the adversarial kinds. */
  readonly adversarialRatio: number;
}

/** Draws whether the next message gets a deliberate mutation, and which. */
export function chooseMutation(
  random: SeededRandom,
  { invalidRatio, adversarialRatio }: MutationRatios,
): Mutation | undefined {
  const draw = random.float();
  if (draw < invalidRatio) {
    // The adversarial invalid kinds join the pool only when the run asked for adversarial input,
    // so that `--invalid-ratio` alone stays within what the original simulator sends.
    const pool: Mutation[] = adversarialRatio > 0
      ? [...FAITHFUL_FAULTS, ...ADVERSARIAL_KINDS.filter((kind) => !MESSAGE_KINDS[kind])]
      : [...FAITHFUL_FAULTS];
    return random.pick(pool);
  }
  if (draw < invalidRatio + adversarialRatio) return random.pick(ADVERSARIAL_KINDS);
  return undefined;
}

/** Injects the original simulator's faults, each with probability `p`; returns their kinds. */
export function injectFaithfulFaults(draft: Draft, p: number): MessageKind[] {
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
export function applyMutation(draft: Draft, mutation: Mutation): string | undefined {
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
