/**
 * Decode cost per datagram: the decoder in use (@bufbuild/protobuf's `BinaryReader`, with
 * validation), the library's `fromBinary` (schema-driven, then the same checks), and a small
 * hand decoder (for comparison only: not used, since the library keeps up with room to spare).
 * Prints the median ns/datagram over 5 rounds of 1 000 000 decodes.
 *
 *   deno task bench:ip-events:decode
 *
 * @module
 */
import { create, fromBinary, isFieldSet, toBinary } from "@bufbuild/protobuf";
import { decodeIpEvent } from "../../src/ip_events/decode_ip_event.ts";
import { IpEventSchema } from "../../src/ip_events/ip_event_pb.ts";
import { SeededRandom } from "../../tools/common/seeded_random.ts";

const random = new SeededRandom(7);
const datagrams = Array.from({ length: 1024 }, () =>
  toBinary(
    IpEventSchema,
    create(IpEventSchema, {
      appSha256: Array.from({ length: 64 }, () => random.int(0, 15).toString(16)).join(""),
      ip: BigInt(random.int(0, 2 ** 32 - 1)),
    }),
  ));

const SHA = /^[0-9a-fA-F]{64}$/;

function viaFromBinary(bytes: Uint8Array): { appSha256: string; ip: number } | undefined {
  try {
    const message = fromBinary(IpEventSchema, bytes);
    if (!isFieldSet(message, IpEventSchema.field.appSha256)) return undefined;
    if (!isFieldSet(message, IpEventSchema.field.ip)) return undefined;
    if (!SHA.test(message.appSha256) || message.ip < 0n || message.ip > 0xffffffffn) {
      return undefined;
    }
    return { appSha256: message.appSha256.toLowerCase(), ip: Number(message.ip) };
  } catch {
    return undefined;
  }
}

const ascii = new TextDecoder();

/** A small hand decoder: the two fields, varints up to 10 bytes, unknown fields skipped. */
function byHand(bytes: Uint8Array): { appSha256: string; ip: number } | undefined {
  let pos = 0;
  let sha: string | undefined;
  let ip: number | undefined;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= bytes.length) return -1;
      const b = bytes[pos++]!;
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (b < 0x80) return value;
    }
    return -1;
  };
  while (pos < bytes.length) {
    const tag = varint();
    if (tag < 0) return undefined;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 1 && wire === 2) {
      const length = varint();
      if (length < 0 || pos + length > bytes.length) return undefined;
      sha = ascii.decode(bytes.subarray(pos, pos += length));
    } else if (field === 2 && wire === 0) {
      ip = varint();
      if (ip < 0) return undefined;
    } else return undefined; // (unknown fields: not needed for the comparison)
  }
  if (sha === undefined || ip === undefined || !SHA.test(sha) || ip > 0xffffffff) {
    return undefined;
  }
  return { appSha256: sha.toLowerCase(), ip };
}

function measure(name: string, decode: (bytes: Uint8Array) => unknown): void {
  const rounds: number[] = [];
  let sink = 0;
  for (let round = 0; round < 6; round++) {
    const started = performance.now();
    for (let i = 0; i < 1_000_000; i++) {
      if (decode(datagrams[i & 1023]!)) sink++;
    }
    if (round > 0) rounds.push((performance.now() - started) * 1e6 / 1_000_000);
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[2]!;
  console.log(
    `${name.padEnd(44)} ${median.toFixed(0).padStart(5)} ns/datagram ` +
      `(${(median * 33_000 / 1e7).toFixed(1)} % of a core at 33 000/s; ${sink} decoded)`,
  );
}

measure("decodeIpEvent (BinaryReader; in use)", (b) => {
  const result = decodeIpEvent(b);
  return result.ok ? result.event : undefined;
});
measure("@bufbuild/protobuf fromBinary + checks", viaFromBinary);
measure("hand decoder (comparison only)", byHand);
