import { quoteGo } from "../go/go-quote.js";
import type { InspectResult } from "../inspect/types.js";
import { humanBytes, humanizeSizes, type Style } from "./style.js";

function yesNo(st: Style, v: boolean | null, yes = "yes", no = "no"): string {
  if (v === null) return st.dim("n/a");
  return v ? st.green(yes) : st.red(no);
}

/** One-line identity, in the spirit of `file`. */
export function summaryLine(r: InspectResult): string {
  if (r.format === "unknown") return "not an executable (no ELF, PE or Mach-O header)";
  const parts: string[] = [];
  if (r.elf) parts.push(`ELF ${r.elf.class}-bit ${r.elf.endian === "little" ? "LSB" : "MSB"} ${r.elf.type}`);
  else if (r.format === "pe") parts.push("PE");
  else parts.push(r.slices ? `Mach-O universal (${r.slices.map((x) => x.arch).join(", ")})` : "Mach-O");
  parts.push(`${r.os ?? "?"}/${r.arch ?? "?"}${r.variant ? `/${r.variant}` : ""}`);
  if (r.linkage) parts.push(r.linkage + (r.linkage === "dynamic" && r.hardening?.pie ? " (PIE)" : ""));
  if (r.libc && r.libc !== "unknown") parts.push(r.libc + (r.glibcMin ? ` >= ${r.glibcMin}` : ""));
  if (r.go) parts.push(r.go.version ?? "Go");
  return parts.join(" · ");
}

/** Short aligned block per file: the facts of `file` + `checksec` + `go version -m` in a few lines. */
export function formatInspect(
  r: InspectResult,
  st: Style,
  opts: { verbose?: boolean; sections?: boolean } = {},
): string {
  const lines: string[] = [];
  const row = (k: string, v: string) => lines.push(`  ${st.dim(k.padEnd(11))}${v}`);
  if (r.error) {
    return `${st.bold(r.path)}  ${st.red("error:")} ${r.error}\n`;
  }
  lines.push(`${st.bold(r.path)}  ${summaryLine(r)}`);
  if (r.format === "unknown") return lines.join("\n") + "\n";
  if (r.interpreter !== null) row("interp", r.interpreter);
  if (r.needed.length) row("needed", r.needed.join(" "));
  if (r.soname) row("soname", r.soname);
  if (r.rpath.length) row("rpath", r.rpath.join(":"));
  if (r.runpath.length) row("runpath", r.runpath.join(":"));
  if (r.hardening) {
    const h = r.hardening;
    const relro =
      h.relro === "full" ? st.green("full") : h.relro === "partial" ? st.yellow("partial") : st.red("none");
    row(
      "hardening",
      [
        `PIE ${yesNo(st, h.pie)}`,
        `RELRO ${relro}`,
        `NX ${yesNo(st, h.nx)}`,
        `canary ${yesNo(st, h.canary)}`,
        `FORTIFY ${yesNo(st, h.fortify)}`,
      ].join("  "),
    );
  }
  if (r.stripped !== null) {
    const dbg = r.debug?.present
      ? `debug info ${humanBytes(r.debug.fileBytes)}${r.debug.compressed ? ` (${humanBytes(r.debug.uncompressedBytes)} uncompressed)` : ""}`
      : "no debug info";
    const save = r.stripSavings ? `; strip saves ${humanBytes(r.stripSavings)}` : "";
    row("symbols", `${r.stripped ? "stripped" : "not stripped"}, ${dbg}${save}`);
  }
  if (r.toolchain.length) row("toolchain", r.toolchain.join("; "));
  if (r.go) {
    const g = r.go;
    row(
      "go",
      `${g.version ?? "unknown version"}${g.source === "pclntab" ? " (from pclntab; no build info)" : ""}`,
    );
    if (g.path) row("  path", g.path);
    if (g.main) row("  mod", `${g.main.path} ${g.main.version}${g.main.sum ? ` ${g.main.sum}` : ""}`);
    const deps = opts.verbose ? g.deps : g.deps.slice(0, 5);
    for (const d of deps)
      row("  dep", `${d.path} ${d.version}${d.replace ? ` => ${d.replace.path} ${d.replace.version}` : ""}`);
    if (deps.length < g.deps.length) row("", st.dim(`… ${g.deps.length - deps.length} more (--verbose)`));
    const keys = [
      "CGO_ENABLED",
      "GOOS",
      "GOARCH",
      "GOAMD64",
      "GOARM",
      "-buildmode",
      "-trimpath",
      "-tags",
      "-ldflags",
      "vcs.revision",
      "vcs.modified",
    ];
    // As `go version -m` prints them (runtime/debug BuildInfo.String): a key is quoted when empty or
    // holding '=', space, tab, CR, LF, '"' or '`'; a value for the same characters except '='.
    const kv = (k: string) => {
      const v = g.settings[k]!;
      return `${k === "" || /[= \t\r\n"`]/.test(k) ? quoteGo(k) : k}=${/[ \t\r\n"`]/.test(v) ? quoteGo(v) : v}`;
    };
    const s = keys.filter((k) => g.settings[k] !== undefined).map(kv);
    if (opts.verbose) for (const k of Object.keys(g.settings)) if (!keys.includes(k)) s.push(kv(k));
    if (s.length) row("  build", s.join(" "));
  }
  if (r.slices)
    for (const sl of r.slices) row("slice", `${sl.arch}${sl.go?.version ? ` ${sl.go.version}` : ""}`);
  if (opts.sections && r.sections.length > 0) lines.push(...sectionRows(r, st));
  for (const w of r.warnings) {
    lines.push(`  ${st.yellow("!")} ${st.yellow(w.code)} ${humanizeSizes(w.message)}`);
    lines.push(`    ${st.dim("fix:")} ${w.fix}`);
  }
  return lines.join("\n") + "\n";
}

