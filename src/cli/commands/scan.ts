import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { scanTrees } from "../../scan/scan.js";
import { formatScanLine } from "../format-inspect.js";
import { type CliIO, EXIT, LineBuffer } from "../io.js";
import { colorWanted, makeStyle } from "../style.js";

export const scanHelp = `Usage: zerodep scan DIR... [--json] [--follow] [--xdev]

Walks directory trees and reports every ELF, PE and Mach-O file (recognised by its first bytes)
with the same facts as inspect, one line each (the scanelf -R use case).

Options:
  --json       JSON Lines, one inspect object per binary found
  --follow     follow symbolic links (default: not followed; loops are detected)
  --xdev       stay on each root's file system
  --elf-only   report ELF files only
  --summary    print only the totals per linkage (to stderr with --json)
  --no-color   never colour

Exit: 0 all binaries read, 3 some directory or binary could not be read or parsed, 2 usage error.`;

export async function runScan(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      follow: { type: "boolean", short: "L" },
      xdev: { type: "boolean" },
      "elf-only": { type: "boolean" },
      summary: { type: "boolean" },
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(scanHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length === 0) throw new UsageError("USAGE", "scan: no DIR given (see zerodep scan --help)");
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const out = new LineBuffer(io.stdout);
  let failed = false;
  const counts = new Map<string, number>();
  for await (const r of scanTrees(positionals, {
    followSymlinks: values.follow === true,
    oneFileSystem: values.xdev === true,
    formats: values["elf-only"] ? ["elf"] : undefined,
  })) {
    if (r.error) failed = true;
    const key = r.error ? "error" : (r.linkage ?? r.format);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    if (values.summary && !values.json) continue;
    out.push(values.json ? JSON.stringify(r) + "\n" : formatScanLine(r, st) + "\n");
  }
  out.flush();
  if (values.summary) {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
    (values.json ? io.stderr : io.stdout).write(`${total} binaries: ${parts.join(", ")}\n`);
  }
  return failed ? EXIT.BAD_INPUT : EXIT.OK;
}
