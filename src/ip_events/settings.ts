/**
 * The settings of the ip-events component (environment variable or flag each; read only when
 * `COMPONENTS` names `ip-events`), and the configuration derived from them.
 *
 * @module
 */
import { z } from "zod";
import {
  type ConfigOf,
  type Env,
  integer,
  type SettingsTable,
  type SettingValues,
} from "../app/settings.ts";
import { RECEIVE_PATHS } from "./udp_receiver.ts";
import { configureStore, STORE_SETTINGS } from "./store_settings.ts";

/** The table of settings. */
export const SETTINGS = {
  IP_EVENTS_UDP_PORT: {
    schema: integer(0, 65535),
    default: "3001",
    allowed: "a port from 0 to 65535 (0: any free port)",
    help: "UDP port the events arrive on (the clients' default is 3001)",
  },
  IP_EVENTS_UDP_HOST: {
    schema: z.ipv4(),
    default: "0.0.0.0",
    allowed: "an IPv4 address",
    help: "address the UDP socket binds",
  },
  IP_EVENTS_UDP_RECEIVE_BUFFER_BYTES: {
    schema: integer(65_536, 1 << 30),
    default: String(4 << 20),
    allowed: "an integer from 65536 to 1073741824",
    help: "SO_RCVBUF asked for (the kernel doubles it and caps it at net.core.rmem_max; the " +
      "value in force is logged); absorbs bursts: 4 MiB holds ~0.3 s at 33 000 datagrams/s",
  },
  IP_EVENTS_UDP_RECEIVER: {
    schema: z.enum(["auto", ...RECEIVE_PATHS]),
    default: "auto",
    allowed: "auto, recvmmsg or dgram",
    help: "UDP receive path: recvmmsg through FFI (needs --allow-ffi), node:dgram (kernel " +
      "default buffer, loses datagrams from ~33 000/s), or auto: recvmmsg when FFI works",
  },
  IP_EVENTS_MAX_APPS: {
    schema: integer(1, 10_000_000),
    default: "100000",
    allowed: "an integer from 1 to 10000000",
    help: "apps tracked at most; events of further apps are dropped (reason capacity)",
  },
  IP_EVENTS_MAX_IPS_PER_APP: {
    schema: integer(1, 1_000_000),
    default: "64",
    allowed: "an integer from 1 to 1000000",
    help: "distinct IPs kept per app at most; further IPs still count in the app's count but " +
      "are not kept (reason capacity)",
  },
  ...STORE_SETTINGS,
} as const satisfies SettingsTable;

/**
 * Derives the configuration from the validated settings. The environment is the contract's
 * second argument (src/app/component.ts); ip-events reads nothing from it beyond its settings.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readSettings } from "../app/settings.ts";
 * import { configure, SETTINGS } from "./settings.ts";
 * assert.equal(configure(readSettings(SETTINGS, {}), {}).udpPort, 3001);
 * ```
 */
export function configure(values: SettingValues<typeof SETTINGS>, _env: Env) {
  return {
    udpHost: values.IP_EVENTS_UDP_HOST,
    udpPort: values.IP_EVENTS_UDP_PORT,
    receiveBufferBytes: values.IP_EVENTS_UDP_RECEIVE_BUFFER_BYTES,
    receiver: values.IP_EVENTS_UDP_RECEIVER,
    maxApps: values.IP_EVENTS_MAX_APPS,
    maxIpsPerApp: values.IP_EVENTS_MAX_IPS_PER_APP,
    /** Where the state is kept (memory, or Redis shared by every instance). */
    store: configureStore(values),
  };
}

/** The component's configuration. */
export type IpEventsConfig = ConfigOf<typeof configure>;
