import { diffImages } from "../../analyze/diff.js";
import type { Invocation } from "../command.js";
import type { DIFF_FLAGS } from "../defs/diff.js";
import { formatConfigChange } from "../format-diff.js";
import { imageReadOptions } from "../image-flags.js";
import { EXIT } from "../io.js";
import { colorWanted, humanBytes, makeStyle } from "../style.js";

export async function runDiff({ values, positionals, io }: Invocation<typeof DIFF_FLAGS>): Promise<number> {
  const limit = values.limit ?? 20;
  const r = await diffImages(positionals[0]!, positionals[1]!, {
    ...imageReadOptions(values, io),
  });
  const differ = r.added.length + r.removed.length + r.changed.length + r.config.length > 0;
  if (values.json) {
    io.stdout.write(`${JSON.stringify(r)}\n`);
    return differ ? EXIT.VERDICT_FAILED : EXIT.OK;
  }
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const sign = (n: number) => (n >= 0 ? `+${humanBytes(n)}` : `-${humanBytes(-n)}`);
  const out: string[] = [];
  out.push(`${r.a.image} → ${r.b.image}`);
  out.push(
    `final tree ${humanBytes(r.a.finalBytes)} → ${humanBytes(r.b.finalBytes)} (${sign(r.sizeDelta)}); ` +
      `${r.added.length} added, ${r.removed.length} removed, ${r.changed.length} changed, ${r.config.length} config field(s)`,
  );
  for (const c of r.added.slice(0, limit)) out.push(st.green(`  + ${c.path}  ${sign(c.delta)}`));
  for (const c of r.removed.slice(0, limit)) out.push(st.red(`  - ${c.path}  ${sign(c.delta)}`));
  for (const c of r.changed.slice(0, limit))
    out.push(st.yellow(`  ~ ${c.path}  ${sign(c.delta)}  (${c.changes?.join(", ")})`));
  for (const c of r.config) out.push(formatConfigChange(c));
  io.stdout.write(`${out.join("\n")}\n`);
  return differ ? EXIT.VERDICT_FAILED : EXIT.OK;
}
