import assert from "node:assert/strict";
import fc from "fast-check";
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { decodeIpEvent } from "../../src/ip_events/decode_ip_event.ts";
import { IpEventSchema } from "../../src/ip_events/ip_event_pb.ts";

const SHA = "0123456789abcdef".repeat(4);
const SEED = 9;

function encode(appSha256: string, ip: bigint): Uint8Array {
  return toBinary(IpEventSchema, create(IpEventSchema, { appSha256, ip }));
}

function writer(): BinaryWriter {
  return new BinaryWriter();
}

function rejected(bytes: Uint8Array): string {
  const result = decodeIpEvent(bytes);
  assert.equal(result.ok, false, "expected a rejection");
  return result.ok ? "" : result.reason;
}

Deno.test("decodes the wire form 0A 40 <sha> 10 <varint>", () => {
  const bytes = encode(SHA, 4294967295n);
  assert.deepEqual([...bytes.subarray(0, 2)], [0x0a, 0x40]);
  assert.equal(bytes.length, 72);
  assert.deepEqual(decodeIpEvent(bytes), { ok: true, event: { appSha256: SHA, ip: 4294967295 } });
});

Deno.test("keeps addresses ≥ 2^31 unsigned, and the ends of the range", () => {
  for (const ip of [0, 1, 2 ** 31 - 1, 2 ** 31, 3_000_000_000, 2 ** 32 - 1]) {
    const result = decodeIpEvent(encode(SHA, BigInt(ip)));
    assert.ok(result.ok);
    assert.equal(result.event.ip, ip);
  }
});

Deno.test("uppercase sha is the same app as lowercase", () => {
  const result = decodeIpEvent(encode(SHA.toUpperCase(), 7n));
  assert.ok(result.ok);
  assert.equal(result.event.appSha256, SHA);
});

Deno.test("accepts fields in any order, unknown fields of every wire type, last value wins", () => {
  const w = writer();
  w.tag(2, WireType.Varint).int64(1n);
  w.tag(9, WireType.Varint).uint64(123n);
  w.tag(10, WireType.Bit64).fixed64(5n);
  w.tag(11, WireType.Bit32).fixed32(5);
  w.tag(12, WireType.LengthDelimited).bytes(new Uint8Array(20));
  w.tag(13, WireType.StartGroup).tag(1, WireType.Varint).int32(3).tag(13, WireType.EndGroup);
  w.tag(1, WireType.LengthDelimited).string("f".repeat(64));
  w.tag(1, WireType.LengthDelimited).string(SHA);
  w.tag(2, WireType.Varint).int64(3232235521n);
  assert.deepEqual(decodeIpEvent(w.finish()), {
    ok: true,
    event: { appSha256: SHA, ip: 3232235521 },
  });
});

Deno.test("rejects bytes that are not protobuf", () => {
  assert.equal(rejected(new Uint8Array([0xff])), "truncated"); // a varint tag cut short
  assert.equal(rejected(new Uint8Array([0x07])), "not_protobuf"); // field 0
  assert.equal(rejected(new Uint8Array([0x0f, 0x00])), "not_protobuf"); // wire type 7
  assert.equal(rejected(new Uint8Array([0x1c])), "not_protobuf"); // end group without start
  assert.equal(rejected(new TextEncoder().encode("hello, world")), "not_protobuf");
  const overlong = new Uint8Array([0x10, ...new Array(11).fill(0xff), 0x01]);
  assert.equal(rejected(overlong), "not_protobuf"); // a varint over 10 bytes
});

Deno.test("rejects every truncation of a valid message as truncated or missing a field", () => {
  const bytes = encode(SHA, 4294967295n);
  for (let length = 1; length < bytes.length; length++) {
    const reason = rejected(bytes.subarray(0, length));
    // Cut right after the whole sha field, what is left is a valid message without `ip`.
    assert.equal(reason, length === 66 ? "missing_field" : "truncated", `length ${length}`);
  }
});

