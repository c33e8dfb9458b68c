import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { test } from "node:test";
import { repoRoot } from "../helpers/env.js";

/**
 * Parsers are pure functions over bytes (README "Design"): the format modules must not reach for the
 * file system, the network, the process or the CLI. Guarded here, as go-containerregistry guards its
 * own layering in a test.
 */
const PURE = ["src/elf", "src/go", "src/pe", "src/macho", "src/binary"];
const FORBIDDEN = [
  /from "node:(fs|fs\/promises|http|https|net|child_process|worker_threads)"/,
  // The ByteSource interface may be imported as a type; FileSource (real I/O) may not.
  /^import (?!type )[^;]*from "\.\.\/(cli|scan|io\/reader)[^"]*"/m,
  /\bprocess\.(argv|env|exit)/,
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

test("format parsers do no I/O and do not import the CLI", () => {
  const offenders: string[] = [];
  for (const d of PURE) {
    for (const f of files(join(repoRoot, d))) {
      const src = readFileSync(f, "utf8");
      for (const re of FORBIDDEN) if (re.test(src)) offenders.push(`${relative(repoRoot, f)}: ${re}`);
    }
  }
  assert.deepEqual(offenders, []);
});

test("only src/cli/main.ts touches process.argv / process.exit", () => {
  const offenders = files(join(repoRoot, "src"))
    .filter((f) => !f.endsWith("src/cli/main.ts"))
    .filter((f) => /\bprocess\.(argv|exit)\b/.test(readFileSync(f, "utf8")))
    .map((f) => relative(repoRoot, f));
  assert.deepEqual(offenders, []);
});
