/**
 * The ip-events collector as a component: the store, the ingest, the UDP receive path and the
 * HTTP routes, with an explicit lifecycle. `create` makes the store and metrics; `start` binds
 * the UDP socket (a taken port fails the start) and logs which receive path and buffer size are
 * in use; `stop` closes the socket, then the store.
 *
 * @module
 */
import type { Component, ComponentContext } from "../app/component.ts";
import { remaining, within } from "../app/deadline.ts";
import { Lifecycle } from "../app/lifecycle.ts";
import type { Logger } from "../app/logging.ts";
import { Ingest } from "./ingest.ts";
import { createIpEventsMetrics, type IpEventsMetrics } from "./metrics.ts";
import { openReceiver } from "./open_receiver.ts";
import { openStore } from "./open_store.ts";
import { openProcNet, type ProcNet } from "./proc_net.ts";
import { eventsRoutes } from "./routes.ts";
import type { IpEventsConfig } from "./settings.ts";
import { describeStore } from "./store_settings.ts";
import type { IpEventStore } from "./store.ts";
import type { UdpReceiver } from "./udp_receiver.ts";

/**
 * Makes the collector (nothing bound or running until `start`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { getLogger } from "../app/logging.ts";
 * import { readSettings } from "../app/settings.ts";
 * import { createCollector } from "./collector.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * const env = { IP_EVENTS_UDP_HOST: "127.0.0.1", IP_EVENTS_UDP_PORT: "0" };
 * const config = configure(readSettings(SETTINGS, env), env);
 * const registry = new Registry();
 * const collector = createCollector(config, { registry, logger: getLogger("ip-events") });
 * await collector.start();
 * assert.ok(collector.udpPort! > 0); // the free port it bound
 * await collector.stop(performance.now() + 5_000);
 * ```
 */
export function createCollector(config: IpEventsConfig, context: ComponentContext): Collector {
  return new Collector(config, context);
}

/**
 * The running collector.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { getLogger } from "../app/logging.ts";
 * import { readSettings } from "../app/settings.ts";
 * import { Collector } from "./collector.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * const env = { IP_EVENTS_UDP_HOST: "127.0.0.1", IP_EVENTS_UDP_PORT: "0" };
 * const config = configure(readSettings(SETTINGS, env), env);
 * const collector = new Collector(config, {
 *   registry: new Registry(),
 *   logger: getLogger("ip-events"),
 * });
 * assert.equal(
 *   collector.describe(),
 *   "UDP 127.0.0.1:0 (not bound), at most 100000 apps × 64 IPs, store memory",
 * );
 * await collector.stop(performance.now() + 1_000);
 * ```
 */
export class Collector implements Component {
  readonly routes;
  readonly checks;
  readonly #config: IpEventsConfig;
  readonly #logger: Logger;
  readonly #store: IpEventStore;
  readonly #metrics: IpEventsMetrics;
  readonly #ingest: Ingest;
  readonly #proc: ProcNet | undefined;
  readonly #lifecycle = new Lifecycle("the ip-events collector");
  #receiver: UdpReceiver | undefined;

  /** Makes the store, metrics, ingest and routes. */
  constructor(config: IpEventsConfig, context: ComponentContext) {
    this.#config = config;
    this.#logger = context.logger;
    this.#store = openStore(config.store, {
      maxApps: config.maxApps,
      maxIpsPerApp: config.maxIpsPerApp,
    }, context);
    this.#proc = openProcNet();
    this.#metrics = createIpEventsMetrics(context.registry, {
      stats: () => this.#store.stats(),
      udpCounters: () => this.#proc?.udpCounters(),
      socketDrops: () => this.#receiver ? this.#proc?.socketDrops(this.#receiver.port) : undefined,
    });
    this.#ingest = new Ingest({ store: this.#store, metrics: this.#metrics });
    this.routes = eventsRoutes({
      store: this.#store,
      ingest: this.#ingest,
      metrics: this.#metrics,
      drain: () => this.#receiver?.drain() ?? Promise.resolve(),
    });
    const store = this.#store;
    this.checks = {
      udp: () =>
        this.#receiver
          ? Promise.resolve(this.#receiver.port)
          : Promise.reject(new Error("the UDP socket is not bound")),
      ...(store.check ? { store: (signal: AbortSignal) => store.check!(signal) } : {}),
    };
  }

  /** The UDP port bound (after start). */
  get udpPort(): number | undefined {
    return this.#receiver?.port;
  }

  /** One line for the start-up log. */
  describe(): string {
    const r = this.#receiver;
    const where = `UDP ${this.#config.udpHost}:${r?.port ?? this.#config.udpPort}`;
    const path = r ? `${r.path}, receive buffer ${bufferText(r)}` : "not bound";
    return `${where} (${path}), at most ${this.#config.maxApps} apps × ` +
      `${this.#config.maxIpsPerApp} IPs, ${describeStore(this.#config.store)}`;
  }

  /** Binds the UDP socket and starts receiving. */
  start(): Promise<void> {
    return this.#lifecycle.start(() => this.#start());
  }

  async #start(): Promise<void> {
    const { receiver, fallbackReason } = await openReceiver(this.#config.receiver, {
      host: this.#config.udpHost,
      port: this.#config.udpPort,
      receiveBufferBytes: this.#config.receiveBufferBytes,
      sink: this.#ingest.datagrams,
      onError: (error) => {
        this.#metrics.receiveErrors.inc();
        this.#logger.error("UDP receive failed: {error}", { error: error.message });
      },
    });
    this.#receiver = receiver;
    this.#metrics.receivePath.set({ path: receiver.path }, 1);
    this.#metrics.receiveBufferBytes.set(receiver.receiveBufferBytes ?? 0);
    const fields = {
      path: receiver.path,
      port: receiver.port,
      receiveBufferBytes: receiver.receiveBufferBytes ?? null,
      requestedBytes: this.#config.receiveBufferBytes,
    };
    if (fallbackReason !== undefined) {
      this.#logger.warn(
        "UDP receive path {path} (fallback: {reason}), kernel default receive buffer: " +
          "datagrams are lost from ~33 000/s",
        { ...fields, reason: fallbackReason },
      );
    } else {
      this.#logger.info(
        "UDP receive path {path} on port {port}, receive buffer {receiveBufferBytes} bytes",
        fields,
      );
    }
    if (
      receiver.receiveBufferBytes !== undefined &&
      receiver.receiveBufferBytes < this.#config.receiveBufferBytes
    ) {
      this.#logger.warn(
        "the kernel capped the receive buffer at {receiveBufferBytes} bytes (asked " +
          "{requestedBytes}): raise net.core.rmem_max",
        fields,
      );
    }
  }

  /** Closes the socket (by the deadline), then the store (a shared one flushes first). */
  stop(deadline: number): Promise<void> {
    return this.#lifecycle.stop(() => this.#stop(deadline));
  }

  async #stop(deadline: number): Promise<void> {
    const receiver = this.#receiver;
    this.#receiver = undefined;
    if (receiver) {
      const closing = receiver.close();
      if (await within(closing, remaining(deadline))) await closing;
      else this.#logger.warn("the UDP socket did not close by the deadline");
    }
    await this.#store.close(deadline);
    this.#proc?.close();
  }
}

function bufferText(receiver: UdpReceiver): string {
  return receiver.receiveBufferBytes === undefined
    ? "kernel default"
    : `${receiver.receiveBufferBytes} bytes`;
}
