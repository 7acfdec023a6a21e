/** runMain, in a process of its own: the exit code it makes and what it prints on a failure. */
import assert from "node:assert/strict";

const RUN_MAIN = new URL("../../tools/common/run_main.ts", import.meta.url).href;

async function run(body: string): Promise<{ code: number; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", `import { runMain } from "${RUN_MAIN}";\n${body}`],
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: output.code, stderr: new TextDecoder().decode(output.stderr) };
}

Deno.test("runMain: exits with main's code, 0 when it returns nothing, even with a timer left", async () => {
  assert.deepEqual(await run(`await runMain("t", () => Promise.resolve(3));`), {
    code: 3,
    stderr: "",
  });
  const left = await run(`setInterval(() => {}, 1000); await runMain("t", async () => {});`);
  assert.deepEqual(left, { code: 0, stderr: "" });
});

Deno.test("runMain: a throw is the name and the message (or the stack) and the failure code", async () => {
  const usage = await run(
    `await runMain("verify", () => Promise.reject(new Error("no --manifest")));`,
  );
  assert.deepEqual(usage, { code: 2, stderr: "verify: no --manifest\n" });
  const bench = await run(
    `await runMain("bench:x", () => Promise.reject(new Error("boom")), { failureCode: 1, stack: true });`,
  );
  assert.equal(bench.code, 1);
  assert.match(bench.stderr, /^bench:x: Error: boom\n\s+at /);
});
