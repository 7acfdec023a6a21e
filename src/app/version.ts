/**
 * What this build is: the version (one place, `deno.json`'s `version`, bundled into the compiled
 * binary), the Deno runtime and the commit it was built from when the build said so
 * (`EDR_BUILD_COMMIT`, set by the Dockerfile's build argument). `--version` prints it and
 * `/metrics` carries it as `edr_build_info`.
 *
 * @module
 */
import denoJson from "../../deno.json" with { type: "json" };

/** The build's identity: every value is a short string, fit for a metric label. */
export interface BuildInfo {
  /** The service's version (semver, from deno.json). */
  readonly version: string;
  /** The Deno runtime running it. */
  readonly deno: string;
  /** The V8 engine. */
  readonly v8: string;
  /** The TypeScript version Deno bundles. */
  readonly typescript: string;
  /** The git commit built, or `unknown`. */
  readonly commit: string;
}

/**
 * The service's version, from deno.json.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { VERSION } from "./version.ts";
 * assert.match(VERSION, /^\d+\.\d+\.\d+/);
 * ```
 */
export const VERSION: string = denoJson.version;

/**
 * The build's identity, read once.
 *
 * @example The version and the runtime
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildInfo, VERSION } from "./version.ts";
 * const info = buildInfo({ EDR_BUILD_COMMIT: "0123abc" });
 * assert.equal(info.version, VERSION);
 * assert.equal(info.commit, "0123abc");
 * assert.equal(buildInfo({}).commit, "unknown");
 * ```
 */
export function buildInfo(env: Readonly<Record<string, string | undefined>>): BuildInfo {
  const commit = env.EDR_BUILD_COMMIT?.trim();
  return {
    version: VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    commit: commit ? commit : "unknown",
  };
}
