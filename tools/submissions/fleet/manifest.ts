/**
 * The fleet's manifest: one JSON line per message sent, saying whether the service must accept
 * it and how many events it must publish (what `deno task verify` reconciles the stream with);
 * its writer and its reader.
 *
 * ```ts
 * import { createManifestWriter } from "./manifest.ts";
 *
 * const writer = createManifestWriter(await Deno.makeTempFile());
 * writer.write({ submission_id: "s", device_id: "d", valid: true, events: 7, kind: "ok" });
 * writer.close();
 * ```
 *
 * @module
 */
import { z } from "zod";

/** One line of the manifest: one message sent to the queue. */
export interface ManifestEntry {
  /** The submission id as sent (the intended id when the body does not carry it as a string). */
  readonly submission_id: string;
  /** The device id as sent (the intended id when the body does not carry it as a string). */
  readonly device_id: string;
  /** Whether the service must accept the message and publish its events. */
  readonly valid: boolean;
  /** The known events the submission carries: what must be published when `valid`. */
  readonly events: number;
  /** `ok`, or the message kinds (message_kinds.ts) joined with `+` (`raw_json+null_cmdl`). */
  readonly kind: string;
}

/** The schema of one manifest line, for readers of manifest files. */
export const ManifestEntrySchema: z.ZodType<ManifestEntry> = z.object({
  submission_id: z.string(),
  device_id: z.string(),
  valid: z.boolean(),
  events: z.int().min(0),
  kind: z.string().min(1),
});

/** A message ready to send, with its manifest line. */
export interface FleetMessage {
  /** The SQS message body. */
  readonly body: string;
  /** What the message is and what the service must do with it. */
  readonly manifestEntry: ManifestEntry;
}

/** Writes manifest lines to a file, buffered. */
export interface ManifestWriter {
  /** Appends one line. */
  write(entry: ManifestEntry): void;
  /** Writes the buffered lines and closes the file. */
  close(): void;
}

/** Options of {@linkcode createManifestWriter}. */
export interface ManifestWriterOptions {
  /**
   * Characters buffered before they are written. Default 64 Ki, for bulk runs; 0 writes every
   * line at once, so a long faithful run killed abruptly still leaves a complete manifest.
   */
  readonly bufferChars?: number;
}

/** Creates (or truncates) `path` and returns a writer of JSON lines. */
export function createManifestWriter(
  path: string,
  options: ManifestWriterOptions = {},
): ManifestWriter {
  const bufferChars = options.bufferChars ?? 64 * 1024;
  const file = Deno.openSync(path, { write: true, create: true, truncate: true });
  const encoder = new TextEncoder();
  let buffered: string[] = [];
  let bufferedChars = 0;
  const flush = () => {
    if (buffered.length === 0) return;
    const bytes = encoder.encode(buffered.join(""));
    buffered = [];
    bufferedChars = 0;
    // writeSync may write less than asked: loop until all is out.
    for (let offset = 0; offset < bytes.length;) {
      offset += file.writeSync(bytes.subarray(offset));
    }
  };
  return {
    write(entry) {
      const line = `${JSON.stringify(manifestLine(entry))}\n`;
      buffered.push(line);
      bufferedChars += line.length;
      if (bufferedChars >= bufferChars) flush();
    },
    close() {
      flush();
      file.close();
    },
  };
}

/** The entry with its keys in the documented order (and nothing else). */
function manifestLine(entry: ManifestEntry): ManifestEntry {
  const { submission_id, device_id, valid, events, kind } = entry;
  return { submission_id, device_id, valid, events, kind };
}

/**
 * Parses a manifest file (JSON lines; blank lines ignored), as `deno task verify` reads it.
 *
 * @example
 * ```ts
 * import { parseManifest } from "./manifest.ts";
 *
 * parseManifest('{"submission_id":"s","device_id":"d","valid":true,"events":2,"kind":"ok"}\n');
 * // [{ submission_id: "s", device_id: "d", valid: true, events: 2, kind: "ok" }]
 * ```
 *
 * @throws {Error} naming the first line that is not JSON or not a manifest entry.
 */
export function parseManifest(text: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new Error(`manifest line ${i + 1} is not JSON`);
    }
    const result = ManifestEntrySchema.safeParse(value);
    if (!result.success) {
      throw new Error(`manifest line ${i + 1}: ${result.error.issues[0]?.message ?? "invalid"}`);
    }
    entries.push(result.data);
  }
  return entries;
}
