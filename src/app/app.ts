/**
 * The app: the enabled components behind one HTTP server, one registry and one readiness, with
 * an explicit lifecycle.
 *
 * - {@linkcode createApp} makes each enabled component (its clients, sockets, files).
 * - `start()` listens on `HTTP_PORT` at once, then starts every component (each resolves
 *   promptly; waiting for a dependency shows in `/readyz`).
 * - `stop()` is the graceful shutdown: every component stops by one deadline
 *   (`SHUTDOWN_TIMEOUT_SECONDS`), then the server closes. Idempotent.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.ts";
 * import { loadConfig } from "./app_config.ts";
 * import { COMPONENTS } from "../components.ts";
 * import { startLocalStack } from "../../tools/submissions/local_stack.ts";
 *
 * // SQS and Kinesis emulators on loopback, for the default component, submissions.
 * await using stack = await startLocalStack();
 * // main.ts passes Deno.env.toObject() and Deno.args.
 * const env = {
 *   AWS_ENDPOINT_URL_SQS: stack.endpoints.sqs,
 *   AWS_ENDPOINT_URL_KINESIS: stack.endpoints.kinesis,
 *   SQS_QUEUE_URL: stack.queueUrl,
 *   KINESIS_STREAM_NAME: stack.streamName,
 * };
 * const app = await createApp(loadConfig(COMPONENTS, env, ["--http-port", "0"]));
 * await app.start();
 * const stop = () => void app.stop();
 * Deno.addSignalListener("SIGTERM", stop);
 *
 * // Ready: every check of every component answered (here SQS and Kinesis).
 * const ready = await fetch(`http://127.0.0.1:${app.port}/readyz`);
 * assert.equal(ready.status, 200);
 * assert.deepEqual((await ready.json()).components.submissions.checks, { sqs: true, kinesis: true });
 *
 * Deno.removeSignalListener("SIGTERM", stop);
 * await app.stop();
 * assert.equal(app.state, "stopped");
 * ```
 *
 * @module
 */
import type { AppConfig, LoadedConfig } from "./app_config.ts";
import type { Component } from "./component.ts";
import { remaining, within } from "./deadline.ts";
import { type HttpServer, startHttpServer } from "./http_server.ts";
import { getLogger } from "./logging.ts";
import { type AppMetrics, createRegistry } from "./metrics.ts";
import { Readiness, type ReadinessReport } from "./readiness.ts";
import { errorMessage } from "./error_message.ts";

/** A made component under its name. */
export interface NamedComponent {
  /** Its name in `COMPONENTS`. */
  readonly name: string;
  /** The component. */
  readonly component: Component;
}

/** Options of {@linkcode App}. */
export interface AppOptions {
  /** The shared configuration. */
  readonly config: AppConfig;
  /** The made components, in `COMPONENTS` order. */
  readonly components: readonly NamedComponent[];
  /** The registry they registered their metrics on. */
  readonly metrics: AppMetrics;
  /** The address of the HTTP server, over `config.httpHost`. Default `0.0.0.0`. */
  readonly hostname?: string;
}

/** The lifecycle states, in order. */
export type AppState = "new" | "running" | "stopping" | "stopped";

/** How often readiness is probed in the background (for the metric and the logs). */
const READINESS_INTERVAL_MS = 5_000;

const logger = getLogger("app");

/**
 * Makes every enabled component of `loaded` on a new registry. When one cannot be made, those
 * already made are stopped and the error is rethrown.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { createApp } from "./app.ts";
 * import { loadConfig } from "./app_config.ts";
 * import { COMPONENTS } from "../components.ts";
 *
 * // Against an emulator on loopback, where dummy keys do (nothing else configured).
 * const env = { HTTP_PORT: "0", AWS_ENDPOINT_URL: "http://127.0.0.1:4566" };
 * const app = await createApp(loadConfig(COMPONENTS, env));
 * assert.equal(app.state, "new"); // made: clients exist, nothing listens or polls yet
 * await app.stop(); // stopping a made app releases what its components hold
 * assert.equal(app.state, "stopped");
 * ```
 */
export async function createApp(
  loaded: LoadedConfig,
  options: { readonly hostname?: string } = {},
): Promise<App> {
  const metrics = createRegistry();
  const components: NamedComponent[] = [];
  try {
    for (const { definition, config } of loaded.enabled) {
      const context = { registry: metrics.registry, logger: getLogger(definition.name) };
      components.push({
        name: definition.name,
        component: await definition.create(config, context),
      });
    }
  } catch (error) {
    const deadline = performance.now() + loaded.app.shutdownTimeoutSeconds * 1000;
    await Promise.allSettled(components.map(({ component }) => component.stop(deadline)));
    throw error;
  }
  return new App({ config: loaded.app, components, metrics, ...options });
}

