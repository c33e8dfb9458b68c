import { clip } from "../errors.js";
/** What a command may touch of the process, injected so commands run in tests with plain arguments. */
export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Standard input, for commands that read a secret from it (login --password-stdin). */
  stdin?: AsyncIterable<Uint8Array | string>;
}

/** Exit codes (README "Exit codes"). */
export const EXIT = { OK: 0, VERDICT_FAILED: 1, USAGE: 2, BAD_INPUT: 3 } as const;

/** Buffers writes to stdout: one write per line is slow for thousands of JSON lines. */
export class LineBuffer {
  private chunks: string[] = [];
  private size = 0;
  constructor(private readonly out: { write(s: string): unknown }) {}
  push(s: string): void {
    this.chunks.push(s);
    this.size += s.length;
    if (this.size >= 64 * 1024) this.flush();
  }
  flush(): void {
    if (this.chunks.length === 0) return;
    this.out.write(this.chunks.join(""));
    this.chunks = [];
    this.size = 0;
  }
}

/**
 * Runs a per-file verdict command: each file's output is pushed in order; a file that cannot be read
 * becomes one error line (or JSON record with `error`/`errorCode`) and exit 3, a failed verdict exit 1.
 * Usage errors propagate.
 */
export async function forEachFile(
  files: string[],
  out: LineBuffer,
  opts: {
    json: boolean;
    keyName: "path" | "file";
    errorLine: (file: string, msg: string) => string;
    /** Where a file's error line goes instead of stdout (an image's: stdout stays for verdicts only). */
    errorsTo?: (file: string) => { write(s: string): unknown } | undefined;
  },
  fn: (file: string) => Promise<{ ok: boolean; text: string }>,
): Promise<number> {
  let code: number = EXIT.OK;
  for (const f of files) {
    try {
      const r = await fn(f);
      if (!r.ok && code === EXIT.OK) code = EXIT.VERDICT_FAILED;
      out.push(r.text);
    } catch (err) {
      if ((err as { name?: string }).name === "UsageError") throw err;
      // A hostile value echoed in the message (a megabyte tag) is cut: the line stays one readable line.
      const msg = clip((err as Error).message, 2000);
      const errorCode = (err as { code?: string }).code ?? "EIO";
      const elsewhere = opts.json ? undefined : opts.errorsTo?.(f);
      if (elsewhere) {
        out.flush();
        elsewhere.write(opts.errorLine(clip(f), msg));
        code = EXIT.BAD_INPUT;
        continue;
      }
      out.push(
        opts.json
          ? JSON.stringify({ schemaVersion: 1, [opts.keyName]: f, error: msg, errorCode }) + "\n"
          : opts.errorLine(f, msg),
      );
      code = EXIT.BAD_INPUT;
    }
  }
  out.flush();
  return code;
}
