/**
 * deploy/prometheus: `promtool check rules` accepts every rule file, `promtool test rules` passes
 * every unit test file, every alert has a summary and a runbook, and every alert is tested both
 * firing and quiet.
 *
 * @module
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { filesIn, metricNames, ROOT, ruleFiles } from "./deploy_files.ts";

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  const { code, stdout, stderr } = await new Deno.Command("promtool", {
    args,
    cwd: new URL("deploy/prometheus/", ROOT),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

const relative = (path: string) => path.replace("deploy/prometheus/", "");

Deno.test("promtool check rules: every rule file is valid", async () => {
  const files = (await filesIn("deploy/prometheus/rules", ".yml")).map(relative);
  assert.ok(files.length >= 3, files.join(", "));
  const { code, output } = await promtool("check", "rules", ...files);
  assert.equal(code, 0, output);
  assert.equal(output.match(/SUCCESS/g)?.length, files.length, output);
});

Deno.test("promtool test rules: every unit test file passes", async () => {
  const files = (await filesIn("deploy/prometheus/tests", ".yml")).map(relative);
  assert.ok(files.length >= 3, files.join(", "));
  const { code, output } = await promtool("test", "rules", ...files);
  assert.equal(code, 0, output);
  assert.doesNotMatch(output, /FAILED/);
});

Deno.test("every alert has a summary and a runbook, and a firing and a quiet test", async () => {
  const alerts = new Map<string, { firing: number; quiet: number }>();
  for (const file of await ruleFiles()) {
    for (const group of file.groups) {
      for (const rule of group.rules) {
        if (rule.record) {
          assert.ok(metricNames(rule.expr).size > 0, `${rule.record} reads a metric`);
          continue;
        }
        assert.ok(rule.alert, `${file.path}: a rule is an alert or a recording rule`);
        assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
        assert.ok((rule.annotations?.runbook ?? "").length > 20, `${rule.alert}: runbook`);
        assert.ok(rule.labels?.severity, `${rule.alert}: severity`);
        assert.ok(!alerts.has(rule.alert), `${rule.alert} defined once`);
        alerts.set(rule.alert, { firing: 0, quiet: 0 });
      }
    }
  }
  assert.ok(alerts.size >= 15, `${alerts.size} alerts`);
  for (const path of await filesIn("deploy/prometheus/tests", ".yml")) {
    const { tests } = parse(await Deno.readTextFile(new URL(path, ROOT)));
    for (const test of tests) {
      for (const check of test.alert_rule_test ?? []) {
        const seen = alerts.get(check.alertname);
        assert.ok(seen, `${path}: ${check.alertname} is an alert of the rule files`);
        if ((check.exp_alerts ?? []).length > 0) seen.firing++;
        else seen.quiet++;
      }
    }
  }
  for (const [alert, { firing, quiet }] of alerts) {
    assert.ok(firing > 0, `${alert}: a test where it fires`);
    assert.ok(quiet > 0, `${alert}: a test where it stays quiet`);
  }
  console.log(`${alerts.size} alerts, each tested firing and quiet`);
});

Deno.test("metricNames: metrics only, not functions, labels, keywords or recording rules", () => {
  const expr = 'sum by (reason) (rate(edr_a_total{reason!="capacity"}[$__rate_interval]))' +
    " / on () group_left edr_x:rate5m > 0.01 and count by (v) (edr_b) unless up offset 1d" +
    ' or histogram_quantile(0.99, sum by (le) (rate(edr_c_bucket{job="j"}[5m])))';
  assert.deepEqual([...metricNames(expr)].sort(), ["edr_a_total", "edr_b", "edr_c_bucket", "up"]);
  assert.deepEqual([...metricNames("label_values(edr_build_info, instance)")], [
    "edr_build_info",
  ]);
});
