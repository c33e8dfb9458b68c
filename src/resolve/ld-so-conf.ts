import { type RootFs, resolvePath } from "./root-fs.js";

/** Max nesting of `include` directives (glibc has none; a loop must still end). */
const MAX_DEPTH = 16;

/**
 * Directories listed by /etc/ld.so.conf inside a root, following `include` globs (relative patterns
 * are relative to the including file's directory, as ldconfig does). `hwcap` lines and comments are
 * ignored. ldconfig turns these into /etc/ld.so.cache; the loader itself reads only the cache.
 */
export async function readLdSoConf(
  fs: RootFs,
  file = "/etc/ld.so.conf",
): Promise<{ dirs: string[]; files: string[] }> {
  const dirs: string[] = [];
  const files: string[] = [];
  const seen = new Set<string>();
  const visit = async (path: string, depth: number) => {
    const res = resolvePath(fs, path);
    if (!res.ok || res.stat.kind !== "file" || seen.has(res.path) || depth > MAX_DEPTH) return;
    seen.add(res.path);
    files.push(res.path);
    const src = fs.open(res.path);
    let text: string;
    try {
      text = new TextDecoder().decode(await src.read(0, Math.min(src.size, 1 << 20)));
    } finally {
      await src.close();
    }
    const dir = res.path.slice(0, res.path.lastIndexOf("/")) || "/";
    for (const raw of text.split("\n")) {
      const line = raw.replace(/#.*/, "").trim();
      if (!line) continue;
      const inc = /^include\s+(.+)$/.exec(line);
      if (inc) {
        for (const pat of inc[1]!.split(/\s+/)) {
          for (const f of expandGlob(fs, pat.startsWith("/") ? pat : `${dir}/${pat}`))
            await visit(f, depth + 1);
        }
        continue;
      }
      if (/^hwcap\s/.test(line)) continue;
      for (const d of line.split(/[:,\s]+/)) {
        const clean = d.replace(/=.*$/, "").replace(/\/+$/, "") || "/";
        if (clean.startsWith("/") && !dirs.includes(clean)) dirs.push(clean);
      }
    }
  };
  await visit(file, 0);
  return { dirs, files };
}

/** Expands `*`, `?` and `[...]` in each component, sorted like glob(3). */
export function expandGlob(fs: RootFs, pattern: string): string[] {
  let paths = ["/"];
  for (const comp of pattern.split("/").filter(Boolean)) {
    const next: string[] = [];
    for (const p of paths) {
      if (!/[*?[]/.test(comp)) {
        next.push(p === "/" ? `/${comp}` : `${p}/${comp}`);
        continue;
      }
      const res = resolvePath(fs, p);
      if (!res.ok || res.stat.kind !== "dir") continue;
      const re = globToRegExp(comp);
      for (const name of (fs.readdir(res.path) ?? []).sort()) {
        if (re.test(name) && !(name.startsWith(".") && !comp.startsWith(".")))
          next.push(p === "/" ? `/${name}` : `${p}/${name}`);
      }
    }
    paths = next;
  }
  return paths;
}

function globToRegExp(g: string): RegExp {
  let re = "";
  for (let i = 0; i < g.length; i++) {
    const c = g[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = g.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${g
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}
