/**
 * The terminal of the demos: a status line rewritten in place on a terminal, plain lines
 * elsewhere (so logs and tests read the same text).
 *
 * ```ts
 * import { Screen } from "./screen.ts";
 * const screen = new Screen();
 * screen.line("started");
 * screen.status("[  1s] sent 5");
 * screen.endStatus();
 * ```
 *
 * @module
 */

/**
 * Where the demo writes. On a terminal the status line is rewritten in place (`\r`, cut to the
 * terminal's width so it never wraps) and permanent lines are printed above it; elsewhere every
 * status is a plain line, so logs and tests read the same text.
 */
export class Screen {
  readonly #encoder = new TextEncoder();
  readonly #tty = Deno.stdout.isTerminal();
  #statusShown = false;

  /** Prints a permanent line (above the status line, on a terminal). */
  line(text: string): void {
    this.#write(this.#tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    this.#statusShown = false;
  }

  /** Shows the status line: rewritten in place on a terminal, a new line elsewhere. */
  status(text: string): void {
    if (!this.#tty) return this.line(text);
    this.#write(`\r\x1b[2K${text.slice(0, this.#columns() - 1)}`);
    this.#statusShown = true;
  }

  /** Ends a status line left in place, so what follows starts on a line of its own. */
  endStatus(): void {
    if (this.#statusShown) this.#write("\n");
    this.#statusShown = false;
  }

  #columns(): number {
    try {
      return Deno.consoleSize().columns;
    } catch {
      return 120;
    }
  }

  #write(text: string): void {
    const bytes = this.#encoder.encode(text);
    // writeSync may write less than asked.
    for (let offset = 0; offset < bytes.length;) {
      offset += Deno.stdout.writeSync(bytes.subarray(offset));
    }
  }
}
