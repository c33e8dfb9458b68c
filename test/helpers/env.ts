import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (tests run from dist/test/..., sources live in test/...). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
/** Where test/fixtures/build.sh writes the fixture binaries. */
export const fixturesDir = join(repoRoot, "test", "fixtures", "out");
export const inCI = process.env.CI === "true";

/** Path of a built fixture, by file name (see test/fixtures/build.sh). */
export function fixture(name: string): string {
  return join(fixturesDir, name);
}

export function hasFixture(name: string): boolean {
  return existsSync(fixture(name));
}

const toolCache = new Map<string, boolean>();
export function hasTool(tool: string): boolean {
  let ok = toolCache.get(tool);
  if (ok === undefined) {
    ok = spawnSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).status === 0;
    toolCache.set(tool, ok);
  }
  return ok;
}

/**
 * For node:test's `skip` option: returns false when everything needed is there, otherwise a reason
 * string (the test is skipped and listed loudly by test/run.mjs). Under CI=true a missing tool or
 * fixture is a failure, not a skip: we throw so the test fails.
 */
export function needs(opts: { tools?: string[]; fixtures?: string[] }): false | string {
  const missing: string[] = [];
  for (const t of opts.tools ?? []) if (!hasTool(t)) missing.push(`tool ${t}`);
  for (const f of opts.fixtures ?? []) if (!hasFixture(f)) missing.push(`fixture ${f}`);
  if (missing.length === 0) return false;
  const reason = `MISSING: ${missing.join(", ")}`;
  if (inCI) return false; // run it anyway so that it fails under CI
  return reason;
}

/** Runs a command and returns stdout (throws with stderr when it fails and `allowFail` is not set). */
export function run(
  cmd: string,
  args: string[],
  opts: { allowFail?: boolean; env?: NodeJS.ProcessEnv } = {},
) {
  const r = spawnSync(cmd, args, {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    env: opts.env ?? process.env,
  });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}
