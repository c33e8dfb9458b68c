import { run } from "../helpers/env.js";

/** Sections as `llvm-objdump -h` lists them: name, size and VMA (the anchor for the PE/Mach-O readers). */
export function objdumpSections(
  path: string,
  extra: string[] = [],
): Array<{ name: string; size: number; vma: number }> {
  const out = run("llvm-objdump", ["-h", ...extra, path]).stdout;
  const rows: Array<{ name: string; size: number; vma: number }> = [];
  for (const line of out.split("\n")) {
    const m = /^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+([0-9a-f]+)/.exec(line);
    if (m) rows.push({ name: m[1]!, size: Number.parseInt(m[2]!, 16), vma: Number.parseInt(m[3]!, 16) });
  }
  return rows;
}
