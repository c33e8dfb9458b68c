import { analyze } from "../../analyze/analyze.js";
import { evaluateGates, type GateResult } from "../../analyze/gates.js";
import type { AnalyzeResult } from "../../analyze/types.js";
import { writeHtmlReport } from "../../report/html.js";
import type { Invocation } from "../command.js";
import type { ANALYZE_FLAGS } from "../defs/analyze.js";
import { imageReadOptions } from "../image-flags.js";
import { EXIT } from "../io.js";
import { colorWanted, humanBytes, humanizeSizes, makeStyle, type Style } from "../style.js";

export async function runAnalyze({
  values,
  positionals,
  io,
}: Invocation<typeof ANALYZE_FLAGS>): Promise<number> {
  const failOn = values["fail-on"];
  const gates = {
    minEfficiency: values["min-efficiency"],
    maxWastedBytes: values["max-wasted-bytes"],
    maxWastedPercent: values["max-wasted-percent"],
    metric: values["gate-metric"] ?? "zerodep",
  };
  const top = values.top;
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const progress = io.stderr.isTTY && !values.json;
  const r = await analyze(positionals[0]!, {
    ...imageReadOptions(values, io),
    noAudit: values["no-audit"] === true,
    top,
    tree: values.html !== undefined,
    onProgress: progress
      ? (m) =>
          io.stderr.write(`\r\x1b[2Klayer ${m.layer + 1}/${m.layers}: ${humanBytes(m.compressedBytes)} read`)
      : undefined,
  });
  if (progress) io.stderr.write("\r\x1b[2K");
  const gateResults = evaluateGates(r, gates);
  if (values.html !== undefined) await writeHtmlReport(r, values.html);
  delete r.tree;
  const failedGate = gateResults.some((g) => !g.pass);
  const rank = { error: 2, warning: 1, info: 0 } as const;
  const failedFinding = failOn !== undefined && r.findings.some((f) => rank[f.severity] >= rank[failOn]);
  if (values.json) {
    io.stdout.write(`${JSON.stringify({ ...r, gates: gateResults })}\n`);
  } else {
    io.stdout.write(formatAnalyze(r, gateResults, st));
    if (values.html !== undefined) io.stdout.write(`report: ${values.html}\n`);
  }
  return failedGate || failedFinding ? EXIT.VERDICT_FAILED : EXIT.OK;
}

function pct(x: number | null): string {
  return x === null ? "n/a" : `${(x * 100).toFixed(1)}%`;
}

/** The short human report: layers, waste both ways, entrypoint, findings, gates. */
export function formatAnalyze(r: AnalyzeResult, gates: GateResult[], st: Style): string {
  const out: string[] = [];
  const t = r.totals;
  out.push(
    `${st.bold(r.image)}  ${r.platform}${r.platformChoice === "this machine" ? st.dim(" (this machine's, from the index; --platform to choose)") : ""}  ${r.digest.slice(0, 19)}…`,
  );
  out.push(
    `${t.layers} layer(s), ${humanBytes(t.compressedBytes)} compressed, ${humanBytes(t.contentBytes)} of file content; ` +
      `final tree ${t.finalFiles} files, ${humanBytes(t.finalBytes)}`,
  );
  out.push("");
  out.push(st.dim("  #  compressed   content    wasted   +add  ~mod  -del  command"));
  for (const l of r.layers) {
    const cmd = (l.history?.createdBy ?? "").replace(/\s+/g, " ").slice(0, 60);
    out.push(
      `${String(l.index).padStart(3)}  ${humanBytes(l.compressedBytes).padStart(9)}  ${humanBytes(l.contentBytes).padStart(9)}  ` +
        `${(l.wastedBytes ? humanBytes(l.wastedBytes) : "-").padStart(8)}  ${String(l.added).padStart(5)} ${String(l.modified).padStart(5)} ` +
        `${String(l.removed).padStart(5)}  ${cmd}`,
    );
  }
  const w = r.waste;
  out.push("");
  out.push(
    `waste (zerodep): ${humanBytes(w.wastedBytes)} shipped but not in the final tree (${pct(w.wastedPercent)}), efficiency ${pct(w.efficiency)}`,
  );
  out.push(
    `waste (dive):    efficiency ${pct(w.dive.efficiency)}, wastedBytes ${humanBytes(w.dive.wastedBytes)}, user wasted ${pct(w.dive.wastedUserPercent)}`,
  );
  for (const ev of w.events.slice(0, 5))
    out.push(
      st.dim(`  ${humanBytes(ev.bytes).padStart(9)}  ${ev.path}  (${ev.reason} by layer ${ev.byLayer})`),
    );
  const a = r.audit;
  out.push("");
  const ep = a.entrypoint;
  if (ep.program !== null) {
    const verdict =
      ep.runnable === true
        ? st.green("runs")
        : ep.runnable === false
          ? st.red("will not run")
          : "not checked";
    out.push(
      `entrypoint ${ep.program}${ep.resolved && ep.resolved !== ep.program ? ` → ${ep.resolved}` : ""}: ${verdict}`,
    );
  }
  out.push(
    `user ${a.user.configured ?? "(unset)"} → ${a.user.uid ?? "?"}:${a.user.gid ?? "?"}${a.user.root ? st.yellow(" (root)") : ""}; ` +
      `${a.elfFiles.length} ELF file(s), ${a.goBinaries.length} Go program(s)`,
  );
  for (const g of a.goBinaries.slice(0, 3)) {
    if (!g.goSize) continue;
    const o = g.goSize.byOrigin;
    out.push(
      st.dim(
        `  ${g.path} ${humanBytes(g.size)}: code ${humanBytes(g.goSize.codeBytes)} = std ${humanBytes(o.std)}, deps ${humanBytes(o.dependency)}, ` +
          `main ${humanBytes(o.main)}, generated ${humanBytes(o.generated)}; strip saves ${humanBytes(g.stripSavings)}`,
      ),
    );
  }
  if (r.findings.length > 0) out.push("");
  for (const f of r.findings) {
    const mark =
      f.severity === "error" ? st.red("✗") : f.severity === "warning" ? st.yellow("!") : st.cyan("i");
    out.push(`${mark} ${f.code} ${humanizeSizes(f.message)}`);
    out.push(st.dim(`    fix: ${f.fix}`));
  }
  if (gates.length > 0) out.push("");
  for (const g of gates) {
    const v =
      g.value === null
        ? "n/a"
        : g.gate === "max-wasted-bytes"
          ? String(g.value)
          : g.gate === "min-efficiency"
            ? g.value.toFixed(4)
            : `${g.value.toFixed(2)}%`;
    out.push(
      `${g.pass ? st.green("PASS") : st.red("FAIL")} ${g.gate} (${g.metric}): ${v} vs limit ${g.limit}`,
    );
  }
  return `${out.join("\n")}\n`;
}
