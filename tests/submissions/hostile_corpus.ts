/**
 * A corpus of malformed and tricky SQS message bodies, of the kinds real sensor fleets send, each
 * with the outcome the codec must reach. The unit tests run it through `decodeMessage`; the
 * integration tests send the same bodies through SQS, so every body respects the SQS limits of
 * the original environment: at most 256 KiB of UTF-8 and only the characters SQS accepts (no raw
 * NUL, no lone surrogate, no U+FFFE/U+FFFF; those travel inside base64 instead).
 *
 * @module
 */
import type { SubmissionRejectReason } from "../../src/submissions/reject_reason.ts";

/** One body of the corpus and the outcome `decodeMessage` must reach for it. */
export interface HostileBody {
  /** A unique, human-readable name: what is hostile or tricky about the body. */
  readonly name: string;
  /** The SQS message body, exactly as it is sent. */
  readonly body: string;
  /** The rejection reason, or `"valid"` when the message must decode into a submission. */
  readonly expect: SubmissionRejectReason | "valid";
}

/** The submission id of {@linkcode validSubmission}. */
export const SUBMISSION_ID = "3f0c9a52-6b1e-4d8a-9c27-5e4f1a2b3c4d";
/** The device id of {@linkcode validSubmission}. */
export const DEVICE_ID = "9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a";
/** The `time_created` of {@linkcode validSubmission}: naive local time with microseconds. */
export const TIME_CREATED = "2021-03-28T15:44:18.592840";

/** The largest SQS message body of the original environment, in UTF-8 bytes (256 KiB). */
export const MAX_SQS_BODY_BYTES = 256 * 1024;

/** A valid `new_process` event, with `overrides` merged in (`undefined` drops a field). */
export function newProcess(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { cmdl: "/usr/bin/ssh -p 22 admin@10.0.0.7", user: "alice", ...overrides };
}

/** A valid `network_connection` event, with `overrides` merged in (`undefined` drops a field). */
export function networkConnection(
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    source_ip: "192.168.1.20",
    destination_ip: "93.184.216.34",
    destination_port: 443,
    ...overrides,
  };
}

/**
 * A valid submission shaped like the simulator's (two events of each type, `new_process` first),
 * with `overrides` merged in at the top level. An override whose value is `undefined` drops the
 * field, because `JSON.stringify` omits it. Keys such as `__proto__` must be own properties of
 * `overrides` (build them with `Object.fromEntries` or `JSON.parse`, not an object literal).
 */
export function validSubmission(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    submission_id: SUBMISSION_ID,
    device_id: DEVICE_ID,
    time_created: TIME_CREATED,
    events: {
      new_process: [newProcess(), newProcess({ cmdl: "cat /etc/passwd", user: "root" })],
      network_connection: [
        networkConnection(),
        networkConnection({ destination_ip: "10.0.0.7", destination_port: 0 }),
      ],
    },
    ...overrides,
  };
}

/** Standard padded base64 of the UTF-8 encoding of `text`: the simulator's encoding. */
export function base64Body(text: string): string {
  return new TextEncoder().encode(text).toBase64();
}

/** Standard padded base64 of raw bytes, for payloads that are not UTF-8 text. */
export function base64Bytes(bytes: readonly number[]): string {
  return Uint8Array.from(bytes).toBase64();
}

/** The body the simulator sends for `value`: base64 of its JSON. */
export function encodeSubmission(value: unknown): string {
  return base64Body(JSON.stringify(value));
}

/** An object with one own property, even for keys an object literal would treat specially. */
export function ownKey(key: string, value: unknown): Record<string, unknown> {
  return Object.fromEntries([[key, value]]);
}

/** A placeholder value that {@linkcode withRawJson} replaces with raw JSON text. */
export const RAW = "@@RAW@@";

/**
 * The JSON text of `value` with the string {@linkcode RAW} replaced by `raw`, for JSON that
 * `JSON.stringify` cannot produce (number spellings, duplicate keys, huge literals).
 */
export function withRawJson(value: unknown, raw: string): string {
  const json = JSON.stringify(value);
  const placeholder = JSON.stringify(RAW);
  if (!json.includes(placeholder)) throw new Error("withRawJson: value has no RAW placeholder");
  return json.replace(placeholder, () => raw);
}

