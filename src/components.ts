/**
 * The one list of components this binary can run; `COMPONENTS` enables some of them (default
 * `submissions`). The only file under src/ that knows every component: src/app/ knows none, and
 * no component knows another.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMPONENTS } from "./components.ts";
 * assert.deepEqual(COMPONENTS.map((c) => c.name), ["submissions", "ip-events", "tls-scan"]);
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
 * import assert from "node:assert/strict";
 * import { COMPONENTS } from "./components.ts";
 * const submissions = COMPONENTS.find((c) => c.name === "submissions");
 * assert.equal(submissions?.summary, "SQS submissions → validated events → Kinesis");
 * ```
 */
export const COMPONENTS: readonly ComponentDefinition[] = [submissions, ipEvents, tlsScan];
