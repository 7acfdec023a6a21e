/**
 * A fault-injecting HTTP proxy that sits in front of a local AWS emulator (kinesalite for
 * Kinesis, fauxqs for SQS) and reproduces the failures the emulators never produce themselves:
 * LocalStack's `KINESIS_ERROR_PROBABILITY`, per-record partial `PutRecords` failures, per-shard
 * write limits like real Kinesis (`throttle`, see shard_throttle.ts), added latency and
 * network outages.
 *
 * Both SDK clients speak the AWS JSON protocol, so the operation is read from the
 * `X-Amz-Target` header (`Kinesis_20131202.PutRecords`, `AmazonSQS.ReceiveMessage`, ...).
 * Only the bodies a fault or a counter needs are buffered (`PutRecords`, `PutRecord`,
 * `ReceiveMessage`); every other request and response is streamed through untouched over
 * keep-alive upstream connections.
 *
 * Outages are network failures: the proxy destroys the client's TCP socket (on every request
 * that arrives during the outage, and on every open connection when the outage starts), so the
 * AWS SDK sees `ECONNRESET` ("socket hang up"), classifies it as transient and retries.
 *
 * This file holds the proxy's lifecycle and its dispatch (outage, latency, which operation goes
 * where); its parts: fault_settings.ts (the faults), fault_stats.ts (the counters),
 * put_records_faults.ts (Kinesis writes under faults, with shard_throttle.ts) and
 * upstream_relay.ts (forwarding to the emulator).
 *
 * @example
 * ```ts
 * import { startFaultProxy } from "./fault_proxy.ts";
 *
 * const proxy = await startFaultProxy({ service: "kinesis", upstream: "http://127.0.0.1:4567" });
 * proxy.set({ partialFailureProbability: 0.1, latencyMs: 5 });
 * // ... point a KinesisClient at proxy.url ...
 * console.log(proxy.stats().recordsFailed);
 * await proxy.close();
 * ```
 *
 * @module
 */

import http from "node:http";
import type { Socket } from "node:net";
import type { Buffer } from "node:buffer";
import {
  type FaultSettings,
  type FaultSettingsUpdate,
  mergeFaultSettings,
  NO_FAULTS,
  type ServiceName,
} from "./fault_settings.ts";
import { emptyStats, type FaultStats, ReceiveMessageTally } from "./fault_stats.ts";
import { PutRecordsFaults } from "./put_records_faults.ts";
import { parseJsonObject, readBody, UpstreamRelay } from "./upstream_relay.ts";

/** Options of {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** The service behind the proxy: decides which operations faults apply to. */
  service: ServiceName;
  /** Base URL of the emulator, e.g. `http://127.0.0.1:45123`. Plain HTTP only. */
  upstream: string | URL;
  /** Port to listen on; 0 (the default) picks a free port. */
  port?: number;
  /** Address to listen on. Defaults to `127.0.0.1`. */
  hostname?: string;
  /** Initial fault settings. Defaults to no faults. */
  faults?: FaultSettingsUpdate;
  /** Source of randomness in [0, 1), injectable for deterministic tests. Defaults to `Math.random`. */
  random?: () => number;
  /** The throttle's clock in milliseconds, injectable for tests. Defaults to `performance.now`. */
  now?: (() => number) | undefined;
}

/** A running fault proxy; see {@linkcode startFaultProxy}. */
export interface FaultProxy {
  /** The service this proxy fronts. */
  readonly service: ServiceName;
  /** The port the proxy listens on. */
  readonly port: number;
  /** The proxy's endpoint, `http://127.0.0.1:<port>`: give it to the SDK client. */
  readonly url: string;
  /** A copy of the current fault settings. */
  get(): FaultSettings;
  /**
   * Merges an update into the settings and returns the result. Starting an outage also breaks
   * every open connection, so in-flight requests (a long poll, say) fail as on a real network.
   *
   * @throws {RangeError} if a value is out of range, or a Kinesis-only fault is set on SQS.
   */
  set(update: FaultSettingsUpdate): FaultSettings;
  /** A snapshot of the counters. */
  stats(): FaultStats;
  /** Clears every fault (outage included) and every counter. */
  reset(): void;
  /** Stops listening, breaks every connection and frees every timer and upstream socket. */
  close(): Promise<void>;
}

/** Operations after which a stream's shards may have changed. */
const RESHARDING = new Set([
  "CreateStream",
  "DeleteStream",
  "SplitShard",
  "MergeShards",
  "UpdateShardCount",
]);