/** `bytes` with `extra` inserted right after the first occurrence of `anchor`. */
function insertBytes(text: string, anchor: string, extra: readonly number[]): number[] {
  const bytes = [...new TextEncoder().encode(text)];
  const at = bytes.findIndex((_, i) =>
    anchor.split("").every((char, j) => bytes[i + j] === char.charCodeAt(0))
  );
  if (at < 0) throw new Error("insertBytes: anchor not found");
  bytes.splice(at + anchor.length, 0, ...extra);
  return bytes;
}

/** A valid submission whose JSON length is not a multiple of 3, so its base64 ends in `=`. */
function paddedJson(): string {
  let json = JSON.stringify(validSubmission());
  // Trailing whitespace is valid JSON; it only shifts the base64 length.
  while (new TextEncoder().encode(json).length % 3 === 0) json += " ";
  return json;
}

const VALID_JSON = JSON.stringify(validSubmission());
const VALID_B64 = encodeSubmission(validSubmission());
const PADDED_B64 = base64Body(paddedJson());
/** Characters that make base64 contain `+` and `/`, so the URL-safe variant differs. */
const URL_UNSAFE_CMDL = "find / -name '*.log' ~~~??>>>???";
const URL_UNSAFE_B64 = encodeSubmission(
  validSubmission({ events: { new_process: [newProcess({ cmdl: URL_UNSAFE_CMDL })] } }),
);
const DEEP = 10_000;
const deepArray = "[".repeat(DEEP) + "]".repeat(DEEP);
const deepObject = '{"a":'.repeat(DEEP) + "1" + "}".repeat(DEEP);

function withEvents(events: unknown): Record<string, unknown> {
  return validSubmission({ events });
}
function withProcess(overrides: Record<string, unknown>): Record<string, unknown> {
  return withEvents({ new_process: [newProcess(overrides)] });
}
function withConnection(overrides: Record<string, unknown>): Record<string, unknown> {
  return withEvents({ network_connection: [networkConnection(overrides)] });
}

