import type { BinaryLayout } from "../binary/layout.js";
import { readPclntab } from "../go/pclntab.js";
import type { ByteSource } from "../io/reader.js";

/** Where a Go package comes from. */
export type GoPackageOrigin = "main" | "std" | "dependency" | "generated";

export interface GoPackageSize {
  /** Import path ("net/http", "github.com/spf13/cobra"), "main", or "(generated)" for type:/go: symbols. */
  package: string;
  origin: GoPackageOrigin;
  /** Bytes of machine code: Σ function sizes from the pclntab (next entry − entry). */
  codeBytes: number;
  functions: number;
}

export interface GoSizeReport {
  /** Σ of every function's size: the text the pclntab covers. */
  codeBytes: number;
  byOrigin: Record<GoPackageOrigin, number>;
  /** Largest first. */
  packages: GoPackageSize[];
  /** The module whose packages count as "main" (from build info), when known. */
  mainModule: string | null;
}

/**
 * The package of a Go symbol name: generics' `[...]` dropped, then everything before the first dot
 * after the last slash ("github.com/a/b.(*T).M" → "github.com/a/b"). Compiler-generated symbols
 * (`type:…`, `go:…`, old `type..…`) have no package.
 */
export function goPackageOf(name: string): string | null {
  let n = name;
  if (n.startsWith("type:") || n.startsWith("go:") || n.startsWith("type..") || n.startsWith("go."))
    return null;
  const br = n.indexOf("[");
  if (br >= 0) n = n.slice(0, br);
  const slash = n.lastIndexOf("/");
  const dot = n.indexOf(".", slash + 1);
  if (dot <= 0) return null;
  return n.slice(0, dot);
}

/**
 * Standard library: a first path element without a dot (Go reserves dotless paths for itself), and
 * the std-vendored golang.org/x copies under "vendor/". The main module is the build info's main
 * path (and package "main").
 */
export function goOriginOf(pkg: string, mainModule: string | null): GoPackageOrigin {
  if (pkg === "main") return "main";
  if (mainModule && (pkg === mainModule || pkg.startsWith(`${mainModule}/`))) return "main";
  const first = pkg.split("/")[0]!;
  if (first === "vendor" || !first.includes(".")) return "std";
  return "dependency";
}

/** Code size per package from the pclntab (survives -s -w). null when there is no readable pclntab. */
export async function goSizeByPackage(
  src: ByteSource,
  layout: BinaryLayout,
  mainModule: string | null,
): Promise<GoSizeReport | null> {
  const tab = await readPclntab(src, layout);
  if (!tab) return null;
  const by = new Map<string, GoPackageSize>();
  const byOrigin: Record<GoPackageOrigin, number> = { main: 0, std: 0, dependency: 0, generated: 0 };
  let total = 0;
  for await (const f of tab.funcs()) {
    if (!(f.size > 0) || !Number.isSafeInteger(f.size)) continue;
    const pkg = goPackageOf(f.name);
    const key = pkg ?? "(generated)";
    const origin: GoPackageOrigin = pkg === null ? "generated" : goOriginOf(pkg, mainModule);
    let e = by.get(key);
    if (!e) {
      e = { package: key, origin, codeBytes: 0, functions: 0 };
      by.set(key, e);
    }
    e.codeBytes += f.size;
    e.functions++;
    byOrigin[origin] += f.size;
    total += f.size;
  }
  const packages = [...by.values()].sort(
    (a, b) => b.codeBytes - a.codeBytes || (a.package < b.package ? -1 : 1),
  );
  return { codeBytes: total, byOrigin, packages, mainModule };
}
