import { parseArgs } from "node:util";
import { analyze } from "../../analyze/analyze.js";
import { evaluateGates, type GateResult } from "../../analyze/gates.js";
import type { AnalyzeResult } from "../../analyze/types.js";
import { UsageError } from "../../errors.js";
import { writeHtmlReport } from "../../report/html.js";
import { IMAGE_READ_FLAGS, imageReadOptions, parseSize } from "../image-flags.js";
import { type CliIO, EXIT } from "../io.js";
import { REGISTRY_FLAGS_HELP } from "../registry-flags.js";
import { colorWanted, humanBytes, makeStyle, type Style } from "../style.js";

export const analyzeHelp = `Usage: zerodep analyze IMAGE [--html FILE] [--json] [--platform OS/ARCH[/VARIANT]] [gates]

What is inside an image, what it wastes, and whether it runs — without a daemon and without extracting
it. IMAGE is oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:REPO:TAG] (Docker 25+ and
legacy docker save). One streaming pass per layer: per-layer sizes, history command, files added,
modified and removed; waste both as dive computes it and as bytes shipped but absent from the final
tree; every ELF file with its linkage, Go binaries by package; the entrypoint checked (zerodep check)
against the image's own file tree; shells, package managers, setuid/setgid, world-writable files, the
runtime user and what it cannot read.

Options:
  --html FILE               a self-contained HTML report (treemaps, layer table, findings)
  --json                    the full result (schema: README "analyze --json")
  --platform P              which image of a multi-platform index
  --min-efficiency F        exit 1 when efficiency < F (0..1; dive --ci's lowestEfficiency)
  --max-wasted-bytes N      exit 1 when wasted bytes > N (suffixes K, M, G: 1000s; KiB, MiB, GiB)
  --max-wasted-percent P    exit 1 when wasted share > P percent
  --gate-metric zerodep|dive  which figures the gates judge (default zerodep: bytes not in the final
                            tree as a share of all layer content; dive: dive's efficiency, wastedBytes
                            and wasted share of the non-base layers)
  --fail-on error|warning   exit 1 on a finding of that severity or worse
  --max-layer-bytes N       refuse a layer decompressing beyond N bytes (default 16GiB: gzip bombs)
  --top N                   largest files listed per layer and overall (default 20)
  --no-audit                file index and waste only (no ELF parsing, no entrypoint check)

With a registry IMAGE (HOST/REPO[:TAG|@DIGEST], docker://NAME):
${REGISTRY_FLAGS_HELP}

Exit: 0 ok, 1 a gate failed, 3 bad input or I/O error, 2 usage error.`;

function parseNumber(s: string | undefined, what: string, lo: number, hi: number): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (s.trim() === "" || !Number.isFinite(n) || n < lo || n > hi)
    throw new UsageError("USAGE", `${what}: "${s}" is not a number between ${lo} and ${hi}`);
  return n;
}

export async function runAnalyze(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      html: { type: "string" },
      json: { type: "boolean" },
      "min-efficiency": { type: "string" },
      "max-wasted-bytes": { type: "string" },
      "max-wasted-percent": { type: "string" },
      "gate-metric": { type: "string" },
      "fail-on": { type: "string" },
      top: { type: "string" },
      "no-audit": { type: "boolean" },
      ...IMAGE_READ_FLAGS,
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(analyzeHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length !== 1)
    throw new UsageError("USAGE", "analyze: exactly one IMAGE (see zerodep analyze --help)");
  const metric = values["gate-metric"] ?? "zerodep";
  if (metric !== "zerodep" && metric !== "dive")
    throw new UsageError("USAGE", `--gate-metric: zerodep or dive (got "${metric}")`);
  const failOn = values["fail-on"];
  if (failOn !== undefined && failOn !== "error" && failOn !== "warning")
    throw new UsageError("USAGE", `--fail-on: error or warning (got "${failOn}")`);
  const gates = {
    minEfficiency: parseNumber(values["min-efficiency"], "--min-efficiency", 0, 1),
    maxWastedBytes:
      values["max-wasted-bytes"] === undefined
        ? undefined
        : parseSize(values["max-wasted-bytes"], "--max-wasted-bytes"),
    maxWastedPercent: parseNumber(values["max-wasted-percent"], "--max-wasted-percent", 0, 100),
    metric: metric as "zerodep" | "dive",
  };
  const top = parseNumber(values.top, "--top", 1, 10000);
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
  const failedFinding =
    failOn !== undefined && r.findings.some((f) => rank[f.severity] >= rank[failOn as "error" | "warning"]);
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
  out.push(`${st.bold(r.image)}  ${r.platform}  ${r.digest.slice(0, 19)}…`);
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
    out.push(`${mark} ${f.code} ${f.message}`);
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
