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
import { Buffer } from "node:buffer";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import { createKinesisClient } from "../../src/submissions/aws_clients.ts";
import { listShards } from "../../src/submissions/list_shards.ts";
import { rateExceededMessage, ShardThrottle, type WireRecord } from "./shard_throttle.ts";
import {
  type FaultSettings,
  type FaultSettingsUpdate,
  mergeFaultSettings,
  NO_FAULTS,
  type ServiceName,
} from "./fault_settings.ts";

/** How often one combination of `ReceiveMessage` parameters was seen. */
export interface ReceiveMessageParams {
  /** `MaxNumberOfMessages` as sent, or `null` when the request left it out. */
  MaxNumberOfMessages: number | null;
  /** `VisibilityTimeout` as sent, or `null` when the request left it out. */
  VisibilityTimeout: number | null;
  /** `WaitTimeSeconds` as sent, or `null` when the request left it out. */
  WaitTimeSeconds: number | null;
  /** Number of `ReceiveMessage` requests that carried exactly these values. */
  count: number;
}

/** Counters of one proxy since it started or was last reset. */
export interface FaultStats {
  /** The service this proxy fronts. */
  service: ServiceName;
  /** Requests received per operation (`PutRecords`, `ReceiveMessage`, ...), refused ones included. */
  requests: Record<string, number>;
  /** Requests answered with an injected fault, by kind. */
  injected: {
    /** `PutRecords`/`PutRecord` requests answered LocalStack-style (`errorProbability`). */
    errorProbability: number;
    /** `PutRecords` requests with at least one record failed by `partialFailureProbability`. */
    partialFailure: number;
    /** `PutRecords`/`PutRecord` requests with at least one record refused by `throttle`. */
    throttled: number;
    /** Requests refused (socket destroyed) because of an outage. */
    outage: number;
  };
  /** `PutRecords` requests received (Kinesis). */
  putRecordsCalls: number;
  /** `PutRecords` requests forwarded to the emulator, whole or reduced to their passed records. */
  putRecordsForwarded: number;
  /** Records received in `PutRecords` and `PutRecord` requests. */
  recordsReceived: number;
  /** Records answered with an injected error code (never written), throttled ones included. */
  recordsFailed: number;
  /** Records refused by `throttle` (also counted in `recordsFailed`). */
  recordsThrottled: number;
  /** Records refused by `throttle`, by shard id. */
  throttledByShard: Record<string, number>;
  /** Records passed on to the emulator (received minus failed, for parseable requests). */
  recordsPassed: number;
  /** Distinct `ReceiveMessage` parameter combinations seen (SQS), with their counts. */
  receiveMessage: ReceiveMessageParams[];
  /** Requests that failed because the emulator could not be reached or broke the connection. */
  upstreamErrors: number;
}

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
  now?: () => number;
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

const AMZ_JSON = "application/x-amz-json-1.1";
/** LocalStack's literal message for its injected throttling errors. */
const LOCALSTACK_RATE_MESSAGE = "Rate exceeded for shard X in stream Y under account Z.";
/** Headers that describe one hop's connection and must not be copied to the next hop. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
]);

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

function emptyStats(service: ServiceName): FaultStats {
  return {
    service,
    requests: {},
    injected: { errorProbability: 0, partialFailure: 0, throttled: 0, outage: 0 },
    putRecordsCalls: 0,
    putRecordsForwarded: 0,
    recordsReceived: 0,
    recordsFailed: 0,
    recordsThrottled: 0,
    throttledByShard: {},
    recordsPassed: 0,
    receiveMessage: [],
    upstreamErrors: 0,
  };
}

/** Copies request or response headers, leaving out hop-by-hop ones. */
function endToEndHeaders(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": AMZ_JSON,
    "content-length": Buffer.byteLength(text),
    "x-amzn-requestid": crypto.randomUUID(),
  });
  res.end(text);
}

function readBody(req: http.IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
}

function parseJsonObject(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : undefined;
  } catch {
    return undefined;
  }
}

function numberOrNull(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}

/** A failed entry of a `PutRecords` response. */
interface RecordError {
  ErrorCode: string;
  ErrorMessage: string;
}

/** A buffered upstream response, for the cases where the proxy rewrites it. */
interface UpstreamReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

