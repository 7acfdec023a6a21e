import assert from "node:assert/strict";
import fc from "fast-check";
import {
  CHAIN_SUITES,
  enumerateSuites,
  type Handshake,
} from "../../src/tls_scan/enumerate_suites.ts";
import type { ProtocolName } from "../../src/tls_scan/protocols.ts";
import { candidates, parseCatalog } from "../../src/tls_scan/suite_catalog.ts";

// 60 TLS 1.2 suites (strongest first, as openssl lists them) and the TLS 1.3 ones.
const CATALOG = parseCatalog(
  [
    ...Array.from(
      { length: 60 },
      (_, i) =>
        `SUITE-${String(i).padStart(2, "0")} TLSv1.2 Kx=ECDH Au=RSA Enc=AESGCM(128) Mac=AEAD`,
    ),
    "TLS_AES_128_GCM_SHA256 TLSv1.3 Kx=any Au=any Enc=AESGCM(128) Mac=AEAD",
    "TLS_AES_256_GCM_SHA384 TLSv1.3 Kx=any Au=any Enc=AESGCM(256) Mac=AEAD",
  ].join("\n"),
);

/** A server accepting `accepted` on TLS 1.2 (and TLS 1.3's suites), picking by its own order. */
function server(accepted: ReadonlySet<string>, calls: string[][] = []): Handshake {
  return (protocol: ProtocolName, offer: readonly string[]) => {
    calls.push([...offer]);
    const pick = protocol === "TLS 1.3"
      ? offer.find((s) => s.startsWith("TLS_"))
      : [...offer].reverse().find((s) => accepted.has(s));
    return Promise.resolve(
      pick ? { protocol, cipher: pick, tempKey: { type: "X25519", bits: 253 } } : undefined,
    );
  };
}

Deno.test("every accepted suite is found, at most one handshake per suite plus one per chain", async () => {
  const all = candidates(CATALOG, "TLS 1.2");
  await fc.assert(
    fc.asyncProperty(fc.subarray(all), async (subset) => {
      const accepted = new Set(subset);
      const found = await enumerateSuites(CATALOG, ["TLS 1.2"], server(accepted));
      assert.deepEqual(found.suites.map((s) => s.name).sort(), [...accepted].sort());
      const chains = accepted.size === 0 ? 0 : Math.ceil((all.length - 1) / CHAIN_SUITES);
      // A chain whose every suite is accepted ends without a refusal: the budget is a bound.
      assert.ok(found.connections <= accepted.size + Math.max(1, chains), `${found.connections}`);
      assert.ok(found.connections >= Math.max(1, accepted.size), `${found.connections}`);
    }),
    { numRuns: 60 },
  );
});

Deno.test("a server answering a suite it was not offered ends the chain, never loops", async () => {
  const rogue: Handshake = (protocol) =>
    Promise.resolve({ protocol, cipher: "SUITE-00", tempKey: undefined });
  const found = await enumerateSuites(CATALOG, ["TLS 1.2"], rogue);
  assert.deepEqual(found.suites.map((s) => s.name), ["SUITE-00"]);
  assert.ok(found.connections <= 1 + Math.ceil(59 / CHAIN_SUITES), String(found.connections));
});

Deno.test("a timed-out handshake is retried once, not read as a refusal", async () => {
  let first = true;
  const flaky: Handshake = (protocol, offer) => {
    if (first) {
      first = false;
      return Promise.resolve({ protocol: undefined, cipher: undefined, timedOut: true });
    }
    return server(new Set(["SUITE-07"]))(protocol, offer);
  };
  const found = await enumerateSuites(CATALOG, ["TLS 1.2"], flaky);
  assert.deepEqual(found.protocols, ["TLS 1.2"]);
  assert.deepEqual(found.suites.map((s) => s.name), ["SUITE-07"]);
});

Deno.test("TLS 1.3 suites take their key exchange from the group the server chose", async () => {
  const found = await enumerateSuites(CATALOG, ["TLS 1.2", "TLS 1.3"], server(new Set()));
  assert.deepEqual(found.protocols, ["TLS 1.3"]);
  assert.deepEqual(
    found.suites.map((s) => [s.protocol, s.name, s.kex, s.kex_bits]),
    [
      ["TLS 1.3", "TLS_AES_128_GCM_SHA256", "ECDH", 253],
      ["TLS 1.3", "TLS_AES_256_GCM_SHA384", "ECDH", 253],
    ],
  );
});
