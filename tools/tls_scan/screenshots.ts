/**
 * Makes the README's screenshots of the e-mail reports: scans a few fleet servers with the
 * service, watches them, and renders `GET /scan` (Accept: text/html) of the weak-DH server and
 * `GET /scans/report` in headless Chromium into `docs/`.
 *
 *   deno run -A tools/tls_scan/screenshots.ts
 *
 * @module
 */
import { TlsReport } from "../../src/tls_scan/report.ts";
import { startService } from "../../tests/tls_scan/service_harness.ts";
import { screenshot } from "./chromium.ts";
import { startFleet } from "./fleet.ts";

const NAMES = ["weak_dh", "mixed", "legacy", "expiring", "sha1", "tls12_only", "good"];

if (import.meta.main) {
  await using fleet = await startFleet({ only: NAMES });
  await using service = await startService({ TLS_SCAN_CA_FILE: fleet.caFile });
  for (const target of fleet.targets) {
    TlsReport.parse((await service.json(`/scan?host=localhost&port=${target.port}`)).body);
  }
  const post = await fetch(`${service.base}/scans`, {
    method: "POST",
    body: JSON.stringify({
      hosts: fleet.targets.map((t) => ({ host: "localhost", port: t.port })),
    }),
  });
  await post.body?.cancel();
  const dir = await Deno.makeTempDir();
  const pages: [string, string, number][] = [
    [`/scan?host=localhost&port=${fleet.target("mixed").port}`, "tls_report", 1250],
    ["/scans/report", "tls_digest", 560],
  ];
  for (const [path, name, height] of pages) {
    const html = await (await service.get(path, { accept: "text/html" })).text();
    await Deno.writeTextFile(`${dir}/${name}.html`, html);
    const shot = await screenshot(`${dir}/${name}.html`, `docs/${name}.png`, {
      width: 900,
      height,
    });
    console.log(`docs/${name}.png ${JSON.stringify(shot.stats)}`);
  }
  await Deno.remove(dir, { recursive: true });
}
