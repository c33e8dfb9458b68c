import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { scanTrees, scanTreesJson } from "../../scan/scan.js";
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
  -j, --jobs N parser threads (default: CPUs - 1, 1 to 4; 0 = parse on the main thread)
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
      jobs: { type: "string", short: "j" },
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
  const walk = {
    followSymlinks: values.follow === true,
    oneFileSystem: values.xdev === true,
    formats: values["elf-only"] ? (["elf"] as ("elf" | "pe" | "macho")[]) : undefined,
    workers: jobsOption(values.jobs),
  };
  const count = (key: string, bad: boolean) => {
    if (bad) failed = true;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  if (values.json) {
    for await (const l of scanTreesJson(positionals, walk)) {
      count(l.key, l.failed);
      out.push(l.json + "\n");
    }
  } else {
    for await (const r of scanTrees(positionals, walk)) {
      count(r.error ? "error" : (r.linkage ?? r.format), r.error !== undefined);
      if (!values.summary) out.push(formatScanLine(r, st) + "\n");
    }
  }
  out.flush();
  if (values.summary) {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
    (values.json ? io.stderr : io.stdout).write(`${total} binaries: ${parts.join(", ")}\n`);
  }
  return failed ? EXIT.BAD_INPUT : EXIT.OK;
}

function jobsOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 64)
    throw new UsageError("USAGE", `--jobs wants a whole number from 0 to 64 (got "${v}")`);
  return n;
}