class FaultProxyServer implements FaultProxy {
  readonly service: ServiceName;
  #port = 0;
  #settings: FaultSettings = { ...NO_FAULTS };
  #stats: FaultStats;
  readonly #receiveParams = new Map<string, ReceiveMessageParams>();
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #upstream: URL;
  /** Made on first use of `throttle`, with its own client straight to the emulator. */
  #throttle: ShardThrottle | undefined;
  #upstreamKinesis: KinesisClient | undefined;
  readonly #server: http.Server;
  // Keep-alive upstream connections: a new TCP connection per call would cost more than the
  // forwarding itself at ~20 PutRecords calls/s.
  readonly #agent = new http.Agent({ keepAlive: true });
  readonly #sockets = new Set<Socket>();
  readonly #upstreamRequests = new Set<http.ClientRequest>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #closed = false;

  constructor(options: FaultProxyOptions) {
    this.service = options.service;
    this.#upstream = new URL(options.upstream);
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? (() => performance.now());
    this.#stats = emptyStats(options.service);
    if (options.faults) {
      this.#settings = mergeFaultSettings(this.service, NO_FAULTS, options.faults);
    }
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
    // A new budget counts from now, not from the next call.
    this.#throttle?.configure(
      this.#settings.shardRecordsPerSecond,
      this.#settings.shardBytesPerSecond,
    );
    if (this.#outageActive()) this.#breakConnections();
    return this.get();
  }

  stats(): FaultStats {
    return structuredClone({
      ...this.#stats,
      receiveMessage: [...this.#receiveParams.values()],
    });
  }

  reset(): void {
    this.#settings = { ...NO_FAULTS };
    this.#stats = emptyStats(this.service);
    this.#receiveParams.clear();
    this.#throttle?.reset();
    this.#throttle?.configure(NO_FAULTS.shardRecordsPerSecond, NO_FAULTS.shardBytesPerSecond);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    for (const request of this.#upstreamRequests) request.destroy();
    this.#breakConnections();
    this.#agent.destroy();
    this.#upstreamKinesis?.destroy();
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
      res.on("finish", () => this.#throttle?.invalidate());
    }
    if (!this.#needsBody(operation)) {
      this.#afterLatency(req, () => this.#forwardStreaming(req, res));
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
      if (payload) this.#observeReceive(payload);
      return this.#forwardBuffered(req, res, body);
    }
    // Parsed even without faults, to count the records: JSON.parse of a 500-record body
    // (~250 KB) takes ~0.2 ms, less than scanning it with Buffer.indexOf under Deno.
    const answered = operation === "PutRecord"
      ? this.#putRecord(req, res, body)
      : this.#putRecords(req, res, body, parseJsonObject(body));
    // Only a defect of the proxy gets here: fail this one call as a network error would.
    answered.catch(() => req.socket.destroy());
  }

  #observeReceive(payload: Record<string, unknown>): void {
    const params = {
      MaxNumberOfMessages: numberOrNull(payload.MaxNumberOfMessages),
      VisibilityTimeout: numberOrNull(payload.VisibilityTimeout),
      WaitTimeSeconds: numberOrNull(payload.WaitTimeSeconds),
    };
    const key =
      `${params.MaxNumberOfMessages}|${params.VisibilityTimeout}|${params.WaitTimeSeconds}`;
    const seen = this.#receiveParams.get(key);
    if (seen) seen.count++;
    else this.#receiveParams.set(key, { ...params, count: 1 });
  }

