import type { CommandDef } from "./command.js";
import type { FlagDef, Flags } from "./flags.js";

const COL = 28;

function flagRow(name: string, f: FlagDef): string {
  const head = `  ${f.short ? `-${f.short}, ` : ""}--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
  const extra = [f.default !== undefined ? `default ${f.default}` : "", f.multiple ? "repeatable" : ""]
    .filter((x) => x && !f.help.includes(x))
    .join("; ");
  const text = `${f.help}${extra ? ` (${extra})` : ""}`;
  return head.length < COL ? `${head.padEnd(COL)}${text}` : `${head}\n${" ".repeat(COL)}${text}`;
}

/** The options section: the command's own flags, then each shared group under its heading. */
export function optionsText(flags: Flags): string {
  const groups = new Map<string, string[]>();
  for (const [name, f] of Object.entries(flags)) {
    const g = f.group ?? "";
    groups.set(g, [...(groups.get(g) ?? []), flagRow(name, f)]);
  }
  const out = ["Options:", ...(groups.get("") ?? []), "  -h, --help".padEnd(COL) + "this help"];
  for (const [g, rows] of groups) if (g !== "") out.push(`${g}:`, ...rows);
  return out.join("\n");
}

/** `zerodep CMD --help`, generated from the definition. */
export function commandHelp(def: CommandDef<Flags>): string {
  const usage = def.usage.map((u, i) => `${i === 0 ? "Usage: " : "       "}zerodep ${def.name} ${u}`);
  return [
    usage.join("\n"),
    "",
    def.description.trim(),
    "",
    optionsText(def.flags),
    ...(def.notes ? ["", def.notes.trim()] : []),
    "",
    `Exit: ${def.exit}`,
  ].join("\n");
}

/** The README block between <!-- flags:NAME --> and <!-- /flags:NAME -->, rewritten by `npm run docs`. */
export function readmeFlagsBlock(def: CommandDef<Flags>): string {
  return `<!-- flags:${def.name} -->\n\`\`\`text\n${optionsText(def.flags)}\n\`\`\`\n<!-- /flags:${def.name} -->`;
}

/** `zerodep --help`: the command table. */
export function mainHelp(defs: readonly CommandDef<Flags>[]): string {
  const rows = defs.map((c) => `  ${c.name.padEnd(10)}${c.summary}`);
  return `zerodep — zero-dependency deployment of single binaries, proven without running them

Usage: zerodep <command> [options]

Commands:
${rows.join("\n")}

Run 'zerodep <command> --help' for a command's options. Every command takes --json.
Exit codes: 0 ok, 1 a check failed, 2 usage error, 3 bad input or I/O error.`;
}
