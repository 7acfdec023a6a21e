/**
 * The one list of components this binary can run; `COMPONENTS` enables some of them (default
 * `submissions`). The only file under src/ that knows every component: src/app/ knows none, and
 * no component knows another.
 *
 * ```ts
 * import { COMPONENTS } from "./components.ts";
 * COMPONENTS.map((c) => c.name); // ["submissions", …]
 * ```
 *
 * @module
 */
import type { ComponentDefinition } from "./app/component.ts";
import { ipEvents } from "./ip_events/mod.ts";
import { submissions } from "./submissions/mod.ts";
import { tlsScan } from "./tls_scan/mod.ts";

/**
 * Every component, in the order `--help` lists them.
 *
 * ```ts
 * import { COMPONENTS } from "./components.ts";
 * COMPONENTS.find((c) => c.name === "submissions")?.summary;
 * ```
 */
export const COMPONENTS: readonly ComponentDefinition[] = [submissions, ipEvents, tlsScan];
