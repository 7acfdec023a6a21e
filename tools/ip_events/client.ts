/**
 * The load generator for the ip-events collector, behaving like the original client: `DELETE
 * /events`, then events sent over UDP (or, with `--udp 0`, one `POST /events` each, in turn),
 * then `GET /events/<sha>` of each app checked against the exact good and bad lists.
 *
 *   deno task client:ip-events [--host 127.0.0.1] [--tcp 8080] [--udp 3001[,3002…]]
 *     [--events 10000] [--rate 33000] [--apps 3] [--seed N] [--malformed R] [--check N]
 *     [--max-loss 0.001] [--settle MS] [--token ADMIN_TOKEN] [--json]
 *
 * `--tcp` defaults to 8080 (our HTTP_PORT; the original client's default was 3000). `--rate 0`
 * sends as fast as it can; `--malformed R` mixes R malformed datagrams per valid one; with
 * `--apps` ≥ `--events` each event goes to an app of its own (a flood of distinct shas). Exit 0
 * when every checked app's lists are exact and the loss is within `--max-loss` (0 over HTTP),
 * else 1. Several UDP ports split every app's datagrams between collector instances sharing
 * one store (datagram i to port i mod N, as a UDP load balancer would); `--settle MS` waits
 * before the GETs, for the other instances' last flush. `--token` is the service's `ADMIN_TOKEN`,
 * sent as a bearer token on `DELETE` and `POST` (without it the service serves them to loopback
 * peers only).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { EventDraw, type ExpectedAnswer, makeScenario, malformedDatagrams } from "./scenario.ts";
import { formatIpv4 } from "../../src/ip_events/netblock.ts";
import { SpreadSender } from "./spread_sender.ts";

/** Options of {@linkcode runClient}. */
export interface ClientOptions {
  readonly host: string;
  /** The collector's HTTP port. */
  readonly tcp: number;
  /**
   * The collector's UDP port, or the ports of several instances (each app's datagrams split
   * between them); 0 posts every event over HTTP.
   */
  readonly udp: number | readonly number[];
  readonly events: number;
  /** Events per second; 0 as fast as possible. */
  readonly rate: number;
  readonly apps: number;
  readonly seed: number;
  /** Malformed datagrams per valid one (UDP only). */
  readonly malformed: number;
  /** How many apps to check with a GET (the first ones). */
  readonly check: number;
  /** Largest lost share of the events sent to the checked apps that still passes. */
  readonly maxLoss: number;
  /** Milliseconds to wait between the last datagram and the GETs. Default 0. */
  readonly settleMs?: number;
  /** The service's `ADMIN_TOKEN`, for `DELETE` and `POST /events`. Default none. */
  readonly token?: string | undefined;
}

/** One checked app. */
export interface AppReport {
  readonly sha: string;
  readonly sent: number;
  readonly counted: number;
  readonly exact: boolean;
  readonly getMs: number;
}

/** What a run did and found. */
export interface ClientReport {
  readonly seed: number;
  readonly transport: "udp" | "http";
  readonly sender: string;
  readonly block: string;
  readonly badIps: number;
  readonly sent: number;
  readonly malformedSent: number;
  /** Sends retried after a transient error (a full socket buffer: ENOBUFS, EAGAIN …). */
  readonly sendRetries: number;
  readonly seconds: number;
  readonly ratePerSecond: number;
  readonly apps: readonly AppReport[];
  readonly lost: number;
  readonly lossRatio: number;
  readonly ok: boolean;
}

/**
 * Runs the client once against a collector.
 *
 * @example
 * ```ts ignore
 * const report = await runClient({ ...CLIENT_DEFAULTS, udp: 3001, tcp: 8080, seed: 1 });
 * console.log(report.ok, report.lossRatio);
 * ```
 */
export async function runClient(options: ClientOptions): Promise<ClientReport> {
  const base = `http://${options.host}:${options.tcp}`;
  const admin: Record<string, string> = options.token
    ? { authorization: `Bearer ${options.token}` }
    : {};
  const reset = await fetch(`${base}/events`, { method: "DELETE", headers: admin });
  await reset.body?.cancel();
  if (!reset.ok) throw new Error(`DELETE /events answered ${reset.status}`);

  const scenario = makeScenario({ seed: options.seed, apps: options.apps });
  // As many apps as events or more: each event to its own app (a flood of distinct shas).
  const draw = new EventDraw(scenario, options.seed, options.apps >= options.events);
  const ports = typeof options.udp === "number"
    ? (options.udp === 0 ? [] : [options.udp])
    : options.udp;
  const started = performance.now();
  const sent = ports.length === 0
    ? await postAll(base, draw, options)
    : await sendAll(options.host, ports, draw, options);
  const seconds = (performance.now() - started) / 1000;
  if ((options.settleMs ?? 0) > 0) {
    await new Promise((resolve) => setTimeout(resolve, options.settleMs));
  }

  const apps: AppReport[] = [];
  for (const [index, sha] of scenario.shas.slice(0, options.check).entries()) {
    const expected = draw.expectations.answer(index);
    const getStarted = performance.now();
    const response = await fetch(`${base}/events/${sha}`, {
      headers: { accept: "application/json" },
    });
    const answer = await response.json() as ExpectedAnswer;
    const getMs = performance.now() - getStarted;
    if (response.status !== 200) throw new Error(`GET answered ${response.status}`);
    const exact = sameList(answer.good_ips, expected.good_ips) &&
      sameList(answer.bad_ips, expected.bad_ips);
    apps.push({ sha, sent: expected.count, counted: answer.count, exact, getMs });
  }
  const sentChecked = apps.reduce((sum, app) => sum + app.sent, 0);
  const lost = apps.reduce((sum, app) => sum + app.sent - app.counted, 0);
  const lossRatio = sentChecked === 0 ? 0 : lost / sentChecked;
  const maxLoss = ports.length === 0 ? 0 : options.maxLoss;
  return {
    seed: options.seed,
    transport: ports.length === 0 ? "http" : "udp",
    sender: sent.sender,
    block: `${formatIpv4(scenario.block)}/28`,
    badIps: new Set(scenario.badIps).size,
    sent: options.events,
    malformedSent: sent.malformed,
    sendRetries: sent.retries,
    seconds,
    ratePerSecond: options.events / seconds,
    apps,
    lost,
    lossRatio,
    ok: apps.every((app) => app.exact) && lossRatio <= maxLoss && lost >= 0,
  };
}

