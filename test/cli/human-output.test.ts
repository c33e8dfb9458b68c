import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { humanizeSizes } from "../../src/cli/style.js";
import { fixture, needs, repoRoot, run } from "../helpers/env.js";
import { cli } from "./in-process.js";

const work = mkdtempSync(join(tmpdir(), "zd-human-"));
const hello = join(repoRoot, "examples/hello/hello-static");

describe("human output", () => {
  test("raw byte counts in messages are humanised (1 MiB = 1048576 bytes)", () => {
    assert.equal(humanizeSizes("strip would save 3111484 bytes"), "strip would save 3.0 MiB");
    assert.equal(humanizeSizes("a 2048 bytes file, 12 bytes"), "a 2.0 KiB file, 12 bytes");
  });

  test("analyze: a finding's size is humanised on the terminal, a number in --json", {
    skip: needs({ fixtures: ["go-static"] }),
  }, async () => {
    const dir = join(work, "go");
    assert.equal((await cli(["pack", fixture("go-static"), "--out", `oci:${dir}`])).code, 0);
    const j = await cli(["analyze", "--json", `oci:${dir}`]);
    const findings = (JSON.parse(j.stdout) as { findings: { code: string; message: string }[] }).findings;
    const strip = findings.find((f) => /strip would save/.test(f.message));
    assert.ok(strip, JSON.stringify(findings));
    const n = Number(/strip would save (\d+) bytes/.exec(strip.message)![1]);
    const h = await cli(["analyze", `oci:${dir}`]);
    assert.doesNotMatch(h.stdout, /\d{4,} bytes/);
    const m = /strip would save ([\d.]+) (KiB|MiB|GiB)\n/.exec(h.stdout);
    assert.ok(m, h.stdout);
    const shown = Number(m[1]) * 1024 ** (["KiB", "MiB", "GiB"].indexOf(m[2]!) + 1);
    assert.ok(Math.abs(shown - n) / n < 0.05, `${m[0]} for ${n} bytes`);
  });

  test("diff of config prints only the changed entries (checked against skopeo's view of both configs)", {
    skip: needs({ tools: ["skopeo"] }),
  }, async () => {
    const a = join(work, "a");
    const b = join(work, "b");
    const common = ["--env", "KEEP=1", "--label", "same=x"];
    assert.equal(
      (await cli(["pack", hello, "--out", `oci:${a}`, ...common, "--env", "OLD=1", "--label", "l=1"])).code,
      0,
    );
    assert.equal(
      (
        await cli([
          "pack",
          hello,
          "--out",
          `oci:${b}`,
          ...common,
          "--env",
          "NEW=2",
          "--label",
          "l=2",
          "--label",
          "n=3",
        ])
      ).code,
      0,
    );
    const cfg = (d: string) =>
      (
        JSON.parse(run("skopeo", ["inspect", "--config", `oci:${d}`]).stdout) as {
          config: { Env: string[]; Labels: Record<string, string> };
        }
      ).config;
    const ca = cfg(a);
    const cb = cfg(b);
    const r = await cli(["diff", `oci:${a}`, `oci:${b}`]);
    assert.equal(r.code, 1, r.stderr);
    const envLine = r.stdout.split("\n").find((l) => l.startsWith("  config config.Env:"));
    assert.ok(envLine, r.stdout);
    const added = cb.Env.filter((e) => !ca.Env.includes(e));
    const removed = ca.Env.filter((e) => !cb.Env.includes(e));
    assert.deepEqual(added, ["NEW=2"]);
    assert.equal(
      envLine,
      `  config config.Env: ${[...added.map((e) => `+ "${e}"`), ...removed.map((e) => `- "${e}"`)].join(", ")}`,
    );
    // Unchanged entries (PATH, KEEP) are not printed.
    assert.doesNotMatch(envLine, /PATH=|KEEP=/);
    const labels = r.stdout.split("\n").find((l) => l.startsWith("  config config.Labels:"));
    assert.equal(
      labels,
      `  config config.Labels: ~ l: "${ca.Labels.l}" → "${cb.Labels.l}", + n="${cb.Labels.n}"`,
    );
    assert.doesNotMatch(labels!, /same/);
  });
});
