import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { deps, openRoot } from "../../resolve/deps.js";
import { LibraryCache } from "../../resolve/resolve.js";
import { formatDepsList, formatDepsTree } from "../format-deps.js";
import { type CliIO, EXIT, forEachFile, LineBuffer } from "../io.js";
import { colorWanted, makeStyle } from "../style.js";

export const depsHelp = `Usage: zerodep deps FILE... [--root DIR | --target scratch] [--tree] [--json]

The shared-library closure as the real loader would resolve it inside a root file system (default /),
without running anything: glibc or musl rules from the binary's interpreter, RPATH/RUNPATH/$ORIGIN,
LD_LIBRARY_PATH, ld.so.cache, default directories, musl's path file; wrong-architecture candidates
skipped; symbol versions checked against the libraries that provide them.

Options:
  --root DIR          the root file system (default /); links inside it never escape it
  --target scratch    an empty root
  --as PATH           where the binary sits inside the root (its $ORIGIN; default: its path there, else /app/NAME)
  --env K=V           target environment; LD_LIBRARY_PATH is honoured (repeatable)
  --hwcaps LIST       glibc-hwcaps subdirectories the target CPU supports, best first (x86-64-v3,x86-64-v2)
  --tree              show the dependency tree (default: a flat list in load order)
  --json              one JSON object per FILE (schema: README "deps --json")

Exit: 0 everything resolves, 1 something is missing, 3 a FILE cannot be read, 2 usage error.`;

export async function runDeps(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      root: { type: "string" },
      target: { type: "string" },
      as: { type: "string" },
      env: { type: "string", multiple: true },
      hwcaps: { type: "string" },
      tree: { type: "boolean" },
      json: { type: "boolean" },
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(depsHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length === 0)
    throw new UsageError("USAGE", "deps: no FILE given (see zerodep deps --help)");
  const root = rootOption(values.root, values.target);
  if (values.as !== undefined && positionals.length > 1)
    throw new UsageError("USAGE", "deps: --as takes one FILE");
  const env = envOption(values.env);
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const out = new LineBuffer(io.stdout);
  const cache = new LibraryCache();
  return forEachFile(
    positionals,
    out,
    {
      json: values.json === true,
      keyName: "file",
      errorLine: (f, msg) => `${st.bold(f)}  ${st.red("error:")} ${msg}\n`,
    },
    async (f) => {
      const r = await deps(f, {
        root,
        location: values.as,
        ldLibraryPath: env.LD_LIBRARY_PATH,
        hwcaps: values.hwcaps?.split(",").filter(Boolean),
        cache,
      });
      const text = values.json
        ? JSON.stringify({ schemaVersion: 1, ...r }) + "\n"
        : values.tree
          ? formatDepsTree(r, st)
          : formatDepsList(r, st);
      return { ok: !r.problems.some((p) => p.severity === "error"), text };
    },
  );
}

export function rootOption(root: string | undefined, target: string | undefined): string | undefined {
  if (root !== undefined && target !== undefined)
    throw new UsageError("USAGE", "--root and --target are exclusive");
  if (target !== undefined && target !== "scratch")
    throw new UsageError("USAGE", `--target: only "scratch" is known (got "${target}")`);
  // A root that is not there is one input error up front, not one per FILE.
  if (root !== undefined && target === undefined) openRoot(root);
  return target ?? root;
}

export function envOption(list: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError("USAGE", `--env wants KEY=VALUE (got "${kv}")`);
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}
