// Runs the compiled test files with node's test runner and prints a loud summary of skipped tests.
// Under CI=true nothing may be skipped: the helpers in test/helpers/env.ts run a test that lacks a
// tool or fixture anyway (so it fails), and this runner fails the run when any test still reports a
// skip (a bare `skip: "..."` or `t.skip()`), because a skipped fact is an unchecked fact.
// Test files are found under ./dist/test relative to the working directory (test/runner/ runs this
// script on a temp tree to check exactly that behaviour).
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function walk(dir, out = []) {
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".test.js")) out.push(p);
  }
  return out;
}
const inCI = process.env.CI === "true";
const only = process.argv.slice(2);
const files = walk(join("dist", "test"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
if (files.length === 0) {
  console.error(`no test file matches ${only.join(" ") || "dist/test/**/*.test.js"} (npm run build first?)`);
  process.exit(1);
}
// A runner started from inside a test (test/runner/) must not inherit the parent's test context:
// with NODE_TEST_CONTEXT set, node --test talks V8 serialization to a parent that is not listening.
const env = { ...process.env };
delete env.NODE_TEST_CONTEXT;
const r = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=2", "--test-reporter=spec", "--test-reporter-destination=stdout", ...files],
  { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 30, env },
);
if (r.error) throw r.error;
process.stdout.write(r.stdout);
// The spec reporter marks a skipped test with "﹣ name (time) # reason" and ends with "ℹ skipped N"
// (and "ℹ todo N"); both are read, so that a change in one of them cannot hide skips.
const skipped = r.stdout.split("\n").filter((l) => /^\s*\u{FE63} /u.test(l));
function count(what) {
  const m = new RegExp(`^\\u2139 ${what} (\\d+)\\s*$`, "mu").exec(r.stdout);
  return m ? Number(m[1]) : 0;
}
const nSkipped = Math.max(skipped.length, count("skipped"));
const nTodo = count("todo");
if (nSkipped > 0) {
  const bar = "!".repeat(72);
  console.log(`\n${bar}\n${nSkipped} TEST(S) SKIPPED — these facts were NOT checked on this machine:`);
  for (const l of skipped) console.log("  " + l.trim());
  console.log(
    inCI
      ? `CI=true: a skipped test fails the run. Install what is missing (see .ci/run).\n${bar}`
      : `Install the missing tools (see .ci/run) to run them. Under CI=true they fail instead.\n${bar}`,
  );
}
if (inCI && nTodo > 0) console.log(`CI=true: ${nTodo} test(s) marked todo fail the run.`);
const status = r.status ?? 1;
process.exit(status !== 0 ? status : inCI && nSkipped + nTodo > 0 ? 1 : 0);
