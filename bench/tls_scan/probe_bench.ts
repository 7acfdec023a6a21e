/**
 * The probe against the tools a security team would compare it with, per fleet target, cold
 * (`fresh`, nothing cached): our full scan with suites enumerated in-process through libssl
 * (the default), the same with one `openssl s_client` process per handshake (the alternative),
 * Debian's sslscan 2.0.7 and testssl.sh 3.0.8 (`-p -E`: protocols and every suite; minutes per
 * target, so by default on the weak-DH target only). Wall time, connections counted at the
 * server, and agreement: accepted suites (protocol + name) equal, key-exchange sizes equal.
 *
 *   deno task bench:tls-scan [--testssl weak_dh,chacha | --testssl-all] [--only a,b]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { probeEndpoint } from "../../src/tls_scan/probe_endpoint.ts";
import type { Suite } from "../../src/tls_scan/report.ts";
import { loadCatalog } from "../../src/tls_scan/suite_catalog.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import type { FleetTarget } from "../../tools/tls_scan/fleet_targets.ts";
import { runSslscan } from "../../tools/tls_scan/sslscan.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    testssl: { type: "string", default: "weak_dh" },
    "testssl-all": { type: "boolean", default: false },
    only: { type: "string" },
  },
});

/** A suite list reduced to what two tools can agree on. */
interface Seen {
  readonly ms: number;
  readonly conns: number;
  /** `protocol name` per suite. */
  readonly suites: Set<string>;
  /** `protocol name kexbits` per suite. */
  readonly sized: Set<string>;
}

const key = (protocol: string, name: string) => `${protocol} ${name}`;

function ofSuites(suites: readonly Suite[]): Pick<Seen, "suites" | "sized"> {
  return {
    suites: new Set(suites.map((s) => key(s.protocol, s.name))),
    sized: new Set(suites.map((s) => `${key(s.protocol, s.name)} ${s.kex_bits ?? "-"}`)),
  };
}

const same = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));

async function timed<T>(target: FleetTarget, run: () => Promise<T>) {
  const before = target.connections();
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started, conns: target.connections() - before };
}

