/**
 * The local fleet of TLS test servers: one `openssl s_server` per problem the probe can see
 * (certificates from {@linkcode generateCertificates}), a Deno HTTPS server sending HSTS (for
 * A+; s_server cannot send the header on `GET /`), a plain-TCP listener, a closed port and a
 * listener that accepts and never answers. Everything listens on 127.0.0.1, free ports; each
 * TLS server sits behind a {@linkcode startCountingProxy}, so every target counts the
 * connections a scan cost it.
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
import { type Certificates, generateCertificates, type LeafName } from "./certs.ts";
import { type CountingProxy, startCountingProxy } from "./counting_proxy.ts";
import { dieWithParent } from "../common/parent_death.ts";

/** One target of the fleet. */
export interface FleetTarget {
  readonly name: string;
  /** The name to scan (the leaves are for `localhost` and 127.0.0.1). */
  readonly host: string;
  readonly port: number;
  /** What this server is set up to show. */
  readonly purpose: string;
  /** Completes TLS handshakes (s_server and HTTPS targets). */
  readonly tls: boolean;
  /** Part of the enumeration fleet (compared with sslscan). */
  readonly enumeration: boolean;
  /** Connections it accepted so far. */
  connections(): number;
}

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

interface ServerSpec {
  readonly name: string;
  readonly leaf: LeafName;
  /** s_server flags; `{weak_dh}`, `{strong_dh}`, `{intermediate}`, `{misordered}` stand for files. */
  readonly flags: readonly string[];
  readonly purpose: string;
  /** Part of the enumeration fleet (compared with sslscan suite for suite). */
  readonly enumeration?: boolean;
}

const LEGACY = ["-cipher", "DEFAULT@SECLEVEL=0", "-min_protocol", "TLSv1"];

/** Every s_server of the fleet. */
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

interface Running {
  readonly target: FleetTarget;
  readonly stop: () => Promise<void>;
}

async function startSServer(certs: Certificates, spec: ServerSpec): Promise<Running> {
  const leaf = certs.leaves[spec.leaf];
  // Port 0: s_server picks a free port and prints it (`ACCEPT 127.0.0.1:PORT`; not with -quiet).
  // Killed by the kernel if this process dies first (no orphaned servers after a failed run).
  const { command, args } = dieWithParent("openssl", [
    "s_server",
    "-accept",
    "127.0.0.1:0",
    "-cert",
    leaf.cert,
    "-key",
    leaf.key,
    "-www",
    ...spec.flags.map((flag) => {
      const files: Record<string, string> = {
        "{weak_dh}": certs.dhParams.weak,
        "{strong_dh}": certs.dhParams.strong,
        "{intermediate}": certs.chains.intermediate,
        "{misordered}": certs.chains.misordered,
        "{ocsp}": certs.ocspResponse,
      };
      return files[flag] ?? flag;
    }),
  ]);
  const child = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let output = "";
  const port = Promise.withResolvers<number>();
  // Both streams are read to their end (so the pipes never fill), keeping only a tail.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      output = (output + chunk).slice(-4_000);
      const accept = /^ACCEPT 127\.0\.0\.1:(\d+)$/m.exec(output);
      if (accept) port.resolve(Number(accept[1]));
    }
  };
  const draining = Promise.all([drain(child.stdout), drain(child.stderr)]);
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    port.reject(new Error(`s_server ${spec.name} did not start: ${output.trim()}`));
    return s;
  });
  const kill = async () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited meanwhile
      }
    }
    await status;
    await draining;
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`s_server ${spec.name} did not start in 5 s`)),
      5_000,
    );
  });
  let upstream: number;
  try {
    upstream = await Promise.race([port.promise, late]);
  } catch (error) {
    await kill();
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const proxy = startCountingProxy({
    upstream: { transport: "tcp", hostname: "127.0.0.1", port: upstream },
  });
  return {
    target: { ...describe(spec.name, proxy, spec.purpose, true), enumeration: !!spec.enumeration },
    stop: async () => {
      await proxy.close();
      await kill();
    },
  };
}

async function startHstsServer(certs: Certificates): Promise<Running> {
  const [cert, key] = await Promise.all([
    Deno.readTextFile(certs.leaves.good.cert),
    Deno.readTextFile(certs.leaves.good.key),
  ]);
  const listening = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    onListen: ({ port }) => listening.resolve(port),
  }, () =>
    new Response("hsts test server\n", {
      headers: { "strict-transport-security": "max-age=31536000; includeSubDomains" },
    }));
  const port = await listening.promise;
  const proxy = startCountingProxy({ upstream: { transport: "tcp", hostname: "127.0.0.1", port } });
  return {
    target: describe("hsts", proxy, "Deno HTTPS server with HSTS max-age=31536000 (A+)", true),
    stop: async () => {
      await proxy.close();
      await server.shutdown();
    },
  };
}

/** A listener that answers anything with an HTTP 400 and closes: not TLS. */
function startPlainListener(): Running {
  return startListener("plain", "plain TCP: answers HTTP 400 to anything", async (conn) => {
    await conn.read(new Uint8Array(4_096)).catch(() => null);
    await conn.write(new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n\r\n")).catch(() => 0);
    conn.close();
  });
}

/** A listener that accepts and never answers (a black hole); its sockets close at stop. */
function startSilentListener(): Running {
  return startListener("silent", "accepts and never answers", () => {});
}

function startListener(
  name: string,
  purpose: string,
  handle: (conn: Deno.Conn) => void | Promise<void>,
): Running {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  let connections = 0;
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        connections++;
        open.add(conn);
        Promise.resolve(handle(conn)).catch(() => {}).finally(() => {
          if (name !== "silent") open.delete(conn);
        });
      }
    } catch {
      // closed
    }
  })();
  return {
    target: {
      name,
      host: "localhost",
      port: (listener.addr as Deno.NetAddr).port,
      purpose,
      tls: false,
      enumeration: false,
      connections: () => connections,
    },
    stop: async () => {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch {
          // closed by its handler
        }
      }
      await accepting;
    },
  };
}

/** A free port that nobody listens on (bound, read, released). */
function closedPort(): FleetTarget {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return {
    name: "closed",
    host: "localhost",
    port,
    purpose: "closed port",
    tls: false,
    enumeration: false,
    connections: () => 0,
  };
}

function describe(name: string, proxy: CountingProxy, purpose: string, tls: boolean): FleetTarget {
  return {
    name,
    host: "localhost",
    port: proxy.port,
    purpose,
    tls,
    enumeration: false,
    connections: () => proxy.connections,
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