/**
 * The enabled components behind one HTTP server.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { App } from "./app.ts";
 * import { createRegistry } from "./metrics.ts";
 *
 * const app = new App({
 *   config: { components: [], httpPort: 0, shutdownTimeoutSeconds: 5, logLevel: "info" },
 *   components: [],
 *   metrics: createRegistry(),
 * });
 * await app.start();
 * const metrics = await fetch(`http://127.0.0.1:${app.port}/metrics`); // served with no component
 * assert.equal(metrics.status, 200);
 * await metrics.body?.cancel();
 * await app.stop();
 * assert.equal(app.state, "stopped");
 * ```
 */
export class App {
  /** The registry and the app's own metrics. */
  readonly metrics: AppMetrics;
  readonly #o: AppOptions;
  readonly #readiness: Readiness;
  #state: AppState = "new";
  #http: HttpServer | undefined;
  #readinessTimer: ReturnType<typeof setInterval> | undefined;
  #stopped: Promise<void> | undefined;

  /** Wraps made components; nothing runs until {@linkcode App.start}. */
  constructor(options: AppOptions) {
    this.#o = options;
    this.metrics = options.metrics;
    this.#readiness = new Readiness({
      checks: Object.fromEntries(options.components.map(({ name, component }) => [
        name,
        component.checks,
      ])),
      onReport: (report, previous) => this.#onReadiness(report, previous),
    });
  }

  /** The lifecycle state. */
  get state(): AppState {
    return this.#state;
  }

  /** The port of the HTTP server (after start). */
  get port(): number {
    if (this.#http === undefined) throw new Error("the app has not started");
    return this.#http.port;
  }

  /** The readiness verdict (what `/readyz` answers). */
  readiness(): Promise<ReadinessReport> {
    return this.#readiness.check();
  }

  /**
   * Listens, then starts every component. When one cannot start, every component is stopped
   * and the error is rethrown (the process then exits 1).
   */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error(`cannot start an app that is ${this.#state}`);
    this.#state = "running";
    const { config, components } = this.#o;
    for (const warning of config.warnings ?? []) logger.warn(warning);
    this.#http = await startHttpServer({
      port: config.httpPort,
      hostname: this.#o.hostname ?? config.httpHost ?? "0.0.0.0",
      adminToken: config.adminToken,
      requestTimeoutMs: config.httpRequestTimeoutSeconds === undefined
        ? undefined
        : config.httpRequestTimeoutSeconds * 1000,
      maxConnections: config.httpMaxConnections,
      maxBodyBytesInFlight: config.httpMaxBodyBytesInFlight,
      registry: this.metrics.registry,
      readiness: () => this.readiness(),
      routes: components.flatMap(({ component }) => component.routes),
    });
    const started = await Promise.allSettled(components.map(({ component }) => component.start()));
    const failed = started.findIndex((result) => result.status === "rejected");
    if (failed >= 0) {
      const reason = (started[failed] as PromiseRejectedResult).reason;
      logger.fatal("{component} cannot start: {error}", {
        component: components[failed]!.name,
        error: errorMessage(reason),
      });
      await this.stop();
      throw reason;
    }
    this.#readinessTimer = setInterval(() => this.readiness(), READINESS_INTERVAL_MS);
    logger.info("listening on :{port}; {description}", {
      port: this.#http.port,
      host: this.#o.hostname ?? config.httpHost ?? "0.0.0.0",
      stateChanges: config.adminToken === undefined
        ? "protected mode (loopback peers only; set ADMIN_TOKEN to allow others)"
        : "ADMIN_TOKEN bearer only",
      components: config.components,
      description: components.map(({ name, component }) => `${name}: ${component.describe()}`)
        .join("; "),
    });
  }

  /**
   * Graceful shutdown; idempotent. Every component stops by `timeoutMs` from now (default: the
   * configured shutdown timeout), then the server closes, so `/metrics` answers meanwhile.
   */
  stop(timeoutMs: number = this.#o.config.shutdownTimeoutSeconds * 1000): Promise<void> {
    this.#stopped ??= this.#stop(timeoutMs);
    return this.#stopped;
  }

  async #stop(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    this.#state = "stopping";
    clearInterval(this.#readinessTimer);
    const { components } = this.#o;
    await Promise.all(components.map(async ({ name, component }) => {
      try {
        await component.stop(deadline);
      } catch (error) {
        logger.error("{component} failed to stop: {error}", {
          component: name,
          error: errorMessage(error),
        });
      }
    }));
    const http = this.#http?.shutdown();
    if (http !== undefined && !await within(http, remaining(deadline) + 1_000)) {
      logger.warn("shutdown timeout: HTTP requests still open");
    }
    this.#state = "stopped";
    logger.info("stopped");
  }

  #onReadiness(report: ReadinessReport, previous: ReadinessReport | undefined): void {
    const checks: Record<string, Record<string, boolean>> = {};
    for (const [component, { checks: results }] of Object.entries(report.components)) {
      checks[component] = { ...results };
      for (const [dependency, up] of Object.entries(results)) {
        this.metrics.dependencyUp.set({ component, dependency }, up ? 1 : 0);
      }
    }
    if (previous?.ready !== report.ready) {
      const fields = { ready: report.ready, checks };
      if (report.ready) logger.info("ready: {checks}", fields);
      else logger.warn("not ready: {checks}", fields);
    }
  }
}