  /** Draws one random number only when the probability can matter, so tests can script it. */
  #roll(probability: number): boolean {
    return probability > 0 && this.#random() < probability;
  }

  /** The throttle (`set` keeps its budgets current). */
  #shardThrottle(): ShardThrottle {
    if (this.#throttle === undefined) {
      // Straight to the emulator, so no fault of this proxy affects the listing. The region and
      // keys are dummies: the emulator checks neither.
      const kinesis = createKinesisClient({
        region: "eu-west-1",
        endpoint: this.#upstream.href,
        credentials: { accessKeyId: "test", secretAccessKey: "test" },
        maxAttempts: 1,
      });
      this.#upstreamKinesis = kinesis;
      this.#throttle = new ShardThrottle({
        listShards: (streamName) => listShards(kinesis, streamName),
        recordsPerSecond: this.#settings.shardRecordsPerSecond,
        bytesPerSecond: this.#settings.shardBytesPerSecond,
        now: this.#now,
      });
    }
    return this.#throttle;
  }

  /** Per record, the shard that refused it (`throttle`), or `undefined`; all `undefined` when off. */
  async #throttled(
    payload: Record<string, unknown> | undefined,
    records: readonly WireRecord[],
    skip: readonly boolean[],
  ): Promise<(string | undefined)[]> {
    if (!this.#settings.throttle || typeof payload?.StreamName !== "string") return [];
    const refused = await this.#shardThrottle().admit(payload.StreamName, records, skip);
    let count = 0;
    for (const shardId of refused) {
      if (shardId === undefined) continue;
      count++;
      this.#stats.throttledByShard[shardId] = (this.#stats.throttledByShard[shardId] ?? 0) + 1;
    }
    if (count > 0) this.#stats.injected.throttled++;
    this.#stats.recordsThrottled += count;
    this.#stats.recordsFailed += count;
    return refused;
  }

  async #putRecord(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) {
    this.#stats.recordsReceived++;
    if (this.#roll(this.#settings.errorProbability)) {
      this.#stats.injected.errorProbability++;
      this.#stats.recordsFailed++;
      // LocalStack's body carries `__type` and `ErrorMessage`; `message` is what the SDK reads.
      return sendJson(res, 400, {
        __type: "ProvisionedThroughputExceededException",
        message: LOCALSTACK_RATE_MESSAGE,
        ErrorMessage: LOCALSTACK_RATE_MESSAGE,
      });
    }
    if (this.#settings.throttle) {
      const payload = parseJsonObject(body);
      const [shardId] = await this.#throttled(payload, payload ? [payload] : [], []);
      if (shardId !== undefined) {
        const message = rateExceededMessage(shardId, String(payload?.StreamName));
        return sendJson(res, 400, { __type: "ProvisionedThroughputExceededException", message });
      }
    }
    this.#stats.recordsPassed++;
    this.#forwardBuffered(req, res, body);
  }

  async #putRecords(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    payload: Record<string, unknown> | undefined,
  ): Promise<void> {
    this.#stats.putRecordsCalls++;
    const records = Array.isArray(payload?.Records) ? payload.Records as unknown[] : undefined;
    const count = records?.length ?? 0;
    this.#stats.recordsReceived += count;
    if (this.#roll(this.#settings.errorProbability)) {
      this.#stats.injected.errorProbability++;
      this.#stats.recordsFailed += count;
      const entry = {
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: LOCALSTACK_RATE_MESSAGE,
      };
      // Exactly LocalStack's answer: FailedRecordCount is 1 whatever the number of records.
      return sendJson(res, 200, { FailedRecordCount: 1, Records: records?.map(() => entry) ?? [] });
    }
    // Partial failures are drawn first (the same draws with or without the throttle); the
    // records they fail take no budget.
    const partial = records?.map(() => this.#roll(this.#settings.partialFailureProbability)) ??
      [];
    const partialCount = partial.filter(Boolean).length;
    const throttled = await this.#throttled(payload, (records ?? []) as WireRecord[], partial);
    const failed = partial.map((isPartial, i) => isPartial || throttled[i] !== undefined);
    const failedCount = failed.filter(Boolean).length;
    if (!payload || !records || failedCount === 0) {
      this.#stats.putRecordsForwarded++;
      this.#stats.recordsPassed += count;
      return this.#forwardBuffered(req, res, body);
    }
    if (partialCount > 0) this.#stats.injected.partialFailure++;
    this.#stats.recordsFailed += partialCount;
    const streamName = typeof payload.StreamName === "string" ? payload.StreamName : "unknown";
    const partialErrors = failedEntries(partialCount, streamName);
    let partialIndex = 0;
    const errors = failed.flatMap((isFailed, i) => {
      if (!isFailed) return [];
      const shardId = throttled[i];
      return shardId === undefined ? [partialErrors[partialIndex++]!] : [{
        ErrorCode: "ProvisionedThroughputExceededException",
        ErrorMessage: rateExceededMessage(shardId, streamName),
      }];
    });
    if (failedCount === count) {
      return sendJson(res, 200, { FailedRecordCount: count, Records: errors });
    }
    const passed = records.filter((_, i) => !failed[i]);
    this.#stats.putRecordsForwarded++;
    this.#stats.recordsPassed += passed.length;
    const reduced = Buffer.from(JSON.stringify({ ...payload, Records: passed }));
    this.#forwardBuffered(
      req,
      res,
      reduced,
      (reply) => mergePutRecords(res, reply, failed, errors),
    );
  }

  /**
   * Forwards a request whose body nobody needs to read. The body is still read whole first
   * (requests are small): streamed, a client dropping mid-body would cut the upstream request
   * short (see #request on kinesalite). The response is streamed back.
   */
  #forwardStreaming(req: http.IncomingMessage, res: http.ServerResponse): void {
    readBody(req, (body) => this.#forwardBuffered(req, res, body));
  }

  /**
   * Forwards an already-read body. Without `onReply` the response is streamed back untouched;
   * with it, the response is buffered and handed over for rewriting.
   */
  #forwardBuffered(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    onReply?: (reply: UpstreamReply) => void,
  ): void {
    const headers = endToEndHeaders(req.headers);
    headers["content-length"] = body.length;
    this.#request(req, res, headers, onReply)?.end(body);
  }

  #request(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    headers: http.OutgoingHttpHeaders,
    onReply?: (reply: UpstreamReply) => void,
  ): http.ClientRequest | undefined {
    if (this.#closed || req.socket.destroyed) return undefined;
    const upstream = http.request({
      protocol: this.#upstream.protocol,
      hostname: this.#upstream.hostname,
      port: this.#upstream.port,
      method: req.method,
      path: req.url,
      // The Host header is passed on unchanged: fauxqs builds queue URLs from it, so they name
      // the proxy (the public endpoint), not the hidden emulator port.
      headers,
      agent: this.#agent,
    }, (upstreamRes) => {
      upstreamRes.on("error", () => req.socket.destroy());
      if (res.destroyed) return void upstreamRes.resume(); // the client is gone
      if (onReply) {
        readBody(
          upstreamRes,
          (body) =>
            onReply({ status: upstreamRes.statusCode ?? 502, headers: upstreamRes.headers, body }),
        );
      } else {
        res.writeHead(upstreamRes.statusCode ?? 502, endToEndHeaders(upstreamRes.headers));
        upstreamRes.pipe(res);
      }
    });
    this.#upstreamRequests.add(upstream);
    upstream.on("close", () => this.#upstreamRequests.delete(upstream));
    upstream.on("error", () => {
      if (this.#closed) return;
      this.#stats.upstreamErrors++;
      // Mirror what the client would have seen talking to the emulator directly.
      req.socket.destroy();
    });
    // The client gave up (SDK timeout, socket destroyed by an outage). An SQS call is stopped,
    // so an abandoned long poll takes no message. A Kinesis call is left to finish and its
    // answer dropped: closing kinesalite's connection before it has answered makes it throw
    // from its request 'error' handler, an uncaught exception in the process hosting it.
    res.on("close", () => {
      if (res.writableFinished || this.service === "kinesis") return;
      if (upstream.writableFinished) upstream.destroy();
      else upstream.once("finish", () => upstream.destroy());
    });
    return upstream;
  }
}

/** The error entries for `count` partially failed records, alternating the two error codes. */
function failedEntries(count: number, streamName: string): RecordError[] {
  // Which shard the record would have gone to is unknown here (kinesalite owns the hash ranges).
  const throttled = {
    ErrorCode: "ProvisionedThroughputExceededException",
    ErrorMessage: `Rate exceeded for shard in stream ${streamName} under account 000000000000.`,
  };
  const internal = { ErrorCode: "InternalFailure", ErrorMessage: "Internal service failure." };
  return Array.from({ length: count }, (_, i) => ({ ...(i % 2 === 0 ? throttled : internal) }));
}

/**
 * Answers a partially failed `PutRecords`: the emulator's entries for the passed records and
 * the injected errors, back in the order of the original request.
 */
function mergePutRecords(
  res: http.ServerResponse,
  reply: UpstreamReply,
  failed: boolean[],
  errors: RecordError[],
): void {
  const upstream = reply.status === 200 ? parseJsonObject(reply.body) : undefined;
  const entries = Array.isArray(upstream?.Records) ? upstream.Records as unknown[] : undefined;
  if (!upstream || !entries) {
    // The emulator rejected the whole (reduced) request: pass its answer on as it is.
    res.writeHead(reply.status, endToEndHeaders(reply.headers));
    res.end(reply.body);
    return;
  }
  let passedIndex = 0;
  let errorIndex = 0;
  const merged = failed.map((isFailed) => isFailed ? errors[errorIndex++] : entries[passedIndex++]);
  const upstreamFailed = typeof upstream.FailedRecordCount === "number"
    ? upstream.FailedRecordCount
    : 0;
  sendJson(res, 200, {
    ...upstream,
    FailedRecordCount: errors.length + upstreamFailed,
    Records: merged,
  });
}
