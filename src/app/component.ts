/**
 * The component contract: what a capability of the service (`submissions`, `ip-events`,
 * `tls-scan`) gives the app, and what the app gives it. A component folder's `mod.ts` exports
 * one {@linkcode ComponentDefinition}; `src/components.ts` lists them; `main.ts` enables those
 * named by `COMPONENTS`.
 *
 * The app reads the shared settings, then only the enabled components' settings
 * ({@linkcode ComponentDefinition.configure}, pure), then makes each enabled component
 * ({@linkcode ComponentDefinition.create}: its clients, sockets and files, nothing running),
 * listens on `HTTP_PORT` with every component's routes beside `/healthz`, `/readyz` and
 * `/metrics`, and starts them. On SIGTERM it stops them all by one deadline.
 *
 * Every component has the same shape (submissions, ip-events and tls-scan alike):
 * - `mod.ts`, its face: the {@linkcode ComponentDefinition} and what tests may use;
 * - `settings.ts`: `SETTINGS` (a `SettingsTable`), `configure(values, env)` (both parameters in
 *   every component, `_env` where it reads nothing beyond its settings) and
 *   `type XConfig = ConfigOf<typeof configure>` (src/app/settings.ts), so the type is inferred;
 * - one lifecycle: its `start` and `stop` go through a `Lifecycle` (src/app/lifecycle.ts):
 *   `idle → starting → running → stopping → stopped`, a second start rejects, stop runs once
 *   and also before start (freeing what `create` made).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Component, defineComponent } from "./component.ts";
 * import { Lifecycle } from "./lifecycle.ts";
 * import { getLogger } from "./logging.ts";
 * import { createRegistry } from "./metrics.ts";
 * import {
 *   type ConfigOf,
 *   type Env,
 *   integer,
 *   readSettings,
 *   type SettingValues,
 * } from "./settings.ts";
 *
 * // settings.ts
 * const SETTINGS = {
 *   GREETER_TIMES: {
 *     schema: integer(1, 10),
 *     default: "1",
 *     allowed: "an integer from 1 to 10",
 *     help: "how many hellos per request",
 *   },
 * } as const;
 * const configure = (values: SettingValues<typeof SETTINGS>, _env: Env) => ({
 *   times: values.GREETER_TIMES,
 * });
 * type GreeterConfig = ConfigOf<typeof configure>;
 *
 * // mod.ts
 * const greeter = defineComponent({
 *   name: "greeter",
 *   summary: "says hello",
 *   settings: SETTINGS,
 *   configure,
 *   create(config: GreeterConfig, { logger }): Component {
 *     const lifecycle = new Lifecycle("greeter");
 *     return {
 *       routes: [{
 *         method: "GET",
 *         path: "/hello",
 *         handle: () => new Response("hello\n".repeat(config.times)),
 *       }],
 *       checks: {},
 *       describe: () => `${config.times} hellos, ${lifecycle.state}`,
 *       start: () => lifecycle.start(() => Promise.resolve(logger.info("greeting"))),
 *       stop: () => lifecycle.stop(() => Promise.resolve()),
 *     };
 *   },
 * });
 *
 * const config = greeter.configure(readSettings(greeter.settings, { GREETER_TIMES: "2" }), {});
 * const component = await greeter.create(config, {
 *   registry: createRegistry().registry,
 *   logger: getLogger("greeter"),
 * });
 * await component.start();
 * assert.equal(component.describe(), "2 hellos, running");
 * await assert.rejects(component.start(), /cannot start greeter: it is running/);
 * const url = new URL("http://localhost/hello");
 * const response = await component.routes[0]!.handle(new Request(url), {}, url);
 * assert.equal(await response.text(), "hello\nhello\n");
 * await component.stop(performance.now() + 1_000);
 * assert.equal(component.describe(), "2 hellos, stopped");
 * ```
 *
 * @module
 */
import type { Registry } from "prom-client";
import type { Logger } from "./logging.ts";
import type { Probe } from "./readiness.ts";
import type { Route } from "./routes.ts";
import type { Env, SettingsTable, SettingValues } from "./settings.ts";

/** What the app gives a component it makes. */
export interface ComponentContext {
  /** The one Prometheus registry: the component registers its metrics here. */
  readonly registry: Registry;
  /** The component's logger (category `edr.<name>`); `getChild` for its parts. */
  readonly logger: Logger;
}

/** A running capability of the service, as the app sees it. */
export interface Component {
  /** The HTTP routes it serves on `HTTP_PORT` (none for a pure pipeline). */
  readonly routes: readonly Route[];
  /**
   * Its readiness checks by name (`sqs`, `kinesis`, `udp`, …): `/readyz` answers 200 only
   * when every check of every enabled component resolves.
   */
  readonly checks: Readonly<Record<string, Probe>>;
  /** One line for the start-up log, e.g. `8 workers, queue submissions, stream events`. */
  describe(): string;
  /**
   * Starts the work and resolves promptly: waiting for a dependency (a queue to resolve, a
   * store to answer) happens in the background and shows in the checks. Rejects only when the
   * component cannot run at all (a port taken, say); the app then stops and exits 1.
   */
  start(): Promise<void>;
  /**
   * Graceful stop: finishes or hands back work in progress and frees every resource, by
   * `deadline` (a `performance.now()` time). Called after `start()` or instead of it; a second
   * call shares the first's promise (the `Lifecycle` rule).
   */
  stop(deadline: number): Promise<void>;
}

/** A component's face: its settings, their derivation, and its factory. */
export interface ComponentDefinition<S extends SettingsTable = SettingsTable, C = unknown> {
  /** The name in `COMPONENTS`, e.g. `submissions`, `ip-events`. */
  readonly name: string;
  /** One line for `--help`, e.g. `SQS submissions → validated events → Kinesis`. */
  readonly summary: string;
  /** Its settings (env var + flag each); read only when the component is enabled. */
  readonly settings: S;
  /**
   * Derives the component's configuration from its validated settings. Pure; throws
   * `ConfigError` (settings.ts) for a combination the schemas cannot see (a required setting).
   */
  configure(values: SettingValues<S>, env: Env): C;
  /** Makes the component: its clients, sockets, files. Nothing runs before `start()`. */
  create(config: C, context: ComponentContext): Component | Promise<Component>;
}

/**
 * Types a component definition (its settings and configuration inferred); the identity.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { defineComponent } from "./component.ts";
 * const definition = {
 *   name: "none",
 *   summary: "does nothing",
 *   settings: {},
 *   configure: () => ({}),
 *   create: () => ({
 *     routes: [],
 *     checks: {},
 *     describe: () => "idle",
 *     start: () => Promise.resolve(),
 *     stop: () => Promise.resolve(),
 *   }),
 * };
 * assert.equal(defineComponent(definition), definition); // only the types change
 * ```
 */
export function defineComponent<S extends SettingsTable, C>(
  definition: ComponentDefinition<S, C>,
): ComponentDefinition<S, C> {
  return definition;
}