/**
 * Starts a fault proxy listening on `options.hostname:options.port` that forwards to
 * `options.upstream`.
 *
 * @example
 * ```ts
 * import { startFaultProxy } from "./fault_proxy.ts";
 *
 * const proxy = await startFaultProxy({
 *   service: "kinesis",
 *   upstream: "http://127.0.0.1:4567",
 *   faults: { errorProbability: 0.1 },
 * });
 * await proxy.close();
 * ```
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxyServer(options);
  await proxy.listen(options.port ?? 0, options.hostname ?? "127.0.0.1");
  return proxy;
}

/** Reads the operation name from an `X-Amz-Target` header value. */
function operationOf(target: string | string[] | undefined): string {
  if (typeof target !== "string") return "(none)";
  const dot = target.lastIndexOf(".");
  return dot === -1 ? target : target.slice(dot + 1);
}

class FaultProxyServer implements FaultProxy {
  readonly service: ServiceName;
  #port = 0;
  #settings: FaultSettings = { ...NO_FAULTS };
  #stats: FaultStats;
  readonly #receiveParams = new ReceiveMessageTally();
  readonly #relay: UpstreamRelay;
  readonly #puts: PutRecordsFaults;
  readonly #server: http.Server;
  readonly #sockets = new Set<Socket>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(options: FaultProxyOptions) {
    this.service = options.service;
    const upstream = new URL(options.upstream);
    this.#stats = emptyStats(options.service);
    if (options.faults) {
      this.#settings = mergeFaultSettings(this.service, NO_FAULTS, options.faults);
    }
    this.#relay = new UpstreamRelay({
      service: options.service,
      upstream,
      onUpstreamError: () => this.#stats.upstreamErrors++,
    });
    this.#puts = new PutRecordsFaults({
      settings: () => this.#settings,
      stats: () => this.#stats,
      random: options.random ?? Math.random,
      now: options.now ?? (() => performance.now()),
      upstream,
      relay: this.#relay,
    });
    this.#server = http.createServer((req, res) => this.#handle(req, res));
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  listen(port: number, hostname: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, hostname, () => {
        this.#server.off("error", reject);
        const address = this.#server.address();
        this.#port = typeof address === "object" && address !== null ? address.port : port;
        resolve();
      });
    });
  }

  get(): FaultSettings {
    return { ...this.#settings };
  }

  set(update: FaultSettingsUpdate): FaultSettings {
    this.#settings = mergeFaultSettings(this.service, this.#settings, update);
    this.#puts.configure();
    if (this.#outageActive()) this.#breakConnections();
    return this.get();
  }

  stats(): FaultStats {
    return structuredClone({
      ...this.#stats,
      receiveMessage: this.#receiveParams.values(),
    });
  }

  reset(): void {
    this.#settings = { ...NO_FAULTS };
    this.#stats = emptyStats(this.service);
    this.#receiveParams.clear();
    this.#puts.reset();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    this.#relay.close();
    this.#breakConnections();
    this.#puts.close();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #outageActive(): boolean {
    return this.#settings.outageUntil > Date.now();
  }

  #breakConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  #handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // A client that goes away mid-request is not an error of the proxy: the "close" handlers
    // clean up, and an unhandled "error" event would crash the whole stack.
    req.on("error", () => {});
    const operation = operationOf(req.headers["x-amz-target"]);
    this.#stats.requests[operation] = (this.#stats.requests[operation] ?? 0) + 1;
    if (this.#outageActive()) {
      this.#stats.injected.outage++;
      req.socket.destroy();
      return;
    }
    if (this.service === "kinesis" && RESHARDING.has(operation)) {
      res.on("finish", () => this.#puts.invalidateShards());
    }
    if (!this.#needsBody(operation)) {
      this.#afterLatency(req, () => this.#relay.forwardStreaming(req, res));
      return;
    }
    readBody(req, (body) => {
      this.#afterLatency(req, () => this.#handleBuffered(operation, req, res, body));
    });
  }

  #needsBody(operation: string): boolean {
    return this.service === "kinesis"
      ? operation === "PutRecords" || operation === "PutRecord"
      : operation === "ReceiveMessage";
  }

  #afterLatency(req: http.IncomingMessage, run: () => void): void {
    const delay = this.#settings.latencyMs;
    // No timer at all without latency: the common path must stay cheap.
    if (delay <= 0) return run();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      // An outage that started meanwhile has already broken the connection.
      if (!req.socket.destroyed) run();
    }, delay);
    this.#timers.add(timer);
  }

  #handleBuffered(
    operation: string,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
  ): void {
    if (operation === "ReceiveMessage") {
      const payload = parseJsonObject(body);
      if (payload) this.#receiveParams.observe(payload);
      return this.#relay.forward(req, res, body);
    }
    const answered = this.#puts.handle(
      operation === "PutRecord" ? "PutRecord" : "PutRecords",
      req,
      res,
      body,
    );
    // Only a defect of the proxy gets here: fail this one call as a network error would.
    answered.catch(() => req.socket.destroy());
  }
}
