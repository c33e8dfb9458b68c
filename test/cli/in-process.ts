import { runCli } from "../../src/cli/run.js";

/**
 * Runs one zerodep command line in this process (no node start-up, ~100× faster than a spawn) with
 * captured stdout/stderr and an explicit environment; a few end-to-end tests still spawn the built CLI
 * (test/helpers/cli.ts) to cover main.js, argv and the exit code.
 */
export async function cli(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.stdin !== undefined ? { stdin: once(opts.stdin) } : {}),
  });
  return { code, stdout, stderr };
}

async function* once(s: string): AsyncIterable<string> {
  yield s;
}
