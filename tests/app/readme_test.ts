/**
 * The README is part of the product: every path it names exists, every `deno task` it names is a
 * task, every setting of every component is documented, and every link to a section of it or of
 * BENCHMARKS.md leads to a heading.
 *
 * @module
 */
import assert from "node:assert/strict";
import { settingNames } from "../../src/app/app_config.ts";
import { COMPONENTS } from "../../src/components.ts";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));

/** GitHub's anchor of each heading of a Markdown text (repeats get `-1`, `-2`, …). */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6} (.+)$/.exec(line);
    if (heading === null) continue;
    const base = heading[1]!.toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replaceAll(" ", "-");
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

Deno.test("anchors follow GitHub's rules", () => {
  const text = "# A b\n## The ip-events component (IP-event collector)\n### Try it\n### Try it\n" +
    "```\n# not a heading\n```\n### `deno task bench:tls-scan`; 2 cores";
  assert.deepEqual([...anchors(text)], [
    "a-b",
    "the-ip-events-component-ip-event-collector",
    "try-it",
    "try-it-1",
    "deno-task-benchtls-scan-2-cores",
  ]);
});

Deno.test("README: every repository path it names exists", async () => {
  const readme = await read("README.md");
  const paths = new Set(
    [...readme.matchAll(/(?<![\w./-])((?:src|tools|tests|bench|docker)\/[\w./-]*[\w/])/g)]
      .map((m) => m[1]!)
      // `tests/<name>/`-style placeholders describe a pattern, not a path.
      .filter((path) => !path.includes("<")),
  );
  assert.ok(paths.size > 40, `found ${paths.size} paths`);
  const missing: string[] = [];
  for (const path of paths) {
    try {
      await Deno.stat(new URL(path, ROOT));
    } catch {
      missing.push(path);
    }
  }
  assert.deepEqual(missing, []);
});

Deno.test("README: every `deno task` it names is a task of deno.json", async () => {
  const readme = await read("README.md");
  const tasks = Object.keys(JSON.parse(await read("deno.json")).tasks);
  const named = new Set([...readme.matchAll(/deno task ([a-z][\w:-]*)/g)].map((m) => m[1]!));
  assert.ok(named.size >= 10, `found ${named.size}`);
  assert.deepEqual([...named].filter((name) => !tasks.includes(name)), []);
});

Deno.test("README: every setting of every component, and the shared ones, is documented", async () => {
  const readme = await read("README.md");
  const names = settingNames(COMPONENTS);
  assert.deepEqual(names.filter((name) => !readme.includes(`\`${name}\``)), []);
});

Deno.test("README and BENCHMARKS.md: every link to a section leads to a heading", async () => {
  const documents = {
    "README.md": await read("README.md"),
    "BENCHMARKS.md": await read("BENCHMARKS.md"),
  };
  const headings = Object.fromEntries(
    Object.entries(documents).map(([name, text]) => [name, anchors(text)]),
  );
  const broken: string[] = [];
  for (const [name, text] of Object.entries(documents)) {
    for (const [, file, anchor] of text.matchAll(/\]\(((?:README|BENCHMARKS)\.md)?#([^)\s]+)\)/g)) {
      const target = file ?? name;
      if (!headings[target]?.has(anchor!)) broken.push(`${name} → ${target}#${anchor}`);
    }
  }
  assert.deepEqual(broken, []);
});
