/**
 * Runtime-needs rules found by the reality matrix (test/reality), on its probe programs: C local time
 * (tzset/localtime_r → a soft tzdata need, glibc and musl) and Rust std::env::temp_dir (→ tmp, also in
 * a dynamically linked Rust program, from .symtab). The evidence symbols are cross-checked with
 * readelf; the matrix runs the probes and asserts that each need matches the probe's ok/fail line.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { detectRuntimeNeeds, type RuntimeNeed } from "../../src/check/runtime-needs.js";
import { FileSource } from "../../src/io/reader.js";
import { fixture, hasFixture, needs as needsTools, run } from "../helpers/env.js";
import { buildProbes } from "../reality/probes.js";

const skip = needsTools({ tools: ["readelf", "gcc", "musl-gcc", "rustc"] });

async function detect(file: string): Promise<RuntimeNeed[]> {
  const src = FileSource.open(file);
  try {
    return await detectRuntimeNeeds(src);
  } finally {
    src.closeNow();
  }
}

/** Symbol names readelf lists (.dynsym and .symtab). */
function symbols(file: string): string {
  return run("readelf", ["-sW", file]).stdout;
}

describe("runtime needs of the reality probes", { skip }, () => {
  const probes = skip ? new Map<string, string>() : buildProbes();

  for (const name of ["c-probe", "c-probe-static", "musl-probe", "musl-probe-static"]) {
    it(`${name}: tzset/localtime_r make a soft tzdata need (zoneinfo, or UTC)`, async () => {
      const file = probes.get(name)!;
      assert.match(symbols(file), /\btzset\b/);
      const tz = (await detect(file)).find((n) => n.kind === "tzdata");
      assert.ok(tz, "tzdata need");
      assert.equal(tz.strength, "soft");
      assert.ok(tz.paths.includes("/usr/share/zoneinfo/"));
      assert.ok(tz.evidence.some((e) => e.endsWith("tzset")));
    });
  }

  for (const name of ["rust-probe", "rust-probe-musl"]) {
    it(`${name}: std::env::temp_dir makes a hard tmp need (TMPDIR or /tmp)`, async () => {
      const file = probes.get(name)!;
      assert.match(symbols(file), /3std3env8temp_dir/);
      const tmp = (await detect(file)).find((n) => n.kind === "tmp");
      assert.ok(tmp, "tmp need");
      assert.equal(tmp.strength, "hard");
      assert.deepEqual(tmp.env, ["TMPDIR"]);
      assert.deepEqual(tmp.evidence, ["Rust: std::env::temp_dir"]);
    });
  }

  it("the fixture hello programs get neither (printf only)", async () => {
    for (const f of ["c-static", "musl-static", "rust-hello"].filter(hasFixture)) {
      const kinds = (await detect(fixture(f))).map((n) => n.kind);
      assert.ok(!kinds.includes("tzdata") && !kinds.includes("tmp"), `${f}: ${kinds.join(", ")}`);
    }
  });
});
