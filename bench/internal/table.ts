// Plain aligned text tables for stdout; numbers right-aligned, text left-aligned.

export type Cell = string | number | null;

export function formatTable(header: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map(formatCell));
  const widths = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? "").length)));
  const numeric = header.map((_, i) => rows.every((r) => r[i] === null || typeof r[i] === "number"));
  const line = (cells: string[], isHeader: boolean) =>
    cells
      .map((c, i) => (numeric[i] && !isHeader ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [
    line(header, true),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...text.map((r) => line(r, false)),
  ].join("\n");
}

function formatCell(c: Cell): string {
  if (c === null) return "-";
  if (typeof c === "number") return Number.isInteger(c) ? String(c) : c.toFixed(1);
  return c;
}

/** "1.23×" for a ratio a/b. */
export function formatRatio(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return "-";
  return `${r.toFixed(r < 0.1 ? 3 : 2)}×`;
}

export function formatMiB(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return `${Math.abs(mib) < 0.05 ? "0.0" : mib.toFixed(1)} MiB`;
}
