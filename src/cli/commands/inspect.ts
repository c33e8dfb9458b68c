import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { inspectFile } from "../../inspect/inspect.js";
import { formatInspect } from "../format-inspect.js";
import { type CliIO, EXIT, LineBuffer } from "../io.js";
import { colorWanted, makeStyle } from "../style.js";

export const inspectHelp = `Usage: zerodep inspect FILE... [--json] [--verbose] [--sections]

What each binary is and needs, read from its bytes (never executed): format, arch, linkage,
interpreter, NEEDED, RPATH/RUNPATH, libc and minimum glibc, hardening, debug info, Go build info.

Options:
  --json       JSON Lines, one object per file, in input order (schema: README "inspect --json")
  --verbose    all Go dependencies and build settings
  --sections   where the bytes go: the section table, largest first
  --no-color   never colour (colour is used only on a TTY; NO_COLOR is honoured)

Exit: 0 all files read, 3 some file could not be read or parsed, 2 usage error.`;

export async function runInspect(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      verbose: { type: "boolean", short: "v" },
      sections: { type: "boolean" },
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(inspectHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length === 0)
    throw new UsageError("USAGE", "inspect: no FILE given (see zerodep inspect --help)");
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const out = new LineBuffer(io.stdout);
  let failed = false;
  for (const p of positionals) {
    const r = await inspectFile(p);
    if (r.error) failed = true;
    if (values.json) out.push(JSON.stringify(r) + "\n");
    else
      out.push(
        formatInspect(r, st, { verbose: values.verbose === true, sections: values.sections === true }),
      );
  }
  out.flush();
  return failed ? EXIT.BAD_INPUT : EXIT.OK;
}
