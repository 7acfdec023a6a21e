/**
 * The operations files under deploy/, read for the tests: the Prometheus rule files (alerts and
 * recording rules), the promtool unit tests, the Grafana dashboards, and the metric names their
 * PromQL expressions use.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricNames } from "./deploy_files.ts";
 * const names = metricNames('sum by (le) (rate(edr_x_seconds_bucket{a="b"}[5m])) / edr_y:rate5m');
 * assert.deepEqual([...names], ["edr_x_seconds_bucket"]);
 * ```
 *
 * @module
 */
import { parse } from "yaml";

/** The repository root. */
export const ROOT: URL = new URL("../../", import.meta.url);

/** One rule of a rule file. */
export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

/** A rule file: its path and its groups. */
export interface RuleFile {
  readonly path: string;
  readonly groups: readonly { name: string; rules: readonly Rule[] }[];
}

/** The files of `dir` (repository-relative) ending in `suffix`, sorted. */
export async function filesIn(dir: string, suffix: string): Promise<string[]> {
  const paths: string[] = [];
  for await (const entry of Deno.readDir(new URL(dir, ROOT))) {
    if (entry.isFile && entry.name.endsWith(suffix)) paths.push(`${dir}/${entry.name}`);
  }
  return paths.sort();
}

/** Every rule file of deploy/prometheus/rules. */
export async function ruleFiles(): Promise<RuleFile[]> {
  const files: RuleFile[] = [];
  for (const path of await filesIn("deploy/prometheus/rules", ".yml")) {
    const { groups } = parse(await Deno.readTextFile(new URL(path, ROOT)));
    files.push({ path, groups });
  }
  return files;
}

/** Every PromQL expression of every Grafana dashboard, by dashboard file. */
export async function dashboardQueries(): Promise<Map<string, string[]>> {
  const queries = new Map<string, string[]>();
  for (const path of await filesIn("deploy/grafana/dashboards", ".json")) {
    const dashboard = JSON.parse(await Deno.readTextFile(new URL(path, ROOT)));
    const exprs: string[] = [];
    for (const panel of dashboard.panels ?? []) {
      for (const target of panel.targets ?? []) if (target.expr) exprs.push(target.expr);
    }
    for (const variable of dashboard.templating?.list ?? []) {
      const query = typeof variable.query === "string" ? variable.query : variable.query?.query;
      if (variable.type === "query" && query) exprs.push(query);
    }
    queries.set(path, exprs);
  }
  return queries;
}

/** PromQL's words that look like metric names but are not (aggregations may take `by` first). */
const NOT_METRICS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "and",
  "or",
  "unless",
  "offset",
  "bool",
  "inf",
  "nan",
]);

/**
 * The metric names an expression reads: identifiers that are not functions (followed by `(`),
 * label names or values (inside `{…}` or a `by (…)` list), keywords, durations or recording
 * rules (their names hold a `:`). Grafana's `$__rate_interval` and `label_values(name, label)`
 * are understood.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { metricNames } from "./deploy_files.ts";
 * assert.deepEqual([...metricNames("label_values(edr_tls_scan_grade_rank, host)")], [
 *   "edr_tls_scan_grade_rank",
 * ]);
 * ```
 */
export function metricNames(expr: string): Set<string> {
  const names = new Set<string>();
  const labelValues = /^label_values\(\s*([A-Za-z_:][\w:]*)/.exec(expr.trim());
  if (labelValues) return new Set([labelValues[1]!]);
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, "") // label matchers
    .replace(/\[[^\]]*\]/g, "") // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "$1");
  for (const match of stripped.matchAll(/(?<![\w:$.])([A-Za-z_:][\w:]*)(?![\w:])(\s*\()?/g)) {
    const [, name, call] = match;
    if (call || name!.includes(":") || NOT_METRICS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return names;
}
