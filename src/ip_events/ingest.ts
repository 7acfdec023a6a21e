/**
 * From bytes to the store: decodes each datagram (or POST body), counts rejects by reason and
 * hands the valid events to the store in one batch. The metrics move once per batch.
 *
 * @module
 */
import { decodeIpEvent, type DecodeResult, type IpEvent } from "./decode_ip_event.ts";
import { DECODE_REJECT_REASONS, type DecodeRejectReason } from "./drop_reason.ts";
import type { IpEventsMetrics } from "./metrics.ts";
import type { IpEventStore } from "./store.ts";

/** The parts of the metrics the ingest moves. */
export type IngestMetrics = Pick<
  IpEventsMetrics,
  "datagramsReceived" | "postsReceived" | "eventsCounted" | "dropped"
>;

/** Options of {@linkcode Ingest}. */
export interface IngestOptions {
  /** Where valid events go. */
  readonly store: IpEventStore;
  /** What is counted. */
  readonly metrics: IngestMetrics;
}

/**
 * Decodes and records events; its {@linkcode Ingest.datagrams} is the UDP receivers' sink.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { Ingest } from "./ingest.ts";
 * import { MemoryStore } from "./memory_store.ts";
 * import { createIpEventsMetrics } from "./metrics.ts";
 * const store = new MemoryStore({ maxApps: 10, maxIpsPerApp: 10 });
 * const metrics = createIpEventsMetrics(new Registry(), {
 *   stats: () => store.stats(),
 *   udpCounters: () => undefined,
 *   socketDrops: () => undefined,
 * });
 * const ingest = new Ingest({ store, metrics });
 * const sha = new TextEncoder().encode("ab".repeat(32));
 * ingest.datagrams([new Uint8Array([0x0a, 0x40, ...sha, 0x10, 0x05]), new Uint8Array([0x10])], 0);
 * // the second datagram is dropped (truncated)
 * assert.deepEqual(store.stats(), { apps: 1, ips: 1 });
 * ```
 */
export class Ingest {
  readonly #store: IpEventStore;
  readonly #metrics: IngestMetrics;
  readonly #rejects = new Map<DecodeRejectReason, number>(DECODE_REJECT_REASONS.map((r) => [r, 0]));

  /** Makes an ingest over `options.store`. */
  constructor(options: IngestOptions) {
    this.#store = options.store;
    this.#metrics = options.metrics;
  }

  /** Records a batch of datagrams (oversized ones count as truncated). */
  readonly datagrams = (datagrams: readonly Uint8Array[], oversized: number): void => {
    const events: IpEvent[] = [];
    let rejected = oversized;
    if (oversized > 0) this.#reject("truncated", oversized);
    for (const bytes of datagrams) {
      const result = decodeIpEvent(bytes);
      if (result.ok) events.push(result.event);
      else {
        rejected++;
        this.#reject(result.reason, 1);
      }
    }
    this.#metrics.datagramsReceived.inc(datagrams.length + oversized);
    if (rejected > 0) this.#flushRejects();
    this.#record(events);
  };

  /** Records one POST body; the decode result tells the caller what to answer. */
  post(body: Uint8Array): DecodeResult {
    this.#metrics.postsReceived.inc();
    const result = decodeIpEvent(body);
    if (result.ok) this.#record([result.event]);
    else this.#metrics.dropped.inc({ reason: result.reason });
    return result;
  }

  #record(events: IpEvent[]): void {
    if (events.length === 0) return;
    const { counted, capacity } = this.#store.record(events);
    this.#metrics.eventsCounted.inc(counted);
    if (capacity > 0) this.#metrics.dropped.inc({ reason: "capacity" }, capacity);
  }

  #reject(reason: DecodeRejectReason, n: number): void {
    this.#rejects.set(reason, this.#rejects.get(reason)! + n);
  }

  #flushRejects(): void {
    for (const [reason, n] of this.#rejects) {
      if (n === 0) continue;
      this.#metrics.dropped.inc({ reason }, n);
      this.#rejects.set(reason, 0);
    }
  }
}
