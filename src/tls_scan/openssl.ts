/**
 * Runs one `openssl` process with a hard timeout and a bounded capture. `s_client` has no
 * handshake timeout of its own (a server that accepts and never answers holds it forever), so
 * the process is killed when the timeout fires, when the caller aborts, or when its output
 * passes the bound; and whatever happens it is waited for, so no process outlives the call.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runOpenssl } from "./openssl.ts";
 * const run = await runOpenssl(["version"], { timeoutMs: 5_000 });
 * assert.match(run.stdout, /^OpenSSL 3\./);
 * ```
 *
 * @module
 */

/** Options of {@linkcode runOpenssl}. */
export interface RunOptions {
  /** Kill the process after this many milliseconds. */
  readonly timeoutMs: number;
  /** Written to the process's stdin, which is then closed. Default: nothing (EOF at once). */
  readonly stdin?: string | undefined;
  /** Bytes kept of stdout and of stderr each; past it the process is killed. Default 256 KiB. */
  readonly maxOutputBytes?: number;
  /** Aborting kills the process. */
  readonly signal?: AbortSignal;
  /** The executable. Default `openssl` (what `--allow-run=openssl` permits). */
  readonly command?: string;
}

/** What one process did. */
export interface RunResult {
  /** Exit code (`null` when killed). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Killed because the timeout fired. */
  readonly timedOut: boolean;
  /** Killed because the caller aborted. */
  readonly aborted: boolean;
  /** Wall time in milliseconds. */
  readonly elapsedMs: number;
}

/**
 * Runs `openssl args…`; resolves when the process has exited (or was killed and reaped).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { runOpenssl } from "./openssl.ts";
 * const run = await runOpenssl(["enc", "-base64"], { timeoutMs: 5_000, stdin: "hello" });
 * assert.deepEqual([run.code, run.stdout, run.timedOut], [0, "aGVsbG8=\n", false]);
 * ```
 */
export async function runOpenssl(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const limit = options.maxOutputBytes ?? 256 * 1024;
  const child = new Deno.Command(options.command ?? "openssl", {
    args: [...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  let aborted = false;
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, options.timeoutMs);
  const onAbort = () => {
    aborted = true;
    kill();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    const writeStdin = (async () => {
      const writer = child.stdin.getWriter();
      try {
        if (options.stdin) await writer.write(new TextEncoder().encode(options.stdin));
        await writer.close();
      } catch {
        // the process exited or was killed before reading its input
      }
    })();
    const [stdout, stderr] = await Promise.all([
      readBounded(child.stdout, limit, kill),
      readBounded(child.stderr, limit, kill),
      writeStdin,
    ]);
    const status = await child.status;
    return {
      code: killed ? null : status.code,
      stdout,
      stderr,
      timedOut,
      aborted,
      elapsedMs: performance.now() - started,
    };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    kill();
  }
}

async function readBounded(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  onOverflow: () => void,
): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  for await (const chunk of stream) {
    if (bytes >= limit) continue; // drain what is left so the pipe closes
    const room = limit - bytes;
    bytes += chunk.byteLength;
    text += decoder.decode(chunk.subarray(0, room), { stream: true });
    if (bytes >= limit) onOverflow();
  }
  return text + decoder.decode();
}
