import assert from "node:assert/strict";
import { dieWithParent } from "../../tools/common/parent_death.ts";

Deno.test("deno task demo ip-events: the collector answers exact lists, loss and rate printed", async () => {
  // The demo dies with this test run (its collector dies with the demo).
  const { command, args } = dieWithParent(Deno.execPath(), [
    "task",
    "demo",
    "ip-events",
    "--seconds",
    "1",
  ]);
  const output = await new Deno.Command(command, {
    args,
    cwd: new URL("../../", import.meta.url),
    stdin: "null",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, text + new TextDecoder().decode(output.stderr));
  assert.match(text, /collector: pid \d+, HTTP :\d+, UDP :\d+ \(recvmmsg, receive buffer \d+/);
  assert.match(text, /"good_ips": \[/);
  assert.equal(text.match(/lists exact/g)?.length, 3);
  assert.match(
    text,
    /sent 33000 in [\d.]+ s \(\d+\/s, sender \w+, \d+ sends retried\); lost \d+ \([\d.]+ %\): ok/,
  );
  assert.match(text, /collector stopped \(exit 0\)/);
});
