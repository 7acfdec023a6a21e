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
 * ```ts
 * import { type Component, defineComponent } from "./component.ts";
 * import { integer } from "./settings.ts";
 *
 * export const greeter = defineComponent({
 *   name: "greeter",
 *   summary: "says hello",
 *   settings: {
 *     GREETER_TIMES: {
 *       schema: integer(1, 10),
 *       default: "1",
 *       allowed: "an integer from 1 to 10",
 *       help: "how many hellos per request",
 *     },
 *   },
 *   configure: (values) => ({ times: values.GREETER_TIMES }),
 *   create(config, { logger }): Component {
 *     return {
 *       routes: [{
 *         method: "GET",
 *         path: "/hello",
 *         handle: () => new Response("hello\n".repeat(config.times)),
 *       }],
 *       checks: {},
 *       describe: () => `${config.times} hellos`,
 *       start: () => Promise.resolve(logger.info("greeting")),
 *       stop: () => Promise.resolve(),
 *     };
 *   },
 * });
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
   * `deadline` (a `performance.now()` time). Called once, after `start()` or instead of it.
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
 * import { defineComponent } from "./component.ts";
 * const none = defineComponent({
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
 * });
 * ```
 */
export function defineComponent<S extends SettingsTable, C>(
  definition: ComponentDefinition<S, C>,
): ComponentDefinition<S, C> {
  return definition;
}
