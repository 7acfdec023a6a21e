/**
 * Hostile input: the corpus of real-fleet garbage through `decodeMessage`, then property-based
 * fuzzing. The codec must classify everything, never throw, never pollute a prototype, and turn
 * every valid submission into exactly the records it describes.
 *
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { type DecodedMessage, decodeMessage } from "../../src/submissions/codec.ts";
import { eventId, EventRecordSchema } from "../../src/submissions/event_record.ts";
import {
  type Rejection,
  SUBMISSION_REJECT_REASONS,
  type SubmissionRejectReason,
} from "../../src/submissions/reject_reason.ts";
import {
  base64Body,
  HOSTILE_BODIES,
  isValidSqsBody,
  MAX_SQS_BODY_BYTES,
} from "./hostile_corpus.ts";

const PROCESSED_AT = new Date("2024-05-06T07:08:09.123Z");
const LATER = new Date("2030-01-01T00:00:00.000Z");
const KNOWN_TYPES = ["new_process", "network_connection"] as const;
type KnownType = typeof KNOWN_TYPES[number];
/** Every key the schema knows: the only keys a rejection detail may name. */
const SCHEMA_KEYS = new Set<string>([
  "submission_id",
  "device_id",
  "time_created",
  "events",
  ...KNOWN_TYPES,
  "cmdl",
  "user",
  "source_ip",
  "destination_ip",
  "destination_port",
]);
/** The "no leading zeros" rule of the codec, written independently of zod. */
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function decode(body: string, processedAt = PROCESSED_AT): DecodedMessage | Rejection {
  return decodeMessage(body, { processedAt });
}

/** Asserts the invariants of any outcome: a bounded reason and a detail, or sound records. */
function assertWellFormed(result: DecodedMessage | Rejection): void {
  if (!result.ok) {
    assert.ok(SUBMISSION_REJECT_REASONS.includes(result.reason), `unknown reason ${result.reason}`);
    assert.equal(typeof result.detail, "string");
    assert.ok(result.detail.length > 0, "empty detail");
    return;
  }
  const ids = new Set<string>();
  result.records.forEach((record, sequence) => {
    const event = EventRecordSchema.parse(JSON.parse(decoder.decode(record.data)));
    assert.equal(event.sequence, sequence);
    assert.equal(event.event_count, result.records.length);
    assert.equal(event.event_id, record.eventId);
    assert.equal(record.partitionKey, result.deviceId);
    ids.add(record.eventId);
  });
  assert.equal(ids.size, result.records.length, "duplicate event ids");
  for (const type of result.unknownEventTypes) {
    assert.ok(!(KNOWN_TYPES as readonly string[]).includes(type), `${type} reported as unknown`);
  }
}

/** The JSON value a body carries, or `undefined` when it carries none. */
function payloadOf(body: string): unknown {
  const trimmed = body.trimStart();
  try {
    if (trimmed.startsWith("{") || trimmed.startsWith("[")) return JSON.parse(trimmed);
    return JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(Uint8Array.fromBase64(body)),
    );
  } catch {
    return undefined;
  }
}

/**
 * The strings of a payload that a detail must never contain: string values and keys the schema
 * does not know. Short ones are skipped: they occur in any English message. Iterative, because
 * the corpus nests 10 000 levels deep.
 */
function payloadStrings(value: unknown): Set<string> {
  const found = new Set<string>();
  const stack = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === "string") {
      if (item.length >= 4) found.add(item);
    } else if (Array.isArray(item)) {
      stack.push(...item);
    } else if (typeof item === "object" && item !== null) {
      for (const [key, child] of Object.entries(item)) {
        if (key.length >= 4 && !SCHEMA_KEYS.has(key)) found.add(key);
        stack.push(child);
      }
    }
  }
  return found;
}

/** Own property names, symbols and descriptors of a prototype, for a before/after comparison. */
function snapshot(proto: object): Map<PropertyKey, PropertyDescriptor | undefined> {
  return new Map(
    Reflect.ownKeys(proto).map((key) => [key, Reflect.getOwnPropertyDescriptor(proto, key)]),
  );
}

const PROTOTYPES = [Object.prototype, Array.prototype, Function.prototype, String.prototype];

