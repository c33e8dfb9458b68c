/**
 * The reality matrix (issue #11 "Verdicts you can bet on"): several hundred cases generated from
 * data (test/reality/cases.ts) — probe programs of every binary kind (Go static/-s -w/pie/cgo, C
 * glibc dynamic/static/static-pie, musl, Rust gnu/musl, i386), broken copies, scripts, entrypoint
 * forms — in roots and images of every shape. For each case zerodep gives its verdict and needs
 * (check FILE --root, or check IMAGE + analyze + pack's safety net), then the case is run for real
 * (chroot, or podman + runc) and the two must agree:
 *   - really runs ↔ "will run" (check; for images also analyze and, for packed images, the safety net);
 *   - really fails ↔ "will not run", and the real error contains what our first error problem quotes;
 *   - for probes, each need reported satisfied/unsatisfied ↔ the probe's line for it says ok/fail,
 *     and a probe line that failed must correspond to a need zerodep reported unsatisfied.
 * Prints "matrix: N cases, A agree, D disagree (S s)" and fails listing every disagreement.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fixturesDir, needs } from "../helpers/env.js";
import { chrootUnavailable, host } from "../helpers/roots.js";
import { type Case, enumerateCases } from "./cases.js";
import { type Exec, pool } from "./exec.js";
import { buildProbes } from "./probes.js";
import {
  baseTag,
  chrootRun,
  packImage,
  podmanBuild,
  podmanCleanup,
  podmanRun,
  ranMarker,
  umociImage,
  Workspace,
} from "./realize.js";
import { buildTree } from "./trees.js";
import {
  analyzeVerdict,
  checkVerdict,
  type Disagreement,
  norm,
  PROBE_LINE,
  probeLines,
  quotes,
  type Verdict,
} from "./verdicts.js";

const skip =
  chrootUnavailable() ||
  needs({
    tools: ["podman", "runc", "umoci", "chroot", "unshare", "gcc", "musl-gcc"],
    fixtures: ["c-rpath", "libzd.so.1", "libzd-old.so.1", "libzd32.so.1"],
  });

/** Cases run at once: the machine has 2 cores (podman and zerodep are mostly waiting on I/O). */
const PARALLEL = Number(process.env.ZD_MATRIX_PARALLEL ?? 3);
/** ZD_MATRIX_ONLY=substring runs only the matching cases (for debugging one case). */
const ONLY = process.env.ZD_MATRIX_ONLY;

interface Outcome {
  c: Case;
  verdict: Verdict;
  real: Exec;
  runs: boolean;
}

