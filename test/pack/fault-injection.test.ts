/**
 * Fault injection during writes (issue #12): pack, copy and pull killed at random points with SIGKILL,
 * SIGINT or SIGTERM. After every stop the images already in the destination are unchanged and readable
 * by skopeo and umoci; after SIGINT/SIGTERM no staging path is left (beside the output or in TMPDIR);
 * after SIGKILL, the next run of the same command succeeds and removes what the killed one left.
 * The points are drawn from a seeded generator (ZERODEP_FAULT_SEED to replay one; printed on failure).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { cliPath, zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const SEED = Number(process.env.ZERODEP_FAULT_SEED ?? 20261207);
const ROUNDS = 12;

/** mulberry32: a small seeded generator, so a failing point can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const leftovers = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((n) => /zerodep-(tmp|layout|pack)-/.test(n)) : [];

function runUntil(args: string[], env: NodeJS.ProcessEnv, delayMs: number, signal: NodeJS.Signals) {
  const p = spawn(process.execPath, [cliPath, ...args], { stdio: ["ignore", "ignore", "pipe"], env });
  let stderr = "";
  p.stderr.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((res) =>
    p.on("close", (code, sig) => res({ code, signal: sig, stderr })),
  );
  const timer = setTimeout(() => p.kill(signal), delayMs);
  return done.finally(() => clearTimeout(timer));
}

describe("fault injection: killed at random points, existing images stay whole", {
  skip: needs({ tools: ["skopeo", "umoci"], fixtures: ["go-static"] }),
  timeout: 600_000,
}, () => {
  let work: string;
  let big: string;
  let layout: string;
  let archive: string;
  let tmp: string;
  let oldLayout: string;
  let oldArchive: string;
  before(() => {
    work = mkdtempSync(join(tmpdir(), "zd-fault-"));
    tmp = join(work, "tmp");
    mkdirSync(tmp);
    big = join(work, "big");
    // A real static Go program with 48 MiB of random bytes appended: compressing it takes a second or
    // more, so a kill lands while staging, while writing, or while committing, depending on the delay.
    copyFileSync(fixture("go-static"), big);
    for (let i = 0; i < 6; i++) appendFileSync(big, randomBytes(8 << 20));
    layout = join(work, "layout");
    archive = join(work, "img.tar");
    for (const dest of [`oci:${layout}:old`, `oci-archive:${archive}:old`])
      assert.equal(zerodep(["pack", fixture("go-static"), "--out", dest]).code, 0);
    oldLayout = run("skopeo", ["inspect", "--raw", `oci:${layout}:old`]).stdout;
    oldArchive = run("skopeo", ["inspect", "--raw", `oci-archive:${archive}:old`]).stdout;
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  test(`${ROUNDS} random stops (seed ${SEED}) of pack and copy into an existing layout and archive`, async () => {
    const next = rng(SEED);
    const signals: NodeJS.Signals[] = ["SIGKILL", "SIGINT", "SIGTERM"];
    const env = { ...process.env, TMPDIR: tmp, NO_COLOR: "1" };
    const seen = { finished: 0, stopped: 0 };
    let archiveRef = `oci-archive:${archive}:old`;
    let archiveRaw = oldArchive;
    for (let round = 0; round < ROUNDS; round++) {
      const signal = signals[Math.floor(next() * signals.length)]!;
      const delay = Math.floor(next() * 2500);
      const kind = Math.floor(next() * 3);
      const args =
        kind === 0
          ? ["pack", big, "--out", `oci:${layout}:new`]
          : kind === 1
            ? ["pack", big, "--out", `oci-archive:${archive}:new`]
            : ["copy", archiveRef, `oci:${layout}:copied`];
      const where = `round ${round} (seed ${SEED}): ${signal} after ${delay} ms of ${args.join(" ")}`;
      const r = await runUntil(args, env, delay, signal);
      const finished = r.code === 0;
      if (finished) seen.finished++;
      else seen.stopped++;
      // The images that were there are untouched, for skopeo and for umoci (which checks every digest).
      assert.equal(run("skopeo", ["inspect", "--raw", `oci:${layout}:old`]).stdout, oldLayout, where);
      run("umoci", ["stat", "--image", `${layout}:old`]);
      if (!finished && signal !== "SIGKILL") {
        // A signal in Node's first milliseconds, before the CLI installs its handler, ends the process
        // the default way (nothing was written yet); from then on it is one line and 130/143.
        if (r.signal !== signal) {
          assert.equal(r.code, signal === "SIGINT" ? 130 : 143, `${where}: ${r.stderr}`);
          assert.equal(r.stderr.trim().split("\n").length, 1, `${where}: one line: ${r.stderr}`);
        }
        assert.deepEqual([...leftovers(work), ...leftovers(tmp)], [], `${where}: nothing left behind`);
      }
      if (!finished && signal === "SIGKILL") {
        // The next run of the same command completes and sweeps what the killed one left.
        const again = zerodep(args, { env, timeoutMs: 120_000 });
        assert.equal(again.code, 0, `${where}: rerun: ${again.stderr}`);
        assert.deepEqual([...leftovers(work), ...leftovers(tmp)], [], `${where}: swept after SIGKILL`);
      }
      if (finished || signal === "SIGKILL") {
        // Whatever completed is a whole image too.
        run("skopeo", ["inspect", "--raw", args.at(-1)!]);
      }
      // An archive holds one image: it is either exactly the previous one, or — only when this round
      // packed into it and the rename happened (a signal may land just after it) — the whole new one.
      const prev = run("skopeo", ["inspect", "--raw", archiveRef], { allowFail: true });
      if (prev.status !== 0 || prev.stdout !== archiveRaw) {
        assert.equal(kind, 1, `${where}: the archive changed under a command that does not write it`);
        archiveRef = `oci-archive:${archive}:new`;
        archiveRaw = run("skopeo", ["inspect", "--raw", archiveRef]).stdout;
      }
      await sleep(10);
    }
    // The draw must have exercised real interruptions, not only runs that finished first.
    assert.ok(seen.stopped >= ROUNDS / 3, `only ${seen.stopped} of ${ROUNDS} runs were stopped`);
  });
});
