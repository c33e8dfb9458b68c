import { UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { OUTPUT, PLATFORM, REGISTRY, ROOT } from "../flag-groups.js";
import { bool } from "../flags.js";

export const CHECK_FLAGS = {
  ...ROOT,
  platform: {
    ...PLATFORM.platform,
    help: "the target platform (default: this machine's, e.g. linux/amd64); of an IMAGE index, that image",
  },
  strict: bool({ help: "runtime-file needs (warnings) fail the check too" }),
  json: { ...OUTPUT.json, help: 'one JSON object per FILE (schema: README "check --json")' },
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
};

export const checkCommand = defineCommand({
  name: "check",
  summary: "will it run there (a root, scratch, an image): a verdict with every problem and its fix",
  usage: [
    "FILE... [--root DIR | --target scratch] [--strict] [--json]",
    "IMAGE... [--platform OS/ARCH] [--env K=V] [--strict] [--json]",
  ],
  description: `Will this binary run there? A verdict with every problem found, each with a stable code, the error the
program would hit, and the fix: missing interpreter (the scratch/Alpine "no such file or directory"),
glibc binary on a musl root and the reverse, missing library, missing symbol version, wrong
architecture or OS, and the runtime files a static binary looks for (CA certificates, zoneinfo,
/etc/passwd and /etc/group, resolver files, NSS modules, a writable /tmp).

An IMAGE (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG], or a registry
reference HOST/REPO[:TAG|@DIGEST], docker://NAME for Docker Hub) is judged by its
entrypoint (Entrypoint, else Cmd, found along the image's PATH) against the image's own file tree and
Env, streamed from its layers without extracting anything.`,
  flags: CHECK_FLAGS,
  positionals: { min: 1, message: "check: no FILE given (see zerodep check --help)" },
  check: (values, positionals) => {
    if (values.root !== undefined && values.target !== undefined)
      throw new UsageError("USAGE", "--root and --target are exclusive");
    if (values.as !== undefined && positionals.length > 1)
      throw new UsageError("USAGE", "check: --as takes one FILE");
  },
  exit: "0 it will run, 1 it will not (or a warning with --strict), 3 a FILE cannot be read, 2 usage error.",
  load: async () => (await import("../commands/check.js")).runCheck,
});
