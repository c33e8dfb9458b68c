/**
 * The folder order is the architecture (issue #13 item 8): formats → facts → resolve/check → image →
 * registry → transfer → pack/analyze/report → cli. An import may stay on its floor or go down, never
 * up; a new folder must be given its floor here. Guarded the way go-containerregistry guards its own
 * layering in a test.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/env.js";

const FLOORS: string[][] = [
  ["errors.ts", "diagnostic.ts", "binary", "io"], // primitives
  ["elf", "pe", "macho", "go", "tar", "oci", "yaml"], // formats: pure parsers and builders
  ["inspect"], // facts about one file
  ["resolve", "check", "scan"], // will it run in a root; trees of files
  ["image"], // image sources, sinks, the merged tree, the indexing pass
  ["registry"], // the distribution protocol
  ["transfer"], // one opener over every medium; push, pull, copy
  ["pack", "analyze", "report", "k8s"], // building and judging images; manifests for them
  ["build"], // from source: toolchains, then pack
  ["cli"], // the command line
];
const EXEMPT = new Set(["index.ts"]); // the library's front door re-exports every floor

const src = join(repoRoot, "src");
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}
/** The top-level entry of src/ a file belongs to ("elf", "errors.ts" …). */
const topOf = (file: string) => relative(src, file).split("/")[0]!;
function floorOf(top: string): number {
  const i = FLOORS.findIndex((f) => f.includes(top));
  assert.ok(i >= 0, `src/${top} has no floor in test/architecture/layers.test.ts`);
  return i;
}

test("no import climbs up the floors", () => {
  const climbing: string[] = [];
  for (const f of files(src)) {
    const from = topOf(f);
    if (EXEMPT.has(from)) continue;
    const text = readFileSync(f, "utf8");
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const target = normalize(join(dirname(f), m[1]!.replace(/\.js$/, ".ts")));
      if (!target.startsWith(src)) continue;
      const to = topOf(target);
      if (to === from) continue;
      if (floorOf(to) > floorOf(from)) climbing.push(`${relative(repoRoot, f)} → src/${to} (${m[1]})`);
    }
  }
  assert.deepEqual(climbing, []);
});

test("every folder of src/ has a floor", () => {
  for (const e of readdirSync(src)) if (!EXEMPT.has(e)) floorOf(e);
});
