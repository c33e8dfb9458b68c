import type { CopyEvent } from "../image/copy.js";
import { humanBytes } from "./style.js";

interface Bar {
  digest: string;
  size: number;
  bytes: number;
  state: string;
}

const WIDTH = 24;
const FRAME_MS = 100;

/**
 * The one bar style of every command (pack, push, pull, copy): `  LABEL [####------] done / total  STATE`.
 * `frac` decides the fill; a finished transfer with nothing to move (already there) stays empty.
 */
export function barLine(label: string, done: number, total: number, state: string, frac?: number): string {
  const f = frac ?? (total > 0 ? Math.min(1, done / total) : 1);
  const fill = Math.round(f * WIDTH);
  return `  ${label} [${"#".repeat(fill)}${"-".repeat(WIDTH - fill)}] ${`${humanBytes(done)} / ${humanBytes(total)}`.padEnd(22)} ${state}`;
}

/**
 * One progress bar per blob on stderr (a TTY only: callers check). Redraws in place with cursor-up
 * escapes, at most every 100 ms, and once more at the end so the final state stays on screen.
 */
export class ProgressBars {
  readonly #bars = new Map<string, Bar>();
  #drawn = 0;
  #last = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: { write(s: string): unknown },
    private readonly verb: string,
  ) {}

  readonly onEvent = (e: CopyEvent): void => {
    if (e.type === "manifest") return;
    let b = this.#bars.get(e.digest);
    if (!b) {
      b = { digest: e.digest, size: e.size, bytes: 0, state: "waiting" };
      this.#bars.set(e.digest, b);
    }
    if (e.type === "blob-start") b.state = this.verb;
    else if (e.type === "blob-progress") b.bytes = e.bytes;
    else if (e.type === "blob-done") {
      b.state = e.action;
      if (e.action === "uploaded" || e.action === "written") b.bytes = e.size;
    }
    this.#schedule();
  };

  #schedule(): void {
    const now = Date.now();
    if (now - this.#last >= FRAME_MS) {
      this.#draw();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#draw();
    }, FRAME_MS);
  }

  #draw(): void {
    this.#last = Date.now();
    let s = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : "";
    for (const b of this.#bars.values())
      s += `\x1b[2K${barLine(b.digest.slice(7, 19), b.bytes, b.size, b.state)}\n`;
    this.#drawn = this.#bars.size;
    this.out.write(s);
  }

  done(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#bars.size > 0) this.#draw();
  }
}
/**
 * A one-line progress bar on stderr, redrawn in place (carriage return), at most 10 times a second.
 * Only for a TTY and only for work large enough to be worth watching: the CLI decides, the library just
 * reports bytes. `finish()` clears the line so that the command's own output stays clean.
 */
export class ProgressBar {
  #last = 0;
  #drawn = false;
  constructor(private readonly out: { write(s: string): unknown }) {}

  update(label: string, done: number, total: number, now = Date.now()): void {
    if (now - this.#last < FRAME_MS && done < total) return;
    this.#last = now;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const pct = `${Math.floor(frac * 100)}%`.padStart(4);
    this.out.write(`\r\x1b[2K${barLine(label, done, total, pct, frac)}`);
    this.#drawn = true;
  }

  finish(): void {
    if (this.#drawn) this.out.write("\r\x1b[2K");
    this.#drawn = false;
  }
}
