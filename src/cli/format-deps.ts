import type { DepNode, DepsResult } from "../resolve/resolve.js";
import { humanizeSizes, type Style } from "./style.js";

/** Flat list in load order, like ldd: name => path (why). */
export function formatDepsList(r: DepsResult, st: Style): string {
  const lines = [
    `${st.bold(r.file)} ${st.dim(`(${r.loader} loader rules, root ${r.root}, at ${r.location})`)}`,
  ];
  if (r.loader === "none") lines.push(`  ${st.green("statically linked")}: loads no shared libraries`);
  const rows: [string, string, string][] = r.libraries.map((l) => [l.name, l.path, l.via]);
  for (const m of missing(r.tree)) rows.push([m.name, st.red("not found"), ""]);
  const w = Math.max(0, ...rows.map((x) => x[0].length));
  for (const [n, p, v] of rows) lines.push(`  ${n.padEnd(w)} => ${p}${v ? st.dim(`  (${v})`) : ""}`);
  lines.push(...formatProblems(r.problems, st));
  return lines.join("\n") + "\n";
}

/** Indented tree, like lddtree, with the reason for each path; reused objects are marked, not expanded. */
export function formatDepsTree(r: DepsResult, st: Style): string {
  const lines = [
    `${st.bold(r.file)} ${st.dim(`(${r.loader} loader rules, root ${r.root}, at ${r.location})`)}`,
  ];
  const walk = (n: DepNode, depth: number) => {
    for (const c of n.children) {
      const pad = "    ".repeat(depth + 1);
      const where = c.path === null ? st.red("not found") : c.path;
      const why = c.via
        ? st.dim(
            ` (${c.via}${c.viaObject ? ` of ${c.viaObject}` : ""}${c.alreadyLoaded ? ", already loaded" : ""})`,
          )
        : "";
      lines.push(`${pad}${c.name} => ${where}${why}`);
      for (const s of c.skipped ?? []) lines.push(`${pad}    ${st.yellow("skipped")} ${s.path}: ${s.reason}`);
      if (c.path === null && c.searched?.length)
        lines.push(`${pad}    ${st.dim(`searched: ${c.searched.join(" ")}`)}`);
      if (!c.alreadyLoaded) walk(c, depth + 1);
    }
  };
  walk(r.tree, 0);
  lines.push(...formatProblems(r.problems, st));
  return lines.join("\n") + "\n";
}

function missing(n: DepNode, out: DepNode[] = []): DepNode[] {
  for (const c of n.children) {
    if (c.path === null && c.via !== "interpreter") out.push(c);
    if (!c.alreadyLoaded) missing(c, out);
  }
  return out;
}

export function formatProblems(
  problems: { code: string; severity: "error" | "warning" | "info"; message: string; fix: string }[],
  st: Style,
): string[] {
  const out: string[] = [];
  for (const p of problems) {
    const mark =
      p.severity === "error" ? st.red("✗") : p.severity === "warning" ? st.yellow("!") : st.dim("i");
    const code =
      p.severity === "error" ? st.red(p.code) : p.severity === "warning" ? st.yellow(p.code) : st.dim(p.code);
    out.push(`  ${mark} ${code} ${humanizeSizes(p.message)}`);
    out.push(`    ${st.dim("fix:")} ${p.fix}`);
  }
  return out;
}
