/**
 * The local stack's control over its faults: both fault proxies (fault_proxy.ts) as one
 * {@linkcode FaultController}, and the control endpoint that serves it over HTTP
 * (`GET /faults`, `PUT /faults`, `POST /faults/reset`), as `deno task stack` listens on 4568.
 *
 * @example
 * ```ts
 * import { createFaultController, startControlServer } from "./fault_control.ts";
 * import { startFaultProxy } from "./fault_proxy.ts";
 *
 * // Proxies connect to their emulators only when a request comes; none does here.
 * const kinesis = await startFaultProxy({ service: "kinesis", upstream: "http://127.0.0.1:1" });
 * const sqs = await startFaultProxy({ service: "sqs", upstream: "http://127.0.0.1:1" });
 * const faults = createFaultController(kinesis, sqs);
 * const control = startControlServer(faults, 0, "127.0.0.1");
 * const response = await fetch(`http://127.0.0.1:${control.addr.port}/faults`, {
 *   method: "PUT",
 *   body: JSON.stringify({ kinesis: { errorProbability: 0.1 } }),
 * });
 * (await response.json()).settings.kinesis.errorProbability; // 0.1
 * await control.shutdown();
 * await kinesis.close();
 * await sqs.close();
 * ```
 *
 * @module
 */
import { errorMessage } from "../../src/app/error_message.ts";
import type { FaultProxy } from "./fault_proxy.ts";
import {
  type FaultSettings,
  type FaultSettingsUpdate,
  mergeFaultSettings,
} from "./fault_settings.ts";
import type { FaultStats } from "./fault_stats.ts";

/** Fault settings of both services. */
export interface StackFaultSettings {
  /** Settings of the Kinesis proxy. */
  kinesis: FaultSettings;
  /** Settings of the SQS proxy. */
  sqs: FaultSettings;
}

/** A partial update of the fault settings of either or both services. */
export interface StackFaultUpdate {
  /** Merged into the Kinesis proxy's settings. */
  kinesis?: FaultSettingsUpdate;
  /** Merged into the SQS proxy's settings. */
  sqs?: FaultSettingsUpdate;
}

/** Counters of both proxies. */
export interface StackFaultStats {
  /** Counters of the Kinesis proxy. */
  kinesis: FaultStats;
  /** Counters of the SQS proxy. */
  sqs: FaultStats;
}

/** Runtime control of the injected faults; also served over HTTP by the control endpoint. */
export interface FaultController {
  /**
   * Merges the update into the current settings (both services or neither) and returns the
   * new settings.
   *
   * @throws {RangeError} on an out-of-range value, an unknown key, or a Kinesis-only fault on SQS.
   */
  set(update: StackFaultUpdate): StackFaultSettings;
  /** The current settings. */
  get(): StackFaultSettings;
  /** The counters of both proxies. */
  stats(): StackFaultStats;
  /** Clears every fault and every counter. */
  reset(): void;
}

/**
 * Builds the {@linkcode FaultController} over the two proxies.
 *
 * @example
 * ```ts
 * import { createFaultController } from "./fault_control.ts";
 * import { startFaultProxy } from "./fault_proxy.ts";
 *
 * const kinesis = await startFaultProxy({ service: "kinesis", upstream: "http://127.0.0.1:1" });
 * const sqs = await startFaultProxy({ service: "sqs", upstream: "http://127.0.0.1:1" });
 * const faults = createFaultController(kinesis, sqs);
 * faults.set({ kinesis: { errorProbability: 0.1 }, sqs: { latencyMs: 5 } }).sqs.latencyMs; // 5
 * try {
 *   faults.set({ kinesis: { latencyMs: 1 }, sqs: { errorProbability: 0.5 } });
 * } catch (error) {
 *   (error as RangeError).message; // "errorProbability applies to Kinesis only, not to SQS"
 * }
 * faults.get().kinesis.latencyMs; // 0: a bad update changes neither service
 * await kinesis.close();
 * await sqs.close();
 * ```
 */
export function createFaultController(kinesis: FaultProxy, sqs: FaultProxy): FaultController {
  const get = (): StackFaultSettings => ({ kinesis: kinesis.get(), sqs: sqs.get() });
  return {
    get,
    set(update) {
      checkStackUpdate(update);
      // Validate both halves before applying either, so a bad update changes nothing.
      if (update.kinesis) mergeFaultSettings("kinesis", kinesis.get(), update.kinesis);
      if (update.sqs) mergeFaultSettings("sqs", sqs.get(), update.sqs);
      if (update.kinesis) kinesis.set(update.kinesis);
      if (update.sqs) sqs.set(update.sqs);
      return get();
    },
    stats: () => ({ kinesis: kinesis.stats(), sqs: sqs.stats() }),
    reset() {
      kinesis.reset();
      sqs.reset();
    },
  };
}

const STACK_KEYS = new Set(["kinesis", "sqs"]);

function checkStackUpdate(update: unknown): asserts update is StackFaultUpdate {
  if (typeof update !== "object" || update === null || Array.isArray(update)) {
    throw new RangeError("fault update must be an object like { kinesis: {...}, sqs: {...} }");
  }
  for (const [key, value] of Object.entries(update)) {
    if (!STACK_KEYS.has(key)) throw new RangeError(`unknown service "${key}"`);
    if (value !== undefined && (typeof value !== "object" || value === null)) {
      throw new RangeError(`${key} must be an object of fault settings`);
    }
  }
}

/**
 * Serves the fault controller over HTTP:
 * - `GET /faults` → `{ settings: {kinesis, sqs}, stats: {kinesis, sqs} }`
 * - `PUT /faults` with `{ "kinesis": {...}, "sqs": {...} }` → merges, answers like `GET`
 * - `POST /faults/reset` → clears faults and counters, answers like `GET`
 *
 * A bad update is a 400 with `{ error }` and changes nothing.
 *
 * @example
 * ```ts
 * import { createFaultController, startControlServer } from "./fault_control.ts";
 * import { startFaultProxy } from "./fault_proxy.ts";
 *
 * const kinesis = await startFaultProxy({ service: "kinesis", upstream: "http://127.0.0.1:1" });
 * const sqs = await startFaultProxy({ service: "sqs", upstream: "http://127.0.0.1:1" });
 * const control = startControlServer(createFaultController(kinesis, sqs), 0, "127.0.0.1");
 * const bad = await fetch(`http://127.0.0.1:${control.addr.port}/faults`, {
 *   method: "PUT",
 *   body: JSON.stringify({ lambda: {} }),
 * });
 * [bad.status, (await bad.json()).error]; // [400, 'unknown service "lambda"']
 * await control.shutdown();
 * await kinesis.close();
 * await sqs.close();
 * ```
 */
export function startControlServer(
  faults: FaultController,
  port: number,
  hostname: string,
): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ port, hostname, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    try {
      if (path === "/faults" && request.method === "GET") return snapshot(faults);
      if (path === "/faults" && request.method === "PUT") {
        faults.set(await request.json());
        return snapshot(faults);
      }
      if (path === "/faults/reset" && request.method === "POST") {
        faults.reset();
        return snapshot(faults);
      }
    } catch (error) {
      const message = errorMessage(error);
      return Response.json({ error: message }, { status: 400 });
    }
    const known = path === "/faults" || path === "/faults/reset";
    return Response.json({ error: `${request.method} ${path} not supported` }, {
      status: known ? 405 : 404,
    });
  });
}

function snapshot(faults: FaultController): Response {
  return Response.json({ settings: faults.get(), stats: faults.stats() });
}