/** testssl.sh `-p -E`: protocols and every accepted suite, from its JSON. */
async function testssl(target: FleetTarget): Promise<Seen> {
  const dir = await Deno.makeTempDir({ prefix: "testssl-" });
  try {
    const { ms, conns } = await timed(target, () =>
      new Deno.Command("testssl", {
        args: [
          "--quiet",
          "--warnings",
          "off",
          "--color",
          "0",
          "-p",
          "-E",
          "--jsonfile",
          `${dir}/out.json`,
          `127.0.0.1:${target.port}`,
        ],
        stdout: "null",
        stderr: "null",
      }).output());
    const records = JSON.parse(await Deno.readTextFile(`${dir}/out.json`)) as {
      id: string;
      finding: string;
    }[];
    const suites = new Set<string>();
    const sized = new Set<string>();
    for (const r of records.filter((r) => r.id.startsWith("cipher-"))) {
      // "TLS 1.2   xc030   ECDHE-RSA-AES256-GCM-SHA384   ECDH 253   AESGCM   256   TLS_…"
      const m = /^(TLS 1(?:\.\d)?|TLSv1\.3)\s+x\w+\s+(\S+)\s+(\w+)(?: (\d+))?/.exec(r.finding);
      if (!m) continue;
      const protocol = m[1] === "TLS 1" ? "TLS 1.0" : m[1]!.replace("TLSv", "TLS ");
      suites.add(key(protocol, m[2]!));
      sized.add(`${key(protocol, m[2]!)} ${m[3] === "RSA" ? "-" : m[4] ?? "-"}`);
    }
    return { ms, conns, suites, sized };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const only = values.only?.split(",");
await using fleet = await startFleet(only ? { only } : {});
const catalog = await loadCatalog(AbortSignal.timeout(10_000));
const targets = fleet.targets.filter((t) => t.tls);
const testsslFor = new Set(
  values["testssl-all"] ? targets.map((t) => t.name) : values.testssl.split(","),
);

async function ours(target: FleetTarget, inProcess: boolean): Promise<Seen> {
  const { value, ms, conns } = await timed(target, () =>
    probeEndpoint(
      { host: "localhost", kind: "name", port: target.port, address: "127.0.0.1" },
      {
        timeoutMs: 8_000,
        catalog,
        inProcess,
        caFile: fleet.caFile,
        signal: AbortSignal.timeout(120_000),
      },
    ));
  return { ms, conns, ...ofSuites(value.ok ? value.suites : []) };
}

const cell = (seen: Seen | undefined) =>
  seen ? `${seen.ms.toFixed(0).padStart(6)} ${String(seen.conns).padStart(4)}` : "     -    -";
const agree = (a: Seen, b: Seen | undefined) =>
  b === undefined
    ? "   -"
    : `${same(a.suites, b.suites) ? "yes" : "NO "}/${same(a.sized, b.sized) ? "yes" : "NO"}`;

console.log(
  `per target, cold; ms and connections at the server; agree = suites / suites with kex size\n`,
);
console.log(
  `${"target".padEnd(12)} suites  ours: libssl ${
    "".padEnd(1)
  }s_client procs   sslscan       agree    testssl -p -E  agree`,
);
type Row = { ours: Seen; procs: Seen; sslscan: Seen; testssl: Seen | undefined; name: string };
const rows: Row[] = [];
for (const target of targets) {
  const libssl = await ours(target, true);
  const procs = await ours(target, false);
  const scan = await timed(
    target,
    () => runSslscan("127.0.0.1", target.port, { timeoutMs: 300_000, sniName: "localhost" }),
  );
  const sslscan: Seen = {
    ms: scan.ms,
    conns: scan.conns,
    suites: new Set(scan.value.suites.map((s) => key(s.protocol, s.name))),
    sized: new Set(scan.value.suites.map((s) => `${key(s.protocol, s.name)} ${s.kexBits ?? "-"}`)),
  };
  const t = testsslFor.has(target.name) ? await testssl(target) : undefined;
  rows.push({ name: target.name, ours: libssl, procs, sslscan, testssl: t });
  console.log(
    `${target.name.padEnd(12)} ${String(libssl.suites.size).padStart(6)}  ${cell(libssl)}  ${
      cell(procs)
    }  ${cell(sslscan)}  ${agree(libssl, sslscan)}  ${cell(t)}  ${agree(libssl, t)}`,
  );
}
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
console.log(
  `\ntargets: ${rows.length}; suites seen in all: ${sum(rows.map((r) => r.ours.suites.size))}`,
);
for (
  const [name, pick] of [["ours (libssl)", (r: typeof rows[number]) => r.ours], [
    "ours (s_client procs)",
    (r: typeof rows[number]) => r.procs,
  ], ["sslscan", (r: typeof rows[number]) => r.sslscan]] as const
) {
  const ms = rows.map((r) => pick(r).ms);
  const conns = rows.map((r) => pick(r).conns);
  console.log(
    `${name.padEnd(22)} median ${median(ms).toFixed(0)} ms (min ${
      Math.min(...ms).toFixed(0)
    }, max ${Math.max(...ms).toFixed(0)}), connections ${Math.min(...conns)}–${
      Math.max(...conns)
    }, median ${median(conns)}`,
  );
}
const faster = rows.filter((r) => r.ours.ms <= r.sslscan.ms).length;
console.log(`ours no slower than sslscan on ${faster} of ${rows.length} targets`);
const agreeing = rows.filter((r) => same(r.ours.suites, r.sslscan.suites)).length;
const sizing = rows.filter((r) => same(r.ours.sized, r.sslscan.sized)).length;
console.log(
  `agreement with sslscan: suites on ${agreeing} of ${rows.length} targets, kex sizes on ${sizing}`,
);
const procsAgree = rows.filter((r) => same(r.ours.sized, r.procs.sized)).length;
console.log(
  `libssl and s_client processes found the same suites on ${procsAgree} of ${rows.length}`,
);
for (const r of rows.filter((r) => r.testssl)) {
  console.log(
    `testssl ${r.name}: ${(r.testssl!.ms / 1000).toFixed(1)} s, ${r.testssl!.conns} connections; ` +
      `suites ${same(r.ours.suites, r.testssl!.suites) ? "agree" : "DIFFER"}, kex sizes ${
        same(r.ours.sized, r.testssl!.sized) ? "agree" : "differ"
      }`,
  );
}
