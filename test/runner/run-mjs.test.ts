/**
 * test/run.mjs itself: under CI=true any skipped test fails the run (a skip is an unchecked fact);
 * locally a skip is listed loudly and the run passes. Each case is a tiny dist/test tree in a temp
 * directory, run by the real runner in a child process with a time bound.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { repoRoot } from "../helpers/env.js";

const runner = join(repoRoot, "test", "run.mjs");
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Runs test/run.mjs on one generated test file; `ci` sets CI=true, otherwise CI is unset. */
function runOn(source: string, ci: boolean) {
  const d = mkdtempSync(join(tmpdir(), "zerodep-runner-"));
  dirs.push(d);
  mkdirSync(join(d, "dist", "test"), { recursive: true });
  writeFileSync(join(d, "dist", "test", "case.test.js"), `import { test } from "node:test";\n${source}\n`);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.CI;
  delete env.NODE_TEST_CONTEXT;
  if (ci) env.CI = "true";
  const r = spawnSync(process.execPath, [runner], { cwd: d, env, encoding: "utf8", timeout: 60_000 });
  assert.equal(r.error, undefined, `runner did not finish: ${r.error}`);
  return { code: r.status, out: r.stdout };
}

const PASS = `test("passes", () => {});`;
const OPTION_SKIP = `${PASS}\ntest("needs root", { skip: "needs root" }, () => {});`;
const CONTEXT_SKIP = `${PASS}\ntest("no proc", (t) => { t.skip("mount -t proc is not permitted"); });`;
// A skipped describe is not counted in the reporter's "skipped" summary (0 tests ran): only its line shows it.
const SUITE_SKIP = `import { describe } from "node:test";\n${PASS}\ndescribe("no dive", { skip: "MISSING: dive" }, () => { test("x", () => {}); });`;
const TODO = `${PASS}\ntest("later", { todo: true }, () => {});`;
const FAIL = `test("fails", () => { throw new Error("boom"); });`;

describe("test/run.mjs", { timeout: 240_000 }, () => {
  test("CI=true: all pass, nothing skipped → exit 0", () => {
    const r = runOn(PASS, true);
    assert.equal(r.code, 0, r.out);
  });
  test("CI=true: a skip option fails the run and is listed", () => {
    const r = runOn(OPTION_SKIP, true);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /1 TEST\(S\) SKIPPED/);
    assert.match(r.out, /needs root/);
  });
  test("CI=true: t.skip() inside a test fails the run", () => {
    const r = runOn(CONTEXT_SKIP, true);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /mount -t proc is not permitted/);
  });
  test("CI=true: a skipped describe fails the run", () => {
    const r = runOn(SUITE_SKIP, true);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /MISSING: dive/);
  });
  test("CI=true: a todo test fails the run", () => {
    assert.equal(runOn(TODO, true).code, 1);
  });
  test("locally: a skip is listed loudly, the run passes", () => {
    const r = runOn(OPTION_SKIP, false);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /1 TEST\(S\) SKIPPED/);
  });
  test("a failing test fails the run, with or without CI", () => {
    assert.notEqual(runOn(FAIL, false).code, 0);
    assert.notEqual(runOn(FAIL, true).code, 0);
  });
});
