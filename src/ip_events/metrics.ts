/**
 * The component's Prometheus metrics (`edr_ip_events_*`), registered in the service's one
 * registry. Counters are incremented once per batch, not per datagram.
 *
 * @module
 */
import client, { type Registry } from "prom-client";
import { DROP_REASONS } from "./drop_reason.ts";
import type { StoreStats } from "./store.ts";
import type { UdpCounters } from "./proc_net.ts";

/** Where the gauges read their values at scrape time. */
export interface MetricsSources {
  /** The store's size. */
  readonly stats: () => StoreStats;
  /** The kernel's UDP counters, or `undefined` when /proc cannot be read. */
  readonly udpCounters: () => UdpCounters | undefined;
  /** Drops of the collector's socket, or `undefined` when unknown. */
  readonly socketDrops: () => number | undefined;
}

/**
 * Makes and registers every metric of the component.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Registry } from "prom-client";
 * import { createIpEventsMetrics } from "./metrics.ts";
 * const registry = new Registry();
 * const metrics = createIpEventsMetrics(registry, {
 *   stats: () => ({ apps: 0, ips: 0 }),
 *   udpCounters: () => undefined,
 *   socketDrops: () => undefined,
 * });
 * metrics.datagramsReceived.inc();
 * assert.match(await registry.metrics(), /^edr_ip_events_\w+_total 1$/m);
 * ```
 */
export function createIpEventsMetrics(registry: Registry, sources: MetricsSources) {
  const registers = [registry];
  const metrics = {
    datagramsReceived: new client.Counter({
      name: "edr_ip_events_datagrams_received_total",
      help: "UDP datagrams taken from the socket, valid or not",
      registers,
    }),
    postsReceived: new client.Counter({
      name: "edr_ip_events_posts_received_total",
      help: "POST /events bodies received, valid or not",
      registers,
    }),
    eventsCounted: new client.Counter({
      name: "edr_ip_events_events_counted_total",
      help: "Events added to their app's count",
      registers,
    }),
    dropped: new client.Counter({
      name: "edr_ip_events_dropped_total",
      help: "Events rejected by reason; capacity: app or IP past a cap (an IP past the per-app " +
        "cap still counts in its app's count)",
      labelNames: ["reason"] as const,
      registers,
    }),
    receiveErrors: new client.Counter({
      name: "edr_ip_events_receive_errors_total",
      help: "Failed receive calls on the UDP socket",
      registers,
    }),
    getSeconds: new client.Histogram({
      name: "edr_ip_events_get_duration_seconds",
      help: "Time to answer GET /events/:app_sha256, the drain included",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    }),
    receiveBufferBytes: new client.Gauge({
      name: "edr_ip_events_udp_receive_buffer_bytes",
      help: "The UDP socket's receive buffer as the kernel reports it (0: unknown)",
      registers,
    }),
    receivePath: new client.Gauge({
      name: "edr_ip_events_udp_receive_path",
      help: "1 for the UDP receive path in use",
      labelNames: ["path"] as const,
      registers,
    }),
  };
  for (const reason of DROP_REASONS) metrics.dropped.inc({ reason }, 0);
  new client.Gauge({
    name: "edr_ip_events_apps_tracked",
    help: "Apps the store tracks",
    registers,
    collect() {
      this.set(sources.stats().apps);
    },
  });
  new client.Gauge({
    name: "edr_ip_events_ips_tracked",
    help: "Distinct (app, IP) pairs the store tracks",
    registers,
    collect() {
      this.set(sources.stats().ips);
    },
  });
  // The kernel keeps these counters; each scrape copies the current value (a drop back, after
  // a reboot or a new socket, is a counter reset to Prometheus's rate()).
  new client.Counter({
    name: "edr_ip_events_udp_rcvbuf_errors_total",
    help: "Datagrams the kernel dropped for a full receive buffer, machine-wide " +
      "(/proc/net/snmp Udp RcvbufErrors; 0 when unreadable)",
    registers,
    collect() {
      const counters = sources.udpCounters();
      this.reset();
      if (counters) this.inc(counters.rcvbufErrors);
    },
  });
  new client.Counter({
    name: "edr_ip_events_udp_socket_drops_total",
    help: "Datagrams the kernel dropped at the collector's own socket (/proc/net/udp drops; " +
      "0 when unreadable)",
    registers,
    collect() {
      const drops = sources.socketDrops();
      this.reset();
      if (drops !== undefined) this.inc(drops);
    },
  });
  return metrics;
}

/** The component's metrics. */
export type IpEventsMetrics = ReturnType<typeof createIpEventsMetrics>;