const decoding: HostileBody[] = [
  { name: "baseline: simulator body (base64 of JSON)", body: VALID_B64, expect: "valid" },
  { name: "baseline: raw JSON object", body: VALID_JSON, expect: "valid" },
  { name: "raw JSON after leading whitespace", body: " \t\r\n" + VALID_JSON, expect: "valid" },
  { name: "raw JSON with trailing newline", body: VALID_JSON + "\n", expect: "valid" },
  { name: "raw JSON after a UTF-8 BOM", body: "\uFEFF" + VALID_JSON, expect: "valid" },
  {
    name: "base64 of JSON after a UTF-8 BOM",
    body: base64Body("\uFEFF" + VALID_JSON),
    expect: "valid",
  },
  {
    name: "pretty-printed raw JSON",
    body: JSON.stringify(validSubmission(), null, 2),
    expect: "valid",
  },
  { name: "empty body", body: "", expect: "empty_body" },
  { name: "whitespace-only body", body: " \t\r\n \n", expect: "empty_body" },
  // Base64 is strict: only the standard alphabet, with padding, without whitespace.
  {
    name: "URL-safe base64 alphabet",
    body: URL_UNSAFE_B64.replaceAll("+", "-").replaceAll("/", "_"),
    expect: "not_base64",
  },
  { name: "base64 without padding", body: PADDED_B64.replace(/=+$/, ""), expect: "not_base64" },
  { name: "base64 with extra padding", body: PADDED_B64 + "=", expect: "not_base64" },
  {
    name: "MIME base64 (CRLF every 76 characters)",
    body: VALID_B64.match(/.{1,76}/g)!.join("\r\n"),
    expect: "not_base64",
  },
  { name: "base64 with a trailing newline", body: VALID_B64 + "\n", expect: "not_base64" },
  { name: "base64 after a leading space", body: " " + VALID_B64, expect: "not_base64" },
  {
    name: "base64 with a space inside",
    body: VALID_B64.slice(0, 40) + " " + VALID_B64.slice(40),
    expect: "not_base64",
  },
  { name: "two base64 documents concatenated", body: "e30=" + PADDED_B64, expect: "not_base64" },
  {
    name: "data URL instead of bare base64",
    body: "data:application/json;base64," + VALID_B64,
    expect: "not_base64",
  },
  { name: "percent-encoded JSON", body: encodeURIComponent(VALID_JSON), expect: "not_base64" },
  { name: "plain text", body: "hello from sensor 42!", expect: "not_base64" },
  { name: "raw JSON string", body: '"submission"', expect: "not_base64" },
  { name: "raw JSON number 42 (too short for base64)", body: "42", expect: "not_base64" },
  // Four characters of the base64 alphabet: decoded as base64, whose bytes are not UTF-8.
  { name: "raw JSON null (reads as base64)", body: "null", expect: "invalid_utf8" },
  { name: "raw JSON true (reads as base64)", body: "true", expect: "invalid_utf8" },
  { name: "raw JSON number 1234 (reads as base64)", body: "1234", expect: "invalid_utf8" },
  // Invalid UTF-8, only expressible inside base64.
  {
    name: "base64 of a lone continuation byte",
    body: base64Bytes([0x7b, 0x80, 0x7d]),
    expect: "invalid_utf8",
  },
  {
    name: "base64 of an overlong NUL (C0 80)",
    body: base64Bytes([0x7b, 0xc0, 0x80, 0x7d]),
    expect: "invalid_utf8",
  },
  {
    name: "base64 of a UTF-8-encoded surrogate (CESU-8)",
    body: base64Bytes(insertBytes(VALID_JSON, '"cmdl":"', [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80])),
    expect: "invalid_utf8",
  },
  {
    name: "base64 of a code point above U+10FFFF",
    body: base64Bytes(insertBytes(VALID_JSON, '"cmdl":"', [0xf4, 0x90, 0x80, 0x80])),
    expect: "invalid_utf8",
  },
  {
    name: "base64 of a truncated multi-byte sequence",
    body: base64Bytes([...new TextEncoder().encode(VALID_JSON), 0xe2, 0x82]),
    expect: "invalid_utf8",
  },
  {
    name: "base64 of Latin-1 JSON (é as 0xE9)",
    body: base64Bytes(insertBytes(VALID_JSON, '"user":"', [0x4a, 0x6f, 0x73, 0xe9])),
    expect: "invalid_utf8",
  },
  {
    name: "base64 of UTF-16LE JSON with BOM",
    body: base64Bytes([0xff, 0xfe, ...[...VALID_JSON].flatMap((c) => [c.charCodeAt(0), 0])]),
    expect: "invalid_utf8",
  },
  {
    name: "base64 of gzip-compressed JSON (magic 1F 8B)",
    body: base64Bytes([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xab, 0xae]),
    expect: "invalid_utf8",
  },
  // UTF-16LE without a BOM is valid UTF-8 (every other byte is NUL) but not JSON.
  {
    name: "base64 of UTF-16LE JSON without BOM",
    body: base64Bytes([...VALID_JSON].flatMap((c) => [c.charCodeAt(0), 0])),
    expect: "invalid_json",
  },
  { name: "base64 of plain text", body: base64Body("hello, world"), expect: "invalid_json" },
  {
    name: "base64 of base64 (double-encoded)",
    body: base64Body(VALID_B64),
    expect: "invalid_json",
  },
  {
    name: "base64 of truncated JSON",
    body: base64Body(VALID_JSON.slice(0, -7)),
    expect: "invalid_json",
  },
  {
    name: "base64 of JSON with a raw NUL byte in a string",
    body: base64Bytes(insertBytes(VALID_JSON, '"cmdl":"', [0x00])),
    expect: "invalid_json",
  },
  {
    name: "base64 of JSON with a raw NUL byte between tokens",
    body: base64Bytes(insertBytes(VALID_JSON, "{", [0x00])),
    expect: "invalid_json",
  },
  {
    name: "base64 of JSON with a raw newline in a string",
    body: base64Body(VALID_JSON.replace('"cmdl":"', '"cmdl":"line1\nline2')),
    expect: "invalid_json",
  },
  {
    name: "truncated raw JSON",
    body: VALID_JSON.slice(0, VALID_JSON.length / 2),
    expect: "invalid_json",
  },
  { name: "raw JSON with trailing garbage", body: VALID_JSON + "}", expect: "invalid_json" },
  {
    name: "two raw JSON objects (NDJSON)",
    body: VALID_JSON + "\n" + VALID_JSON,
    expect: "invalid_json",
  },
  {
    name: "raw JSON with a trailing comma",
    body: VALID_JSON.slice(0, -1) + ",}",
    expect: "invalid_json",
  },
  {
    name: "single-quoted pseudo-JSON",
    body: VALID_JSON.replaceAll('"', "'"),
    expect: "invalid_json",
  },
  {
    name: "JSON with a comment",
    body: "{/* sensor v2 */" + VALID_JSON.slice(1),
    expect: "invalid_json",
  },
  {
    name: "JavaScript object literal (unquoted keys)",
    body: "{submission_id: 1}",
    expect: "invalid_json",
  },
  {
    name: "NaN literal",
    body: withRawJson(withConnection({ destination_port: RAW }), "NaN"),
    expect: "invalid_json",
  },
  { name: "unclosed deep array (10 000 levels)", body: "[".repeat(DEEP), expect: "invalid_json" },
  {
    name: "unclosed deep object (10 000 levels)",
    body: '{"a":'.repeat(DEEP),
    expect: "invalid_json",
  },
  { name: "lone opening brace", body: "{", expect: "invalid_json" },
];

