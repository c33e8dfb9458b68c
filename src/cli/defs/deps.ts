import { UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { OUTPUT, ROOT } from "../flag-groups.js";
import { bool, str } from "../flags.js";

export const DEPS_FLAGS = {
  ...ROOT,
  env: { ...ROOT.env, help: "target environment; LD_LIBRARY_PATH is honoured (repeatable)" },
  hwcaps: str({
    value: "LIST",
    help: "glibc-hwcaps subdirectories the target CPU supports, best first (x86-64-v3,x86-64-v2)",
  }),
  tree: bool({ help: "show the dependency tree (default: a flat list in load order)" }),
  json: { ...OUTPUT.json, help: 'one JSON object per FILE (schema: README "deps --json")' },
  "no-color": OUTPUT["no-color"],
};

export const depsCommand = defineCommand({
  name: "deps",
  summary: "shared-library closure as the loader resolves it in a root (ldd, lddtree)",
  usage: ["FILE... [--root DIR | --target scratch] [--tree] [--json]"],
  description: `The shared-library closure as the real loader would resolve it inside a root file system (default /),
without running anything: glibc or musl rules from the binary's interpreter, RPATH/RUNPATH/$ORIGIN,
LD_LIBRARY_PATH, ld.so.cache, default directories, musl's path file; wrong-architecture candidates
skipped; symbol versions checked against the libraries that provide them.`,
  flags: DEPS_FLAGS,
  positionals: { min: 1, message: "deps: no FILE given (see zerodep deps --help)" },
  check: (values, positionals) => {
    if (values.root !== undefined && values.target !== undefined)
      throw new UsageError("USAGE", "--root and --target are exclusive");
    if (values.as !== undefined && positionals.length > 1)
      throw new UsageError("USAGE", "deps: --as takes one FILE");
  },
  exit: "0 everything resolves, 1 something is missing, 3 a FILE cannot be read, 2 usage error.",
  load: async () => (await import("../commands/deps.js")).runDeps,
});
