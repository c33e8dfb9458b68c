import { UsageError } from "../errors.js";
import { openRoot } from "../resolve/deps.js";

/** The root of deps and check from --root/--target (the ROOT flag group). */
export function rootOption(root: string | undefined, target: string | undefined): string | undefined {
  if (root !== undefined && target !== undefined)
    throw new UsageError("USAGE", "--root and --target are exclusive");
  // A root that is not there is one input error up front, not one per FILE.
  if (root !== undefined) openRoot(root);
  return target ?? root;
}

/** --env K=V entries (already validated by the flag) as a map; a later key wins. */
export function envMap(list: string[] | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf("=");
    env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}
