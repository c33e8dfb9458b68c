/** What a command may touch of the process, injected so commands run in tests with plain arguments. */
export interface CliIO {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
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
