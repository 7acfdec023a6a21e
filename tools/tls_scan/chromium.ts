/**
 * Renders an HTML file in Debian's headless Chromium and reads the screenshot back: how the
 * tests prove the e-mail reports render (a non-blank picture) and fetch nothing (every request
 * Chromium makes goes to a loopback proxy that counts them), and how the README's screenshots
 * are made:
 *
 *   deno run -A tools/tls_scan/chromium.ts page.html docs/page.png 900x1400
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { screenshot } from "./chromium.ts";
 * const shot = await screenshot("/tmp/report.html", "/tmp/report.png", { width: 900, height: 1200 });
 * assert.ok(shot.stats.distinctColours > 10); // text and a coloured badge, not a blank page
 * ```
 *
 * @module
 */
import { decode } from "fast-png";
import { dieWithParent } from "../common/parent_death.ts";

/** What a PNG shows, roughly. */
export interface PixelStats {
  readonly width: number;
  readonly height: number;
  /** Variance of the pixels' luminance (0 for a blank picture). */
  readonly variance: number;
  /** Distinct RGB colours (capped at 10 000). */
  readonly distinctColours: number;
}

/** Options of {@linkcode screenshot}. */
export interface ScreenshotOptions {
  readonly width: number;
  readonly height: number;
  /** Every request Chromium makes goes to this loopback port (an HTTP proxy). */
  readonly proxyPort?: number;
  readonly timeoutMs?: number;
}

/** A screenshot taken. */
export interface Screenshot {
  readonly png: string;
  readonly stats: PixelStats;
}

/**
 * The luminance variance and colour count of a PNG.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { encode } from "fast-png";
 * import { pixelStats } from "./chromium.ts";
 * const blank = encode({ width: 2, height: 2, data: new Uint8Array(16).fill(255), channels: 4 });
 * assert.deepEqual(pixelStats(blank), { width: 2, height: 2, variance: 0, distinctColours: 1 });
 * ```
 */
export function pixelStats(png: Uint8Array): PixelStats {
  const image = decode(png);
  const channels = image.channels;
  const data = image.data;
  const scale = image.depth === 16 ? 257 : 1;
  let sum = 0;
  let sumSquares = 0;
  const colours = new Set<number>();
  const pixels = image.width * image.height;
  for (let i = 0; i < pixels; i++) {
    const at = i * channels;
    const r = Number(data[at]) / scale;
    const g = Number(data[at + (channels >= 3 ? 1 : 0)]) / scale;
    const b = Number(data[at + (channels >= 3 ? 2 : 0)]) / scale;
    const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    sum += y;
    sumSquares += y * y;
    if (colours.size < 10_000) colours.add((r << 16) | (g << 8) | b);
  }
  const mean = sum / pixels;
  return {
    width: image.width,
    height: image.height,
    variance: Math.round((sumSquares / pixels - mean * mean) * 100) / 100,
    distinctColours: colours.size,
  };
}

/** Renders `htmlPath` into `pngPath` with headless Chromium (no network but `proxyPort`). */
export async function screenshot(
  htmlPath: string,
  pngPath: string,
  options: ScreenshotOptions,
): Promise<Screenshot> {
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  try {
    const { command, args } = dieWithParent("chromium", [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--hide-scrollbars",
      `--user-data-dir=${profile}`,
      // No request leaves the machine: whatever the page asks for reaches the counting proxy.
      `--proxy-server=http://127.0.0.1:${options.proxyPort ?? 9}`,
      "--proxy-bypass-list=<-loopback>",
      `--screenshot=${pngPath}`,
      `--window-size=${options.width},${options.height}`,
      `file://${htmlPath}`,
    ]);
    const run = await new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
    }).output();
    if (!run.success) {
      const err = new TextDecoder().decode(run.stderr).slice(-500);
      throw new Error(`chromium failed (${run.code}): ${err}`);
    }
    return { png: pngPath, stats: pixelStats(await Deno.readFile(pngPath)) };
  } finally {
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const [html, png, size = "900x1400"] = Deno.args;
  if (!html || !png) {
    console.error("usage: chromium.ts page.html out.png [WIDTHxHEIGHT]");
    Deno.exit(2);
  }
  const [width, height] = size.split("x").map(Number);
  const shot = await screenshot(await Deno.realPath(html), png, {
    width: width!,
    height: height!,
  });
  console.log(`${png}: ${JSON.stringify(shot.stats)}`);
}
