import { UsageError } from "../../errors.js";
import { deps } from "../../resolve/deps.js";
import { LibraryCache } from "../../resolve/resolve.js";
import type { Invocation } from "../command.js";
import type { DEPS_FLAGS } from "../defs/deps.js";
import { formatDepsList, formatDepsTree } from "../format-deps.js";
import { forEachFile, LineBuffer } from "../io.js";
import { envMap, rootOption } from "../root-option.js";
import { colorWanted, makeStyle } from "../style.js";

export async function runDeps({ values, positionals, io }: Invocation<typeof DEPS_FLAGS>): Promise<number> {
  const root = rootOption(values.root, values.target);
  if (values.as !== undefined && positionals.length > 1)
    throw new UsageError("USAGE", "deps: --as takes one FILE");
  const env = envMap(values.env);
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