/** One line per file for `scan`: linkage, arch, libc, hardening, path (scanelf-like, aligned). */
export function formatScanLine(r: InspectResult, st: Style): string {
  if (r.error) return `${st.red("error".padEnd(14))} ${r.path}: ${r.error}`;
  const link = (r.linkage ?? r.format).padEnd(14);
  const arch = `${r.arch ?? "?"}${r.variant ? `/${r.variant}` : ""}`.padEnd(9);
  const libc = `${r.libc ?? "-"}${r.glibcMin ? ` ${r.glibcMin}` : ""}`.padEnd(12);
  const h = r.hardening;
  const hard = h ? `${h.pie ? "PIE" : "-  "} ${h.relro.padEnd(7)} ${h.nx ? "NX" : "--"}` : "".padEnd(14);
  const go = r.go ? ` ${st.cyan(r.go.version ?? "go")}` : "";
  return `${link} ${arch} ${libc} ${hard}  ${r.path}${go}`;
}

/** Where the bytes go: sections by size in the file, largest first, with their share. */
function sectionRows(r: InspectResult, st: Style): string[] {
  const total = r.size ?? r.sections.reduce((a, s) => a + s.fileBytes, 0);
  const rows = [...r.sections].filter((s) => s.fileBytes > 0).sort((a, b) => b.fileBytes - a.fileBytes);
  const w = Math.max(8, ...rows.map((s) => s.name.length));
  const out = [
    `  ${st.dim("sections")}   ${"name".padEnd(w)}  ${"type".padEnd(10)} ${"bytes".padStart(10)}  share`,
  ];
  for (const s of rows) {
    const pct = total > 0 ? ((100 * s.fileBytes) / total).toFixed(1).padStart(5) : "    -";
    out.push(
      `             ${s.name.padEnd(w)}  ${s.type.padEnd(10)} ${String(s.fileBytes).padStart(10)}  ${pct}%`,
    );
  }
  return out;
}
