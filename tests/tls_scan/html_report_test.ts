import assert from "node:assert/strict";
import { TlsReport } from "../../src/tls_scan/report.ts";
import { screenshot } from "../../tools/tls_scan/chromium.ts";
import { startFleet } from "../../tools/tls_scan/fleet.ts";
import { startService } from "./service_harness.ts";

/**
 * Chromium's own services, which it calls whatever the page (clock, component updates,
 * accounts): everything else a render asks for came from the document.
 */
const BROWSER_SERVICES =
  /^(clients\d*\.google\.com|[a-z0-9.-]*\.googleapis\.com|accounts\.google\.com|[a-z0-9.-]*\.gvt1\.com)$/;

/**
 * A loopback HTTP proxy that answers nothing: it records the host of every request made to it
 * (`GET http://host/…` or `CONNECT host:443`) and closes the connection.
 */
function countingSink(): { port: number; hosts(): string[]; close(): Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const hosts: string[] = [];
  const open = new Set<Deno.Conn>();
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        open.add(conn);
        (async () => {
          const buffer = new Uint8Array(4096);
          const n = await conn.read(buffer).catch(() => null);
          const line = new TextDecoder().decode(buffer.subarray(0, n ?? 0)).split("\r\n")[0]!;
          const target = line.split(" ")[1] ?? "";
          const host = target.startsWith("http") ? new URL(target).hostname : target.split(":")[0]!;
          hosts.push(host || "(nothing read)");
          open.delete(conn);
          conn.close();
        })();
      }
    } catch {
      // closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    hosts: () => hosts.filter((h) => !BROWSER_SERVICES.test(h)),
    close: async () => {
      listener.close();
      for (const conn of open) conn.close();
      await accepting;
    },
  };
}

/** What an e-mail client would fetch or run: must not appear in a self-contained document. */
const EXTERNAL = /https?:|src=|href=|<link|<script|<img|<iframe|url\(|@import/i;

Deno.test("HTML report and digest: self-contained, rendered by Chromium, no fetch", async () => {
  await using fleet = await startFleet({ only: ["weak_dh", "expiring"] });
  await using service = await startService({ TLS_SCAN_CA_FILE: fleet.caFile });
  const dir = await Deno.makeTempDir({ prefix: "tls-html-" });
  const sink = countingSink();
  try {
    const paths = fleet.targets.map((t) => `/scan?host=localhost&port=${t.port}`);
    // JSON first (stored), then the same report as HTML from the store.
    const reports = await Promise.all(
      paths.map(async (path) => TlsReport.parse((await service.json(path)).body)),
    );
    const weak = reports.find((r) => r.port === fleet.target("weak_dh").port)!;
    const response = await service.get(paths[0]!, { accept: "text/html" });
    assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await response.text();
    const first = reports[0]!;
    assert.ok(html.startsWith("<!DOCTYPE html>"));
    assert.doesNotMatch(html, EXTERNAL);
    assert.ok(html.includes(`TLS report for localhost:${first.port}`), "host");
    assert.ok(html.includes(`>${first.grade}</span>`), `grade ${first.grade}`);
    assert.ok(html.includes(first.certificate!.not_after.slice(0, 10)), "expiry date");
    assert.ok(html.includes(`${first.certificate!.days_remaining} days left`), "days left");
    assert.ok(html.includes(first.certificate!.issuer), "issuer");
    for (const suite of first.suites) assert.ok(html.includes(suite.name), suite.name);
    assert.equal(weak.grade, "B");

    // Watch both; the digest lists them worst first, as HTML and as text.
    const post = await fetch(`${service.base}/scans`, {
      method: "POST",
      body: JSON.stringify({
        hosts: fleet.targets.map((t) => ({ host: "localhost", port: t.port })),
      }),
    });
    assert.equal(post.status, 202);
    await post.body?.cancel();
    const digest = await service.get("/scans/report", { accept: "text/html" });
    const digestHtml = await digest.text();
    assert.equal(digest.headers.get("content-type"), "text/html; charset=utf-8");
    assert.doesNotMatch(digestHtml, EXTERNAL);
    const text = await (await service.get("/scans/report", { accept: "text/plain" })).text();
    const expiring = fleet.target("expiring").port;
    const weakAt = text.indexOf(`localhost:${weak.port}`);
    const expiringAt = text.indexOf(`localhost:${expiring}`);
    assert.ok(weakAt > 0 && expiringAt > weakAt, `B before A:\n${text}`);
    assert.match(text, /^TLS digest: 2 watched hosts/);
    assert.match(text, /weak_dh: a Diffie-Hellman group under 2048 bits/);
    const json = await service.json("/scans/report");
    assert.deepEqual(
      (json.body.hosts as { grade: string }[]).map((h) => h.grade),
      ["B", "A"],
    );

    // Rendered: a real picture (text, a coloured badge), and not one request made.
    for (const [name, document] of [["report", html], ["digest", digestHtml]]) {
      const file = `${dir}/${name}.html`;
      await Deno.writeTextFile(file, document!);
      const shot = await screenshot(file, `${dir}/${name}.png`, {
        width: 900,
        height: 1000,
        proxyPort: sink.port,
      });
      assert.ok(shot.stats.variance > 100, `${name}: ${JSON.stringify(shot.stats)}`);
      assert.ok(shot.stats.distinctColours > 50, `${name}: ${JSON.stringify(shot.stats)}`);
    }
    assert.deepEqual(sink.hosts(), [], "the documents fetched nothing");
    // The check can fail: a page with one external image reaches the sink.
    const control = `${dir}/control.html`;
    await Deno.writeTextFile(control, `<p>x</p><img src="http://images.example/x.png">`);
    await screenshot(control, `${dir}/control.png`, {
      width: 300,
      height: 200,
      proxyPort: sink.port,
    });
    assert.ok(sink.hosts().includes("images.example"), `the control image: ${sink.hosts()}`);
  } finally {
    await sink.close();
    await Deno.remove(dir, { recursive: true });
  }
});
