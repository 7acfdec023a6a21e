/**
 * The whole pipeline in one command, with nothing but Deno: a local SQS and Kinesis in this
 * process (../local_stack.ts), the preprocessor as a `deno run main.ts` subprocess (its JSON
 * logs go to a temp file), a sensor fleet sending a few submissions per second, and a tail of
 * the `events` stream, with a status line refreshed every second. On Ctrl-C (or after
 * `--seconds`), the fleet stops, the service drains and is stopped with SIGTERM, and the whole
 * stream is reconciled with the fleet's manifest: the exit code is 0 only when nothing was lost,
 * reordered, or published from an invalid submission.
 *
 * ```ts
 * import { runDemo } from "./run.ts";
 * import { parseDemoArgs } from "./options.ts";
 * Deno.exit(await runDemo(parseDemoArgs(["--seconds", "10"])!));
 * ```
 *
 * @module
 */
import { errorMessage } from "../../../src/app/error_message.ts";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { SQSClient } from "@aws-sdk/client-sqs";
import { sleep } from "../../../src/app/backoff.ts";
import { CtrlC } from "../../common/ctrl_c.ts";
import { Screen } from "../../common/screen.ts";
import { type ServiceProcess, startService, waitReady } from "../../common/service_process.ts";
import { SERVICE_COMMAND } from "../../common/start_task.ts";
import { type LocalStack, startLocalStack } from "../local_stack.ts";
import { getQueueDepth } from "../queue_depth.ts";
import { readStream } from "../read_stream.ts";
import { reconcile } from "../reconcile.ts";
import type { DemoOptions } from "./options.ts";
import { formatReconciliation } from "./reconciliation.ts";
import { type FleetRun, startFleet, startTail, type TailRun } from "./stack.ts";
import { type DemoStatus, formatStatus, scrapeCounters } from "./status_line.ts";

/** Everything running, for the refresh loop. */
interface Running {
  readonly screen: Screen;
  readonly stack: LocalStack;
  readonly sqs: SQSClient;
  readonly service: ServiceProcess;
  readonly fleet: FleetRun;
  readonly tail: TailRun;
  readonly options: DemoOptions;
  readonly started: number;
  /** The previous refresh's published count and time, for events/s. */
  last: { published: number; at: number } | undefined;
}

/** Scrapes the service and the queue and shows the status line and the newest records. */
async function refresh(running: Running, phase: string): Promise<DemoStatus> {
  const [counters, queue] = await Promise.all([
    scrapeCounters(running.service.port),
    getQueueDepth(running.sqs, running.stack.queueUrl).catch(() => undefined),
  ]);
  const now = performance.now();
  let eventsPerSecond: number | undefined;
  if (counters !== undefined) {
    const last = running.last;
    if (last !== undefined && now > last.at) {
      eventsPerSecond = ((counters.published - last.published) * 1000) / (now - last.at);
    }
    running.last = { published: counters.published, at: now };
  }
  const status: DemoStatus = {
    elapsedSeconds: (now - running.started) / 1000,
    phase,
    sent: running.fleet.manifest.length,
    counters,
    eventsPerSecond,
    queue,
  };
  for (const line of running.tail.take(running.options.tail)) running.screen.line(`  ${line}`);
  running.screen.status(formatStatus(status));
  return status;
}

/** Refreshes every second until `signal` aborts. */
async function runUntil(running: Running, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await refresh(running, "running");
    await sleep(1_000, signal);
  }
}

/**
 * Refreshes until the queue is empty and the service holds nothing (every message deleted, so
 * every valid one fully published), `timeoutMs` passes or `signal` aborts. Returns whether it
 * drained.
 */
async function drain(running: Running, timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!signal.aborted && !running.service.hasExited()) {
    const { counters, queue } = await refresh(running, "draining");
    if (
      counters !== undefined && counters.inFlight === 0 &&
      queue !== undefined && queue.visible + queue.inFlight === 0
    ) return true;
    if (performance.now() >= deadline) return false;
    await sleep(500, signal);
  }
  return false;
}