const notAnObject: HostileBody[] = [
  { name: "raw JSON array", body: "[" + VALID_JSON + "]", expect: "not_an_object" },
  { name: "raw empty array", body: "[]", expect: "not_an_object" },
  { name: "raw deep array (10 000 levels)", body: deepArray, expect: "not_an_object" },
  { name: "base64 of an array", body: base64Body("[1,2,3]"), expect: "not_an_object" },
  { name: "base64 of a string", body: base64Body('"' + VALID_B64 + '"'), expect: "not_an_object" },
  { name: "base64 of a number", body: base64Body("42"), expect: "not_an_object" },
  { name: "base64 of null", body: base64Body("null"), expect: "not_an_object" },
  { name: "base64 of true", body: base64Body("true"), expect: "not_an_object" },
];

const faults: HostileBody[] = [
  // The four faults the simulator injects.
  {
    name: "fleet fault: submission_id not-an-uuid",
    body: encodeSubmission(validSubmission({ submission_id: "not-an-uuid" })),
    expect: "invalid_submission_id",
  },
  {
    name: "fleet fault: device_id not-an-uuid",
    body: encodeSubmission(validSubmission({ device_id: "not-an-uuid" })),
    expect: "invalid_device_id",
  },
  {
    name: "fleet fault: destination_ip not-an-ip",
    body: encodeSubmission(withConnection({ destination_ip: "not-an-ip" })),
    expect: "invalid_network_connection",
  },
  {
    name: "fleet fault: cmdl null",
    body: encodeSubmission(withProcess({ cmdl: null })),
    expect: "invalid_new_process",
  },
  {
    name: "fleet faults: one bad event among valid ones",
    body: encodeSubmission(withEvents({
      new_process: [newProcess(), newProcess(), newProcess({ cmdl: null }), newProcess()],
    })),
    expect: "invalid_new_process",
  },
  {
    // The first failing field in schema order wins, whatever the order in the input.
    name: "several faults: device_id reported before cmdl",
    body: JSON.stringify({
      events: { new_process: [newProcess({ cmdl: null })] },
      device_id: "not-an-uuid",
      submission_id: SUBMISSION_ID,
      time_created: TIME_CREATED,
    }),
    expect: "invalid_device_id",
  },
];

const missing: HostileBody[] = [
  { name: "empty object (base64)", body: base64Body("{}"), expect: "invalid_submission_id" },
  { name: "empty object (raw)", body: "{}", expect: "invalid_submission_id" },
  ...(["submission_id", "device_id", "time_created", "events"] as const).map((field) => ({
    name: `missing ${field}`,
    body: encodeSubmission(validSubmission({ [field]: undefined })),
    expect: `invalid_${field}` as const,
  })),
  ...(["cmdl", "user"] as const).map((field) => ({
    name: `missing new_process.${field}`,
    body: encodeSubmission(withProcess({ [field]: undefined })),
    expect: "invalid_new_process" as const,
  })),
  ...(["source_ip", "destination_ip", "destination_port"] as const).map((field) => ({
    name: `missing network_connection.${field}`,
    body: encodeSubmission(withConnection({ [field]: undefined })),
    expect: "invalid_network_connection" as const,
  })),
];

