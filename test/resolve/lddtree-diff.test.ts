/**
 * Differential test against lddtree (pax-utils' Python lddtree with pyelftools, run as
 * `/usr/bin/python3 /usr/bin/lddtree` because another python3 comes first on PATH).
 *
 * Corpus: every dynamically linked ELF executable (PT_INTERP, decided by readelf -l) of /usr/bin and
 * /usr/sbin. We compare the set of resolved library paths of `deps --root /` with the paths lddtree
 * prints ("name => path" lines and the "(interpreter => X)" header), both normalised with realpath
 * on the host. lddtree takes many files per run: each file starts with an unindented
 * "<path> (interpreter => <interp>)" line, its libraries follow indented by four spaces per level.
 *
 * lddtree is not the loader (its FindLib/ParseELF in /usr/bin/lddtree): it searches
 *   own RPATH + main's RPATH + LD_LIBRARY_PATH + own RUNPATH + main's RUNPATH + ld.so.conf dirs +
 *   the interpreter's directory (and /usr/ of it),
 * depth first, once per DT_NEEDED name. The glibc loader (README "deps / check against ldd and lddtree") uses the
 * RPATH of the whole loader chain (none at all when the requester has RUNPATH), RUNPATH of the
 * requester only, /etc/ld.so.cache, then its built-in system directories, breadth first, and reuses
 * objects by SONAME. Each such difference is a named rule in LDDTREE_RULES; its precondition is proved
 * from readelf -d (and `ldconfig -p`, `ld.so --help`, lddtree's own words), never from our output.
 * Any difference no rule explains fails the test.
 *
 * The second suite builds one small root per rule (gcc, the host's loader and libc copied in) where
 * the rule's situation really occurs, and checks that the difference appears and that exactly that
 * rule explains it, so the rules cannot rot into dead code while the corpus happens to agree.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deps } from "../../src/resolve/deps.js";
import { type DepNode, type DepsResult, LibraryCache } from "../../src/resolve/resolve.js";
import { runAsync, runBatched } from "../helpers/batch-run.js";
import { machineElfFiles } from "../helpers/elf-corpus.js";
import { needs } from "../helpers/env.js";
import { parseReadelf, type ReadelfFacts } from "../helpers/readelf-text.js";

const PY = "/usr/bin/python3";
const LDDTREE = "/usr/bin/lddtree";
const LDDTREE_FILES = [LDDTREE, PY]; // pax-utils (with python3-pyelftools)
const skipCorpus = needs({ tools: ["readelf", "ldconfig"], files: LDDTREE_FILES });
const skipBuilt = needs({ tools: ["readelf", "ldconfig", "gcc"], files: LDDTREE_FILES });

/** lddtree without LD_LIBRARY_PATH (we resolve with none) and in the C locale. */
function lddtreeEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
  delete env.LD_LIBRARY_PATH;
  return env;
}

// ---------------------------------------------------------------------------------------------
// lddtree's words

interface LddNode {
  name: string;
  /** As printed (a path as lddtree found it, root-prefixed), null for "=> None". */
  path: string | null;
  /** Printed path of the object under which lddtree listed it (the binary for depth 1). */
  parent: string;
}

interface LddTree {
  file: string;
  interp: string | null;
  nodes: LddNode[];
  /** DT_NEEDED name → printed path (lddtree resolves every name once, depth first). */
  byName: Map<string, string | null>;
}

/** Parses lddtree's default (tree) output for one or many files. */
function parseLddtree(text: string): Map<string, LddTree> {
  const out = new Map<string, LddTree>();
  let cur: LddTree | null = null;
  let stack: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (!line.startsWith(" ")) {
      const m = /^(.*) \(interpreter => (.*)\)$/.exec(line);
      assert.ok(m, `unexpected lddtree header: ${line}`);
      cur = { file: m[1]!, interp: m[2] === "None" ? null : m[2]!, nodes: [], byName: new Map() };
      out.set(cur.file, cur);
      stack = [cur.file];
      continue;
    }
    assert.ok(cur, `lddtree line before any header: ${line}`);
    const m = /^((?: {4})+)(\S+) => (.*)$/.exec(line);
    assert.ok(m, `unexpected lddtree line: ${line}`);
    const depth = m[1]!.length / 4;
    if (m[3] === "!!! circular loop !!!") continue;
    const path = m[3] === "None" ? null : m[3]!;
    stack.length = depth;
    cur.nodes.push({ name: m[2]!, path, parent: stack[depth - 1]! });
    if (!cur.byName.has(m[2]!)) cur.byName.set(m[2]!, path);
    stack[depth] = path ?? `<missing ${m[2]}>`;
  }
  return out;
}