describe("reality matrix: verdicts vs real runs", { skip }, () => {
  let ws: Workspace;
  const started = Date.now();
  const outcomes: Outcome[] = [];
  const disagreements: Disagreement[] = [];
  const base = join(tmpdir(), `zd-matrix-${process.pid}`); // lower case: podman's oci: transport
  const state = join(base, "podman");

  before(() => {
    ws = new Workspace(base, buildProbes());
  });
  after(async () => {
    await podmanCleanup(state).catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  });

  function judge(o: Outcome): void {
    const { c, verdict, real, runs } = o;
    const codes = verdict.problems.map((p) => `${p.severity[0]}:${p.code}`).join(", ") || "no problems";
    const realText = runs
      ? "runs"
      : `fails: ${real.timedOut ? "timed out " : ""}exit ${real.status}${real.signal ? ` signal ${real.signal}` : ""} ${real.stderr.trim().split("\n").slice(-3).join(" | ")}`;
    const d = (what: Disagreement["what"], predicted: string) =>
      disagreements.push({ id: c.id, what, predicted, real: realText, problems: codes });
    if (verdict.runnable !== runs) d("verdict", verdict.runnable ? "will run" : "will NOT run");
    if (verdict.analyze !== undefined && verdict.analyze !== runs)
      d("analyze", `analyze entrypoint runnable=${verdict.analyze}`);
    if (verdict.safetyNet !== undefined && verdict.safetyNet !== runs)
      d("safety-net", verdict.safetyNet ? "pack writes it" : "pack refuses it");
    if (!runs && !verdict.runnable) {
      const first = verdict.problems.find((p) => p.severity === "error");
      const said = norm(`${real.stderr} ${real.signal ? `killed by ${real.signal}` : ""}`);
      const missing = first ? quotes(first.message).filter((q) => !said.includes(norm(q))) : [];
      if (missing.length > 0) d("error-text", `${first!.code} quotes ${JSON.stringify(missing)}`);
    }
    if (runs && (c.program.kind === "probe" || c.program.kind === "fixture")) {
      const lines = probeLines(real.stdout);
      for (const [kind, line] of Object.entries(PROBE_LINE)) {
        const ok = lines.get(line);
        if (ok === undefined) continue;
        const reported = verdict.needs.filter((n) => n.kind === kind);
        if (reported.length === 0) {
          if (!ok) d("need-undetected", `no ${kind} need reported, the probe's ${line} line failed`);
          continue;
        }
        const satisfied = reported.every((n) => n.satisfied);
        if (satisfied !== ok)
          d(
            "need",
            `${kind} ${satisfied ? "satisfied" : "unsatisfied"}, probe ${line} ${ok ? "ok" : "fail"}`,
          );
      }
    }
  }

  it("every case agrees with reality", { timeout: 20 * 60_000 }, async () => {
    let cases = enumerateCases();
    if (ONLY) cases = cases.filter((c) => c.id.includes(ONLY));
    if (!ONLY) assert.ok(cases.length >= 200, `the matrix has only ${cases.length} cases`);

    // Base images for `pack --base`, one per tree, made once by umoci.
    const bases = new Map<string, string>();
    for (const c of cases)
      if (c.run.via === "pack" && c.run.base && !bases.has(baseTag(c.run.base))) {
        const root = ws.fresh("baseroot");
        buildTree(root, c.run.base);
        bases.set(baseTag(c.run.base), await umociImage(join(base, "bases"), baseTag(c.run.base), root, {}));
        rmSync(root, { recursive: true, force: true });
      }

    const harness: string[] = [];
    await pool(cases, PARALLEL, async (c, i) => {
      let root: string | null = null;
      try {
        root = ws.tree(c);
        let verdict: Verdict;
        let real: Exec;
        if (c.run.via === "chroot") {
          const argv0 = c.run.argv0;
          verdict = await checkVerdict([host(root, argv0), "--root", root, "--as", argv0]);
          real = await chrootRun(root, argv0);
        } else {
          const layout = join(base, `img${i}`);
          let image: string;
          let safetyNet: boolean | undefined;
          let runImage: string | null = null;
          if (c.run.via === "umoci") image = await umociImage(layout, "t", root, c.run.config);
          else if (c.run.via === "podman-build") {
            runImage = `localhost/zd-matrix-${i}:latest`;
            image = await podmanBuild(state, root, c.run.lines, runImage);
          } else {
            const packed = await packImage(
              ws,
              layout,
              "t",
              c,
              c.run.base ? bases.get(baseTag(c.run.base))! : null,
            );
            image = packed.image;
            safetyNet = packed.safetyNet === 0;
          }
          verdict = await checkVerdict([image]);
          verdict.analyze = (await analyzeVerdict(image)).runnable;
          if (safetyNet !== undefined) verdict.safetyNet = safetyNet;
          real = await podmanRun(state, runImage ?? image);
          rmSync(layout, { recursive: true, force: true });
          rmSync(`${root}.oci.tar`, { force: true });
          rmSync(`${root}.containerfile`, { force: true });
        }
        const runs = real.status === 0 && !real.timedOut && real.stdout.includes(ranMarker(c.program));
        const o = { c, verdict, real, runs };
        outcomes.push(o);
        judge(o);
      } catch (e) {
        // A case that could not be built or judged is reported, and the others still run.
        harness.push(`${c.id}: ${e instanceof Error ? e.message : String(e)}`);
      } finally {
        if (root) rmSync(root, { recursive: true, force: true });
      }
    });
    for (const h of harness) console.log(`matrix: HARNESS ERROR ${h}`);

    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const bad = new Set(disagreements.map((d) => d.id));
    const summary = `matrix: ${outcomes.length} cases, ${outcomes.length - bad.size} agree, ${bad.size} disagree (${seconds} s; ${outcomes.filter((o) => o.runs).length} really run)`;
    console.log(summary);
    for (const d of disagreements)
      console.log(
        `matrix: DISAGREE ${d.id} [${d.what}] predicted ${d.predicted}; really ${d.real}; problems ${d.problems}`,
      );
    // The last run's results, for reading (test/fixtures/out is git-ignored).
    mkdirSync(fixturesDir, { recursive: true });
    writeFileSync(
      join(fixturesDir, "reality-matrix-last.json"),
      JSON.stringify(
        {
          summary,
          disagreements,
          outcomes: outcomes.map((o) => ({
            id: o.c.id,
            runs: o.runs,
            runnable: o.verdict.runnable,
            analyze: o.verdict.analyze,
            safetyNet: o.verdict.safetyNet,
            problems: o.verdict.problems,
            needs: o.verdict.needs.map((n) => `${n.kind}:${n.satisfied}`),
            status: o.real.status,
            signal: o.real.signal,
            stdout: o.real.stdout.slice(0, 2000),
            stderr: o.real.stderr.slice(-2000),
          })),
        },
        null,
        1,
      ),
    );
    assert.deepEqual(harness, [], "every case could be built and judged");
    assert.equal(outcomes.length, cases.length, "every case ran");
    // Each disagreement is listed above (and in reality-matrix-last.json); the message stays short.
    assert.equal(
      disagreements.length,
      0,
      `${summary}: ${[...bad].slice(0, 20).join(", ")}${bad.size > 20 ? ", …" : ""}`,
    );
  });
});