const wrongTypes: HostileBody[] = [
  {
    name: "submission_id a number",
    body: encodeSubmission(validSubmission({ submission_id: 12345 })),
    expect: "invalid_submission_id",
  },
  {
    name: "submission_id null",
    body: encodeSubmission(validSubmission({ submission_id: null })),
    expect: "invalid_submission_id",
  },
  {
    name: "device_id an object",
    body: encodeSubmission(validSubmission({ device_id: { id: DEVICE_ID } })),
    expect: "invalid_device_id",
  },
  {
    name: "device_id an array",
    body: encodeSubmission(validSubmission({ device_id: [DEVICE_ID] })),
    expect: "invalid_device_id",
  },
  {
    name: "time_created epoch seconds",
    body: encodeSubmission(validSubmission({ time_created: 1616946258 })),
    expect: "invalid_time_created",
  },
  {
    name: "time_created null",
    body: encodeSubmission(validSubmission({ time_created: null })),
    expect: "invalid_time_created",
  },
  {
    name: "events an array",
    body: encodeSubmission(withEvents([newProcess()])),
    expect: "invalid_events",
  },
  {
    name: "events a string",
    body: encodeSubmission(withEvents("new_process")),
    expect: "invalid_events",
  },
  { name: "events null", body: encodeSubmission(withEvents(null)), expect: "invalid_events" },
  {
    name: "events deep array (10 000 levels)",
    body: withRawJson(withEvents(RAW), deepArray),
    expect: "invalid_events",
  },
  {
    name: "new_process an object",
    body: encodeSubmission(withEvents({ new_process: newProcess() })),
    expect: "invalid_new_process",
  },
  {
    name: "new_process null",
    body: encodeSubmission(withEvents({ new_process: null })),
    expect: "invalid_new_process",
  },
  {
    name: "new_process item a string",
    body: encodeSubmission(withEvents({ new_process: ["ls -la"] })),
    expect: "invalid_new_process",
  },
  {
    name: "new_process item null",
    body: encodeSubmission(withEvents({ new_process: [null] })),
    expect: "invalid_new_process",
  },
  {
    name: "network_connection a string",
    body: encodeSubmission(withEvents({ network_connection: "1.2.3.4" })),
    expect: "invalid_network_connection",
  },
  {
    name: "network_connection item an array",
    body: encodeSubmission(withEvents({ network_connection: [["1.2.3.4", "5.6.7.8", 80]] })),
    expect: "invalid_network_connection",
  },
  {
    name: "cmdl an array of arguments",
    body: encodeSubmission(withProcess({ cmdl: ["ls", "-la"] })),
    expect: "invalid_new_process",
  },
  {
    name: "cmdl a number",
    body: encodeSubmission(withProcess({ cmdl: 0 })),
    expect: "invalid_new_process",
  },
  {
    name: "cmdl deep array (10 000 levels)",
    body: withRawJson(withProcess({ cmdl: RAW }), deepArray),
    expect: "invalid_new_process",
  },
  {
    name: "user a number (uid)",
    body: encodeSubmission(withProcess({ user: 1000 })),
    expect: "invalid_new_process",
  },
  {
    name: "user boolean",
    body: encodeSubmission(withProcess({ user: false })),
    expect: "invalid_new_process",
  },
  {
    name: "source_ip an integer",
    body: encodeSubmission(withConnection({ source_ip: 3232235796 })),
    expect: "invalid_network_connection",
  },
];

function port(
  raw: string,
  expect: SubmissionRejectReason | "valid",
  name = `destination_port ${raw}`,
) {
  return { name, body: withRawJson(withConnection({ destination_port: RAW }), raw), expect };
}

const ports: HostileBody[] = [
  port("-1", "invalid_network_connection"),
  port("65536", "invalid_network_connection"),
  port("80.5", "invalid_network_connection"),
  port('"80"', "invalid_network_connection"),
  port("null", "invalid_network_connection"),
  port("true", "invalid_network_connection"),
  port("1e400", "invalid_network_connection", "destination_port 1e400 (overflows to Infinity)"),
  port("9007199254740993", "invalid_network_connection"),
  port("-1e-400", "valid", "destination_port -1e-400 (underflows to -0)"),
  port("0", "valid"),
  port("65535", "valid"),
  port("80.0", "valid", "destination_port 80.0 (an integer in JSON's number model)"),
  port("8e1", "valid"),
];

function ip(value: string, expect: SubmissionRejectReason | "valid") {
  return {
    name: `destination_ip ${JSON.stringify(value)}`,
    body: encodeSubmission(withConnection({ destination_ip: value })),
    expect,
  };
}

