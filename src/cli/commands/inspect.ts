import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { inspectFile } from "../../inspect/inspect.js";
import { inspectImage } from "../../inspect/inspect-image.js";
import { formatInspect } from "../format-inspect.js";
import { isImageArg } from "../image-arg.js";
import { type CliIO, EXIT, LineBuffer } from "../io.js";
import { REGISTRY_FLAGS, REGISTRY_FLAGS_HELP, registryOptions } from "../registry-flags.js";
import { colorWanted, makeStyle } from "../style.js";

export const inspectHelp = `Usage: zerodep inspect FILE... [--json] [--verbose] [--sections]
       zerodep inspect IMAGE... [--path IN_IMAGE_PATH]... [--platform OS/ARCH]

What each binary is and needs, read from its bytes (never executed): format, arch, linkage,
interpreter, NEEDED, RPATH/RUNPATH, libc and minimum glibc, hardening, debug info, Go build info.

An IMAGE (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG], or a registry
reference HOST/REPO[:TAG|@DIGEST], docker://NAME for Docker Hub) is read from its
layers without extracting anything: by default the program its entrypoint starts, or each --path.

Options:
  --path P     with an IMAGE: inspect this file of the image (repeatable)
  --platform P with an IMAGE index: which platform (os/arch[/variant])
  --json       JSON Lines, one object per file, in input order (schema: README "inspect --json")
  --verbose    all Go dependencies and build settings
  --sections   where the bytes go: the section table, largest first
With a registry IMAGE:
${REGISTRY_FLAGS_HELP}
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
      path: { type: "string", multiple: true },
      platform: { type: "string" },
      ...REGISTRY_FLAGS,
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
    const isImage = isImageArg(p);
    if (!isImage && (values.path !== undefined || values.platform !== undefined))
      throw new UsageError("USAGE", `inspect: --path and --platform apply to images; ${p} is a file`);
    const results = isImage
      ? await inspectImage(p, {
          ...(values.path ? { paths: values.path } : {}),
          ...(values.platform ? { platform: values.platform } : {}),
          image: { registry: registryOptions(values, io) },
        })
      : [await inspectFile(p)];
    for (const r of results) {
      if (r.error) failed = true;
      if (values.json) out.push(JSON.stringify(r) + "\n");
      else
        out.push(
          formatInspect(r, st, { verbose: values.verbose === true, sections: values.sections === true }),
        );
    }
  }
  out.flush();
  return failed ? EXIT.BAD_INPUT : EXIT.OK;
}
