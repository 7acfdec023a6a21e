/**
 * The s_servers of the TLS test fleet (fleet.ts): each one's leaf certificate, its `openssl
 * s_server` flags (protocols, suites, DH groups, chains, OCSP) and what it is there to show.
 *
 * @module
 */
import type { LeafName } from "./certs.ts";

/** One s_server of the fleet. */
export interface ServerSpec {
  readonly name: string;
  readonly leaf: LeafName;
  /** s_server flags; `{weak_dh}`, `{strong_dh}`, `{intermediate}`, `{misordered}` stand for files. */
  readonly flags: readonly string[];
  readonly purpose: string;
  /** Part of the enumeration fleet (compared with sslscan suite for suite). */
  readonly enumeration?: boolean;
}

const LEGACY = ["-cipher", "DEFAULT@SECLEVEL=0", "-min_protocol", "TLSv1"];

/**
 * Every s_server of the fleet.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { SERVERS } from "./fleet_servers.ts";
 * const legacyOnly = SERVERS.find((server) => server.name === "legacy_only")!;
 * assert.deepEqual(legacyOnly.flags.slice(-2), ["-max_protocol", "TLSv1.1"]);
 * ```
 */
export const SERVERS: readonly ServerSpec[] = [
  { name: "good", leaf: "good", flags: [], purpose: "RSA-2048 leaf of the test CA, TLS 1.2 + 1.3" },
  { name: "expiring", leaf: "expiring", flags: [], purpose: "leaf expiring in 10 days" },
  { name: "expired", leaf: "expired", flags: [], purpose: "leaf expired 30 days ago" },
  {
    name: "not_yet_valid",
    leaf: "not_yet_valid",
    flags: [],
    purpose: "leaf valid from in 30 days",
  },
  { name: "self_signed", leaf: "self_signed", flags: [], purpose: "self-signed leaf" },
  { name: "unknown_ca", leaf: "unknown_ca", flags: [], purpose: "leaf of a CA nobody trusts" },
  { name: "mismatch", leaf: "mismatch", flags: [], purpose: "trusted leaf for other.example" },
  {
    name: "weak_key",
    leaf: "weak_key",
    flags: ["-cipher", "DEFAULT@SECLEVEL=1"],
    purpose: "RSA-1024 leaf",
  },
  { name: "ecdsa", leaf: "ecdsa", flags: [], purpose: "ECDSA P-256 leaf", enumeration: true },
  {
    name: "sha1",
    leaf: "sha1",
    flags: ["-cipher", "DEFAULT@SECLEVEL=0", "-min_protocol", "TLSv1.2"],
    purpose: "SHA-1-signed leaf",
    enumeration: true,
  },
  {
    name: "legacy",
    leaf: "good",
    flags: LEGACY,
    purpose: "TLS 1.0 to 1.3",
    enumeration: true,
  },
  {
    name: "legacy_only",
    leaf: "good",
    flags: [...LEGACY, "-max_protocol", "TLSv1.1"],
    purpose: "TLS 1.0 and 1.1 only",
  },
  { name: "tls13_only", leaf: "good", flags: ["-tls1_3"], purpose: "TLS 1.3 only" },
  { name: "tls12_only", leaf: "good", flags: ["-tls1_2"], purpose: "TLS 1.2 only" },
  {
    name: "no_fs",
    leaf: "good",
    flags: ["-tls1_2", "-cipher", "AES256-GCM-SHA384"],
    purpose: "TLS 1.2, RSA key exchange only",
  },
  {
    name: "no_aead",
    leaf: "good",
    flags: ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256"],
    purpose: "TLS 1.2, CBC suite only",
  },
  {
    name: "weak_dh",
    leaf: "good",
    flags: [
      "-tls1_2",
      "-cipher",
      "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0",
      "-dhparam",
      "{weak_dh}",
    ],
    purpose: "TLS 1.2, DHE-RSA-AES128-GCM-SHA256 with a 1024-bit DH group (issue 16's case)",
    enumeration: true,
  },
  {
    name: "strong_dh",
    leaf: "good",
    flags: [
      "-cipher",
      "DHE-RSA-AES256-GCM-SHA384:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-CHACHA20-POLY1305",
      "-dhparam",
      "{strong_dh}",
    ],
    purpose: "DHE suites with ffdhe3072, TLS 1.2 + 1.3",
    enumeration: true,
  },
  {
    name: "mixed",
    leaf: "good",
    flags: [
      "-serverpref",
      "-cipher",
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA:AES256-SHA256:AES128-GCM-SHA256",
    ],
    purpose: "strong preferred (ECDHE-GCM) that also accepts RSA key exchange and CBC",
    enumeration: true,
  },
  {
    name: "chacha",
    leaf: "good",
    flags: [
      "-cipher",
      "ECDHE-RSA-CHACHA20-POLY1305",
      "-ciphersuites",
      "TLS_CHACHA20_POLY1305_SHA256",
    ],
    purpose: "ChaCha20-Poly1305 only, TLS 1.2 + 1.3",
    enumeration: true,
  },
  {
    name: "p384",
    leaf: "p384",
    flags: [],
    purpose: "ECDSA P-384 leaf",
    enumeration: true,
  },
  {
    name: "chain_ok",
    leaf: "chained",
    flags: ["-cert_chain", "{intermediate}", "-status_file", "{ocsp}"],
    purpose: "leaf of an intermediate CA, sent with the intermediate, OCSP response stapled",
  },
  {
    name: "incomplete",
    leaf: "chained",
    flags: [],
    purpose: "leaf of an intermediate CA, sent without it (missing intermediate)",
  },
  {
    name: "misordered",
    leaf: "chained",
    flags: ["-cert_chain", "{misordered}"],
    purpose: "leaf, an unrelated CA certificate, then the intermediate (extra, out of order)",
  },
  { name: "rsa4096", leaf: "rsa4096", flags: [], purpose: "RSA-4096 leaf", enumeration: true },
  {
    name: "many",
    leaf: "good",
    flags: [
      "-cipher",
      "ALL:!aNULL:!PSK:!SRP:@SECLEVEL=0",
      "-ciphersuites",
      "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_128_CCM_SHA256",
      "-min_protocol",
      "TLSv1",
      "-dhparam",
      "{strong_dh}",
    ],
    purpose: "30+ suites across TLS 1.0 to 1.3 (ffdhe3072 for DHE)",
    enumeration: true,
  },
];