/** lddtree's own search lists (its -x debug output): ld.so.conf dirs and the interpreter's dirs. */
function lddtreeSearchDirs(root: string, file: string): { conf: string[]; interp: string[] } {
  const args = root === "/" ? [LDDTREE, "-x", file] : [LDDTREE, "-x", "-R", root, file];
  const r = spawnSync(PY, args, { encoding: "utf8", env: lddtreeEnv(), maxBuffer: 64 << 20 });
  const list = (key: string) => {
    const m = new RegExp(`ldpaths\\[${key}\\]\\s*= (\\[.*\\])`).exec(r.stdout);
    assert.ok(m, `lddtree -x printed no ldpaths[${key}]: ${r.stdout.slice(0, 400)} ${r.stderr}`);
    return JSON.parse(m[1]!.replace(/'/g, '"')) as string[];
  };
  return { conf: list("conf"), interp: list("interp") };
}

// ---------------------------------------------------------------------------------------------
// Anchors for the loader side

/** `ldconfig -p` (optionally -C ROOT/etc/ld.so.cache): name → paths, in cache order, x86-64 only. */
function ldconfigCache(root: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const cacheFile = join(root, "etc/ld.so.cache");
  if (root !== "/" && !existsSync(cacheFile)) return out;
  const args = root === "/" ? ["-p"] : ["-p", "-C", cacheFile];
  const r = spawnSync("ldconfig", args, { encoding: "utf8" });
  for (const line of r.stdout.split("\n")) {
    const m = /^\t(\S+) \(([^)]*)\) => (.*)$/.exec(line);
    if (!m || !/x86-64/.test(m[2]!) || /hwcap/.test(m[2]!)) continue;
    const l = out.get(m[1]!) ?? [];
    l.push(m[3]!);
    out.set(m[1]!, l);
  }
  return out;
}

/** The loader's built-in directories, in the loader's own words (`ld.so --help`). */
function loaderSystemDirs(): string[] {
  const r = spawnSync("/lib64/ld-linux-x86-64.so.2", ["--help"], { encoding: "utf8" });
  return [...r.stdout.matchAll(/^\s+(\/\S+) \(system search path\)$/gm)].map((m) => m[1]!);
}

function realOrNull(p: string | null): string | null {
  if (p === null) return null;
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Comparison and rules

interface NameDiff {
  name: string;
  /** Host realpaths (null: not found / not loaded on that side). */
  ours: string | null;
  theirs: string | null;
  /** lddtree's printed path and the object it listed the name under. */
  theirsRaw: string | null;
  theirsParent: string | null;
}

interface Ctx {
  root: string;
  /** Host path of the binary. */
  bin: string;
  ldd: LddTree;
  ours: DepsResult;
  /** readelf -hldW of a host file (realpath), null when readelf rejects it. */
  facts: (hostPath: string) => ReadelfFacts | null;
  cache: Map<string, string[]>;
  systemDirs: string[];
  lddDirs: { conf: string[]; interp: string[] };
  /** Host realpaths loaded by us / listed by lddtree. */
  oursSet: Set<string>;
  theirsSet: Set<string>;
}

const hostOf = (root: string, p: string) => (root === "/" ? p : join(root, p));
const realDir = (root: string, dir: string) => realOrNull(hostOf(root, dir)) ?? hostOf(root, dir);

/** An RPATH/RUNPATH string split and expanded ($ORIGIN) as host realpaths inside the root. */
function pathList(ctx: Ctx, raw: string | null, objectHostPath: string): string[] {
  if (!raw) return [];
  return raw
    .split(":")
    .filter(Boolean)
    .map((d) =>
      /\$(\{ORIGIN\}|ORIGIN)/.test(d)
        ? d.replace(/\$(\{ORIGIN\}|ORIGIN)/g, dirname(objectHostPath))
        : hostOf(ctx.root, d),
    )
    .map((d) => realOrNull(d) ?? d);
}

/** The object lddtree listed `d.name` under (host realpath), or null. */
function lddRequester(_ctx: Ctx, d: NameDiff): string | null {
  return d.theirsParent === null ? null : realOrNull(d.theirsParent);
}

interface Rule {
  id: string;
  why: string;
  applies: (d: NameDiff, ctx: Ctx) => boolean;
}

/**
 * Whether a directory the loader searches before ld.so.cache (the requester's RUNPATH, else the RPATH
 * of the requester and of the main binary, per readelf -d) holds a file of that name: then neither the
 * cache nor the system directories can be where the loader took it from.
 */
function rpathHit(ctx: Ctx, d: NameDiff): boolean {
  const main = realpathSync(ctx.bin);
  const req = lddRequester(ctx, d) ?? main;
  const r = ctx.facts(req);
  const m = ctx.facts(main);
  const dirs = r?.runpath
    ? pathList(ctx, r.runpath, req)
    : [...pathList(ctx, r?.rpath ?? null, req), ...(m?.runpath ? [] : pathList(ctx, m?.rpath ?? null, main))];
  return dirs.some((dir) => existsSync(join(dir, d.name)));
}

export const LDDTREE_RULES: Rule[] = [
  {
    id: "lddtree-transitive-runpath",
    why: "lddtree searches the main binary's DT_RUNPATH for every object's DT_NEEDED; the loader uses DT_RUNPATH for the object's own DT_NEEDED only",
    applies: (d, ctx) => {
      if (d.theirs === null || d.theirsRaw === null) return false;
      const main = ctx.facts(realpathSync(ctx.bin));
      const req = lddRequester(ctx, d);
      if (!main || !req || req === realpathSync(ctx.bin)) return false;
      const found = realOrNull(dirname(d.theirsRaw));
      const mainRunpath = pathList(ctx, main.runpath, ctx.bin);
      const r = ctx.facts(req);
      const reqDirs = r ? [...pathList(ctx, r.runpath, req), ...pathList(ctx, r.rpath, req)] : [];
      return found !== null && mainRunpath.includes(found) && !reqDirs.includes(found);
    },
  },
  {
    id: "lddtree-rpath-despite-runpath",
    why: "glibc ignores every DT_RPATH (the main binary's too) when the requesting object has DT_RUNPATH; lddtree still searches the main binary's DT_RPATH",
    applies: (d, ctx) => {
      if (d.theirs === null || d.theirsRaw === null) return false;
      const main = ctx.facts(realpathSync(ctx.bin));
      const req = lddRequester(ctx, d);
      if (!main || !req || main.runpath) return false;
      const r = ctx.facts(req);
      const found = realOrNull(dirname(d.theirsRaw));
      return (
        !!r?.runpath &&
        found !== null &&
        pathList(ctx, main.rpath, ctx.bin).includes(found) &&
        !pathList(ctx, r.runpath, req).includes(found)
      );
    },
  },
  {
    id: "lddtree-rpath-not-inherited",
    why: "glibc searches the DT_RPATH of the requester and of every object up its loader chain; lddtree only the requester's and the main binary's",
    applies: (d, ctx) => {
      if (d.ours === null || d.theirs === d.ours || d.theirsParent === null) return false;
      const req = lddRequester(ctx, d);
      const r = req ? ctx.facts(req) : null;
      if (!req || !r || r.runpath) return false;
      // Walk lddtree's chain above the requester: some ancestor (not the main binary) has a DT_RPATH
      // (and no DT_RUNPATH) naming the directory the loader took the library from.
      const parentOf = new Map<string, string>();
      for (const n of ctx.ldd.nodes) if (n.path) parentOf.set(realOrNull(n.path) ?? n.path, n.parent);
      const ourDir = dirname(d.ours);
      for (let p = parentOf.get(req); p !== undefined; p = parentOf.get(realOrNull(p) ?? p)) {
        const real = realOrNull(p);
        if (!real || real === realpathSync(ctx.bin)) break;
        const f = ctx.facts(real);
        if (f && !f.runpath && pathList(ctx, f.rpath, real).includes(ourDir)) return true;
      }
      return false;
    },
  },
  {
    id: "lddtree-ignores-ld-so-cache",
    why: "the loader takes the library /etc/ld.so.cache maps the name to; lddtree walks the ld.so.conf directories instead (a stale cache or another conf order gives another file)",
    applies: (d, ctx) => {
      const first = ctx.cache.get(d.name)?.[0];
      return (
        d.ours !== null &&
        !rpathHit(ctx, d) &&
        first !== undefined &&
        realOrNull(hostOf(ctx.root, first)) === d.ours
      );
    },
  },
  {
    id: "lddtree-no-system-dirs",
    why: "the loader falls back to its built-in directories (ld.so --help: system search path); lddtree only knows ld.so.conf and the interpreter's directory",
    applies: (d, ctx) => {
      if (d.ours === null || d.theirs !== null || ctx.cache.has(d.name) || rpathHit(ctx, d)) return false;
      const dir = dirname(d.ours);
      const lddDirs = [...ctx.lddDirs.conf, ...ctx.lddDirs.interp].map((x) => realOrNull(x) ?? x);
      const sys = ctx.systemDirs.map((s) => realDir(ctx.root, s));
      return sys.includes(dir) && !lddDirs.includes(dir);
    },
  },
  {
    id: "lddtree-no-soname-reuse",
    why: "the loader answers a DT_NEEDED name with an already loaded object whose DT_SONAME is that name; lddtree opens a file by that name",
    applies: (d, ctx) => {
      if (d.ours === null || d.theirs === null || d.ours === d.theirs) return false;
      const f = ctx.facts(d.ours);
      if (f?.soname !== d.name) return false;
      // lddtree itself loaded our file under another name first.
      return [...ctx.ldd.byName].some(([n, p]) => n !== d.name && realOrNull(p) === d.ours);
    },
  },
  {
    id: "lddtree-skips-invalid-elf",
    why: 'glibc stops at the first candidate that exists but is not ELF ("invalid ELF header"); lddtree warns and tries the next directory',
    applies: (d, ctx) => {
      if (d.ours !== null || d.theirs === null || d.theirsRaw === null) return false;
      const dirs = [
        ...ctx.lddDirs.conf,
        ...ctx.systemDirs.map((s) => hostOf(ctx.root, s)),
        ...ctx.lddDirs.interp,
      ];
      return dirs.some((dir) => {
        const cand = join(dir, d.name);
        return existsSync(cand) && realOrNull(cand) !== d.theirs && readelfRejects(cand);
      });
    },
  },
  {
    id: "lddtree-ignores-nodeflib",
    why: "DF_1_NODEFLIB in the requester makes the loader skip ld.so.cache and the system directories; lddtree ignores the flag",
    applies: (d, ctx) => {
      if (d.ours !== null || d.theirs === null || d.theirsRaw === null) return false;
      const req = lddRequester(ctx, d);
      const r = req ? ctx.facts(req) : null;
      const found = realOrNull(dirname(d.theirsRaw));
      return (
        !!r &&
        r.flags1.includes("NODEFLIB") &&
        !pathList(ctx, r.runpath ?? r.rpath, req!).includes(found ?? "")
      );
    },
  },
  {
    id: "lddtree-no-lib-platform-tokens",
    why: "lddtree expands only $ORIGIN; the loader also expands $LIB and $PLATFORM in DT_RPATH/DT_RUNPATH",
    applies: (d, ctx) => {
      if (d.ours === null || d.theirs === d.ours) return false;
      const req = lddRequester(ctx, d) ?? realpathSync(ctx.bin);
      const r = ctx.facts(req);
      const raw = [r?.runpath, r?.rpath].filter(Boolean).join(":");
      return raw.split(":").some((entry) => {
        if (!/\$(\{?)(LIB|PLATFORM)\b/.test(entry)) return false;
        const expanded = entry
          .replace(/\$(\{ORIGIN\}|ORIGIN)/g, dirname(ctx.bin))
          .replace(/\$(\{LIB\}|LIB)/g, "(lib|lib64)")
          .replace(/\$(\{PLATFORM\}|PLATFORM)/g, "(x86_64|haswell|xeon_phi)");
        const host =
          expanded.startsWith("/") && ctx.root !== "/" && !expanded.startsWith(ctx.root)
            ? join(ctx.root, expanded)
            : expanded;
        const re = new RegExp(`^${host.replace(/[.+]/g, "\\$&")}$`);
        return re.test(dirname(d.ours!)) || re.test(dirname(realOrNull(join(dirname(d.ours!), ".")) ?? ""));
      });
    },
  },
  {
    id: "lddtree-depth-first",
    why: "lddtree resolves each name once, under the first requester in depth-first order (and never retries a miss); the loader goes breadth first and retries a miss from each requester, whose RPATH/RUNPATH differ",
    applies: (d, ctx) => {
      const objs = [...new Set([...ctx.oursSet, ...ctx.theirsSet, realpathSync(ctx.bin)])];
      const requesters = objs.filter((o) => ctx.facts(o)?.needed.includes(d.name));
      const paths = new Set(
        requesters.map((o) => {
          const f = ctx.facts(o)!;
          return JSON.stringify(
            f.runpath ? ["runpath", ...pathList(ctx, f.runpath, o)] : pathList(ctx, f.rpath, o),
          );
        }),
      );
      if (requesters.length < 2 || paths.size < 2) return false;
      // One side's directory is named by some requester's own RPATH/RUNPATH.
      const named = requesters.flatMap((o) => {
        const f = ctx.facts(o)!;
        return [...pathList(ctx, f.runpath, o), ...pathList(ctx, f.rpath, o)];
      });
      return (
        (d.ours !== null && named.includes(dirname(d.ours))) ||
        (d.theirsRaw !== null && named.includes(realOrNull(dirname(d.theirsRaw)) ?? ""))
      );
    },
  },
  {
    id: "consequence",
    why: "the name is only needed by objects that only one side loads (their own difference is explained above)",
    applies: (d, ctx) => {
      const oursHas = ourRequesters(ctx.ours).get(d.name);
      const theirsHas = ctx.ldd.nodes
        .filter((n) => n.name === d.name)
        .map((n) => realOrNull(n.parent) ?? n.parent);
      if (d.theirs !== null && !oursHas) return theirsHas.every((p) => !ctx.oursSet.has(p));
      if (d.ours !== null && theirsHas.length === 0)
        return (oursHas ?? []).every((p) => !ctx.theirsSet.has(p));
      return false;
    },
  },
];

function ourRequesters(r: DepsResult): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (n: DepNode, parentHost: string | null) => {
    for (const c of n.children) {
      if (c.via === "interpreter") continue;
      if (parentHost) out.set(c.name, [...(out.get(c.name) ?? []), parentHost]);
      if (!c.alreadyLoaded && c.path) walk(c, realOrNull(hostOf(r.root, c.path)));
    }
  };
  walk(r.tree, realOrNull(hostOf(r.root, r.tree.path ?? "/")));
  return out;
}

const rejectCache = new Map<string, boolean>();
function readelfRejects(file: string): boolean {
  let v = rejectCache.get(file);
  if (v === undefined) {
    const r = spawnSync("readelf", ["-h", file], { encoding: "utf8" });
    v = r.status !== 0 || /Not an ELF file/.test(r.stderr);
    rejectCache.set(file, v);
  }
  return v;
}

/** Our name → host realpath (first found), over the whole tree (reused objects included). */
function ourNames(r: DepsResult): Map<string, string | null> {
  const out = new Map<string, string | null>();
  const walk = (n: DepNode) => {
    for (const c of n.children) {
      if (c.via === "interpreter") continue;
      const p = c.path === null ? null : realOrNull(hostOf(r.root, c.path));
      if (!out.has(c.name) || (out.get(c.name) === null && p !== null)) out.set(c.name, p);
      if (!c.alreadyLoaded) walk(c);
    }
  };
  walk(r.tree);
  return out;
}

interface Verdict {
  identical: boolean;
  explained: { diff: NameDiff; rule: string }[];
  unexplained: NameDiff[];
}

function compare(
  root: string,
  bin: string,
  ours: DepsResult,
  ldd: LddTree,
  facts: (p: string) => ReadelfFacts | null,
  env: {
    cache: Map<string, string[]>;
    systemDirs: string[];
    lddDirs: () => { conf: string[]; interp: string[] };
  },
): Verdict {
  const oursSet = new Set(ours.libraries.map((l) => realOrNull(hostOf(root, l.path)) ?? l.path));
  const theirsSet = new Set<string>();
  if (ldd.interp) theirsSet.add(realOrNull(ldd.interp) ?? ldd.interp);
  for (const n of ldd.nodes) if (n.path) theirsSet.add(realOrNull(n.path) ?? n.path);
  const same = oursSet.size === theirsSet.size && [...oursSet].every((p) => theirsSet.has(p));
  if (same) return { identical: true, explained: [], unexplained: [] };
  const ctx: Ctx = {
    root,
    bin,
    ldd,
    ours,
    facts,
    cache: env.cache,
    systemDirs: env.systemDirs,
    lddDirs: env.lddDirs(),
    oursSet,
    theirsSet,
  };
  const on = ourNames(ours);
  const names = new Set([...on.keys(), ...ldd.byName.keys()]);
  const verdict: Verdict = { identical: false, explained: [], unexplained: [] };
  for (const name of names) {
    const o = on.get(name) ?? null;
    const raw = ldd.byName.get(name) ?? null;
    const t = realOrNull(raw);
    if (o === t) continue;
    const node = ldd.nodes.find((n) => n.name === name);
    const d: NameDiff = { name, ours: o, theirs: t, theirsRaw: raw, theirsParent: node?.parent ?? null };
    const rule = LDDTREE_RULES.find((r) => r.applies(d, ctx));
    if (rule) verdict.explained.push({ diff: d, rule: rule.id });
    else verdict.unexplained.push(d);
  }
  return verdict;
}

/** readelf -hldW over files (batched), keyed by the path given. */
async function readelfFacts(files: string[]): Promise<Map<string, ReadelfFacts>> {
  const out = new Map<string, ReadelfFacts>();
  for (const b of await runBatched("readelf", ["-hldW"], files, { batchSize: 200, parallel: 2 })) {
    for (const [k, v] of parseReadelf(b.stdout, b.files)) if (v.class !== null) out.set(k, v);
  }
  return out;
}

function factsLookup(m: Map<string, ReadelfFacts>): (p: string) => ReadelfFacts | null {
  return (p) => {
    if (!m.has(p) && existsSync(p) && !readelfRejects(p)) {
      const r = spawnSync("readelf", ["-hldW", p], { encoding: "utf8" });
      for (const [, v] of parseReadelf(r.stdout, [p])) m.set(p, v);
    }
    return m.get(p) ?? null;
  };
}

// ---------------------------------------------------------------------------------------------

describe("deps vs lddtree on /usr/bin and /usr/sbin", { skip: skipCorpus }, () => {
  it("resolves the same library paths; every difference is a proved rule", async () => {
    const t0 = Date.now();
    const elfs = machineElfFiles().filter((p) => /^\/usr\/s?bin\//.test(p));
    const headers = await readelfFacts(elfs);
    const dynamic = elfs.filter((f) => headers.get(f)?.interpreter);
    assert.ok(dynamic.length > 50, `only ${dynamic.length} dynamic executables found`);

    const batches = await runBatchedEnv(dynamic, 80, 2);
    const ldd = new Map<string, LddTree>();
    for (const b of batches) for (const [k, v] of parseLddtree(b)) ldd.set(k, v);

    const cache = ldconfigCache("/");
    const systemDirs = loaderSystemDirs();
    assert.ok(systemDirs.length > 0, "ld.so --help lists no system search path");
    let lddDirs: { conf: string[]; interp: string[] } | undefined;
    const env = {
      cache,
      systemDirs,
      lddDirs: () => (lddDirs ??= lddtreeSearchDirs("/", dynamic[0]!)),
    };
    const facts = factsLookup(headers);
    const libCache = new LibraryCache();
    let identical = 0;
    const byRule = new Map<string, number>();
    const unexplained: string[] = [];
    const noOutput: string[] = [];
    for (const f of dynamic) {
      const t = ldd.get(f);
      if (!t) {
        noOutput.push(f);
        continue;
      }
      const ours = await deps(f, { root: "/", cache: libCache });
      const v = compare("/", f, ours, t, facts, env);
      if (v.identical) identical++;
      for (const e of v.explained) byRule.set(e.rule, (byRule.get(e.rule) ?? 0) + 1);
      for (const u of v.unexplained)
        unexplained.push(
          `${f}: ${u.name}: ours ${u.ours ?? "not found"}, lddtree ${u.theirs ?? "not found"}`,
        );
    }
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(
      `lddtree agreement: ${dynamic.length} binaries, ${identical} identical, ${dynamic.length - identical - noOutput.length} differ (${secs} s)`,
    );
    for (const [r, n] of byRule) console.log(`  ${r}: ${n} name(s)`);
    assert.deepEqual(noOutput, [], "lddtree printed nothing for these files");
    assert.deepEqual(unexplained, [], "differences no rule explains");
  });
});

async function runBatchedEnv(files: string[], size: number, parallel: number): Promise<string[]> {
  const batches: string[][] = [];
  for (let i = 0; i < files.length; i += size) batches.push(files.slice(i, i + size));
  const out: string[] = new Array(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      const r = await runAsync(PY, [LDDTREE, ...batches[i]!], { env: lddtreeEnv() });
      assert.equal(r.status, 0, `lddtree failed: ${r.stderr}`);
      out[i] = r.stdout;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Built roots: one per rule

const LOADER = "/lib64/ld-linux-x86-64.so.2";
const TRIPLET_DIR = "/lib/x86_64-linux-gnu";

describe("each lddtree rule fires where its situation is built", { skip: skipBuilt }, () => {
  let tmp = "";
  let stubs = "";
  let n = 0;
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "zd-lddtree-"));
    stubs = join(tmp, "stubs");
    mkdirSync(stubs);
    writeFileSync(join(tmp, "empty.c"), "int zd_stub;\n");
    writeFileSync(join(tmp, "main.c"), "int main(void) { return 0; }\n");
    // One library without DT_SONAME: linked as -l:NAME it is recorded as DT_NEEDED NAME.
    gcc(["-shared", "-fPIC", "-o", join(stubs, "stub.so"), join(tmp, "empty.c")]);
  });
  after(() => rmSync(tmp, { recursive: true, force: true }));

  function gcc(args: string[]) {
    const r = spawnSync("gcc", args, { encoding: "utf8" });
    assert.equal(r.status, 0, `gcc ${args.join(" ")}: ${r.stderr}`);
  }
  function linkFlags(o: { needed?: string[]; rpath?: string; runpath?: string; nodeflib?: boolean }) {
    const f: string[] = [];
    for (const nm of o.needed ?? []) {
      if (!existsSync(join(stubs, nm))) symlinkSync("stub.so", join(stubs, nm));
    }
    if (o.needed?.length) f.push("-L", stubs, "-Wl,--no-as-needed", ...o.needed.map((x) => `-l:${x}`));
    if (o.rpath) f.push(`-Wl,--disable-new-dtags,-rpath,${o.rpath}`);
    if (o.runpath) f.push(`-Wl,--enable-new-dtags,-rpath,${o.runpath}`);
    if (o.nodeflib) f.push("-Wl,-z,nodefaultlib");
    return f;
  }
  /** A fresh root with the host's loader at /lib64 and libc in /lib/x86_64-linux-gnu. */
  function newRoot(conf = `${TRIPLET_DIR}\n/usr/local/lib\n`): string {
    const root = join(tmp, `root${n++}`);
    for (const d of [
      "lib64",
      TRIPLET_DIR,
      "usr/lib/x86_64-linux-gnu",
      "usr/lib",
      "usr/local/lib",
      "etc",
      "app",
    ])
      mkdirSync(join(root, d), { recursive: true });
    copyFileSync(realpathSync(LOADER), join(root, LOADER));
    copyFileSync(realpathSync(`${TRIPLET_DIR}/libc.so.6`), join(root, TRIPLET_DIR, "libc.so.6"));
    writeFileSync(join(root, "etc/ld.so.conf"), conf);
    return root;
  }
  function lib(
    root: string,
    at: string,
    o: { soname?: string; needed?: string[]; rpath?: string; runpath?: string } = {},
  ) {
    mkdirSync(join(root, dirname(at)), { recursive: true });
    const soname = o.soname ?? at.slice(at.lastIndexOf("/") + 1);
    gcc([
      "-shared",
      "-fPIC",
      "-o",
      join(root, at),
      join(tmp, "empty.c"),
      `-Wl,-soname,${soname}`,
      ...linkFlags(o),
    ]);
  }
  function exe(root: string, o: { needed: string[]; rpath?: string; runpath?: string; nodeflib?: boolean }) {
    const out = join(root, "app/main");
    gcc(["-o", out, join(tmp, "main.c"), ...linkFlags(o)]);
    return out;
  }
  async function check(root: string, bin: string) {
    const r = spawnSync(PY, [LDDTREE, "-R", root, "/app/main"], {
      encoding: "utf8",
      env: lddtreeEnv(),
    });
    const trees = parseLddtree(r.stdout);
    const t = trees.get(join(root, "app/main"));
    assert.ok(t, `lddtree output: ${r.stdout} ${r.stderr}`);
    const ours = await deps(bin, { root });
    const headers = new Map<string, ReadelfFacts>();
    const v = compare(root, bin, ours, t, factsLookup(headers), {
      cache: ldconfigCache(root),
      systemDirs: loaderSystemDirs(),
      lddDirs: () => lddtreeSearchDirs(root, "/app/main"),
    });
    return { v, ours, t };
  }
  const rulesOf = (v: Verdict) => [...new Set(v.explained.map((e) => e.rule))].sort();

  it("lddtree-transitive-runpath", async () => {
    const root = newRoot();
    lib(root, "/opt/t/libA.so.1", { needed: ["libB.so.1"] });
    lib(root, "/opt/t/libB.so.1");
    const bin = exe(root, { needed: ["libA.so.1"], runpath: "/opt/t" });
    const { v, ours } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-transitive-runpath"]);
    assert.ok(ours.problems.some((p) => p.code === "MISSING_LIBRARY" && p.message.startsWith("libB.so.1")));
  });

  it("lddtree-rpath-despite-runpath", async () => {
    const root = newRoot();
    lib(root, "/opt/r/libC.so.1", { needed: ["libD.so.1"], runpath: "/nowhere" });
    lib(root, "/opt/r/libD.so.1");
    const bin = exe(root, { needed: ["libC.so.1"], rpath: "/opt/r" });
    const { v } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-rpath-despite-runpath"]);
  });

  it("lddtree-rpath-not-inherited", async () => {
    const root = newRoot();
    lib(root, `${TRIPLET_DIR}/libE.so.1`, { needed: ["libF.so.1"], rpath: "/opt/e" });
    lib(root, "/opt/e/libF.so.1", { needed: ["libG.so.1"] });
    lib(root, "/opt/e/libG.so.1");
    const bin = exe(root, { needed: ["libE.so.1"] });
    const { v, ours } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-rpath-not-inherited"]);
    assert.equal(ours.libraries.find((l) => l.name === "libG.so.1")?.path, "/opt/e/libG.so.1");
  });

  it("lddtree-ignores-ld-so-cache (a stale cache)", async () => {
    const root = newRoot(`/opt/j1\n${TRIPLET_DIR}\n`);
    lib(root, "/opt/j1/libJ.so.1");
    lib(root, "/opt/j2/libJ.so.1");
    const lc = spawnSync("ldconfig", ["-X", "-r", root], { encoding: "utf8" });
    assert.equal(lc.status, 0, lc.stderr);
    writeFileSync(join(root, "etc/ld.so.conf"), `/opt/j2\n/opt/j1\n${TRIPLET_DIR}\n`); // not re-run
    const bin = exe(root, { needed: ["libJ.so.1"] });
    const { v, ours } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-ignores-ld-so-cache"]);
    assert.equal(ours.libraries.find((l) => l.name === "libJ.so.1")?.via, "ld.so.cache");
  });

  it("lddtree-no-system-dirs", async () => {
    const root = newRoot();
    lib(root, "/usr/lib/libK.so.1");
    const bin = exe(root, { needed: ["libK.so.1"] });
    const { v } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-no-system-dirs"]);
  });

  it("lddtree-no-soname-reuse", async () => {
    const root = newRoot();
    // libH.so is a separate file whose DT_SONAME is libH.so.1; libI needs libH.so.1 by that name.
    lib(root, `${TRIPLET_DIR}/libH.so`, { soname: "libH.so.1" });
    lib(root, `${TRIPLET_DIR}/libH.so.1`);
    lib(root, `${TRIPLET_DIR}/libI.so.1`, { needed: ["libH.so.1"] });
    const bin = exe(root, { needed: ["libH.so", "libI.so.1"] });
    const { v, ours } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-no-soname-reuse"]);
    assert.ok(!ours.libraries.some((l) => l.path === `${TRIPLET_DIR}/libH.so.1`));
  });

  it("lddtree-skips-invalid-elf", async () => {
    const root = newRoot(`${TRIPLET_DIR}\n/opt/k\n`);
    writeFileSync(join(root, TRIPLET_DIR, "libL.so.1"), "not an ELF file\n");
    lib(root, "/opt/k/libL.so.1");
    const bin = exe(root, { needed: ["libL.so.1"] });
    const { v, ours } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-skips-invalid-elf"]);
    assert.ok(ours.problems.some((p) => p.code === "INVALID_LIBRARY"));
  });

  it("lddtree-ignores-nodeflib", async () => {
    const root = newRoot();
    lib(root, "/usr/local/lib/libM.so.1");
    const bin = exe(root, { needed: ["libM.so.1"], runpath: TRIPLET_DIR, nodeflib: true });
    const { v } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-ignores-nodeflib"]);
  });

  it("lddtree-no-lib-platform-tokens", async () => {
    const root = newRoot();
    lib(root, "/opt/lib64/libN.so.1");
    const bin = exe(root, { needed: ["libN.so.1"], runpath: "/opt/$LIB" });
    const { v, ours } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-no-lib-platform-tokens"]);
    assert.equal(ours.libraries.find((l) => l.name === "libN.so.1")?.path, "/opt/lib64/libN.so.1");
  });

  it("lddtree-depth-first", async () => {
    const root = newRoot();
    lib(root, `${TRIPLET_DIR}/libP1.so.1`, { needed: ["libQ.so.1"] });
    lib(root, `${TRIPLET_DIR}/libQ.so.1`, { needed: ["libX.so.1"], runpath: "/opt/q" });
    lib(root, `${TRIPLET_DIR}/libP2.so.1`, { needed: ["libX.so.1"], runpath: "/opt/p2" });
    lib(root, "/opt/q/libX.so.1");
    lib(root, "/opt/p2/libX.so.1");
    const bin = exe(root, { needed: ["libP1.so.1", "libP2.so.1"] });
    const { v, ours } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["lddtree-depth-first"]);
    // Breadth first: libP2 (level 1) asks for libX before libQ (level 2) does.
    assert.equal(ours.libraries.find((l) => l.name === "libX.so.1")?.path, "/opt/p2/libX.so.1");
  });

  it("consequence: children of a library only lddtree finds", async () => {
    const root = newRoot();
    lib(root, "/opt/t/libA.so.1", { needed: ["libB.so.1"] });
    lib(root, "/opt/t/libB.so.1", { needed: ["libZ.so.1"] });
    lib(root, "/opt/z/libZ.so.1");
    writeFileSync(join(root, "etc/ld.so.conf"), `${TRIPLET_DIR}\n/opt/z\n`);
    const bin = exe(root, { needed: ["libA.so.1"], runpath: "/opt/t" });
    const { v } = await check(root, bin);
    assert.deepEqual(v.unexplained, []);
    assert.deepEqual(rulesOf(v), ["consequence", "lddtree-transitive-runpath"]);
  });

  it("an unexplained difference fails: a library lddtree finds and no rule covers", async () => {
    // Sanity of the classifier: a made-up lddtree answer for libc is not explained by any rule.
    const root = newRoot();
    const bin = exe(root, { needed: [] });
    const { ours, t } = await check(root, bin);
    const fake: LddTree = {
      ...t,
      nodes: t.nodes.map((x) => (x.name === "libc.so.6" ? { ...x, path: join(root, LOADER) } : x)),
      byName: new Map([...t.byName].map(([k, p]) => [k, k === "libc.so.6" ? join(root, LOADER) : p])),
    };
    const v = compare(root, bin, ours, fake, factsLookup(new Map()), {
      cache: new Map(),
      systemDirs: loaderSystemDirs(),
      lddDirs: () => lddtreeSearchDirs(root, "/app/main"),
    });
    assert.equal(v.unexplained.length, 1);
  });
});
