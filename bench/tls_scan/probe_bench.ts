/**
 * The probe engine's figures against the local fleet: wall time and connections of one scan per
 * target (several rounds), and the throughput of a whole fleet sweep at several
 * TLS_SCAN_CONCURRENCY values. Run it under the CPU lock:
 *
 *   flock /tmp/edr-cpu.lock deno task bench:tls-scan [--rounds 5]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createProbeEngine } from "../../src/tls_scan/probe_engine.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { rounds: { type: "string", default: "5" } },
});
const rounds = Number(values.rounds);
await using fleet = await startFleet();
const signal = new AbortController().signal;
const targets = fleet.targets.filter((t) => t.name !== "silent");
const scanOne = (engine: ReturnType<typeof createProbeEngine>, t: (typeof targets)[number]) =>
  engine.scan({ host: t.host, port: t.port, kind: "name", addresses: ["127.0.0.1"] }, {
    fresh: true,
    signal,
  });

const sequential = createProbeEngine({ timeoutMs: 8_000, concurrency: 1, caFile: fleet.caFile });
await sequential.start(signal);
console.log(
  `probe: ${rounds} rounds per target, one at a time (silent target left out: it costs the timeout)`,
);
console.log("target          grade  conns  mean ms  min ms  max ms");
const means: number[] = [];
for (const target of targets) {
  const times: number[] = [];
  let grade = "-";
  const before = target.connections();
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    const result = await scanOne(sequential, target);
    times.push(performance.now() - started);
    if (result.kind === "report") grade = result.report.grade ?? "-";
  }
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  means.push(mean);
  const conns = (target.connections() - before) / rounds;
  console.log(
    `${target.name.padEnd(14)}  ${grade.padEnd(5)}  ${String(conns).padStart(5)}  ${
      mean.toFixed(0).padStart(7)
    }  ` +
      `${Math.min(...times).toFixed(0).padStart(6)}  ${Math.max(...times).toFixed(0).padStart(6)}`,
  );
}
console.log(
  `mean over targets: ${(means.reduce((a, b) => a + b, 0) / means.length).toFixed(0)} ms`,
);

for (const concurrency of [1, 4, 8]) {
  const engine = createProbeEngine({ timeoutMs: 8_000, concurrency, caFile: fleet.caFile });
  await engine.start(signal);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: rounds }, () => targets).flat().map((t) => scanOne(engine, t)),
  );
  const seconds = (performance.now() - started) / 1000;
  const scans = rounds * targets.length;
  console.log(
    `TLS_SCAN_CONCURRENCY=${concurrency}: ${scans} scans in ${seconds.toFixed(2)} s = ${
      (scans / seconds).toFixed(1)
    } scans/s`,
  );
}
for (const t of fleet.targets.filter((t) => t.tls)) {
  if (!await fleet.handshakes(t)) console.log(`BLOCKED: ${t.name}`);
}