const ips: HostileBody[] = [
  ip("::1", "invalid_network_connection"),
  ip("2001:db8::8a2e:370:7334", "invalid_network_connection"),
  ip("::ffff:192.0.2.1", "invalid_network_connection"),
  ip("01.2.3.4", "invalid_network_connection"),
  ip("10.0.0.010", "invalid_network_connection"),
  ip("256.1.1.1", "invalid_network_connection"),
  ip("1.2.3.999", "invalid_network_connection"),
  ip("1.2.3", "invalid_network_connection"),
  ip("1.2.3.4.5", "invalid_network_connection"),
  ip("1.2.3.4 ", "invalid_network_connection"),
  ip("1.2.3.4\n", "invalid_network_connection"),
  ip("10.0.0.0/8", "invalid_network_connection"),
  ip("1.2.3.4:443", "invalid_network_connection"),
  ip("0x7f.0.0.1", "invalid_network_connection"),
  ip("2130706433", "invalid_network_connection"),
  ip("localhost", "invalid_network_connection"),
  ip("١٢٧.0.0.1", "invalid_network_connection"),
  ip("", "invalid_network_connection"),
  ip("0.0.0.0", "valid"),
  ip("255.255.255.255", "valid"),
];

function uuid(field: "submission_id" | "device_id", value: string, expect: "valid" | null) {
  return {
    name: `${field} ${JSON.stringify(value)}`,
    body: encodeSubmission(validSubmission({ [field]: value })),
    expect: expect ?? (`invalid_${field}` as const),
  };
}

const uuids: HostileBody[] = [
  uuid("device_id", `{${DEVICE_ID}}`, null),
  uuid("device_id", DEVICE_ID.replaceAll("-", ""), null),
  uuid("device_id", `urn:uuid:${DEVICE_ID}`, null),
  uuid("device_id", DEVICE_ID + "\n", null),
  uuid("device_id", DEVICE_ID.slice(1), null),
  uuid("device_id", "g" + DEVICE_ID.slice(1), null),
  uuid("submission_id", "", null),
  uuid("submission_id", SUBMISSION_ID + "0", null),
  uuid("device_id", DEVICE_ID.toUpperCase(), "valid"),
  uuid("submission_id", "00000000-0000-0000-0000-000000000000", "valid"),
  uuid("submission_id", "ffffffff-ffff-ffff-ffff-ffffffffffff", "valid"),
  uuid("submission_id", "01890a5d-ac96-774b-bcce-b302099a8057", "valid"),
];

function time(value: string, expect: "valid" | "invalid_time_created") {
  return {
    name: `time_created ${JSON.stringify(value)}`,
    body: encodeSubmission(validSubmission({ time_created: value })),
    expect,
  };
}

const times: HostileBody[] = [
  time("2021-02-30T10:00:00", "invalid_time_created"),
  time("2021-02-29T10:00:00", "invalid_time_created"),
  time("2021-13-01T10:00:00", "invalid_time_created"),
  time("2021-03-28T24:00:00", "invalid_time_created"),
  time("2021-03-28T15:44:60", "invalid_time_created"),
  time("2021-03-28", "invalid_time_created"),
  time("2021-03-28 15:44:18", "invalid_time_created"),
  time("28/03/2021 15:44:18", "invalid_time_created"),
  time("Sun, 28 Mar 2021 15:44:18 GMT", "invalid_time_created"),
  time("2021-03-28T15:44:18.", "invalid_time_created"),
  time("2021-03-28T15:44:18+25:00", "invalid_time_created"),
  time("yesterday", "invalid_time_created"),
  time("", "invalid_time_created"),
  time("2024-02-29T23:59:59", "valid"),
  time("2021-03-28T15:44:18", "valid"),
  time("2021-03-28T15:44:18Z", "valid"),
  time("2021-03-28T15:44:18.592840+02:00", "valid"),
  time("2021-03-28T15:44:18.5-05:30", "valid"),
];

const LONG_CMDL = "powershell.exe -NoProfile -EncodedCommand " +
  "SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA".repeat(5_000);
const UNICODE_CMDL = "notepad.exe C:\\Users\\José\\Документы\\日本語.txt 🔥👩‍👩‍👧‍👦 " +
  "‮gpj.exe‬ e\u0301 \u200b\u200d שלום עולם";

