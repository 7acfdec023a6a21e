/**
 * What slow and greedy clients cost the service, in figures: `deno task start` of a checkout
 * (`COMPONENTS=ip-events,tls-scan`, default HTTP settings) against
 *
 * 1. one connection that never finishes its headers and one POST whose body stalls: seconds
 *    until the service closes each (capped at `--wait`);
 * 2. 200 connections that never finish their headers: the service's open file descriptors
 *    before, with them, and `--wait` seconds later;
 * 3. `--bodies` (20) `POST /scans` of 4 MiB that stall after 3.9 MiB: the service's RSS before,
 *    at its peak, and `--wait` seconds later.
 *
 *   deno run -A bench/app/connections_bench.ts [--root CHECKOUT] [--wait 45] [--bodies 20]
 *
 * `--root` runs another checkout (an older commit in a worktree, to compare). Loopback only.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { fdCount, readUntilClose, rssBytes } from "../../tests/app/raw_http.ts";
import { noUpdateCheck } from "../../tools/common/no_update_check.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    root: { type: "string", default: "." },
    wait: { type: "string", default: "45" },
    bodies: { type: "string", default: "20" },
  },
});
const root = await Deno.realPath(values.root);
const waitMs = Number(values.wait) * 1000;
const bodyCount = Number(values.bodies);

const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const port = (free.addr as Deno.NetAddr).port;
free.close();
const dir = await Deno.makeTempDir({ prefix: "edr-connections-bench-" });
const child = new Deno.Command("deno", {
  args: ["task", "start"],
  cwd: root,
  env: noUpdateCheck({
    COMPONENTS: "ip-events,tls-scan",
    HTTP_PORT: String(port),
    IP_EVENTS_UDP_PORT: "0",
    IP_EVENTS_UDP_HOST: "127.0.0.1",
    TLS_SCAN_DB: `${dir}/tls-scan.db`,
    TLS_SCAN_SCHEDULER_INTERVAL_SECONDS: "0",
    LOG_LEVEL: "warning",
  }),
  stdout: "null",
  stderr: "null",
}).spawn();

/** The pid of the service: `deno task start` runs deno as its child. */
async function servicePid(): Promise<number> {
  for (let i = 0; i < 300; i++) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/healthz`)).text();
      const out = await new Deno.Command("pgrep", { args: ["-P", String(child.pid)] }).output();
      const pids = new TextDecoder().decode(out.stdout).trim().split("\n").filter(Boolean);
      return Number(pids.at(-1) ?? child.pid);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error("the service did not answer");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const encode = (text: string) => new TextEncoder().encode(text);
const seconds = (ms: number, closed: boolean) =>
  closed ? `${(ms / 1000).toFixed(1)} s` : `still open after ${(ms / 1000).toFixed(0)} s`;

try {
  const pid = await servicePid();
  for (const path of ["/healthz", "/scans", "/metrics"]) {
    await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  }

  // 1. Slow headers, stalled body.
  const slow = await Deno.connect({ hostname: "127.0.0.1", port });
  await slow.write(encode("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  const stall = await Deno.connect({ hostname: "127.0.0.1", port });
  await stall.write(encode("POST /scans HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"));
  const [headers, body] = await Promise.all([
    readUntilClose(slow, waitMs),
    readUntilClose(stall, waitMs),
  ]);
  for (const conn of [slow, stall]) {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }
  console.log(`slow headers: closed ${seconds(headers.ms, headers.closed)} (${headers.status})`);
  console.log(`stalled body: closed ${seconds(body.ms, body.closed)} (${body.status})`);

  // 2. 200 half-open connections.
  const fdBefore = await fdCount(pid);
  const conns: Deno.Conn[] = [];
  for (let i = 0; i < 200; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(encode("GET /scans HTTP/1.1\r\nHost: x\r\n"));
    conns.push(conn);
  }
  await sleep(1_000);
  const fdWith = await fdCount(pid);
  await sleep(waitMs);
  const fdLater = await fdCount(pid);
  for (const conn of conns) conn.close();
  console.log(
    `fds: ${fdBefore} before, ${fdWith} with 200 half-open, ${fdLater} ${waitMs / 1000} s later`,
  );
  await sleep(1_000);

  // 3. 20 stalled 4 MiB bodies.
  const rssBefore = await rssBytes(pid);
  let rssPeak = rssBefore;
  const sampler = setInterval(async () => {
    rssPeak = Math.max(rssPeak, await rssBytes(pid).catch(() => 0));
  }, 100);
  const bodies: Deno.Conn[] = [];
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < bodyCount; i++) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    bodies.push(conn);
    const part = new Uint8Array(4_089_446).fill(0x20); // 3.9 MiB of 4 MiB
    writes.push(
      (async () => {
        await conn.write(
          encode("POST /scans HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n"),
        );
        let offset = 0;
        while (offset < part.length) offset += await conn.write(part.subarray(offset));
      })().catch(() => {}),
    );
  }
  await sleep(waitMs);
  clearInterval(sampler);
  const rssLater = await rssBytes(pid);
  for (const conn of bodies) {
    try {
      conn.close();
    } catch {
      // Closed by the service.
    }
  }
  await Promise.all(writes);
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);
  console.log(
    `RSS: ${mib(rssBefore)} MiB before ${bodyCount} stalled 4 MiB bodies, peak ${
      mib(rssPeak)
    } MiB, ` +
      `${mib(rssLater)} MiB ${waitMs / 1000} s later`,
  );
} finally {
  try {
    child.kill("SIGTERM");
  } catch {
    // Gone already.
  }
  await child.status;
  await Deno.remove(dir, { recursive: true });
}
