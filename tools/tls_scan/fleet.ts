/**
 * The local fleet of TLS test servers: one `openssl s_server` per problem the probe can see
 * (certificates from {@linkcode generateCertificates}), a Deno HTTPS server sending HSTS (for
 * A+; s_server cannot send the header on `GET /`), a plain-TCP listener, a closed port and a
 * listener that accepts and never answers. Everything listens on 127.0.0.1, free ports; each
 * TLS server sits behind a {@linkcode startCountingProxy}, so every target counts the
 * connections a scan cost it. The s_servers and what each shows are listed in
 * fleet_servers.ts; how each kind of target starts, in fleet_targets.ts.
 *
 *   deno run --allow-run=openssl --allow-read --allow-write --allow-net=127.0.0.1 tools/tls_scan/fleet.ts
 *
 * @example
 * ```ts
 * import { startFleet } from "./fleet.ts";
 * await using fleet = await startFleet();
 * const good = fleet.target("good");
 * good.port; good.connections(); // 0 until someone connects
 * ```
 *
 * @module
 */
import { runOpenssl } from "../../src/tls_scan/openssl.ts";
import { parseSession } from "../../src/tls_scan/s_client_output.ts";
import { type Certificates, generateCertificates } from "./certs.ts";
import { SERVERS } from "./fleet_servers.ts";
import {
  closedPort,
  type FleetTarget,
  startHstsServer,
  startPlainListener,
  startSilentListener,
  startSServer,
} from "./fleet_targets.ts";

/** A running fleet. */
export interface Fleet extends AsyncDisposable {
  readonly certificates: Certificates;
  /** The trusted test CA: TLS_SCAN_CA_FILE. */
  readonly caFile: string;
  readonly targets: readonly FleetTarget[];
  /** The target called `name` (throws if there is none). */
  target(name: string): FleetTarget;
  /** `true` when `target` still completes a TLS handshake (s_server serves one at a time). */
  handshakes(target: FleetTarget): Promise<boolean>;
  stop(): Promise<void>;
}

let shared: Promise<Certificates> | undefined;

/**
 * One set of certificates per process (keys take seconds on a busy machine, RSA-4096 most),
 * in a temporary directory removed when the process exits.
 */
function sharedCertificates(): Promise<Certificates> {
  shared ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "tls-fleet-" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(dir, { recursive: true });
      } catch {
        // already gone
      }
    });
    return await generateCertificates(dir);
  })();
  return shared;
}

/** Options of {@linkcode startFleet}. */
export interface FleetOptions {
  /** Where the certificates go. Default: one temporary directory per process, removed at exit. */
  readonly dir?: string;
  /** Start only these targets (by name). Default: all. */
  readonly only?: readonly string[];
}

/** Starts the fleet. */
export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const wanted = (name: string) => !options.only || options.only.includes(name);
  const certificates = options.dir === undefined
    ? await sharedCertificates()
    : await generateCertificates(options.dir);
  const targets: FleetTarget[] = [];
  const stops: (() => Promise<void>)[] = [];
  try {
    const specs = SERVERS.filter((s) => wanted(s.name));
    const servers = await Promise.allSettled(
      specs.map((spec) => startSServer(certificates, spec)),
    );
    for (const server of servers) {
      if (server.status === "rejected") continue;
      stops.push(server.value.stop);
      targets.push(server.value.target);
    }
    const failed = servers.find((s) => s.status === "rejected");
    if (failed) throw failed.reason;
    if (wanted("hsts")) {
      const https = await startHstsServer(certificates);
      stops.push(https.stop);
      targets.push(https.target);
    }
    if (wanted("plain")) {
      const plain = startPlainListener();
      stops.push(plain.stop);
      targets.push(plain.target);
    }
    if (wanted("silent")) {
      const silent = startSilentListener();
      stops.push(silent.stop);
      targets.push(silent.target);
    }
    if (wanted("closed")) targets.push(closedPort());
  } catch (error) {
    await Promise.all(stops.map((stop) => stop()));
    throw error;
  }
  let stopped: Promise<void> | undefined;
  const stop = () =>
    stopped ??= (async () => {
      await Promise.all(stops.map((s) => s()));
    })();
  return {
    certificates,
    caFile: certificates.caFile,
    targets,
    target(name) {
      const found = targets.find((t) => t.name === name);
      if (!found) throw new Error(`no fleet target ${name}`);
      return found;
    },
    async handshakes(target) {
      const run = await runOpenssl([
        "s_client",
        "-connect",
        `127.0.0.1:${target.port}`,
        "-brief",
        "-cipher",
        "DEFAULT@SECLEVEL=0",
      ], { timeoutMs: 3_000 });
      return parseSession(`${run.stdout}\n${run.stderr}`).protocol !== undefined;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

if (import.meta.main) {
  const fleet = await startFleet();
  console.log(`TLS_SCAN_CA_FILE=${fleet.caFile}`);
  for (const t of fleet.targets) {
    console.log(`${t.name.padEnd(14)} ${t.host}:${t.port}  ${t.purpose}`);
  }
  console.log("Ctrl-C stops the fleet.");
  const stop = Promise.withResolvers<void>();
  Deno.addSignalListener("SIGINT", () => stop.resolve());
  await stop.promise;
  await fleet.stop();
}