function sameList(actual: readonly string[], expected: readonly string[]): boolean {
  return actual.length === expected.length &&
    [...actual].sort().join() === [...expected].sort().join();
}

async function sendAll(
  host: string,
  ports: readonly number[],
  draw: EventDraw,
  options: ClientOptions,
) {
  const sender = await SpreadSender.open(host, ports);
  const bad = malformedDatagrams();
  let malformed = 0;
  let debt = 0;
  try {
    await sender.send({ events: options.events, rate: options.rate }, () => {
      const datagrams = [draw.next()];
      for (debt += options.malformed; debt >= 1; debt--) datagrams.push(bad[malformed++ % 6]!);
      return datagrams;
    });
  } finally {
    await sender.close();
  }
  return { sender: sender.kind, malformed, retries: sender.retries };
}

async function postAll(base: string, draw: EventDraw, options: ClientOptions) {
  const started = performance.now();
  for (let i = 0; i < options.events; i++) {
    if (options.rate > 0) {
      const wait = started + i / options.rate * 1000 - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const response = await fetch(`${base}/events`, {
      method: "POST",
      headers: {
        "content-type": "application/octet-stream",
        accept: "*/*",
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: draw.next() as Uint8Array<ArrayBuffer>,
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    if (!response.ok) throw new Error(`POST /events answered ${response.status}`);
  }
  return { sender: "http", malformed: 0, retries: 0 };
}

/** Parses the command line (the flags of the module doc). */
export function parseClientArgs(args: readonly string[]): ClientOptions & { json: boolean } {
  const { values } = parseArgs({
    args: [...args],
    options: {
      host: { type: "string", default: "127.0.0.1" },
      tcp: { type: "string", default: "8080" },
      udp: { type: "string", default: "3001" },
      events: { type: "string", default: "10000" },
      rate: { type: "string", default: "33000" },
      apps: { type: "string", default: "3" },
      seed: { type: "string" },
      malformed: { type: "string", default: "0" },
      check: { type: "string" },
      "max-loss": { type: "string", default: "0.001" },
      settle: { type: "string", default: "0" },
      token: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const number = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be ≥ ${min}`);
    return value;
  };
  const apps = number("apps", values.apps, 1);
  return {
    host: values.host,
    tcp: number("tcp", values.tcp, 1),
    udp: values.udp.includes(",")
      ? values.udp.split(",").map((port) => number("udp", port, 1))
      : number("udp", values.udp, 0),
    events: number("events", values.events, 0),
    rate: number("rate", values.rate, 0),
    apps,
    seed: values.seed === undefined
      ? Math.floor(Math.random() * 2 ** 31)
      : number("seed", values.seed, 0),
    malformed: number("malformed", values.malformed, 0),
    check: values.check === undefined ? Math.min(apps, 3) : number("check", values.check, 0),
    maxLoss: number("max-loss", values["max-loss"], 0),
    settleMs: number("settle", values.settle, 0),
    token: values.token,
    json: values.json,
  };
}

/** Prints a report for people. */
export function formatReport(report: ClientReport): string {
  const lines = [
    `seed ${report.seed}: good block ${report.block}, ${report.badIps} bad IPs`,
    `sent ${report.sent} events${
      report.malformedSent ? ` + ${report.malformedSent} malformed` : ""
    } over ${report.transport} (${report.sender}) in ${report.seconds.toFixed(2)} s: ${
      Math.round(report.ratePerSecond)
    }/s${report.sendRetries > 0 ? `, ${report.sendRetries} sends retried` : ""}`,
    ...report.apps.map((app) =>
      `app ${app.sha.slice(0, 12)}…: ${app.exact ? "lists exact" : "LISTS WRONG"}; ` +
      `server handled ${app.counted} out of ${app.sent} (GET ${app.getMs.toFixed(1)} ms)`
    ),
    `lost ${report.lost} (${(report.lossRatio * 100).toFixed(3)} %): ${report.ok ? "ok" : "FAIL"}`,
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const options = parseClientArgs(Deno.args);
  const report = await runClient(options);
  console.log(options.json ? JSON.stringify(report) : formatReport(report));
  Deno.exit(report.ok ? 0 : 1);
}
