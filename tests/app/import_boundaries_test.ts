/**
 * The house rules of imports, checked over every file under src/ and main.ts:
 *
 * - src/app/ imports no component (only src/app/ itself);
 * - a component (src/<name>/) imports src/app/ and its own folder only, never another
 *   component;
 * - src/components.ts, the one list, imports src/app/ and each component's face (mod.ts);
 * - main.ts imports src/app/ and src/components.ts;
 * - no import cycles.
 *
 * @module
 */
import assert from "node:assert/strict";
import { sourceFiles } from "./source_files.ts";
import { posix } from "node:path";

/** Relative import specifiers of a module's source: static, re-exports, dynamic, side effects. */
export function relativeImports(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gms,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      if (match[1]!.startsWith(".")) found.push(match[1]!);
    }
  }
  return found;
}

/** Where a file sits: `app`, a component's name, `components` (the list), or `main`. */
function placeOf(path: string): string {
  if (path === "main.ts") return "main";
  if (path === "src/components.ts") return "components";
  const [top, folder] = path.split("/");
  if (top !== "src" || folder === undefined || folder.endsWith(".ts")) return "stray";
  return folder;
}

/** Every broken rule among `files` (repository path → source), one line each. */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  const graph = new Map<string, string[]>();
  for (const [path, source] of files) {
    const from = placeOf(path);
    if (from === "stray") {
      found.push(`${path}: src/ holds app/, components' folders and components.ts`);
    }
    const targets = relativeImports(source).map((s) =>
      posix.normalize(posix.join(posix.dirname(path), s))
    );
    graph.set(path, targets.filter((t) => files.has(t)));
    for (const target of targets) {
      const to = placeOf(target);
      // deno.json: the version's one place (src/app/version.ts).
      const allowed = from === "app"
        ? to === "app" || target === "deno.json"
        : from === "main"
        ? to === "app" || to === "components"
        : from === "components"
        ? to === "app" || /^src\/[a-z_]+\/mod\.ts$/.test(target)
        : to === "app" || to === from;
      if (!allowed) found.push(`${path} imports ${target}`);
    }
  }
  found.push(...cycles(graph).map((cycle) => `import cycle: ${cycle.join(" → ")}`));
  return found;
}

/** The import cycles of `graph`, each as the path that closes it. */
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (state.get(next) === undefined) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (state.get(node) === undefined) visit(node);
  return found;
}

Deno.test("the checker sees every form of import and flags each broken rule", () => {
  const files = new Map([
    ["main.ts", 'import { x } from "./src/submissions/worker.ts";\nimport "./src/components.ts";'],
    [
      "src/components.ts",
      'export { a } from "./submissions/mod.ts";\nimport "./ip_events/udp.ts";',
    ],
    ["src/app/app.ts", 'const m = await import("../submissions/mod.ts");'],
    ["src/app/a.ts", 'import type {\n  B,\n} from "./b.ts";'],
    ["src/app/b.ts", 'import { A } from "./a.ts";'],
    [
      "src/submissions/mod.ts",
      'import { y } from "../ip_events/mod.ts";\nimport { z } from "../app/a.ts";',
    ],
    ["src/ip_events/udp.ts", 'import { w } from "./decoder.ts";'],
    ["src/helper.ts", ""],
  ]);
  assert.deepEqual(violations(files).sort(), [
    "import cycle: src/app/a.ts → src/app/b.ts → src/app/a.ts",
    "main.ts imports src/submissions/worker.ts",
    "src/app/app.ts imports src/submissions/mod.ts",
    "src/components.ts imports src/ip_events/udp.ts",
    "src/helper.ts: src/ holds app/, components' folders and components.ts",
    "src/submissions/mod.ts imports src/ip_events/mod.ts",
  ]);
});

Deno.test("no file under src/ imports across component folders, src/app imports no component, no cycles", async () => {
  const files = await sourceFiles();
  // The check reads the real tree: the known edges must be seen, or it would pass vacuously.
  assert.ok(relativeImports(files.get("main.ts")!).includes("./src/components.ts"));
  assert.ok(relativeImports(files.get("src/components.ts")!).includes("./submissions/mod.ts"));
  assert.deepEqual(violations(files), []);
  const components = new Set([...files.keys()].map(placeOf));
  for (const name of components) {
    if (["app", "main", "components"].includes(name)) continue;
    assert.ok(files.has(`src/${name}/mod.ts`), `src/${name}/ has its mod.ts face`);
  }
});
