/**
 * The ip-events component: UDP protobuf events from apps (which IP each app connected to), and
 * per app which IPs are normal (its /28) and which are not, over HTTP. Enabled with
 * `COMPONENTS=ip-events`; needs no AWS at all.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { ipEvents } from "./mod.ts";
 * // src/components.ts lists it; main.ts enables it when COMPONENTS names "ip-events".
 * assert.equal(ipEvents.settings.IP_EVENTS_UDP_PORT.default, "3001");
 * ```
 *
 * @module
 */
import { defineComponent } from "../app/component.ts";
import { createCollector } from "./collector.ts";
import { configure, SETTINGS } from "./settings.ts";

/** The component's definition. */
export const ipEvents = defineComponent({
  name: "ip-events",
  summary: "UDP IP events from apps → which IPs of each app are normal (/28), over HTTP",
  settings: SETTINGS,
  configure,
  create: (config, context) => createCollector(config, context),
});
