import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { TestContext } from "node:test";
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
 * For node:test's `skip` option: returns false when everything needed is there (tools on PATH,
 * fixtures built by test/fixtures/build.sh, host files such as /bin/busybox that a package
 * installed by .ci/run provides), otherwise a reason
 * string (the test is skipped and listed loudly by test/run.mjs). Under CI=true a missing tool or
 * fixture is a failure, not a skip: the test runs anyway and fails where the tool or file is used.
 */
export function needs(opts: { tools?: string[]; fixtures?: string[]; files?: string[] }): false | string {
  const missing: string[] = [];
  for (const t of opts.tools ?? []) if (!hasTool(t)) missing.push(`tool ${t}`);
  for (const f of opts.fixtures ?? []) if (!hasFixture(f)) missing.push(`fixture ${f}`);
  for (const f of opts.files ?? []) if (!existsSync(f)) missing.push(`file ${f}`);
  if (missing.length === 0) return false;
  return skipUnlessCI(`MISSING: ${missing.join(", ")}`);
}

/**
 * Every other reason to skip goes through here too (not root, no /proc mount, a file from a
 * package): locally the reason is returned (a loud skip, listed by test/run.mjs); under CI=true the
 * test runs anyway and fails on what is missing, because an unchecked fact must not look green.
 * test/run.mjs also fails a CI run with any skipped test, so a bare `skip: "..."` cannot hide either.
 */
export function skipUnlessCI(reason: false | string): false | string {
  if (reason === false || inCI) return false;
  return reason;
}

/** Why a test that needs root (chroot, chown, mount) cannot run here, or false (see skipUnlessCI). */
export function needsRoot(what = "root"): false | string {
  return skipUnlessCI(process.getuid?.() === 0 ? false : `MISSING: needs ${what}`);
}

/**
 * A skip decided inside a running test (`return skipNow(t, "...")`): a loud skip locally, a failure
 * under CI=true.
 */
export function skipNow(t: TestContext, reason: string): void {
  if (inCI) throw new Error(`would skip, but CI=true: ${reason}`);
  t.skip(reason);
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