Deno.test("rejects a known field with the wrong wire type", () => {
  const shaAsVarint = writer().tag(1, WireType.Varint).int32(5).tag(2, WireType.Varint).int64(1n);
  assert.equal(rejected(shaAsVarint.finish()), "wrong_wire_type");
  const ipAsBytes = writer().tag(1, WireType.LengthDelimited).string(SHA)
    .tag(2, WireType.LengthDelimited).bytes(new Uint8Array([1]));
  assert.equal(rejected(ipAsBytes.finish()), "wrong_wire_type");
  const ipAsFixed = writer().tag(1, WireType.LengthDelimited).string(SHA)
    .tag(2, WireType.Bit32).fixed32(1);
  assert.equal(rejected(ipAsFixed.finish()), "wrong_wire_type");
});

Deno.test("rejects a missing required field", () => {
  assert.equal(rejected(new Uint8Array()), "missing_field");
  assert.equal(
    rejected(writer().tag(1, WireType.LengthDelimited).string(SHA).finish()),
    "missing_field",
  );
  const onlyIp = decodeIpEvent(writer().tag(2, WireType.Varint).int64(0n).finish());
  assert.deepEqual(onlyIp, {
    ok: false,
    reason: "missing_field",
    message: "required field app_sha256 (1) is missing",
  });
});

Deno.test("rejects an app_sha256 that is not 64 hex characters", () => {
  for (const sha of [SHA.slice(1), SHA + "0", "g" + SHA.slice(1), "", " ".repeat(64)]) {
    assert.equal(rejected(encode(sha, 1n)), "bad_app_sha256", JSON.stringify(sha));
  }
  const invalidUtf8 = new Uint8Array([0x0a, 64, ...new Array(64).fill(0xc3), 0x10, 1]);
  assert.equal(rejected(invalidUtf8), "bad_app_sha256");
});

Deno.test("rejects an ip outside 0..2^32−1, negative included", () => {
  for (const ip of [-1n, -(2n ** 63n), 2n ** 32n, 2n ** 63n - 1n]) {
    assert.equal(rejected(encode(SHA, ip)), "ip_out_of_range", String(ip));
  }
  assert.equal(encode(SHA, -1n).length, 77); // a negative int64 is 10 bytes on the wire
});

Deno.test("fast-check: never throws, whatever the bytes", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const result = decodeIpEvent(bytes);
      assert.equal(typeof result.ok, "boolean");
    }),
    { seed: SEED, numRuns: 5000 },
  );
});

Deno.test("fast-check: round-trips with the library's encoder, unknown fields and all", () => {
  const hexChar = fc.constantFrom(..."0123456789abcdefABCDEF");
  const sha = fc.string({ unit: hexChar, minLength: 64, maxLength: 64 });
  const unknown = fc.array(
    fc.record({ field: fc.integer({ min: 3, max: 1000 }), value: fc.bigInt(0n, 2n ** 64n - 1n) }),
    { maxLength: 3 },
  );
  fc.assert(
    fc.property(sha, fc.integer({ min: 0, max: 2 ** 32 - 1 }), unknown, (sha, ip, extra) => {
      const w = writer();
      for (const { field, value } of extra) w.tag(field, WireType.Varint).uint64(value);
      const bytes = new Uint8Array([...w.finish(), ...encode(sha, BigInt(ip))]);
      assert.deepEqual(decodeIpEvent(bytes), {
        ok: true,
        event: { appSha256: sha.toLowerCase(), ip },
      });
    }),
    { seed: SEED, numRuns: 2000 },
  );
});

Deno.test("fast-check: any int64 outside the IPv4 range is rejected as ip_out_of_range", () => {
  const outside = fc.oneof(fc.bigInt(-(2n ** 63n), -1n), fc.bigInt(2n ** 32n, 2n ** 63n - 1n));
  fc.assert(
    fc.property(outside, (ip) => {
      assert.equal(rejected(encode(SHA, ip)), "ip_out_of_range");
    }),
    { seed: SEED, numRuns: 1000 },
  );
});
