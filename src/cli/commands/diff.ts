import { parseArgs } from "node:util";
import { diffImages } from "../../analyze/diff.js";
import { UsageError } from "../../errors.js";
import { IMAGE_READ_FLAGS, imageReadOptions } from "../image-flags.js";
import { type CliIO, EXIT } from "../io.js";
import { REGISTRY_FLAGS_HELP } from "../registry-flags.js";
import { colorWanted, humanBytes, makeStyle } from "../style.js";

export const diffHelp = `Usage: zerodep diff IMAGE_A IMAGE_B [--json] [--platform P] [--limit N]

The files (added, removed, changed — content compared by sha256, size deltas) and the config fields
that differ between two images, each read in one stream per layer. IMAGE: oci:DIR[:TAG],
oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG].

Options:
  --json              the full result (schema: README "diff --json")
  --platform P        which image of multi-platform indexes
  --limit N           paths listed per category in the human output (default 20)
  --max-layer-bytes N refuse a layer decompressing beyond N bytes (default 16GiB)

With a registry IMAGE (HOST/REPO[:TAG|@DIGEST], docker://NAME):
${REGISTRY_FLAGS_HELP}

Exit: 0 identical, 1 they differ, 3 bad input or I/O error, 2 usage error (like diff(1)).`;

export async function runDiff(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      limit: { type: "string" },
      ...IMAGE_READ_FLAGS,
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(diffHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length !== 2)
    throw new UsageError("USAGE", "diff: two images, IMAGE_A IMAGE_B (see zerodep diff --help)");
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0)
    throw new UsageError("USAGE", `--limit: a whole number (got "${values.limit}")`);
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
  for (const c of r.config) out.push(`  config ${c.field}: ${JSON.stringify(c.a)} → ${JSON.stringify(c.b)}`);
  io.stdout.write(`${out.join("\n")}\n`);
  return differ ? EXIT.VERDICT_FAILED : EXIT.OK;
}
