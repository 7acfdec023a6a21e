/**
 * Unit tests of the codec: body decoding, submission validation and event record building, each
 * through the public entry point `decodeMessage`.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  type DecodedMessage,
  decodeMessage,
  MAX_RECORD_BYTES,
  type OutgoingRecord,
} from "../../src/submissions/codec.ts";
import {
  EVENT_ID_NAMESPACE,
  eventId,
  type EventRecord,
  EventRecordSchema,
} from "../../src/submissions/event_record.ts";
import {
  type Rejection,
  SUBMISSION_REJECT_REASONS,
  type SubmissionRejectReason,
} from "../../src/submissions/reject_reason.ts";
import {
  base64Body,
  base64Bytes,
  DEVICE_ID,
  encodeSubmission,
  networkConnection,
  newProcess,
  ownKey,
  RAW,
  SUBMISSION_ID,
  TIME_CREATED,
  validSubmission,
  withRawJson,
} from "./hostile_corpus.ts";

const PROCESSED_AT = new Date("2024-05-06T07:08:09.123Z");
/** Put into bad values: a detail that contains it leaks the payload. */
const MARKER = "XMARKERX";

function decode(body: string, partitionKey?: "device_id" | "submission_id") {
  return decodeMessage(body, { processedAt: PROCESSED_AT, partitionKey });
}

function assertOk(result: DecodedMessage | Rejection): DecodedMessage {
  if (!result.ok) assert.fail(`expected a decoded message, got ${result.reason}: ${result.detail}`);
  return result;
}

function assertRejected(
  result: DecodedMessage | Rejection,
  reason: SubmissionRejectReason,
  context = "",
): Rejection {
  if (result.ok) assert.fail(`expected ${reason}, got a decoded message ${context}`);
  assert.equal(result.reason, reason, `${context}: ${result.detail}`);
  assert.ok(SUBMISSION_REJECT_REASONS.includes(result.reason));
  assert.equal(typeof result.detail, "string");
  assert.notEqual(result.detail, "");
  return result;
}

/** The parsed, schema-checked event record of an outgoing record. */
function recordOf(record: OutgoingRecord): EventRecord {
  return EventRecordSchema.parse(JSON.parse(new TextDecoder().decode(record.data)));
}

function recordsOf(body: string): EventRecord[] {
  return assertOk(decode(body)).records.map(recordOf);
}

function withEvents(events: unknown): Record<string, unknown> {
  return validSubmission({ events });
}

// ---------------------------------------------------------------------------------------------
// Decoding the body

Deno.test("decodes standard padded base64 of a valid submission", () => {
  const result = assertOk(decode(encodeSubmission(validSubmission())));
  assert.equal(result.submissionId, SUBMISSION_ID);
  assert.equal(result.deviceId, DEVICE_ID);
  assert.equal(result.records.length, 4);
  assert.deepEqual(result.unknownEventTypes, []);
});

Deno.test("accepts the raw JSON object and decodes it exactly like its base64", () => {
  const submission = validSubmission();
  const fromBase64 = assertOk(decode(encodeSubmission(submission)));
  const fromRaw = assertOk(decode(JSON.stringify(submission)));
  assert.equal(fromRaw.records.length, 4);
  assert.deepEqual(fromRaw.records, fromBase64.records);
});

Deno.test("accepts whitespace and a BOM before a raw JSON object", () => {
  for (const prefix of [" ", "\n", "\t\r\n  ", "\uFEFF"]) {
    const result = assertOk(decode(prefix + JSON.stringify(validSubmission())));
    assert.equal(result.records.length, 4, JSON.stringify(prefix));
  }
});

Deno.test("rejects an empty or whitespace-only body as empty_body", () => {
  for (const body of ["", " ", "\n", " \t\r\n "]) {
    assertRejected(decode(body), "empty_body", JSON.stringify(body));
  }
});

