import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/env.js";

// src/oci is pure (bytes in, bytes out) except layout.ts, the on-disk medium. Guarded so that file
// system access does not creep into the builders and parsers that a registry or archive sink reuses.
test("src/oci: only layout.ts touches the file system, nothing imports the CLI", () => {
  const dir = join(repoRoot, "src", "oci");
  const offenders: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith(".ts"))) {
    const src = readFileSync(join(dir, f), "utf8");
    if (
      f !== "layout.ts" &&
      f !== "archive.ts" &&
      /from "node:(fs|fs\/promises|http|https|net|child_process)"/.test(src)
    )
      offenders.push(f);
    if (/from "\.\.\/cli\//.test(src) || /\bprocess\.(argv|env|exit)\b/.test(src)) offenders.push(f);
  }
  assert.deepEqual(offenders, []);
});
