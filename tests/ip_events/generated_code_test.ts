/**
 * Generated code is generated: `deno task gen:proto` (buf.gen.yaml: buf and protoc-gen-es from
 * npm) run again into a temporary folder writes exactly the checked-in
 * src/ip_events/ip_event_pb.ts, so nobody patches it by hand and the .proto stays its source.
 *
 * @module
 */
import assert from "node:assert/strict";
import { taskCommand } from "../../tools/common/start_task.ts";

const ROOT = new URL("../../", import.meta.url);
const GENERATED = "src/ip_events/ip_event_pb.ts";

Deno.test("deno task gen:proto regenerates src/ip_events/ip_event_pb.ts byte for byte", async () => {
  const out = await Deno.makeTempDir({ prefix: "gen-proto-" });
  try {
    const [command, ...args] = taskCommand("gen:proto");
    const result = await new Deno.Command(command!, {
      args: [...args, "--output", out],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 0, stderr);
    const regenerated = await Deno.readTextFile(`${out}/${GENERATED}`);
    const checkedIn = await Deno.readTextFile(new URL(GENERATED, ROOT));
    assert.equal(checkedIn, regenerated, `${GENERATED} differs from what buf generates`);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