Deno.test("rejects the URL-safe base64 alphabet as not_base64", () => {
  // This cmdl makes the standard encoding contain both `+` and `/`.
  const standard = encodeSubmission(
    withEvents({ new_process: [newProcess({ cmdl: "~~~??>>>???" })] }),
  );
  assert.match(standard, /\+/);
  assert.match(standard, /\//);
  assertOk(decode(standard));
  const urlSafe = standard.replaceAll("+", "-").replaceAll("/", "_");
  assertRejected(decode(urlSafe), "not_base64");
});

Deno.test("rejects base64 with missing or extra padding as not_base64", () => {
  let json = JSON.stringify(validSubmission());
  while (json.length % 3 !== 1) json += " ";
  const padded = base64Body(json);
  assert.ok(padded.endsWith("=="));
  assertOk(decode(padded));
  assertRejected(decode(padded.slice(0, -1)), "not_base64");
  assertRejected(decode(padded.slice(0, -2)), "not_base64");
  assertRejected(decode(padded + "="), "not_base64");
  assertRejected(decode("e30"), "not_base64");
});

Deno.test("rejects non-canonical base64 (non-zero bits after the last byte) as not_base64", () => {
  // "QQ==" is the canonical encoding of "A"; "QR==" decodes to it too in lenient decoders.
  assert.equal(decode("QQ==").ok, false);
  const result = assertRejected(decode("QR=="), "not_base64");
  assert.match(result.detail, /padding bits/);
  assertRejected(decode("QUI="), "invalid_json"); // canonical: decodes, then fails as JSON
  assertRejected(decode("QUJ="), "not_base64");
});

Deno.test("rejects base64 with whitespace inside or around as not_base64", () => {
  const body = encodeSubmission(validSubmission());
  const variants = [
    body.match(/.{1,76}/g)!.join("\n"),
    body.match(/.{1,76}/g)!.join("\r\n"),
    body.slice(0, 8) + " " + body.slice(8),
    body.slice(0, 8) + "\t" + body.slice(8),
    body + "\n",
    " " + body,
  ];
  for (const variant of variants) {
    assertRejected(decode(variant), "not_base64", JSON.stringify(variant.slice(0, 12)));
  }
});

Deno.test("rejects non-base64 text as not_base64 without echoing it", () => {
  for (
    const body of [`${MARKER} says hi!`, `"${MARKER}"`, `data:;base64,${MARKER}`, "é" + MARKER]
  ) {
    const rejection = assertRejected(decode(body), "not_base64", body);
    assert.ok(!rejection.detail.includes(MARKER), rejection.detail);
  }
});

Deno.test("rejects base64 of bytes that are not UTF-8 as invalid_utf8", () => {
  const json = [...new TextEncoder().encode(JSON.stringify(validSubmission()))];
  const cases: Record<string, number[]> = {
    "lone continuation byte": [0x80, ...json],
    "overlong NUL": [...json.slice(0, 20), 0xc0, 0x80, ...json.slice(20)],
    "encoded surrogate": [...json.slice(0, 20), 0xed, 0xa0, 0x80, ...json.slice(20)],
    "above U+10FFFF": [...json.slice(0, 20), 0xf4, 0x90, 0x80, 0x80, ...json.slice(20)],
    "truncated sequence at the end": [...json, 0xe2, 0x82],
    "Latin-1 é": [...json.slice(0, 20), 0xe9, ...json.slice(20)],
    "UTF-16LE BOM": [0xff, 0xfe, ...json],
  };
  for (const [name, bytes] of Object.entries(cases)) {
    assertRejected(decode(base64Bytes(bytes)), "invalid_utf8", name);
  }
});

Deno.test("rejects base64 of non-JSON and truncated JSON as invalid_json", () => {
  const json = JSON.stringify(validSubmission());
  const cases = {
    "plain text": base64Body(`${MARKER} plain text`),
    "base64 of base64": base64Body(encodeSubmission(validSubmission())),
    "truncated JSON": base64Body(json.slice(0, -10)),
    "trailing garbage": base64Body(json + MARKER),
    "raw NUL byte in a string": base64Body(json.replace('"cmdl":"', `"cmdl":"${MARKER}\u0000`)),
  };
  for (const [name, body] of Object.entries(cases)) {
    const rejection = assertRejected(decode(body), "invalid_json", name);
    assert.ok(!rejection.detail.includes(MARKER), rejection.detail);
  }
});

Deno.test("rejects truncated and malformed raw JSON as invalid_json", () => {
  const json = JSON.stringify(validSubmission({ note: MARKER }));
  const cases = [
    json.slice(0, json.length - 3),
    "{",
    json + "}",
    json + json,
    json.replaceAll('"', "'"),
    `{"note": ${MARKER}}`,
    "[".repeat(10_000),
  ];
  for (const body of cases) {
    const rejection = assertRejected(decode(body), "invalid_json", body.slice(0, 30));
    assert.ok(!rejection.detail.includes(MARKER), rejection.detail);
  }
});

Deno.test("invalid_json positions come from the parser, never from the payload", () => {
  // V8 quotes this payload in its message, and the quote contains "position 4242".
  const quoted = assertRejected(decode('{"a": position 4242}'), "invalid_json");
  assert.ok(!quoted.detail.includes("4242"), quoted.detail);
  // A real position is kept, measured in the body as received (leading whitespace included).
  const positioned = assertRejected(decode('   {"a":1}x'), "invalid_json");
  assert.match(positioned.detail, /at position 10\b/);
});

Deno.test("rejects JSON that is not an object as not_an_object", () => {
  const cases = {
    "raw array": "[]",
    "raw array of a submission": `[${JSON.stringify(validSubmission())}]`,
    "base64 array": base64Body("[1,2]"),
    "base64 string": base64Body(`"${MARKER}"`),
    "base64 number": base64Body("42"),
    "base64 null": base64Body("null"),
    "base64 boolean": base64Body("false"),
  };
  for (const [name, body] of Object.entries(cases)) {
    const rejection = assertRejected(decode(body), "not_an_object", name);
    assert.ok(!rejection.detail.includes(MARKER), rejection.detail);
  }
});

// ---------------------------------------------------------------------------------------------
// Validation

/** Asserts `submission` is rejected for `reason` and the detail names no value of the payload. */
function assertInvalid(
  submission: unknown,
  reason: SubmissionRejectReason,
  context: string,
): Rejection {
  const rejection = assertRejected(decode(encodeSubmission(submission)), reason, context);
  assert.ok(
    !rejection.detail.includes(MARKER),
    `${context} leaks the payload: ${rejection.detail}`,
  );
  return rejection;
}

Deno.test("rejects the four fleet faults with their own reason", () => {
  const ip = assertInvalid(
    withEvents({
      network_connection: [networkConnection(), networkConnection({ destination_ip: "not-an-ip" })],
    }),
    "invalid_network_connection",
    "destination_ip",
  );
  assert.match(ip.detail, /events\.network_connection\[1\]\.destination_ip/);
  assert.ok(!ip.detail.includes("not-an-ip"));
  const cmdl = assertInvalid(
    withEvents({ new_process: [newProcess({ cmdl: null })] }),
    "invalid_new_process",
    "cmdl",
  );
  assert.match(cmdl.detail, /events\.new_process\[0\]\.cmdl/);
  for (const field of ["submission_id", "device_id"] as const) {
    const rejection = assertInvalid(
      validSubmission({ [field]: "not-an-uuid" }),
      `invalid_${field}`,
      field,
    );
    assert.ok(rejection.detail.startsWith(`${field}:`), rejection.detail);
    assert.ok(!rejection.detail.includes("not-an-uuid"));
  }
});

Deno.test("rejects a missing top-level field with that field's reason", () => {
  for (const field of ["submission_id", "device_id", "time_created", "events"] as const) {
    assertInvalid(validSubmission({ [field]: undefined }), `invalid_${field}`, field);
  }
  // All missing: the first in schema order is the reason, the detail summarises the rest.
  const empty = assertRejected(decode("{}"), "invalid_submission_id");
  assert.match(empty.detail, /and 1 more$/);
});

Deno.test("rejects a missing event field with the event type's reason", () => {
  for (const field of ["cmdl", "user"]) {
    assertInvalid(
      withEvents({ new_process: [newProcess({ [field]: undefined })] }),
      "invalid_new_process",
      field,
    );
  }
  for (const field of ["source_ip", "destination_ip", "destination_port"]) {
    assertInvalid(
      withEvents({ network_connection: [networkConnection({ [field]: undefined })] }),
      "invalid_network_connection",
      field,
    );
  }
});

Deno.test("rejects top-level fields of the wrong type", () => {
  const wrong = [7, true, null, [MARKER], { id: MARKER }];
  for (const value of wrong) {
    for (const field of ["submission_id", "device_id", "time_created"] as const) {
      assertInvalid(
        validSubmission({ [field]: value }),
        `invalid_${field}`,
        `${field}=${JSON.stringify(value)}`,
      );
    }
  }
  for (const value of [MARKER, 7, null, [newProcess({ cmdl: MARKER })]]) {
    assertInvalid(withEvents(value), "invalid_events", `events=${JSON.stringify(value)}`);
  }
});

Deno.test("rejects event lists that are not arrays, and items that are not objects", () => {
  for (
    const value of [{ cmdl: MARKER, user: MARKER }, MARKER, null, 3, [MARKER], [null], [[MARKER]]]
  ) {
    assertInvalid(withEvents({ new_process: value }), "invalid_new_process", JSON.stringify(value));
    assertInvalid(
      withEvents({ network_connection: value }),
      "invalid_network_connection",
      JSON.stringify(value),
    );
  }
});

Deno.test("rejects event fields of the wrong type", () => {
  // Every value here is of the wrong JSON type for the field it is put in.
  const notString = [null, 0, true, [MARKER], { s: MARKER }];
  const notNumber = [null, "443", `${MARKER}`, true, [443], { port: 443 }];
  for (const value of notString) {
    for (const field of ["cmdl", "user"]) {
      assertInvalid(
        withEvents({ new_process: [newProcess({ [field]: value })] }),
        "invalid_new_process",
        `${field}=${JSON.stringify(value)}`,
      );
    }
    for (const field of ["source_ip", "destination_ip"]) {
      assertInvalid(
        withEvents({ network_connection: [networkConnection({ [field]: value })] }),
        "invalid_network_connection",
        `${field}=${JSON.stringify(value)}`,
      );
    }
  }
  for (const value of notNumber) {
    assertInvalid(
      withEvents({ network_connection: [networkConnection({ destination_port: value })] }),
      "invalid_network_connection",
      `destination_port=${JSON.stringify(value)}`,
    );
  }
});

Deno.test("accepts ports 0..65535 and rejects every other port", () => {
  for (const port of [0, 1, 80, 443, 65535]) {
    const [record] = recordsOf(
      encodeSubmission(
        withEvents({ network_connection: [networkConnection({ destination_port: port })] }),
      ),
    );
    assert.deepEqual(record?.data, networkConnection({ destination_port: port }));
  }
  for (const port of [-1, 65536, 80.5, "80", 1e6, Number.MAX_SAFE_INTEGER + 2]) {
    assertInvalid(
      withEvents({ network_connection: [networkConnection({ destination_port: port })] }),
      "invalid_network_connection",
      `port ${port}`,
    );
  }
  // Spellings JSON.stringify cannot produce.
  for (const raw of ["1e400", "-1e400", "65535.5", "-0.5"]) {
    const body = withRawJson(
      withEvents({ network_connection: [networkConnection({ destination_port: RAW })] }),
      raw,
    );
    assertRejected(decode(body), "invalid_network_connection", raw);
  }
});

Deno.test("accepts four decimal octets 0-255 only", () => {
  for (const ip of ["0.0.0.0", "255.255.255.255", "10.0.0.1", "192.168.100.200", "1.2.3.4"]) {
    const records = recordsOf(
      encodeSubmission(
        withEvents({
          network_connection: [networkConnection({ source_ip: ip, destination_ip: ip })],
        }),
      ),
    );
    assert.deepEqual(records[0]?.data, networkConnection({ source_ip: ip, destination_ip: ip }));
  }
  const invalid = [
    "::1",
    "2001:db8::1",
    "::ffff:1.2.3.4",
    "01.2.3.4",
    "1.2.3.00",
    "256.0.0.1",
    "1.2.3.256",
    "1.2.3",
    "1.2.3.4.5",
    " 1.2.3.4",
    "1.2.3.4\n",
    "1.2.3.4/32",
    "1.2.3.4:80",
    "0x01.2.3.4",
    "16909060",
    "",
    `${MARKER}.2.3.4`,
  ];
  for (const ip of invalid) {
    for (const field of ["source_ip", "destination_ip"]) {
      assertInvalid(
        withEvents({ network_connection: [networkConnection({ [field]: ip })] }),
        "invalid_network_connection",
        `${field}=${JSON.stringify(ip)}`,
      );
    }
  }
});

Deno.test("accepts canonical UUIDs of any version and case only", () => {
  const valid = [
    "00000000-0000-0000-0000-000000000000",
    "ffffffff-ffff-ffff-ffff-ffffffffffff",
    "01890A5D-AC96-774B-BCCE-B302099A8057",
    "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
    "aBcDeF01-2345-6789-abcd-ef0123456789",
  ];
  for (const id of valid) {
    const result = assertOk(
      decode(encodeSubmission(validSubmission({ submission_id: id, device_id: id }))),
    );
    assert.equal(result.submissionId, id);
    assert.equal(result.deviceId, id);
  }
  const invalid = [
    "not-an-uuid",
    `{${DEVICE_ID}}`,
    DEVICE_ID.replaceAll("-", ""),
    `urn:uuid:${DEVICE_ID}`,
    DEVICE_ID + "\n",
    " " + DEVICE_ID,
    DEVICE_ID.slice(1),
    DEVICE_ID + "0",
    "g" + DEVICE_ID.slice(1),
    "9d8e7f6a5-b4c-4d3e-8f2a-1b0c9d8e7f6a",
    MARKER,
  ];
  for (const id of invalid) {
    assertInvalid(validSubmission({ submission_id: id }), "invalid_submission_id", id);
    assertInvalid(validSubmission({ device_id: id }), "invalid_device_id", id);
  }
});

Deno.test("accepts real ISO 8601 date-times with or without offset and fraction", () => {
  const valid = [
    TIME_CREATED,
    "2021-03-28T15:44:18",
    "2021-03-28T15:44:18Z",
    "2021-03-28T15:44:18.5+02:00",
    "2021-03-28T15:44:18.592840-05:30",
    "2024-02-29T00:00:00",
    "2000-02-29T23:59:59.999",
  ];
  for (const time of valid) {
    const [record] = recordsOf(encodeSubmission(validSubmission({ time_created: time })));
    assert.equal(record?.time_created, time);
  }
  const invalid = [
    "2021-02-30T10:00:00",
    "2021-02-29T10:00:00",
    "1900-02-29T10:00:00",
    "2021-04-31T10:00:00",
    "2021-13-01T10:00:00",
    "2021-00-10T10:00:00",
    "2021-03-28T24:00:00",
    "2021-03-28T15:60:00",
    "2021-03-28T15:44:60",
    "2021-03-28",
    "15:44:18",
    "2021-03-28 15:44:18",
    "2021-03-28T15:44:18.",
    "2021-03-28T15:44:18+25:00",
    "Sun, 28 Mar 2021 15:44:18 GMT",
    "",
    MARKER,
  ];
  for (const time of invalid) {
    assertInvalid(validSubmission({ time_created: time }), "invalid_time_created", time);
  }
});

Deno.test("treats a missing event list as zero events of that type", () => {
  const onlyProcesses = recordsOf(encodeSubmission(withEvents({ new_process: [newProcess()] })));
  assert.deepEqual(onlyProcesses.map((r) => r.event_type), ["new_process"]);
  const onlyConnections = recordsOf(
    encodeSubmission(withEvents({ network_connection: [networkConnection()] })),
  );
  assert.deepEqual(onlyConnections.map((r) => r.event_type), ["network_connection"]);
  const none = assertOk(decode(encodeSubmission(withEvents({}))));
  assert.deepEqual(none.records, []);
  const empty = assertOk(
    decode(encodeSubmission(withEvents({ new_process: [], network_connection: [] }))),
  );
  assert.deepEqual(empty.records, []);
});

Deno.test("accepts empty command lines and user names", () => {
  const [record] = recordsOf(
    encodeSubmission(withEvents({ new_process: [newProcess({ cmdl: "", user: "" })] })),
  );
  assert.deepEqual(record?.data, { cmdl: "", user: "" });
});

Deno.test("one invalid event invalidates the whole submission", () => {
  const events = {
    new_process: [newProcess(), newProcess(), newProcess()],
    network_connection: [
      networkConnection(),
      networkConnection({ destination_port: 70000 }),
      networkConnection(),
    ],
  };
  const rejection = assertInvalid(withEvents(events), "invalid_network_connection", "port 70000");
  assert.match(rejection.detail, /network_connection\[1\]\.destination_port/);
});

Deno.test("a rejection's detail never contains the payload's values or unknown keys", () => {
  const everythingWrong = {
    submission_id: `${MARKER}-1`,
    device_id: `${MARKER}-2`,
    time_created: `${MARKER}-3`,
    [`${MARKER}_unknown`]: MARKER,
    events: {
      [`${MARKER}_type`]: [MARKER],
      new_process: [{ cmdl: [MARKER], user: { [MARKER]: MARKER } }],
      network_connection: [{
        source_ip: MARKER,
        destination_ip: `${MARKER}.1`,
        destination_port: MARKER,
      }],
    },
  };
  const rejection = assertInvalid(everythingWrong, "invalid_submission_id", "everything wrong");
  assert.match(
    rejection.detail,
    /^submission_id: .*; device_id: .*; time_created: .*; and \d+ more$/,
  );
  const eventsOnly = assertInvalid(
    {
      ...everythingWrong,
      submission_id: SUBMISSION_ID,
      device_id: DEVICE_ID,
      time_created: TIME_CREATED,
    },
    "invalid_new_process",
    "events wrong",
  );
  assert.match(eventsOnly.detail, /new_process\[0\]\.cmdl/);
});

// ---------------------------------------------------------------------------------------------
// Event records

Deno.test("strips unknown fields from the record and its data", () => {
  const submission = validSubmission({
    sensor_version: MARKER,
    events: {
      new_process: [newProcess({ pid: 4242, secret: MARKER })],
      network_connection: [networkConnection({ protocol: MARKER })],
    },
  });
  const result = assertOk(decode(encodeSubmission(submission)));
  const records = result.records.map(recordOf);
  assert.deepEqual(records.map((r) => r.data), [newProcess(), networkConnection()]);
  for (const record of result.records) {
    const json = new TextDecoder().decode(record.data);
    assert.ok(!json.includes(MARKER), json);
    assert.deepEqual(Object.keys(JSON.parse(json)).sort(), [
      "data",
      "device_id",
      "event_count",
      "event_id",
      "event_type",
      "schema_version",
      "sequence",
      "submission_id",
      "time_created",
      "time_processed",
    ]);
  }
});

Deno.test("reports unknown event types without publishing or counting them", () => {
  const events = {
    file_write: [{ path: "/etc/shadow" }],
    new_process: [newProcess()],
    NEW_PROCESS: [newProcess()],
    ...ownKey("__proto__", { new_process: [newProcess()] }),
    network_connection: [networkConnection()],
    dns_query: "not even a list",
  };
  const result = assertOk(decode(encodeSubmission(withEvents(events))));
  assert.deepEqual(result.unknownEventTypes, [
    "file_write",
    "NEW_PROCESS",
    "__proto__",
    "dns_query",
  ]);
  const records = result.records.map(recordOf);
  assert.deepEqual(records.map((r) => r.event_type), ["new_process", "network_connection"]);
  assert.deepEqual(records.map((r) => r.event_count), [2, 2]);
  assert.deepEqual(records.map((r) => r.sequence), [0, 1]);
});

Deno.test("a submission with only unknown event types is valid and publishes nothing", () => {
  const result = assertOk(decode(encodeSubmission(withEvents({ file_write: [{}] }))));
  assert.deepEqual(result.records, []);
  assert.deepEqual(result.unknownEventTypes, ["file_write"]);
});

Deno.test("sequence follows the order of the type keys, then each list's order", () => {
  const processes = [newProcess({ cmdl: "p0" }), newProcess({ cmdl: "p1" })];
  const connections = [0, 1, 2].map((i) => networkConnection({ destination_port: i }));
  const records = recordsOf(
    encodeSubmission(withEvents({ network_connection: connections, new_process: processes })),
  );
  assert.deepEqual(records.map((r) => r.sequence), [0, 1, 2, 3, 4]);
  assert.deepEqual(records.map((r) => r.event_type), [
    "network_connection",
    "network_connection",
    "network_connection",
    "new_process",
    "new_process",
  ]);
  assert.deepEqual(records.map((r) => r.data), [...connections, ...processes]);
  // The simulator's order gives the opposite sequence.
  const simulator = recordsOf(
    encodeSubmission(withEvents({ new_process: processes, network_connection: connections })),
  );
  assert.deepEqual(simulator.map((r) => r.data), [...processes, ...connections]);
});

Deno.test("event_count is the number of published events of the submission", () => {
  for (const [processes, connections] of [[1, 0], [0, 1], [3, 5], [5, 3], [1, 99]] as const) {
    const records = recordsOf(encodeSubmission(withEvents({
      new_process: Array.from({ length: processes }, () => newProcess()),
      network_connection: Array.from({ length: connections }, () => networkConnection()),
    })));
    assert.equal(records.length, processes + connections);
    for (const record of records) assert.equal(record.event_count, processes + connections);
  }
});

Deno.test("builds the full record envelope with data as sent", () => {
  const cmdl = 'C:\\Windows\\system32\\cmd.exe /c "echo 日本 🔥" \u0000 \ud800';
  const submission = validSubmission({
    events: {
      new_process: [newProcess({ cmdl, user: "José" })],
      network_connection: [networkConnection({ destination_port: 0 })],
    },
  });
  const result = assertOk(decode(encodeSubmission(submission)));
  const [first, second] = result.records.map(recordOf);
  assert.deepEqual(first, {
    schema_version: 1,
    event_id: eventId(DEVICE_ID, SUBMISSION_ID, 0),
    event_type: "new_process",
    device_id: DEVICE_ID,
    submission_id: SUBMISSION_ID,
    sequence: 0,
    event_count: 2,
    time_created: TIME_CREATED,
    time_processed: "2024-05-06T07:08:09.123Z",
    data: { cmdl, user: "José" },
  });
  assert.deepEqual(second?.data, networkConnection({ destination_port: 0 }));
  assert.equal(second?.event_type, "network_connection");
  assert.equal(result.records[1]?.eventId, second?.event_id);
});

Deno.test("time_processed is processedAt in ISO form ending in Z", () => {
  const processedAt = new Date(Date.UTC(2030, 0, 2, 3, 4, 5, 6));
  const result = assertOk(decodeMessage(encodeSubmission(validSubmission()), { processedAt }));
  for (const record of result.records.map(recordOf)) {
    assert.equal(record.time_processed, "2030-01-02T03:04:05.006Z");
    // time_created keeps the sensor's naive local time untouched.
    assert.equal(record.time_created, TIME_CREATED);
  }
});

Deno.test("event_id is deterministic: same submission, same ids, at any time", () => {
  const body = encodeSubmission(validSubmission());
  const early = assertOk(decodeMessage(body, { processedAt: new Date("2021-03-28T15:44:20Z") }));
  const late = assertOk(decodeMessage(body, { processedAt: new Date("2031-01-01T00:00:00Z") }));
  assert.deepEqual(late.records.map((r) => r.eventId), early.records.map((r) => r.eventId));
  assert.deepEqual(
    late.records.map(recordOf).map((r) => r.event_id),
    early.records.map((r) => r.eventId),
  );
  assert.notDeepEqual(
    late.records.map(recordOf).map((r) => r.time_processed),
    early.records.map(recordOf).map((r) => r.time_processed),
  );
  // The raw form of the same submission yields the same ids too.
  assert.deepEqual(
    assertOk(decode(JSON.stringify(validSubmission()))).records.map((r) => r.eventId),
    early.records.map((r) => r.eventId),
  );
});

Deno.test("event_id is pinned: a UUIDv5 whose value never changes across releases", () => {
  assert.equal(EVENT_ID_NAMESPACE, "5b0c7f0e-2f4c-4d7e-9a51-6c0f2d8e3a17");
  // Consumers deduplicate on these ids: a change here re-delivers every event as new.
  assert.equal(
    eventId("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "11111111-2222-3333-4444-555555555555", 0),
    "153b0e8a-a8e5-5f77-8d31-3ac4fd9fe55c",
  );
  const id = eventId(DEVICE_ID, SUBMISSION_ID, 3);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

Deno.test("event_id ignores the case of the ids a sensor sends", () => {
  const lower = assertOk(decode(encodeSubmission(validSubmission())));
  const upper = assertOk(decode(encodeSubmission(validSubmission({
    submission_id: SUBMISSION_ID.toUpperCase(),
    device_id: DEVICE_ID.toUpperCase(),
  }))));
  assert.deepEqual(upper.records.map((r) => r.eventId), lower.records.map((r) => r.eventId));
  // The envelope still carries the ids as sent.
  assert.equal(recordOf(upper.records[0]!).device_id, DEVICE_ID.toUpperCase());
});

Deno.test("event_id is unique per event, submission and device", () => {
  const ids = new Set<string>();
  let total = 0;
  const submissionIds = [SUBMISSION_ID, "3f0c9a52-6b1e-4d8a-9c27-5e4f1a2b3c4e"];
  const deviceIds = [DEVICE_ID, "9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6b"];
  for (const submission_id of submissionIds) {
    for (const device_id of deviceIds) {
      // Identical events inside one submission still get distinct ids.
      const events = { new_process: Array.from({ length: 6 }, () => newProcess()) };
      const result = assertOk(
        decode(encodeSubmission(validSubmission({ submission_id, device_id, events }))),
      );
      for (const record of result.records) ids.add(record.eventId);
      total += result.records.length;
    }
  }
  assert.equal(total, 24);
  assert.equal(ids.size, total);
});

Deno.test("partition key is the device_id by default, or the submission_id on request", () => {
  const body = encodeSubmission(validSubmission());
  const byDefault = assertOk(decodeMessage(body, { processedAt: PROCESSED_AT }));
  assert.deepEqual(byDefault.records.map((r) => r.partitionKey), Array(4).fill(DEVICE_ID));
  const byDevice = assertOk(decode(body, "device_id"));
  assert.deepEqual(byDevice.records.map((r) => r.partitionKey), Array(4).fill(DEVICE_ID));
  const bySubmission = assertOk(decode(body, "submission_id"));
  assert.deepEqual(bySubmission.records.map((r) => r.partitionKey), Array(4).fill(SUBMISSION_ID));
  // The key does not change the record itself.
  assert.deepEqual(bySubmission.records.map((r) => r.data), byDevice.records.map((r) => r.data));
});

Deno.test("a record over 1 MiB (data + partition key) is rejected as record_too_large", () => {
  const body = (cmdl: string) =>
    JSON.stringify(withEvents({ new_process: [newProcess(), newProcess({ cmdl })] }));
  // The second record's size with an empty cmdl: everything but the cmdl itself.
  const overhead = assertOk(decode(body(""))).records[1]!.data.byteLength + DEVICE_ID.length;
  const fits = "A".repeat(MAX_RECORD_BYTES - overhead);
  const result = assertOk(decode(body(fits)));
  assert.equal(
    result.records[1]!.data.byteLength + result.records[1]!.partitionKey.length,
    MAX_RECORD_BYTES,
  );
  const rejection = assertRejected(decode(body(fits + "A")), "record_too_large");
  assert.match(rejection.detail, /event 1 \(new_process\)/);
  assert.ok(!rejection.detail.includes("AAAA"));
  // Multi-byte characters count in bytes, not in UTF-16 units.
  const pairs = Math.floor((MAX_RECORD_BYTES - overhead) / 2);
  assertOk(decode(body("é".repeat(pairs))));
  assertRejected(decode(body("é".repeat(pairs + 1))), "record_too_large");
});

Deno.test("event_id is exactly RFC 9562 UUIDv5, as npm:uuid computes it", async () => {
  // eventId() hashes by hand on the hot path; the maintained library is the reference.
  const { v5, validate, version } = await import("npm:uuid@14.0.3");
  const ids = ["0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9", "ABCDEF01-2345-6789-ABCD-EF0123456789"];
  for (const device of ids) {
    for (const submission of [...ids, "6f1c2a4e-8b3d-4f0a-9c1e-2d3b4a5c6e7f"]) {
      for (const sequence of [0, 1, 9, 499, 123_456]) {
        const id = eventId(device, submission, sequence);
        const name = `${device.toLowerCase()}/${submission.toLowerCase()}/${sequence}`;
        assert.equal(id, v5(name, EVENT_ID_NAMESPACE));
        assert.ok(validate(id) && version(id) === 5);
      }
    }
  }
});

Deno.test("more events than maxEvents is too_many_events; exactly maxEvents is published", () => {
  const body = (processes: number, connections: number) =>
    JSON.stringify(withEvents({
      new_process: Array.from({ length: processes }, () => newProcess()),
      network_connection: Array.from({ length: connections }, () => networkConnection()),
      usb: Array.from({ length: 50 }, () => ({})), // unknown types do not count: not published
    }));
  const options = { processedAt: PROCESSED_AT, maxEvents: 30 };
  assert.equal(assertOk(decodeMessage(body(10, 20), options)).records.length, 30);
  const rejection = assertRejected(decodeMessage(body(11, 20), options), "too_many_events");
  assert.equal(
    rejection.detail,
    "the submission holds 31 events, over MAX_EVENTS_PER_SUBMISSION (30)",
  );
  // The default cap: 5 000.
  assert.equal(assertOk(decode(body(2_500, 2_500))).records.length, 5_000);
  assertRejected(decode(body(2_500, 2_501)), "too_many_events");
});
