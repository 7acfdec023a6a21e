/**
 * Decodes one `IpEvent` (ip_event.proto) from a datagram or a POST body, with
 * `@bufbuild/protobuf`'s wire reader, and validates it: the library does not enforce proto2
 * `required` and reads int64 as any signed 64-bit value, so presence and the ranges are checked
 * here. Everything protobuf allows is accepted (fields in any order, unknown fields skipped, the
 * last value of a repeated field wins); anything else is a {@linkcode DecodeRejectReason}.
 *
 * Cost (bench/ip_events/decode_bench.ts, this machine): ~0.56 µs per datagram, ~2 % of a core at
 * 33 000/s; receiving, not decoding, is the bottleneck, so the library's reader stays.
 *
 * @module
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import type { DecodeRejectReason } from "./drop_reason.ts";

/** A valid event: the app's sha in lowercase hex and the IPv4 address as 0 .. 2^32 − 1. */
export interface IpEvent {
  /** 64 lowercase hex characters. */
  readonly appSha256: string;
  /** The address as an unsigned 32-bit integer (a plain number: never signed arithmetic). */
  readonly ip: number;
}

/** What {@linkcode decodeIpEvent} returns: the event, or why there is none. */
export type DecodeResult =
  | { readonly ok: true; readonly event: IpEvent }
  | { readonly ok: false; readonly reason: DecodeRejectReason; readonly message: string };

const SHA_PATTERN = /^[0-9a-fA-F]{64}$/;
const MAX_IP = 0xffff_ffffn;

/**
 * Decodes and validates one serialized `IpEvent`. Never throws.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeIpEvent } from "./decode_ip_event.ts";
 * const sha = "ab".repeat(32);
 * const bytes = new Uint8Array([0x0a, 0x40, ...new TextEncoder().encode(sha), 0x10, 0x05]);
 * assert.deepEqual(decodeIpEvent(bytes), { ok: true, event: { appSha256: sha, ip: 5 } });
 * assert.equal(decodeIpEvent(bytes.subarray(0, 10)).ok, false); // truncated: an error, no throw
 * ```
 */
export function decodeIpEvent(bytes: Uint8Array): DecodeResult {
  const reader = new BinaryReader(bytes);
  let sha: string | undefined;
  let ip: bigint | undefined;
  try {
    while (reader.pos < reader.len) {
      const [field, wireType] = reader.tag();
      if (field === 1) {
        if (wireType !== WireType.LengthDelimited) return wrongWireType("app_sha256", wireType);
        sha = reader.string();
      } else if (field === 2) {
        if (wireType !== WireType.Varint) return wrongWireType("ip", wireType);
        ip = reader.int64() as bigint;
      } else {
        reader.skip(wireType, field);
      }
    }
  } catch (error) {
    // The reader throws RangeError("premature EOF") when a field runs past the end; every other
    // error (illegal tag, over-long varint, unmatched group) means the bytes are not protobuf.
    return error instanceof RangeError
      ? reject("truncated", "a field runs past the end of the message")
      : reject("not_protobuf", `not a protobuf message (${(error as Error).message})`);
  }
  if (sha === undefined) return reject("missing_field", "required field app_sha256 (1) is missing");
  if (ip === undefined) return reject("missing_field", "required field ip (2) is missing");
  if (!SHA_PATTERN.test(sha)) {
    return reject("bad_app_sha256", "app_sha256 is not 64 hex characters");
  }
  if (ip < 0n || ip > MAX_IP) {
    return reject("ip_out_of_range", `ip ${ip} is outside 0..4294967295`);
  }
  return { ok: true, event: { appSha256: sha.toLowerCase(), ip: Number(ip) } };
}

function reject(reason: DecodeRejectReason, message: string): DecodeResult {
  return { ok: false, reason, message };
}

function wrongWireType(field: string, wireType: WireType): DecodeResult {
  return reject("wrong_wire_type", `field ${field} has wire type ${wireType}`);
}
