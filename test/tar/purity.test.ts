import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/env.js";

/** src/tar is a pure format module (README "Design"): bytes in, bytes out, no I/O, no process, no CLI. */
test("src/tar imports no node: module and nothing outside src/tar except errors.ts and diagnostic.ts", () => {
  const dir = join(repoRoot, "src", "tar");
  const files = (d: string): string[] =>
    readdirSync(d).flatMap((e) => {
      const p = join(d, e);
      return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
    });
  const offenders: string[] = [];
  for (const f of files(dir)) {
    const src = readFileSync(f, "utf8");
    for (const m of src.matchAll(/from "([^"]+)"/g)) {
      const spec = m[1]!;
      const ok =
        spec.startsWith("./") ||
        /^(\.\.\/)+(errors|diagnostic)\.js$/.test(spec) ||
        /^\.\.\/(entry|writer|reader|internal\/[\w-]+)\.js$/.test(spec);
      if (!ok) offenders.push(`${relative(repoRoot, f)}: ${spec}`);
    }
    if (/\bprocess\./.test(src)) offenders.push(`${relative(repoRoot, f)}: process`);
  }
  assert.deepEqual(offenders, []);
});
