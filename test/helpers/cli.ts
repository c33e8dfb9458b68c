import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "./env.js";

export const cliPath = join(repoRoot, "dist", "src", "cli", "main.js");

/** Runs the built CLI as a user would (a separate process), with a time bound so a hang fails. */
export function zerodep(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
) {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "", ...opts.env },
    timeout: opts.timeoutMs ?? 60_000,
    maxBuffer: 256 * 1024 * 1024,
    ...(opts.input !== undefined ? { input: opts.input } : {}),
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}
