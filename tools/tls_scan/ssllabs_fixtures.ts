/**
 * SSL Labs API v4 `Host` objects for the fake, shaped like real responses (the facts file's
 * §1.4: timestamps in milliseconds, the leaf found through
 * `endpoints[i].details.certChains[0].certIds[0]` in `Host.certs`, `issues` bit fields,
 * protocols as `{id, name, version}`, `hstsPolicy.LONG_MAX_AGE` 15552000).
 *
 * @example
 * ```ts
 * import { readyHost } from "./ssllabs_fixtures.ts";
 * const host = readyHost("www.example.com", { grade: "B", protocols: ["1.0", "1.2"] });
 * host.endpoints[0]?.grade; // "B"
 * ```
 *
 * @module
 */

const DAY = 86_400_000;

/** What a READY fixture varies. */
export interface ReadyOptions {
  /** Every endpoint's grade. Default `A`. */
  readonly grade?: string;
  /** TLS versions offered. Default `["1.2", "1.3"]`. */
  readonly protocols?: readonly string[];
  /** Days from `now` to the leaf's notAfter. Default 90. */
  readonly notAfterDays?: number;
  /** The leaf's `issues` bits. Default 0. */
  readonly issues?: number;
  readonly keyAlg?: "RSA" | "EC";
  readonly keySize?: number;
  readonly sigAlg?: string;
  /** 0 none … 4 with most browsers. Default 4. */
  readonly forwardSecrecy?: number;
  readonly supportsAead?: boolean;
  /** 2 not revoked (default), 1 revoked, 0 not checked. */
  readonly revocationStatus?: number;
  /**
   * The DH group size of a `TLS_DHE_RSA_WITH_AES_128_GCM_SHA256` suite added to TLS 1.2's list.
   * Default: no DHE suite.
   */
  readonly dhBits?: number;
  /** `fallbackScsv`. Default true. */
  readonly fallbackScsv?: boolean;
  /** Endpoint addresses (documentation ranges). Default one IPv4 address. */
  readonly addresses?: readonly string[];
  /** When the test ran (ms). Default `now`. */
  readonly testTime?: number;
  readonly now?: number;
}

/** Each protocol's suite list as SSL Labs writes it (IANA names, kxType, group sizes). */
function suitesOf(version: string, dhBits: number | undefined) {
  const x25519 = {
    kxType: "ECDH",
    kxStrength: 3072,
    namedGroupBits: 253,
    namedGroupName: "x25519",
  };
  if (version === "1.3") {
    return [
      { id: 4865, name: "TLS_AES_128_GCM_SHA256", cipherStrength: 128, ...x25519, q: 1 },
      { id: 4866, name: "TLS_AES_256_GCM_SHA384", cipherStrength: 256, ...x25519, q: 1 },
    ];
  }
  if (version === "1.2") {
    return [
      {
        id: 49199,
        name: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        cipherStrength: 128,
        ...x25519,
        q: 1,
      },
      ...(dhBits === undefined ? [] : [{
        id: 158,
        name: "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        cipherStrength: 128,
        kxType: "DH",
        kxStrength: dhBits,
        q: 1,
      }]),
      { id: 47, name: "TLS_RSA_WITH_AES_128_CBC_SHA", cipherStrength: 128, q: 1 },
    ];
  }
  return [
    { id: 49171, name: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", cipherStrength: 128, ...x25519, q: 1 },
  ];
}

const PROTOCOL_IDS: Readonly<Record<string, number>> = {
  "1.0": 769,
  "1.1": 770,
  "1.2": 771,
  "1.3": 772,
};

/** A finished assessment of `host`. */
export function readyHost(host: string, options: ReadyOptions = {}) {
  const now = options.now ?? Date.now();
  const testTime = options.testTime ?? now;
  const leafId = hexId(`${host}-leaf`);
  const caId = hexId(`${host}-ca`);
  const protocols = (options.protocols ?? ["1.2", "1.3"]).map((version) => ({
    id: PROTOCOL_IDS[version] ?? 0,
    name: "TLS",
    version,
  }));
  const endpoints = (options.addresses ?? ["192.0.2.10"]).map((ipAddress) => ({
    ipAddress,
    serverName: host,
    statusMessage: "Ready",
    grade: options.grade ?? "A",
    gradeTrustIgnored: options.grade ?? "A",
    hasWarnings: false,
    isExceptional: false,
    progress: 100,
    duration: 61_234,
    delegation: 1,
    details: {
      hostStartTime: testTime - 65_000,
      certChains: [{
        id: hexId(`${host}-chain`),
        certIds: [leafId, caId],
        trustPaths: [{
          certIds: [leafId, caId],
          trust: [{ rootStore: "Mozilla", isTrusted: ((options.issues ?? 0) & 1) === 0 }],
        }],
        issues: 0,
        noSni: false,
      }],
      protocols,
      suites: protocols.map((p) => ({
        protocol: p.id,
        list: suitesOf(p.version, options.dhBits),
        preference: true,
      })),
      renegSupport: 2,
      fallbackScsv: options.fallbackScsv ?? true,
      ocspStapling: false,
      forwardSecrecy: options.forwardSecrecy ?? 4,
      supportsAead: options.supportsAead ?? true,
      supportsCBC: false,
      supportsRc4: false,
      hstsPolicy: { LONG_MAX_AGE: 15_552_000, status: "absent" },
      heartbleed: false,
      poodle: false,
    },
  }));
  return {
    host,
    port: 443,
    protocol: "http",
    isPublic: false,
    status: "READY",
    startTime: testTime - 66_000,
    testTime,
    engineVersion: "2.3.1",
    criteriaVersion: "2009q",
    cacheExpiryTime: testTime + DAY,
    certHostnames: [],
    endpoints,
    certs: [
      {
        id: leafId,
        subject: `CN=${host}, O=Example Org, L=Springfield, ST=State, C=US`,
        serialNumber: "0a1b2c",
        commonNames: [host],
        altNames: [host],
        notBefore: now - 30 * DAY,
        notAfter: now + (options.notAfterDays ?? 90) * DAY + 3_600_000,
        issuerSubject: "CN=Example Issuing CA, O=Example Trust, C=US",
        sigAlg: options.sigAlg ?? "SHA256withRSA",
        revocationInfo: 3,
        revocationStatus: options.revocationStatus ?? 2,
        issues: options.issues ?? 0,
        keyAlg: options.keyAlg ?? "RSA",
        keySize: options.keySize ?? 2048,
        keyStrength: options.keySize ?? 2048,
        sha256Hash: leafId,
      },
      {
        id: caId,
        subject: "CN=Example Issuing CA, O=Example Trust, C=US",
        notBefore: now - 900 * DAY,
        notAfter: now + 900 * DAY,
        issuerSubject: "CN=Example Root, O=Example Trust, C=US",
        sigAlg: "SHA256withRSA",
        issues: 0,
        keyAlg: "RSA",
        keySize: 4096,
      },
    ],
  };
}

/** An assessment that ended in ERROR (e.g. "Unable to resolve domain name"). */
export function errorHost(host: string, statusMessage: string, now = Date.now()) {
  return {
    host,
    port: 443,
    protocol: "http",
    isPublic: false,
    status: "ERROR",
    statusMessage,
    startTime: now - 2_000,
    testTime: now,
    engineVersion: "2.3.1",
    criteriaVersion: "2009q",
  };
}

/** A stable 64-hex-digit id (stands in for a certificate's SHA-256). */
function hexId(seed: string): string {
  let h = 2166136261;
  let out = "";
  for (let round = 0; out.length < 64; round++) {
    for (const c of `${seed}#${round}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 64);
}
