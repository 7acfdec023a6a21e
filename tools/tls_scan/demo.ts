/**
 * `deno task demo tls-scan`: the TLS scanner at work with nothing but Deno and openssl. It
 * starts the local fleet (one server per problem the probe can see), runs the service as
 * `deno task start` does (`COMPONENTS=tls-scan`, private targets allowed for the fleet, the
 * fleet's CA added to the trust anchors, a database in a temporary folder), scans every target
 * through `GET /scan`, and prints a table (grade, problems, days left, connections the scan
 * cost the server, wall time) and one text report. Then the same for the `ssllabs` engine
 * against the local fake SSL Labs API (SSLLABS_TIME_SCALE=0.01), with the calls each
 * assessment cost.
 *
 * ```sh
 * deno task demo tls-scan
 * deno task demo tls-scan --report expired    # which target's text report to print
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type ServiceProcess, startService, waitReady } from "../common/service_process.ts";
import { startFakeSslLabs } from "./fake_ssllabs.ts";
import { type Fleet, startFleet } from "./fleet.ts";
import { errorHost, readyHost } from "./ssllabs_fixtures.ts";

/** One row of the table. */
interface Row {
  readonly name: string;
  readonly target: string;
  readonly grade: string;
  readonly days: string;
  readonly extra: string;
  readonly ms: number;
  readonly problems: string;
}

function table(rows: readonly Row[], extraTitle: string): string {
  const head = {
    name: "target",
    target: "host:port",
    grade: "grade",
    days: "days",
    extra: extraTitle,
    ms: "ms",
    problems: "problems",
  };
  const width = (key: keyof Row) => Math.max(...[head, ...rows].map((r) => String(r[key]).length));
  const line = (r: Record<keyof Row, string | number>) =>
    [
      String(r.name).padEnd(width("name")),
      String(r.target).padEnd(width("target")),
      String(r.grade).padEnd(width("grade")),
      String(r.days).padStart(width("days")),
      String(r.extra).padStart(width("extra")),
      String(r.ms).padStart(width("ms")),
      String(r.problems),
    ].join("  ");
  return [line(head), ...rows.map(line)].join("\n");
}

async function scan(
  base: string,
  host: string,
  port?: number,
): Promise<{ report: Record<string, unknown>; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${base}/scan?host=${host}${port ? `&port=${port}` : ""}`);
  const report = await response.json();
  if (response.status !== 200) {
    throw new Error(`GET /scan ${host}: ${response.status} ${JSON.stringify(report)}`);
  }
  return { report, ms: Math.round(performance.now() - started) };
}

function rowOf(
  name: string,
  target: string,
  report: Record<string, unknown>,
  ms: number,
  extra: string,
): Row {
  const certificate = report.certificate as { days_remaining: number } | null;
  const problems = (report.problems as string[]).join(", ");
  return {
    name,
    target,
    grade: String(report.grade ?? "-"),
    days: certificate ? String(certificate.days_remaining) : "-",
    extra,
    ms,
    problems: report.status === "ERROR" ? `ERROR: ${report.status_message}` : problems || "-",
  };
}

async function withService<T>(
  env: Record<string, string>,
  dir: string,
  name: string,
  run: (base: string, service: ServiceProcess) => Promise<T>,
): Promise<T> {
  const service = await startService({
    COMPONENTS: "tls-scan",
    HTTP_PORT: "0",
    TLS_SCAN_DB: `${dir}/${name}.db`,
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "0",
    ...env,
  }, `${dir}/${name}.log`);
  try {
    await waitReady(service);
    return await run(`http://127.0.0.1:${service.port}`, service);
  } finally {
    await service.terminate(10_000);
  }
}

