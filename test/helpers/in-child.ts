import { spawnSync } from "node:child_process";

/**
 * Runs `body` (an async function body; `m` is the module at `moduleJs`) in a child Node process, so
 * that a hostile input that crashes or hangs cannot take the test runner with it. Returns the error's
 * "CODE message" (or what the body returned, else "no error"), the exit status, the watchdog's signal
 * and the child's own peak RSS in MiB.
 */
export function inChild(
  moduleJs: string,
  body: string,
  timeoutMs: number,
): { status: number | null; signal: string | null; message: string; mib: number } {
  const script = `
    const m = await import(${JSON.stringify(moduleJs)});
    let message = "no error";
    try { const r = await (async () => { ${body} })(); if (r !== undefined) message = r; } catch (e) { message = e.code + " " + e.message; }
    process.stdout.write(JSON.stringify({ message, maxRSS: process.resourceUsage().maxRSS }));`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    encoding: "utf8",
    timeout: timeoutMs,
    maxBuffer: 16 << 20,
  });
  const out = r.status === 0 ? (JSON.parse(r.stdout) as { message: string; maxRSS: number }) : null;
  return {
    status: r.status,
    signal: r.signal,
    message: out?.message ?? r.stderr,
    mib: (out?.maxRSS ?? 0) / 1024,
  };
}
