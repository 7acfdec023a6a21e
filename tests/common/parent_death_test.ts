/**
 * Children die with their parent: a process killed with SIGKILL (no clean-up code runs) takes
 * its `dieWithParent` children with it, and a Deno program watching with `exitWhenOrphaned`
 * exits once its parent is gone.
 */
import assert from "node:assert/strict";
import { dieWithParent } from "../../tools/common/parent_death.ts";

const PARENT_DEATH = new URL("../../tools/common/parent_death.ts", import.meta.url).href;

/** Whether `pid` is still running (a zombie, dead but not yet reaped, is not). */
async function running(pid: number): Promise<boolean> {
  try {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) [ZX]/s.test(stat);
  } catch {
    return false;
  }
}

async function waitUntil(what: string, condition: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/**
 * Runs `body` in a Deno child whose own child's pid is the first line on stdout (printed by
 * either), SIGKILLs that Deno child, and resolves with the grandchild's pid.
 */
async function orphanGrandchild(body: string): Promise<number> {
  const { command, args } = dieWithParent(Deno.execPath(), [
    "eval",
    `import { dieWithParent, exitWhenOrphaned } from "${PARENT_DEATH}";\n${body}`,
  ]);
  const parent = new Deno.Command(command, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.releaseLock();
  const pid = Number(text.trim());
  assert.ok(pid > 0, `no pid printed: ${JSON.stringify(text)}`);
  assert.ok(await running(pid));
  parent.kill("SIGKILL");
  await parent.status;
  await parent.stdout.cancel().catch(() => {});
  return pid;
}

Deno.test("dieWithParent: a child outlives nothing; SIGKILL of its parent kills it", async () => {
  assert.equal(dieWithParent("sleep", ["1"]).command, "setpriv", "setpriv must be usable here");
  const pid = await orphanGrandchild(`
    const { command, args } = dieWithParent("sleep", ["300"]);
    const child = new Deno.Command(command, { args, stdin: "null" }).spawn();
    console.log(child.pid);
    await child.status;
  `);
  await waitUntil(`sleep (pid ${pid}) to die`, async () => !await running(pid));
});

Deno.test("exitWhenOrphaned: a Deno program exits once its parent is gone", async () => {
  // The grandchild is spawned plainly (no parent-death signal): only its own watch ends it.
  // It prints its own pid (on the stdout it shares with its parent) once it watches.
  const watching = "exitWhenOrphaned({ intervalMs: 100 }); console.log(Deno.pid); " +
    "setInterval(() => {}, 1000);";
  const pid = await orphanGrandchild(`
    const child = new Deno.Command(Deno.execPath(), {
      args: ["eval", 'import { exitWhenOrphaned } from "${PARENT_DEATH}"; ${watching}'],
      stdin: "null",
    }).spawn();
    await child.status;
  `);
  await waitUntil(`the orphaned program (pid ${pid}) to exit`, async () => !await running(pid));
});