Deno.test("the corpus is sendable through SQS and covers every reachable reason", () => {
  assert.ok(HOSTILE_BODIES.length >= 150, `only ${HOSTILE_BODIES.length} bodies`);
  const names = new Set(HOSTILE_BODIES.map((entry) => entry.name));
  assert.equal(names.size, HOSTILE_BODIES.length, "duplicate names");
  for (const { name, body } of HOSTILE_BODIES) {
    assert.ok(encoder.encode(body).byteLength <= MAX_SQS_BODY_BYTES, `${name} is too large`);
    assert.ok(isValidSqsBody(body), `${name} has characters SQS refuses`);
  }
  // A record over 1 MiB needs a body over 256 KiB: this reason is covered by the unit tests.
  const reachable = SUBMISSION_REJECT_REASONS.filter((reason) => reason !== "record_too_large");
  const expected = new Set(HOSTILE_BODIES.map((entry) => entry.expect));
  for (const outcome of [...reachable, "valid"] as const) {
    assert.ok(expected.has(outcome), `no body expects ${outcome}`);
  }
});

Deno.test("isValidSqsBody refuses what SQS refuses", () => {
  assert.ok(isValidSqsBody("tab\t lf\n cr\r 日本 🔥 \ud7ff \ue000 \ufffd"));
  for (const bad of ["\u0000", "\u0008", "\u001f", "\ud800", "x\udc00", "\ufffe", "\uffff"]) {
    assert.ok(!isValidSqsBody(bad), JSON.stringify(bad));
  }
});

