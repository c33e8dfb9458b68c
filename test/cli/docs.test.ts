import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { updateReadme } from "../../src/cli/docs.js";
import { commandHelp } from "../../src/cli/help.js";
import { COMMANDS } from "../../src/cli/table.js";
import { repoRoot } from "../helpers/env.js";

test("README's command table and per-command option blocks match the definitions (npm run docs rewrites them)", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const { text, missing } = updateReadme(readme, COMMANDS);
  assert.deepEqual(missing, [], "README lacks generated blocks");
  if (text !== readme) {
    const a = readme.split("\n");
    const b = text.split("\n");
    const i = a.findIndex((l, k) => l !== b[k]);
    assert.fail(
      `README drifted from the definitions at line ${i + 1}: "${a[i]}" vs "${b[i]}" — run npm run docs`,
    );
  }
  // Every flag of every command appears in its README block and in its help, once.
  for (const def of COMMANDS) {
    const block = readme.slice(
      readme.indexOf(`<!-- flags:${def.name} -->`),
      readme.indexOf(`<!-- /flags:${def.name} -->`),
    );
    const help = commandHelp(def);
    for (const name of Object.keys(def.flags)) {
      const rows = block.split("\n").filter((l) => new RegExp(`^  (-\\w, )?--${name}( |$)`).test(l));
      assert.equal(rows.length, 1, `${def.name} --${name} in README`);
      assert.ok(help.includes(`--${name}`), `${def.name} --${name} in help`);
    }
  }
});

test("the drift check can fail: an edited block is reported", () => {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const edited = readme.replace(/(<!-- flags:pack -->[\s\S]*?)--stop-signal SIG/, "$1--stop-signal SIGNAL");
  assert.notEqual(edited, readme);
  assert.notEqual(updateReadme(edited, COMMANDS).text, edited);
  const removed = readme.replace("<!-- /flags:diff -->", "");
  assert.deepEqual(updateReadme(removed, COMMANDS).missing, ["flags:diff"]);
});
