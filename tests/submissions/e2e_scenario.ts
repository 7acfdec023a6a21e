/**
 * The set-up every end-to-end scenario shares, written once: the local stack, a seeded load
 * preloaded into the queue, the service started against it (a `deno run main.ts` subprocess or
 * in this process), draining it and stopping it gracefully, reconciling the stream, and freeing
 * all of it however the test ends (`await using`). A scenario's test says only what is its own:
 * the faults, the settings, what it does while the service runs and what it asserts.
 *
 * ```ts
 * import { assertReconciled } from "./e2e_harness.ts";
 * import { startScenario } from "./e2e_scenario.ts";
 *
 * await using run = await startScenario({ load: { seed: 1, count: 2_000 } });
 * const { metrics } = await run.drain(); // drained, scraped, SIGTERM, exit 0
 * const { report } = await run.verify();
 * assertReconciled(report);
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import type { MetricsSnapshot } from "../../tools/common/metrics_text.ts";
import {
  createLoad,
  type E2eStack,
  type E2eStackOptions,
  type InProcessService,
  type Load,
  type LoadOptions,
  type PollOptions,
  preload,
  secondsSince,
  ServiceProcess,
  startE2eStack,
  startInProcessService,
  startServiceProcess,
  verify,
  waitDrained,
} from "./e2e_harness.ts";

/** How a scenario runs its service: a `deno run main.ts` subprocess, or in this process. */
export type ServiceMode = "process" | "in-process";

/** The service of a mode. */
export type ServiceOf<M extends ServiceMode> = M extends "in-process" ? InProcessService
  : ServiceProcess;

/** Settings of the service, over the harness's (`serviceEnv`). */
type Settings = Readonly<Record<string, string>>;

/** Options of {@linkcode startScenario}. */
export interface ScenarioOptions<M extends ServiceMode> extends E2eStackOptions {
  /** The fleet's load: generated, and preloaded before any service starts. None when absent. */
  readonly load?: LoadOptions;
  /** How the service runs. Default `"process"`. */
  readonly mode?: M;
  /** The service's settings (a function when they name the stack: its invalid queue, say). */
  readonly env?: Settings | ((e2e: E2eStack) => Settings);
  /** Runs once the load is in, before the service starts: a fault set, say. */
  readonly beforeStart?: (e2e: E2eStack) => void;
  /** Services started at once (the test starts more with `start`). Default 1. */
  readonly services?: number;
}

/** What {@linkcode Scenario.drain} found. */
export interface Drained {
  /** The metrics of the first service drained. */
  readonly metrics: MetricsSnapshot;
  /** The metrics of every service drained, in starting order. */
  readonly all: readonly MetricsSnapshot[];
}

/** A running scenario; `await using` frees its services, then its stack. */
export interface Scenario<S extends InProcessService | ServiceProcess> extends AsyncDisposable {
  /** The stack and the harness's clients. */
  readonly e2e: E2eStack;
  /** The load preloaded (throws when the scenario has none). */
  readonly load: Load;
  /** Every service started, in order. */
  readonly services: readonly S[];
  /** The first service. */
  readonly service: S;
  /** Starts another service with the scenario's settings. */
  start(name?: string): Promise<S>;
  /**
   * Waits until the queue is drained and no running service holds a message, scrapes each, and
   * stops each gracefully (a subprocess: SIGTERM and exit code 0, asserted).
   */
  drain(options?: PollOptions): Promise<Drained>;
  /** The stream and the queue reconciled with the load's manifest. */
  verify(): ReturnType<typeof verify>;
  /** Seconds since the scenario began, with one decimal (for the summary line). */
  seconds(): string;
}

/** Starts a scenario: the stack, the load in its queue, then the service(s). */
export async function startScenario<M extends ServiceMode = "process">(
  options: ScenarioOptions<M> = {},
): Promise<Scenario<ServiceOf<M>>> {
  const started = performance.now();
  const { load: loadOptions, mode, env, beforeStart, services: count = 1, ...stack } = options;
  const e2e = await startE2eStack(stack);
  const services: ServiceOf<M>[] = [];
  const close = async () => {
    for (const service of services) {
      await (service instanceof ServiceProcess ? service.close() : service.stop());
    }
    await e2e.stop();
  };
  try {
    const load = loadOptions === undefined ? undefined : createLoad(loadOptions);
    if (load !== undefined) await preload(e2e, load.messages);
    const loaded = () => {
      if (load === undefined) throw new Error("this scenario has no load");
      return load;
    };
    beforeStart?.(e2e);
    const settings = typeof env === "function" ? env(e2e) : env ?? {};
    const start = async (name?: string) => {
      const service = (mode === "in-process"
        ? await startInProcessService(e2e, settings)
        : await startServiceProcess(
          e2e,
          settings,
          name === undefined ? {} : { name },
        )) as ServiceOf<
          M
        >;
      services.push(service);
      return service;
    };
    for (let i = 0; i < count; i++) {
      await start();
    }
    return {
      e2e,
      get load() {
        return loaded();
      },
      services,
      get service() {
        const [first] = services;
        if (first === undefined) {
          throw new Error("no service started");
        }
        return first;
      },
      start,
      async drain(pollOptions = {}) {
        // Services the test killed or stopped are not waited for.
        const running = services.filter((s) =>
          !(s instanceof ServiceProcess && s.hasExited)
        );
        await waitDrained(e2e, running, pollOptions);
        const all: MetricsSnapshot[] = [];
        for (const service of running) all.push(await service.metrics());
        for (const service of running) {
          if (service instanceof ServiceProcess) {
            const exit = await service.signal("SIGTERM");
            assert.equal(exit.status.code, 0, service.tail());
          } else await service.stop();
        }
        return { metrics: all[0]!, all };
      },
      verify: () => verify(e2e, loaded().manifest),
      seconds: () => secondsSince(started),
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
