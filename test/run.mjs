// Runs the compiled test files with node's test runner and prints a loud summary of skipped tests.
// Under CI=true nothing is skipped for a missing tool (see test/helpers/env.ts): it fails instead.
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
const only = process.argv.slice(2);
const files = walk("dist/test")
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
const r = spawnSync(
  process.execPath,
  ["--test", "--test-concurrency=2", "--test-reporter=spec", "--test-reporter-destination=stdout", ...files],
  { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 30 },
);
process.stdout.write(r.stdout);
// The spec reporter marks a skipped test with "﹣ name (time) # reason".
const skipped = r.stdout.split("\n").filter((l) => /^\s*\u{FE63} /u.test(l));
if (skipped.length > 0) {
  const bar = "!".repeat(72);
  console.log(`\n${bar}\n${skipped.length} TEST(S) SKIPPED — these facts were NOT checked on this machine:`);
  for (const l of skipped) console.log("  " + l.trim());
  console.log(
    `Install the missing tools (see .ci/run) to run them. Under CI=true they fail instead.\n${bar}`,
  );
}
process.exit(r.status ?? 1);