async function probeDemo(fleet: Fleet, dir: string, reportOf: string): Promise<void> {
  const env = {
    TLS_SCAN_ALLOW_PRIVATE: "true",
    TLS_SCAN_CA_FILE: fleet.caFile,
    TLS_SCAN_TIMEOUT_SECONDS: "3",
  };
  await withService(env, dir, "probe", async (base) => {
    console.log(
      `\n== engine probe: ${fleet.targets.length} fleet targets, one GET /scan each (sequential)`,
    );
    const rows: Row[] = [];
    let text = "";
    for (const target of fleet.targets) {
      const before = target.connections();
      const { report, ms } = await scan(base, target.host, target.port);
      rows.push(
        rowOf(
          target.name,
          `${target.host}:${target.port}`,
          report,
          ms,
          String(target.connections() - before),
        ),
      );
      if (target.name === reportOf) {
        const response = await fetch(`${base}/scan?host=${target.host}&port=${target.port}`, {
          headers: { accept: "text/plain" },
        });
        text = await response.text();
      }
    }
    console.log(table(rows, "conns"));
    const tls = rows.filter((r) => r.grade !== "-");
    const times = tls.map((r) => r.ms).sort((a, b) => a - b);
    console.log(
      `\nTLS targets: ${tls.length}; scan time min ${times[0]} ms, median ${
        times[Math.floor(times.length / 2)]
      } ms, ` +
        `max ${times.at(-1)} ms; connections per scan ${
          Math.min(...tls.map((r) => Number(r.extra)))
        }–${Math.max(...tls.map((r) => Number(r.extra)))}`,
    );
    const stuck = [];
    for (const target of fleet.targets.filter((t) => t.tls)) {
      if (!await fleet.handshakes(target)) stuck.push(target.name);
    }
    console.log(
      stuck.length === 0
        ? "every s_server still completes a handshake"
        : `BLOCKED: ${stuck.join(", ")}`,
    );
    const cached = await scan(base, fleet.target("good").host, fleet.target("good").port);
    console.log(
      `again for good: from_cache ${cached.report.from_cache}, ${cached.ms} ms, no connection`,
    );
    if (text) console.log(`\n== GET /scan with Accept: text/plain (${reportOf})\n\n${text}`);
  });
}

async function sslLabsDemo(dir: string): Promise<void> {
  const email = "security@example.org";
  const hosts = {
    "cached.example": { result: readyHost("cached.example", { grade: "A+" }), cachedHoursAgo: 5 },
    "www.example.com": {
      result: readyHost("www.example.com", { grade: "A" }),
      flow: ["DNS", "IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS"] as const,
    },
    "legacy.example": {
      result: readyHost("legacy.example", {
        grade: "B",
        protocols: ["1.0", "1.1", "1.2"],
        forwardSecrecy: 2,
      }),
    },
    "expiring.example": {
      result: readyHost("expiring.example", { notAfterDays: 12 }),
    },
    "nx.example": {
      result: errorHost("nx.example", "Unable to resolve domain name"),
      flow: ["DNS"] as const,
    },
  };
  await using fake = await startFakeSslLabs({ email, hosts, maxAssessments: 2, coolOffMs: 100 });
  const env = {
    TLS_SCAN_ENGINE: "ssllabs",
    SSLLABS_API_URL: fake.url,
    SSLLABS_EMAIL: email,
    SSLLABS_TIME_SCALE: "0.01",
    // The fake's names are not in DNS: with private targets allowed, SSL Labs (the fake) resolves.
    TLS_SCAN_ALLOW_PRIVATE: "true",
  };
  await withService(env, dir, "ssllabs", async (base) => {
    console.log(
      `\n== engine ssllabs against the local fake API v4 (SSLLABS_TIME_SCALE=0.01: polls 50 ms / 100 ms), in parallel`,
    );
    const names = Object.keys(hosts);
    const results = await Promise.all(
      names.map((host) => scan(base, host).catch((e) => ({ report: null, ms: 0, e }))),
    );
    const rows = results.flatMap((r, i) => {
      if (!r.report) return [];
      const calls = fake.callsFor(names[i]!);
      return [rowOf(names[i]!, `${names[i]}:443`, r.report, r.ms, `${calls.length}`)];
    });
    console.log(table(rows, "calls"));
    const started = fake.calls.filter((c) => c.started).length;
    console.log(
      `\nSSL Labs calls: ${fake.calls.length} (info ${
        fake.calls.filter((c) => c.call === "info").length
      }), ` +
        `${started} assessments started, peak current ${fake.peakCurrent} of max 2, 429s ${
          fake.calls.filter((c) => c.status === 429).length
        }`,
    );
  });
}

/** The CLI: `deno task demo tls-scan [--report NAME]`. */
export async function main(args: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: { report: { type: "string", default: "expiring" }, help: { type: "boolean" } },
  });
  if (values.help) {
    console.log(
      "deno task demo tls-scan [--report TARGET]   (TARGET: good, expired, legacy, … ; default expiring)",
    );
    return 0;
  }
  const dir = await Deno.makeTempDir({ prefix: "tls-scan-demo-" });
  try {
    await using fleet = await startFleet({ dir });
    console.log(`fleet: ${fleet.targets.length} targets on 127.0.0.1; CA ${fleet.caFile}`);
    for (const t of fleet.targets) console.log(`  ${t.name.padEnd(14)} :${t.port}  ${t.purpose}`);
    await probeDemo(fleet, dir, values.report!);
    await sslLabsDemo(dir);
    return 0;
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