Deno.test("every corpus body decodes to its expected outcome, leaking and polluting nothing", () => {
  const before = PROTOTYPES.map(snapshot);
  const mismatches: string[] = [];
  for (const { name, body, expect } of HOSTILE_BODIES) {
    const result = decode(body);
    assertWellFormed(result);
    const outcome: SubmissionRejectReason | "valid" = result.ok ? "valid" : result.reason;
    if (outcome !== expect) {
      mismatches.push(`${name}: expected ${expect}, got ${outcome}`);
    }
    if (!result.ok) {
      const payload = payloadOf(body);
      const leaks = payload === undefined
        ? (body.length >= 8 && result.detail.includes(body.trim()) ? [body] : [])
        : [...payloadStrings(payload)].filter((text) => result.detail.includes(text));
      if (leaks.length > 0) mismatches.push(`${name}: detail leaks ${JSON.stringify(leaks)}`);
    }
  }
  assert.deepEqual(mismatches, []);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(([] as unknown as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.toString, ({}).toString);
  assert.deepEqual(PROTOTYPES.map(snapshot), before);
});

Deno.test("corpus bodies with __proto__ or constructor keys publish only known events", () => {
  const tricky = HOSTILE_BODIES.filter((entry) =>
    entry.expect === "valid" && /__proto__|constructor/.test(entry.name)
  );
  assert.ok(tricky.length >= 4);
  for (const { name, body } of tricky) {
    const result = decode(body);
    assert.ok(result.ok, name);
    for (const record of result.records) {
      const json = decoder.decode(record.data);
      assert.ok(!json.includes("polluted"), `${name}: ${json}`);
      assert.ok(!json.includes("__proto__"), `${name}: ${json}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Fuzz (a): whatever arrives, decodeMessage classifies it and never throws.

Deno.test("fuzz: arbitrary strings never make decodeMessage throw", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 200 }).map((text) => "{" + text),
        fc.string({ unit: "binary-ascii", maxLength: 200 }).map((text) => " [" + text),
        fc.base64String({ maxLength: 200 }),
      ),
      (body) => assertWellFormed(decode(body)),
    ),
    { numRuns: 5_000 },
  );
});

Deno.test("fuzz: standard base64 of arbitrary bytes is always read as base64", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const result = decode(bytes.toBase64());
      assertWellFormed(result);
      if (bytes.length === 0) {
        assert.equal(!result.ok && result.reason, "empty_body");
      } else {
        assert.ok(!result.ok, "random bytes decoded into a submission");
        assert.notEqual(result.reason, "not_base64");
        assert.notEqual(result.reason, "empty_body");
      }
    }),
    { numRuns: 3_000 },
  );
});

/** Arbitrary JSON values: fast-check's JSON plus serialized `fc.anything()`. */
const jsonText = fc.oneof(
  fc.json({ maxDepth: 4 }),
  fc.anything({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? "null"),
);

Deno.test("fuzz: arbitrary JSON, raw or in base64, is classified by its shape", () => {
  fc.assert(
    fc.property(jsonText, fc.boolean(), (text, inBase64) => {
      const value: unknown = JSON.parse(text);
      const result = decode(inBase64 ? base64Body(text) : text);
      assertWellFormed(result);
      const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
      if (inBase64) {
        // Base64 of UTF-8 JSON always reaches validation.
        if (!result.ok) {
          assert.ok(!["not_base64", "invalid_utf8", "invalid_json"].includes(result.reason));
          if (!isObject) assert.equal(result.reason, "not_an_object");
        }
      } else if (text.trimStart().startsWith("{") || text.trimStart().startsWith("[")) {
        if (!result.ok) assert.notEqual(result.reason, "invalid_json");
        if (!isObject) assert.equal(!result.ok && result.reason, "not_an_object");
      }
    }),
    { numRuns: 3_000 },
  );
});

// ---------------------------------------------------------------------------------------------
// Arbitrary valid submissions.

const uuid = fc.tuple(
  fc.uuid({ version: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15] }),
  fc.boolean(),
)
  .map(([id, upper]) => upper ? id.toUpperCase() : id);

const pad = (n: number, width: number) => String(n).padStart(width, "0");
/** Real ISO 8601 date-times: naive local (as sensors send), `Z` or an offset; any fraction. */
const timeCreated = fc.tuple(
  fc.date({
    min: new Date("0000-01-01T00:00:00Z"),
    max: new Date("9999-12-31T23:59:59Z"),
    noInvalidDate: true,
  }),
  fc.option(fc.stringMatching(/^\d{1,9}$/), { nil: undefined }),
  fc.constantFrom("", "", "Z", "+00:00", "+02:00", "-05:30", "+14:00", "-12:00"),
).map(([date, fraction, zone]) =>
  `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${
    pad(date.getUTCDate(), 2)
  }` +
  `T${pad(date.getUTCHours(), 2)}:${pad(date.getUTCMinutes(), 2)}:${pad(date.getUTCSeconds(), 2)}` +
  (fraction === undefined ? "" : `.${fraction}`) + zone
);

/** Command lines and user names: ASCII, any code point (lone surrogates too), graphemes. */
const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 10 }),
);

/** Keys that must never be mistaken for anything: unknown to the schema, some hostile. */
const unknownKey = (known: readonly string[]) =>
  fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "0"),
  ).filter((key) => !known.includes(key));

/** Unknown members to mix into an object whose own keys are `known`. */
const extras = (known: readonly string[]) =>
  fc.array(fc.tuple(unknownKey(known), fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 });

/** An event as sent (with unknown fields) and as it must be published. */
interface GeneratedEvent {
  readonly sent: Record<string, unknown>;
  readonly published: Record<string, unknown>;
}

function withExtras<T extends Record<string, unknown>>(
  event: fc.Arbitrary<T>,
  known: readonly string[],
): fc.Arbitrary<GeneratedEvent> {
  return fc.tuple(event, extras(known), fc.boolean()).map(([published, extra, extrasFirst]) => {
    const own = Object.entries(published);
    // fromEntries, not spread into a literal: keeps `__proto__` an own, plain key.
    const sent = Object.fromEntries(extrasFirst ? [...extra, ...own] : [...own, ...extra]);
    return { sent, published };
  });
}

const ipv4 = fc.ipV4();
const EVENT_ARBITRARIES: Record<KnownType, fc.Arbitrary<GeneratedEvent>> = {
  new_process: withExtras(
    fc.record({ cmdl: text, user: text }, { noNullPrototype: true }),
    ["cmdl", "user"],
  ),
  network_connection: withExtras(
    fc.record({
      source_ip: ipv4,
      destination_ip: ipv4,
      destination_port: fc.integer({ min: 0, max: 65535 }),
    }, { noNullPrototype: true }),
    ["source_ip", "destination_ip", "destination_port"],
  ),
};

/** A valid submission as sent, and everything decoding it must yield. */
interface GeneratedSubmission {
  readonly submission: Record<string, unknown>;
  readonly expected: readonly { type: KnownType; data: Record<string, unknown> }[];
  readonly unknownTypes: readonly string[];
}

/** A list of events of `type`, or no list at all (zero events of that type). */
const listOf = (type: KnownType) =>
  fc.option(fc.array(EVENT_ARBITRARIES[type], { maxLength: 5 }), { nil: undefined });

const validSubmission: fc.Arbitrary<GeneratedSubmission> = fc.record({
  submissionId: uuid,
  deviceId: uuid,
  time: timeCreated,
  processes: listOf("new_process"),
  connections: listOf("network_connection"),
  connectionsFirst: fc.boolean(),
  // Unknown event types, each with the position it is inserted at among the known ones.
  unknown: fc.array(
    fc.tuple(unknownKey(KNOWN_TYPES), fc.jsonValue({ maxDepth: 2 }), fc.nat()),
    { maxLength: 3 },
  ),
  topExtras: extras(["submission_id", "device_id", "time_created", "events"]),
}).map((g) => {
  const known: [KnownType, readonly GeneratedEvent[] | undefined][] = [
    ["new_process", g.processes],
    ["network_connection", g.connections],
  ];
  if (g.connectionsFirst) known.reverse();
  const entries: [string, unknown][] = known
    .filter(([, list]) => list !== undefined)
    .map(([type, list]) => [type, list!.map((event) => event.sent)]);
  for (const [key, value, slot] of g.unknown) {
    entries.splice(slot % (entries.length + 1), 0, [key, value]);
  }
  // fromEntries keeps `__proto__` an own key; a later duplicate key keeps the first position.
  const events = Object.fromEntries(entries);
  const lists = new Map(known);
  const isKnown = (key: string): key is KnownType =>
    (KNOWN_TYPES as readonly string[]).includes(key);
  const expected = Object.keys(events).filter(isKnown).flatMap((type) =>
    (lists.get(type) ?? []).map((event) => ({ type, data: event.published }))
  );
  const submission = Object.fromEntries([
    ...g.topExtras,
    ["submission_id", g.submissionId],
    ["device_id", g.deviceId],
    ["time_created", g.time],
    ["events", events],
  ]);
  return { submission, expected, unknownTypes: Object.keys(events).filter((key) => !isKnown(key)) };
});

/** The three body forms a sensor may use for the same submission. */
const bodyForm = fc.constantFrom("base64", "raw", "raw-indented");

function bodyOf(submission: unknown, form: string): string {
  if (form === "base64") return base64Body(JSON.stringify(submission));
  if (form === "raw") return JSON.stringify(submission);
  return "\n  " + JSON.stringify(submission, null, 2) + "\n";
}

Deno.test("fuzz: fc.ipV4() produces only what our IPv4 rule accepts", () => {
  fc.assert(fc.property(ipv4, (ip) => assert.match(ip, IPV4)), { numRuns: 2_000 });
});

Deno.test("fuzz: arbitrary valid submissions decode into exactly their records", () => {
  fc.assert(
    fc.property(validSubmission, bodyForm, ({ submission, expected, unknownTypes }, form) => {
      const body = bodyOf(submission, form);
      const result = decode(body);
      if (!result.ok) assert.fail(`${result.reason}: ${result.detail}`);
      const submissionId = submission.submission_id as string;
      const deviceId = submission.device_id as string;
      assert.equal(result.submissionId, submissionId);
      assert.equal(result.deviceId, deviceId);
      assert.deepEqual(result.unknownEventTypes, unknownTypes);
      assert.equal(result.records.length, expected.length);
      result.records.forEach((record, sequence) => {
        const json: unknown = JSON.parse(decoder.decode(record.data));
        EventRecordSchema.parse(json);
        const want = expected[sequence]!;
        assert.deepEqual(json, {
          schema_version: 1,
          event_id: eventId(deviceId, submissionId, sequence),
          event_type: want.type,
          device_id: deviceId,
          submission_id: submissionId,
          sequence,
          event_count: expected.length,
          time_created: submission.time_created,
          time_processed: PROCESSED_AT.toISOString(),
          data: want.data,
        });
        assert.equal(record.partitionKey, deviceId);
        assert.equal(record.eventId, eventId(deviceId, submissionId, sequence));
      });
      const ids = result.records.map((record) => record.eventId);
      assert.equal(new Set(ids).size, ids.length);
      // Redelivered later (another instance, another form): the same ids.
      const again = decode(bodyOf(submission, form === "base64" ? "raw" : "base64"), LATER);
      assert.ok(again.ok);
      assert.deepEqual(again.records.map((record) => record.eventId), ids);
    }),
    { numRuns: 1_000 },
  );
});

Deno.test("fuzz: distinct submissions never share an event id", () => {
  const events = { new_process: [{ cmdl: "x", user: "y" }, { cmdl: "x", user: "y" }] };
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(uuid, uuid), {
        minLength: 2,
        maxLength: 6,
        selector: ([a, b]) => `${a.toLowerCase()}/${b.toLowerCase()}`,
      }),
      (pairs) => {
        const ids = pairs.flatMap(([device_id, submission_id]) => {
          const result = decode(base64Body(JSON.stringify({
            submission_id,
            device_id,
            time_created: "2021-03-28T15:44:18.592840",
            events,
          })));
          assert.ok(result.ok);
          return result.records.map((record) => record.eventId);
        });
        assert.equal(ids.length, pairs.length * 2);
        assert.equal(new Set(ids).size, ids.length);
      },
    ),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------------------------------------
// Fuzz (a), continued: mutations of valid submissions.

/** Where a mutation lands, and the reasons a rejection may then carry. */
interface Mutation {
  readonly path: readonly (string | number)[];
  readonly reasons: readonly SubmissionRejectReason[];
}

/** Every mutable location of a generated submission. */
function mutationsOf(submission: Record<string, unknown>): Mutation[] {
  const mutations: Mutation[] = [
    { path: ["submission_id"], reasons: ["invalid_submission_id"] },
    { path: ["device_id"], reasons: ["invalid_device_id"] },
    { path: ["time_created"], reasons: ["invalid_time_created"] },
    // A replacement `events` may itself hold a broken known list.
    {
      path: ["events"],
      reasons: ["invalid_events", "invalid_new_process", "invalid_network_connection"],
    },
  ];
  const events = submission.events as Record<string, unknown>;
  for (const type of KNOWN_TYPES) {
    const list = events[type];
    if (!Array.isArray(list)) continue;
    const reasons = [`invalid_${type}`] as const;
    mutations.push({ path: ["events", type], reasons });
    list.forEach((event: Record<string, unknown>, index) => {
      mutations.push({ path: ["events", type, index], reasons });
      for (const field of Object.keys(event)) {
        if (SCHEMA_KEYS.has(field)) {
          mutations.push({ path: ["events", type, index, field], reasons });
        }
      }
    });
  }
  return mutations;
}

/** A deep copy of `value` with the member at `path` replaced (or dropped when `drop`). */
function mutate(
  value: unknown,
  path: readonly (string | number)[],
  drop: boolean,
  replacement: unknown,
): unknown {
  const copy: unknown = JSON.parse(JSON.stringify(value));
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (drop && Array.isArray(parent)) parent.splice(last as number, 1);
  else if (drop) delete parent[last];
  else parent[last] = replacement;
  return copy;
}

Deno.test("fuzz: a mutated valid submission is rejected for the mutated field, or still valid", () => {
  fc.assert(
    fc.property(
      validSubmission,
      fc.nat(),
      fc.boolean(),
      fc.jsonValue({ maxDepth: 3 }),
      bodyForm,
      ({ submission }, pick, drop, replacement, form) => {
        const mutations = mutationsOf(submission);
        const { path, reasons } = mutations[pick % mutations.length]!;
        const mutated = mutate(submission, path, drop, replacement);
        const result = decode(bodyOf(mutated, form));
        assertWellFormed(result);
        const droppedListItem = drop && typeof path[path.length - 1] === "number";
        const droppedList = drop && path.length === 2;
        if (drop && !droppedListItem && !droppedList) {
          // A required field is gone: always a rejection, for that field.
          assert.ok(!result.ok, `dropping ${path.join(".")} was accepted`);
        }
        if (!result.ok) {
          assert.ok(
            reasons.includes(result.reason),
            `${path.join(".")}: ${result.reason} not in ${reasons.join(", ")}`,
          );
        }
      },
    ),
    { numRuns: 1_500 },
  );
});