const strings: HostileBody[] = [
  {
    name: "200 KB command line (raw JSON)",
    body: JSON.stringify(withProcess({ cmdl: LONG_CMDL.slice(0, 200_000) })),
    expect: "valid",
  },
  {
    name: "150 KB command line (base64)",
    body: encodeSubmission(withProcess({ cmdl: LONG_CMDL.slice(0, 150_000) })),
    expect: "valid",
  },
  {
    name: "unicode, emoji, RTL override and combining marks (base64)",
    body: encodeSubmission(withProcess({ cmdl: UNICODE_CMDL, user: "Ωμέγα" })),
    expect: "valid",
  },
  {
    name: "unicode, emoji, RTL override and combining marks (raw JSON)",
    body: JSON.stringify(withProcess({ cmdl: UNICODE_CMDL, user: "مستخدم" })),
    expect: "valid",
  },
  {
    name: "escaped NUL (\\u0000) inside cmdl",
    body: JSON.stringify(withProcess({ cmdl: "a\u0000b" })),
    expect: "valid",
  },
  {
    name: "control characters and escapes inside cmdl",
    body: JSON.stringify(withProcess({ cmdl: 'cmd /c "echo \\\\srv\\share"\t\r\n\u001b[31m' })),
    expect: "valid",
  },
  {
    name: "escaped lone surrogate inside cmdl",
    body: withRawJson(withProcess({ cmdl: RAW }), '"x\\ud800y"'),
    expect: "valid",
  },
  {
    name: "noncharacter U+FFFF inside cmdl (base64)",
    body: encodeSubmission(withProcess({ cmdl: "a\uffffb\ufffe" })),
    expect: "valid",
  },
  {
    name: "empty cmdl and user",
    body: encodeSubmission(withProcess({ cmdl: "", user: "" })),
    expect: "valid",
  },
  {
    name: "1 500 network events in one submission",
    body: encodeSubmission(withEvents({
      network_connection: Array.from(
        { length: 1_500 },
        (_, i) => networkConnection({ destination_port: i }),
      ),
    })),
    expect: "valid",
  },
  {
    // Raw JSON: 10 000 of the smallest valid events still fit the 256 KiB SQS body.
    name: "10 000 empty new_process events in one submission (raw JSON)",
    body: JSON.stringify(withEvents({
      new_process: Array.from({ length: 10_000 }, () => ({ cmdl: "", user: "" })),
    })),
    expect: "too_many_events",
  },
];

const PROTO_JSON = '{"polluted":"yes","toString":"boom"}';

const unknowns: HostileBody[] = [
  {
    name: "unknown top-level and event fields",
    body: encodeSubmission(validSubmission({
      sensor_version: "7.2.1",
      extra: { nested: [1, 2, 3] },
      events: {
        new_process: [newProcess({ pid: 4242, parent: { pid: 1 } })],
        network_connection: [networkConnection({ protocol: "tcp", bytes: 1e300 })],
      },
    })),
    expect: "valid",
  },
  {
    name: "unknown event type",
    body: encodeSubmission(withEvents({
      file_write: [{ path: "/tmp/x" }],
      new_process: [newProcess()],
    })),
    expect: "valid",
  },
  {
    name: "known type names in another case are unknown types",
    body: encodeSubmission(withEvents({ NEW_PROCESS: [{ cmdl: null }], "new_process ": 7 })),
    expect: "valid",
  },
  { name: "empty events object", body: encodeSubmission(withEvents({})), expect: "valid" },
  {
    name: "network_connection before new_process",
    body: encodeSubmission(withEvents({
      network_connection: [networkConnection()],
      new_process: [newProcess()],
    })),
    expect: "valid",
  },
  {
    name: "deep array (10 000 levels) in an unknown field (raw JSON)",
    body: withRawJson(validSubmission({ blob: RAW }), deepArray),
    expect: "valid",
  },
  {
    name: "deep array (10 000 levels) in an unknown field (base64)",
    body: base64Body(withRawJson(validSubmission({ blob: RAW }), deepArray)),
    expect: "valid",
  },
  {
    name: "deep object (10 000 levels) in an unknown event field",
    body: withRawJson(withProcess({ meta: RAW }), deepObject),
    expect: "valid",
  },
  {
    name: "deep array (10 000 levels) as an unknown event type",
    body: withRawJson(withEvents({ registry_write: RAW }), deepArray),
    expect: "valid",
  },
  {
    name: "huge number literal in an unknown field",
    body: withRawJson(validSubmission({ score: RAW }), "1e999999"),
    expect: "valid",
  },
  {
    name: "long integer literal in an unknown field",
    body: withRawJson(validSubmission({ id64: RAW }), "123456789012345678901234567890123456789"),
    expect: "valid",
  },
  // JSON.parse makes `__proto__` an own property; validation must neither follow nor copy it.
  {
    name: "__proto__ at top level",
    body: withRawJson(validSubmission(ownKey("__proto__", RAW)), PROTO_JSON),
    expect: "valid",
  },
  {
    name: "constructor.prototype at top level",
    body: withRawJson(validSubmission({ constructor: { prototype: RAW } }), PROTO_JSON),
    expect: "valid",
  },
  {
    name: "__proto__ and constructor as event types",
    body: encodeSubmission(withEvents({
      ...ownKey("__proto__", { new_process: [newProcess()], polluted: "yes" }),
      constructor: { prototype: { polluted: "yes" } },
      new_process: [newProcess()],
    })),
    expect: "valid",
  },
  {
    name: "__proto__ inside an event",
    body: withRawJson(withProcess(ownKey("__proto__", RAW)), PROTO_JSON),
    expect: "valid",
  },
  {
    // The fields under `__proto__` must not be inherited: the event really lacks them.
    name: "event fields only under __proto__",
    body: encodeSubmission(withEvents({
      new_process: [ownKey("__proto__", { cmdl: "ls", user: "root" })],
    })),
    expect: "invalid_new_process",
  },
  {
    // A submission whose only `events` is under `__proto__` has no `events` at all.
    name: "events only under __proto__",
    body: withRawJson(
      {
        submission_id: SUBMISSION_ID,
        device_id: DEVICE_ID,
        time_created: TIME_CREATED,
        ...ownKey("__proto__", RAW),
      },
      `{"events":{"new_process":[${JSON.stringify(newProcess())}]}}`,
    ),
    expect: "invalid_events",
  },
];

