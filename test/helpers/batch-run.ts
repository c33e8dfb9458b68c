import { spawn } from "node:child_process";

export interface BatchOutput {
  files: string[];
  stdout: string;
  stderr: string;
  status: number | null;
}

/** Runs one command to completion, asynchronously (so several can overlap with other tests). */
export function runAsync(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { env: opts.env ?? { ...process.env, LC_ALL: "C" } });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on("data", (b: Buffer) => out.push(b));
    p.stderr.on("data", (b: Buffer) => err.push(b));
    p.on("error", reject);
    p.on("close", (status) =>
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
        status,
      }),
    );
  });
}

/**
 * Runs `cmd ...args file1 file2 ...` over `files` in batches of `batchSize` (tools such as readelf
 * and file take many files per run), with at most `parallel` processes at a time.
 */
export async function runBatched(
  cmd: string,
  args: string[],
  files: string[],
  opts: { batchSize?: number; parallel?: number } = {},
): Promise<BatchOutput[]> {
  const size = opts.batchSize ?? 100;
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += size) batches.push(files.slice(i, i + size));
  const results: BatchOutput[] = new Array(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      const b = batches[i]!;
      const r = await runAsync(cmd, [...args, ...b]);
      results[i] = { files: b, ...r };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 2) }, worker));
  return results;
}

/** Runs `cmd ...args(file)` once per file, `parallel` at a time (for tools that take one file). */
export async function runPerFile(
  cmd: string,
  args: (file: string) => string[],
  files: string[],
  opts: { parallel?: number } = {},
): Promise<Map<string, { stdout: string; stderr: string; status: number | null }>> {
  const out = new Map<string, { stdout: string; stderr: string; status: number | null }>();
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const f = files[next++]!;
      out.set(f, await runAsync(cmd, args(f)));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 2) }, worker));
  return out;
}
