import { execFile, spawn } from "node:child_process";
import { cliPath } from "../helpers/cli.js";

/**
 * Runs the built CLI without blocking the event loop (the proxy and the token issuer live in the test
 * process), with stdin and a hard time bound: a hang is killed and reported as a failure.
 */
export function zerodepAsync(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string; json?: unknown }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      env: { ...process.env, NO_COLOR: "1", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString("utf8");
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString("utf8");
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`zerodep ${args.join(" ")}: killed after ${opts.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      let json: unknown;
      if (args.includes("--json") && code === 0) {
        try {
          json = JSON.parse(stdout);
        } catch {
          // left undefined: the test's assertion reports it
        }
      }
      resolve({ code, stdout, stderr, ...(json !== undefined ? { json } : {}) });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * An anchor tool (skopeo) run without blocking the event loop: against the token registry it must
 * reach the issuer that lives in this process. Rejects with stderr on failure; killed after 60 s.
 */
export function runAsync(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: "utf8", timeout: 60_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}
