import type { CommandDef } from "./command.js";
import type { Flags } from "./flags.js";
import { readmeFlagsBlock } from "./help.js";

/** The README's generated command table: one row per definition, its summary. */
export function readmeCommandsBlock(defs: readonly CommandDef<Flags>[]): string {
  const rows = defs.map(
    (d) => `| \`zerodep ${d.name} ${d.usage[0]!.replace(/\|/g, "\\|")}\` | ${d.summary} |`,
  );
  return `<!-- commands -->\n| command | what it does |\n|---|---|\n${rows.join("\n")}\n<!-- /commands -->`;
}

/**
 * README with every generated block (<!-- commands -->, <!-- flags:NAME -->) rewritten from the
 * definitions. `missing` lists the blocks the README lacks: the docs test fails on them as on drift.
 */
export function updateReadme(
  readme: string,
  defs: readonly CommandDef<Flags>[],
): { text: string; missing: string[] } {
  const missing: string[] = [];
  let text = readme;
  const blocks: [string, string][] = [
    ["commands", readmeCommandsBlock(defs)],
    ...defs.map((d): [string, string] => [`flags:${d.name}`, readmeFlagsBlock(d)]),
  ];
  for (const [key, block] of blocks) {
    const open = `<!-- ${key} -->`;
    const close = `<!-- /${key} -->`;
    const a = text.indexOf(open);
    const b = text.indexOf(close, a);
    if (a < 0 || b < 0) {
      missing.push(key);
      continue;
    }
    text = text.slice(0, a) + block + text.slice(b + close.length);
  }
  return { text, missing };
}
