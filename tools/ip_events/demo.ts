/**
 * `deno task demo ip-events [--seconds 5] [--rate 33000] [--seed N]`: starts the collector
 * (`deno run main.ts` with the start task's permissions, `COMPONENTS=ip-events`, free loopback
 * ports), runs the load generator at 33 000 datagrams/s for a few seconds, then prints the
 * answer for one app, the loss and the rate.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { runClient } from "./client.ts";
import { startCollectorProcess } from "./collector_process.ts";

const USAGE = "usage: deno task demo ip-events [--seconds 5] [--rate 33000] [--seed N]";

/** Runs the demo with `args`; resolves with the exit code (2: a usage error). */
export async function main(args: readonly string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        seconds: { type: "string", default: "5" },
        rate: { type: "string", default: "33000" },
        seed: { type: "string", default: "2026" },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const seconds = Number(values.seconds);
  const rate = Number(values.rate);
  const seed = Number(values.seed);
  if (![seconds, rate, seed].every((n) => Number.isFinite(n) && n > 0)) {
    console.error(`demo: --seconds, --rate and --seed must be positive numbers\n${USAGE}`);
    return 2;
  }
  await using collector = await startCollectorProcess();
  const path = collector.startup.find((line) => line.path !== undefined);
  console.log(
    `collector: pid ${collector.pid}, HTTP :${collector.httpPort}, UDP :${collector.udpPort} ` +
      `(${path?.path}, receive buffer ${path?.receiveBufferBytes ?? "kernel default"} bytes)`,
  );
  const events = Math.round(seconds * rate);
  console.log(
    `client: DELETE /events, then ${events} events at ${rate}/s to 3 apps (seed ${seed})`,
  );
  const report = await runClient({
    host: "127.0.0.1",
    tcp: collector.httpPort,
    udp: collector.udpPort,
    events,
    rate,
    apps: 3,
    seed,
    malformed: 0,
    check: 3,
    maxLoss: 0.001,
  });
  const sha = report.apps[0]!.sha;
  const answer = await (await fetch(`${collector.base}/events/${sha}`)).json();
  console.log(`\nGET /events/${sha}\n${JSON.stringify(answer, null, 1)}\n`);
  for (const app of report.apps) {
    console.log(
      `app ${app.sha.slice(0, 12)}…: sent ${app.sent}, counted ${app.counted}, lists ` +
        `${app.exact ? "exact" : "WRONG"}, GET ${app.getMs.toFixed(1)} ms`,
    );
  }
  console.log(
    `sent ${report.sent} in ${report.seconds.toFixed(2)} s (${
      Math.round(report.ratePerSecond)
    }/s,` +
      ` sender ${report.sender}, ${report.sendRetries} sends retried); lost ${report.lost} (${
        (report.lossRatio * 100).toFixed(3)
      } %)` +
      `: ${report.ok ? "ok" : "FAIL"}`,
  );
  const code = await collector.terminate();
  console.log(`collector stopped (exit ${code})`);
  return report.ok && code === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