/** A valid submission's JSON with `key` repeated as its first member (an earlier duplicate). */
function duplicateFirst(key: string, valueJson: string): string {
  return `{${JSON.stringify(key)}:${valueJson},` + VALID_JSON.slice(1);
}
/** A valid submission's JSON with `key` repeated as its last member (a later duplicate). */
function duplicateLast(key: string, valueJson: string): string {
  return VALID_JSON.slice(0, -1) + `,${JSON.stringify(key)}:${valueJson}}`;
}

// JSON.parse keeps the last duplicate: what the sensor "meant" is ambiguous, the outcome is not.
const duplicates: HostileBody[] = [
  {
    name: "duplicate submission_id, the last one invalid",
    body: duplicateLast("submission_id", '"not-an-uuid"'),
    expect: "invalid_submission_id",
  },
  {
    name: "duplicate submission_id, the first one invalid",
    body: base64Body(duplicateFirst("submission_id", '"not-an-uuid"')),
    expect: "valid",
  },
  {
    name: "duplicate events, the last one not an object",
    body: duplicateLast("events", "[]"),
    expect: "invalid_events",
  },
  {
    name: "duplicate event type key inside events",
    body: VALID_JSON.replace(
      '"events":{',
      `"events":{"network_connection":[${JSON.stringify(networkConnection())}],`,
    ),
    expect: "valid",
  },
];

/**
 * The corpus: every body with its expected outcome. Names are unique; every body is at most
 * {@linkcode MAX_SQS_BODY_BYTES} of UTF-8 and made only of characters SQS accepts.
 */
export const HOSTILE_BODIES: readonly HostileBody[] = [
  ...decoding,
  ...notAnObject,
  ...faults,
  ...missing,
  ...wrongTypes,
  ...ports,
  ...ips,
  ...uuids,
  ...times,
  ...strings,
  ...unknowns,
  ...duplicates,
];

/**
 * Whether every character of `body` is one SQS accepts: #x9 | #xA | #xD | #x20-#xD7FF |
 * #xE000-#xFFFD | #x10000-#x10FFFF. Lone surrogates fail (they are not code points of a
 * well-formed string).
 */
export function isValidSqsBody(body: string): boolean {
  if (!body.isWellFormed()) return false;
  for (const char of body) {
    const code = char.codePointAt(0)!;
    const allowed = code === 0x9 || code === 0xa || code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) ||
      code >= 0x10000;
    if (!allowed) return false;
  }
  return true;
}
