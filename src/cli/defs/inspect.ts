import { defineCommand } from "../command.js";
import { OUTPUT, PLATFORM, REGISTRY } from "../flag-groups.js";
import { bool, str } from "../flags.js";

export const INSPECT_FLAGS = {
  path: str({
    multiple: true,
    value: "P",
    help: "with an IMAGE: inspect this file of the image (repeatable)",
  }),
  platform: {
    ...PLATFORM.platform,
    help: "with an IMAGE index: which platform (os/arch[/variant]; default this machine's)",
  },
  json: {
    ...OUTPUT.json,
    help: 'JSON Lines, one object per file, in input order (schema: README "inspect --json")',
  },
  verbose: bool({ short: "v", help: "all Go dependencies and build settings" }),
  sections: bool({ help: "where the bytes go: the section table, largest first" }),
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
};

export const inspectCommand = defineCommand({
  name: "inspect",
  summary: "what a binary is and needs (file + readelf + checksec + go version -m)",
  usage: [
    "FILE... [--json] [--verbose] [--sections]",
    "IMAGE... [--path IN_IMAGE_PATH]... [--platform OS/ARCH]",
  ],
  description: `What each binary is and needs, read from its bytes (never executed): format, arch, linkage,
interpreter, NEEDED, RPATH/RUNPATH, libc and minimum glibc, hardening, debug info, Go build info.

An IMAGE (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG], or a registry
reference HOST/REPO[:TAG|@DIGEST], docker://NAME for Docker Hub) is read from its
layers without extracting anything: by default the program its entrypoint starts, or each --path.`,
  flags: INSPECT_FLAGS,
  positionals: { min: 1, message: "inspect: no FILE given (see zerodep inspect --help)" },
  exit: "0 all files read, 3 some file could not be read or parsed, 2 usage error.",
  load: async () => (await import("../commands/inspect.js")).runInspect,
});
