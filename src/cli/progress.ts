import { humanBytes } from "./style.js";

/**
 * A one-line progress bar on stderr, redrawn in place (carriage return), at most 10 times a second.
 * Only for a TTY and only for work large enough to be worth watching: the CLI decides, the library just
 * reports bytes. `finish()` clears the line so that the command's own output stays clean.
 */
export class ProgressBar {
  #last = 0;
  #drawn = false;
  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly width = 30,
  ) {}

  update(label: string, done: number, total: number, now = Date.now()): void {
    if (now - this.#last < 100 && done < total) return;
    this.#last = now;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const fill = Math.round(frac * this.width);
    const bar = `${"█".repeat(fill)}${"░".repeat(this.width - fill)}`;
    const pct = `${Math.floor(frac * 100)}`.padStart(3);
    this.out.write(`\r\x1b[2K${label} ${bar} ${pct}% ${humanBytes(done)}/${humanBytes(total)}`);
    this.#drawn = true;
  }

  finish(): void {
    if (this.#drawn) this.out.write("\r\x1b[2K");
    this.#drawn = false;
  }
}
