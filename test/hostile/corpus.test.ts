/**
 * The hostile-image corpus (corpus.ts) through every command that reads an image — analyze, check,
 * inspect, diff, copy, pack --base — each run under a watchdog (time) and GNU time (peak memory):
 * no stack trace, no hang, no crash by signal, no write outside the target, exit 0/1 with output or
 * exit 3 with exactly one line, and peak RSS under the bound the README promises.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliPath } from "../helpers/cli.js";
import { fixture, needs } from "../helpers/env.js";
import { type HostileCase, writeCorpus } from "./corpus.js";

/** Every run of the corpus stays under this (README "Reliability"): a watchdog, not a benchmark. */
const WATCHDOG_MS = 90_000;
const RSS_BOUND_MIB = 512;

interface Outcome {
  code: number | null;
  signal: string | null;
  stderr: string;
  stdout: string;
  rssMiB: number;
  ms: number;
}

function measured(args: string[], cwd: string): Outcome {
  const rss = join(cwd, ".rss");
  const t0 = Date.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", "-o", rss, process.execPath, cliPath, ...args], {
    encoding: "utf8",
    cwd,
    timeout: WATCHDOG_MS,
    killSignal: "SIGKILL",
    maxBuffer: 1 << 28,
    env: { ...process.env, NO_COLOR: "1", TMPDIR: cwd },
  });
  const ms = Date.now() - t0;
  const kib = existsSync(rss) ? Number(readFileSync(rss, "utf8").trim().split("\n").at(-1)) : 0;
  // GNU time reports a signal as "Command terminated by signal N" and exits 128+N.
  return {
    code: r.status,
    signal: r.signal ?? (/terminated by signal/.test(readFileSync(rss, "utf8")) ? "signal" : null),
    stderr: r.stderr,
    stdout: r.stdout,
    rssMiB: Math.round(kib / 1024),
    ms,
  };
}

describe("hostile-image corpus through every image command", {
  skip: needs({ tools: ["/usr/bin/time"], fixtures: ["go-static"] }),
  timeout: 1_800_000,
}, () => {
  let work: string;
  let outside: string;
  let cases: HostileCase[];
  let good: string;
  const table: string[] = [];
  before(() => {
    work = mkdtempSync(join(tmpdir(), "zd-hostile-"));
    outside = join(work, "outside");
    mkdirSync(outside);
    cases = writeCorpus(join(work, "corpus"), outside);
    good = join(work, "good");
    const p = spawnSync(process.execPath, [cliPath, "pack", fixture("go-static"), "--out", `oci:${good}:v1`]);
    assert.equal(p.status, 0, p.stderr?.toString());
  });
  after(() => {
    if (table.length)
      console.log(`hostile corpus (case · command · exit · ms · peak RSS MiB)\n${table.join("\n")}`);
    rmSync(work, { recursive: true, force: true });
  });

  test("zero stack traces, hangs, crashes or escapes; one line for every refusal; memory bounded", () => {
    const failures: string[] = [];
    for (const c of cases) {
      const img = `oci:${c.dir}:v1`;
      const scratch = join(work, "scratch", c.name);
      mkdirSync(scratch, { recursive: true });
      const commands: [string, string[]][] = [
        ["analyze", ["analyze", img, "--json"]],
        ["check", ["check", img]],
        ["inspect", ["inspect", img]],
        ["diff", ["diff", `oci:${good}:v1`, img]],
        ["copy", ["copy", img, `oci:${join(scratch, "copy")}:v1`]],
        [
          "pack --base",
          [
            "pack",
            fixture("go-static"),
            "--base",
            img,
            "--path",
            "/app/z",
            "--out",
            `oci:${join(scratch, "packed")}:v1`,
          ],
        ],
      ];
      for (const [label, args] of commands) {
        const o = measured(args, scratch);
        const where = `${c.name} (${c.what}) · ${label}`;
        table.push(`${c.name} · ${label} · ${o.code ?? o.signal} · ${o.ms} · ${o.rssMiB}`);
        if (o.signal || o.code === null) failures.push(`${where}: killed (${o.signal}) after ${o.ms} ms`);
        else if (/\n\s+at .+:\d+:\d+/.test(o.stderr))
          failures.push(`${where}: stack trace: ${o.stderr.slice(0, 300)}`);
        else if (![0, 1, 3].includes(o.code))
          failures.push(`${where}: exit ${o.code}: ${o.stderr.slice(0, 300)}`);
        else if (o.code === 3 && o.stderr.trim().split("\n").length !== 1)
          failures.push(`${where}: not one line: ${o.stderr.slice(0, 300)}`);
        if (o.rssMiB > RSS_BOUND_MIB) failures.push(`${where}: peak RSS ${o.rssMiB} MiB > ${RSS_BOUND_MIB}`);
        for (const p of c.forbidden) if (existsSync(p)) failures.push(`${where}: wrote outside: ${p}`);
        if (readdirSync(outside).length > 0)
          failures.push(`${where}: wrote outside: ${readdirSync(outside)}`);
      }
    }
    assert.deepEqual(failures, []);
  });
});