/** Runs the demo; resolves with the exit code. Everything it starts is stopped on every path. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const screen = new Screen();
  await using cleanup = new AsyncDisposableStack();
  const ctrlC = cleanup.use(new CtrlC());

  const logPath = await Deno.makeTempFile({ prefix: "edr-demo-service-", suffix: ".log" });
  const kinesisFaults = {
    errorProbability: options.errorProbability,
    partialFailureProbability: options.partialFailureProbability,
    throttle: options.throttle !== undefined,
    shardRecordsPerSecond: options.throttle?.recordsPerSecond,
    shardBytesPerSecond: options.throttle?.bytesPerSecond,
  };
  const stack = await startLocalStack({ faults: { kinesis: kinesisFaults } });
  cleanup.defer(() => stack.stop());
  const clients = stack.createClients();
  cleanup.defer(() => clients.destroy());
  const { sqs, kinesis } = clients;
  screen.line(
    `local AWS in this process: SQS ${stack.endpoints.sqs}, Kinesis ${stack.endpoints.kinesis} ` +
      `(stream ${stack.streamName}, 2 shards); KINESIS_ERROR_PROBABILITY=` +
      `${options.errorProbability}, KINESIS_PARTIAL_FAILURE_PROBABILITY=` +
      `${options.partialFailureProbability}, ` +
      (options.throttle === undefined
        ? "not throttled"
        : `throttled at ${options.throttle.recordsPerSecond} records/s and ` +
          `${options.throttle.bytesPerSecond} bytes/s per shard`),
  );

  const service = await startService(
    { ...stack.env(), HTTP_PORT: "0", LOG_LEVEL: "info" },
    logPath,
  );
  cleanup.defer(() => service.kill());
  screen.line(`service: ${SERVICE_COMMAND.join(" ")} (pid ${service.pid}, :${service.port})`);
  screen.line(`service logs: ${logPath}`);
  await waitReady(service);

  const tail = startTail(kinesis, stack.streamName, options.tail);
  cleanup.defer(() => tail.stop());
  const fleet = startFleet(sqs, stack.queueUrl, options);
  cleanup.defer(async () => {
    await fleet.stop();
  });
  screen.line(
    `fleet: ${options.fleetSize} devices, ${options.rate} submissions/s, 1 % faults per field` +
      `${options.invalidRatio > 0 ? ` + ${options.invalidRatio} invalid` : ""}, ` +
      `seed ${fleet.seed}`,
  );
  screen.line(
    options.seconds === undefined
      ? "running until Ctrl-C"
      : `running for ${options.seconds} s (Ctrl-C stops earlier)`,
  );

  const running: Running = {
    screen,
    stack,
    sqs,
    service,
    fleet,
    tail,
    options,
    started: performance.now(),
    last: undefined,
  };
  // The run ends on Ctrl-C, after --seconds, or when the service or the fleet fails.
  const runEnded = new AbortController();
  const timer = options.seconds === undefined
    ? undefined
    : setTimeout(() => runEnded.abort(), options.seconds * 1000);
  cleanup.defer(() => clearTimeout(timer));
  service.exited.then(() => runEnded.abort());
  fleet.ended.then(() => runEnded.abort());
  await runUntil(running, AbortSignal.any([ctrlC.signal, runEnded.signal]));
  clearTimeout(timer);
  return await finish(running, ctrlC, kinesis);
}

/** Stops the fleet, drains, stops the service, reconciles and prints; returns the exit code. */
async function finish(
  running: Running,
  ctrlC: CtrlC,
  kinesis: KinesisClient,
): Promise<number> {
  const { screen, service, fleet, stack, options } = running;
  const failures: string[] = [];
  const fleetError = await fleet.stop();
  screen.endStatus();
  if (fleetError !== undefined) failures.push(`the fleet failed: ${errorMessage(fleetError)}`);
  screen.line(`stopping: the fleet sent ${fleet.manifest.length} submissions; draining…`);

  const drainStarted = performance.now();
  const drainSkipped = ctrlC.next();
  const drained = await drain(running, options.drainTimeoutSeconds * 1000, drainSkipped);
  screen.endStatus();
  const counters = await scrapeCounters(service.port);
  if (drained) screen.line(`drained in ${secondsSince(drainStarted)} s`);
  else if (drainSkipped.aborted) failures.push("the drain was cut short by Ctrl-C");
  else if (!service.hasExited()) failures.push("the service did not drain");

  const crashed = service.hasExited();
  if (!crashed) screen.line("stopping the service (SIGTERM; Ctrl-C kills it)…");
  const killRequested = ctrlC.next();
  const onKill = () => service.kill();
  killRequested.addEventListener("abort", onKill, { once: true });
  const stopStarted = performance.now();
  const status = crashed ? await service.exited : await service.terminate(30_000);
  killRequested.removeEventListener("abort", onKill);
  const how = crashed ? "exited by itself" : killRequested.aborted ? "killed by Ctrl-C" : "SIGTERM";
  screen.line(
    `service stopped (${how}): exit code ${status.code} in ${secondsSince(stopStarted)} s`,
  );
  if (crashed || status.code !== 0) {
    failures.push(`the service exited with code ${status.code} (${how})`);
    for (const line of service.lastLines().slice(-5)) screen.line(`  | ${line}`);
  }
  await running.tail.stop();

  if (counters !== undefined) {
    const { injected, recordsThrottled } = stack.faults.stats().kinesis;
    screen.line(
      `service totals: received ${counters.received}, published ${counters.published}, ` +
        `invalid ${counters.invalid}, retries ${counters.retries} ` +
        `(faults injected: ${injected.errorProbability} PutRecords failed whole, ` +
        `${injected.partialFailure} partly, ${recordsThrottled} records throttled)`,
    );
  }
  const queueDepth = await getQueueDepth(running.sqs, stack.queueUrl);
  const records = await readStream(kinesis, stack.streamName, {
    signal: AbortSignal.timeout(60_000),
  });
  const report = reconcile(fleet.manifest, records, { queueDepth });
  screen.line(formatReconciliation(report));
  for (const failure of failures) screen.line(`failed: ${failure}`);
  return report.ok && failures.length === 0 ? 0 : 1;
}

function secondsSince(started: number): string {
  return ((performance.now() - started) / 1000).toFixed(1);
}
