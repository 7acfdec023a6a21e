import assert from "node:assert/strict";
import { main } from "../../tools/tls_scan/demo.ts";

Deno.test("deno task demo tls-scan: every target scanned by both engines, a table and a text report", async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => lines.push(args.join(" "));
  let code: number;
  try {
    code = await main(["--report", "legacy"]);
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  const out = lines.join("\n");
  assert.match(out, /^good +localhost:\d+ +A +36[45] +\d+ +\d+ +-$/m);
  assert.match(
    out,
    /^legacy_only +localhost:\d+ +C .*tls1_0, tls1_1, legacy_only, no_tls1_3, no_aead$/m,
  );
  assert.match(out, /^silent +localhost:\d+ +- .*ERROR: No TLS answer within 3 s$/m);
  assert.match(out, /^every s_server still completes a handshake$/m);
  assert.match(out, /^TLS report for localhost:\d+$/m);
  assert.match(out, /^ {2}- tls1_0: TLS 1\.0 is offered/m);
  assert.match(out, /^cached\.example +cached\.example:443 +A\+ +90 +1 /m);
  assert.match(out, /peak current [12] of max 2, 429s 0$/m);
});
