import type { Diagnostic } from "../diagnostic.js";
import { EM } from "../elf/constants.js";
import { readElf } from "../elf/elf-file.js";
import { isElf } from "../elf/header.js";
import { compareDotted } from "../elf/versions.js";
import { ParseError, ZerodepError } from "../errors.js";
import type { ByteSource } from "../io/reader.js";
import { type LdCacheEntry, parseLdSoCache } from "./ld-so-cache.js";
import { readLdSoConf } from "./ld-so-conf.js";
import { type RootFs, resolvePath } from "./root-fs.js";

/** How a library was found, in the loader's own terms. */
export type Via =
  | "interpreter"
  | "path"
  | "rpath"
  | "ld_library_path"
  | "runpath"
  | "ld.so.cache"
  | "default"
  | "musl-path"
  | "musl-builtin";

export interface DepNode {
  /** The DT_NEEDED string (for the top node: the file as given). */
  name: string;
  /** Canonical path inside the root, or null when not found. */
  path: string | null;
  via: Via | null;
  /** For `rpath`: the object whose DT_RPATH supplied the directory (the requester or an ancestor). */
  viaObject?: string;
  /** Already loaded earlier (breadth-first order): the loader reuses it, its children are listed there. */
  alreadyLoaded?: boolean;
  /** Candidates the loader would skip (wrong class, endianness or machine), in search order. */
  skipped?: { path: string; reason: string }[];
  /** When not found: every directory searched, in order. */
  searched?: string[];
  /** A glibc-hwcaps variant that a CPU supporting it would load instead. */
  hwcapsAlternatives?: string[];
  children: DepNode[];
}

/** Codes of deps problems (README "deps"). */
export const DEP_CODES = [
  "MISSING_INTERPRETER",
  "INVALID_INTERPRETER",
  "WRONG_ARCH_INTERPRETER",
  "INTERPRETER_NOT_EXECUTABLE",
  "MISSING_LIBRARY",
  "INVALID_LIBRARY",
  "MISSING_SYMBOL_VERSION",
] as const;
export type DepCode = (typeof DEP_CODES)[number];

export type DepProblem = Diagnostic<DepCode> & { severity: "error" | "warning"; fix: string };

export interface DepsResult {
  /** The binary, as given. */
  file: string;
  /** Where it sits in the root ($ORIGIN is its directory). */
  location: string;
  root: string;
  /** Which loader's rules were applied. */
  loader: "glibc" | "musl" | "none";
  interpreter: string | null;
  tree: DepNode;
  /** Every loaded object once, in load (breadth-first) order, interpreter first. */
  libraries: { name: string; path: string; via: Via }[];
  problems: DepProblem[];
}

export interface ResolveOptions {
  root: RootFs;
  /** In-root path of the binary ($ORIGIN). Default: "/" + its basename's directory … see deps(). */
  location: string;
  /** LD_LIBRARY_PATH as it would be set in the target (not taken from this process). */
  ldLibraryPath?: string;
  /** glibc-hwcaps subdirectories the target CPU supports, best first (default none: baseline CPU). */
  hwcaps?: string[];
  /**
   * Whether /proc is mounted in the target. glibc learns the main program's $ORIGIN from
   * /proc/self/exe and drops $ORIGIN entries of the main program without it (a bare chroot);
   * container runtimes always mount /proc. Default: true for scratch, else whether the root's /proc
   * has entries.
   */
  procMounted?: boolean;
  /** Reuse parsed libraries across calls on the same root (deps over many binaries). */
  cache?: LibraryCache;
}

/** What the resolver needs of each object, parsed once per root path. */
interface ObjectInfo {
  cls: 32 | 64;
  little: boolean;
  machine: number;
  interpreter: string | null;
  needed: string[];
  soname: string | null;
  rpath: string[];
  runpath: string[];
  nodeflib: boolean;
  /** Version names defined (.gnu.version_d), null when the object has no version definitions. */
  versionDefs: Set<string> | null;
  versionNeeds: { file: string; versions: { name: string; weak: boolean }[] }[];
}

/** Parsed objects and per-root lookups shared between resolutions on one root. */
export class LibraryCache {
  readonly objects = new Map<string, ObjectInfo | { error: string; code: string }>();
  ldCache: LdCacheEntry[] | null | undefined;
  muslPath = new Map<string, string[]>();
  defaultDirs = new Map<string, string[]>();
  ldConfDirs: string[] | undefined;
  /** The root's glibc release ("2.36"), read from its loader; null when unknown. */
  glibcRelease: string | null | undefined;
}

async function readObject(src: ByteSource): Promise<ObjectInfo> {
  if (src.size < 4 || !isElf(await src.read(0, 4))) {
    throw new ParseError("INVALID_ELF", `${src.name}: invalid ELF header`, 0);
  }
  const elf = await readElf(src);
  return {
    cls: elf.header.class,
    little: elf.little,
    machine: elf.header.machine,
    interpreter: elf.interpreter,
    needed: elf.needed,
    soname: elf.soname,
    rpath: elf.rpath,
    runpath: elf.runpath,
    nodeflib: (elf.flags1 & 0x800) !== 0, // DF_1_NODEFLIB
    versionDefs: elf.versionDefs.length ? new Set(elf.versionDefs.flatMap((d) => d.names.slice(0, 1))) : null,
    versionNeeds: elf.versionNeeds.map((n) => ({
      file: n.file,
      versions: n.versions.map((v) => ({ name: v.name, weak: v.weak })),
    })),
  };
}

async function loadObject(
  fs: RootFs,
  path: string,
  cache: LibraryCache,
): Promise<ObjectInfo | { error: string; code: string }> {
  const hit = cache.objects.get(path);
  if (hit) return hit;
  let info: ObjectInfo | { error: string; code: string };
  let src: ByteSource | null = null;
  try {
    src = fs.open(path);
    info = await readObject(src);
  } catch (err) {
    if (!(err instanceof ZerodepError) && !(err as { code?: string })?.code) throw err;
    info = { error: (err as Error).message, code: (err as { code: string }).code };
  } finally {
    await src?.close();
  }
  cache.objects.set(path, info);
  return info;
}

/** Debian-style multiarch triplet per machine, class and endianness (the default search dirs). */
function multiarchTriplet(o: ObjectInfo): string | null {
  switch (o.machine) {
    case EM.X86_64:
      return o.cls === 64 ? "x86_64-linux-gnu" : "x86_64-linux-gnux32";
    case EM.I386:
      return "i386-linux-gnu";
    case EM.AARCH64:
      return "aarch64-linux-gnu";
    case EM.ARM:
      return "arm-linux-gnueabihf";
    case EM.RISCV:
      return "riscv64-linux-gnu";
    case EM.PPC64:
      return o.little ? "powerpc64le-linux-gnu" : "powerpc64-linux-gnu";
    case EM.S390:
      return "s390x-linux-gnu";
    case EM.MIPS:
      return o.cls === 64 ? "mips64el-linux-gnuabi64" : o.little ? "mipsel-linux-gnu" : "mips-linux-gnu";
    case EM.LOONGARCH:
      return "loongarch64-linux-gnu";
    default:
      return null;
  }
}

/**
 * glibc's built-in system directories. Debian and Ubuntu build the loader with the multiarch
 * directories first (`ld.so --help` lists /lib/x86_64-linux-gnu, /usr/lib/x86_64-linux-gnu, /lib,
 * /usr/lib); upstream and RPM distributions use /lib64:/usr/lib64 for 64-bit. We pick the Debian list
 * when the root has the multiarch directory.
 */
function glibcDefaultDirs(fs: RootFs, main: ObjectInfo, cache: LibraryCache): string[] {
  const key = `${main.machine}/${main.cls}/${main.little}`;
  const hit = cache.defaultDirs.get(key);
  if (hit) return hit;
  const t = multiarchTriplet(main);
  let dirs: string[];
  if (t && (isDir(fs, `/lib/${t}`) || isDir(fs, `/usr/lib/${t}`)))
    dirs = [`/lib/${t}`, `/usr/lib/${t}`, "/lib", "/usr/lib"];
  // Debian's biarch libc6-i386 (the i386 loader of an amd64 system) is built with slibdir /lib32:
  // its `ld.so --help` lists /lib32, /usr/lib32, /lib, /usr/lib. Proven in test/reality (an i386
  // program with only /lib32/libc.so.6 runs).
  else if (main.cls === 32 && main.machine === EM.I386 && (isDir(fs, "/lib32") || isDir(fs, "/usr/lib32")))
    dirs = ["/lib32", "/usr/lib32", "/lib", "/usr/lib"];
  else if (main.cls === 64 && main.machine !== EM.AARCH64 && main.machine !== EM.RISCV)
    dirs = ["/lib64", "/usr/lib64"];
  else dirs = main.cls === 64 ? ["/lib64", "/usr/lib64", "/lib", "/usr/lib"] : ["/lib", "/usr/lib"];
  cache.defaultDirs.set(key, dirs);
  return dirs;
}

function isDir(fs: RootFs, p: string): boolean {
  const r = resolvePath(fs, p);
  return r.ok && r.stat.kind === "dir";
}

const MUSL_ARCH: Record<number, string> = {
  [EM.X86_64]: "x86_64",
  [EM.I386]: "i386",
  [EM.AARCH64]: "aarch64",
  [EM.ARM]: "arm",
  [EM.RISCV]: "riscv64",
  [EM.PPC64]: "powerpc64",
  [EM.S390]: "s390x",
  [EM.MIPS]: "mips",
  [EM.LOONGARCH]: "loongarch64",
};

/**
 * musl's system path: `<prefix>/etc/ld-musl-<arch>.path` where prefix is the interpreter path less
 * its last two components (musl ldso/dynlink.c), entries separated by ':' or newlines; without the
 * file, "/lib:/usr/local/lib:/usr/lib".
 */
async function muslSysPath(fs: RootFs, interp: string, arch: string, cache: LibraryCache): Promise<string[]> {
  const hit = cache.muslPath.get(interp);
  if (hit) return hit;
  const parts = interp.split("/");
  const prefix = parts.length >= 3 ? parts.slice(0, -2).join("/") : "";
  const file = `${prefix}/etc/ld-musl-${arch}.path`;
  let dirs = ["/lib", "/usr/local/lib", "/usr/lib"];
  const r = resolvePath(fs, file);
  if (r.ok && r.stat.kind === "file") {
    const src = fs.open(r.path);
    try {
      const text = new TextDecoder().decode(await src.read(0, Math.min(src.size, 65536)));
      dirs = text
        .split(/[:\n]/)
        .map((s) => s.trim())
        .filter(Boolean);
    } finally {
      await src.close();
    }
  }
  cache.muslPath.set(interp, dirs);
  return dirs;
}

/** $ORIGIN, ${ORIGIN}, $LIB, ${LIB}, $PLATFORM, ${PLATFORM} (ld.so(8) "Dynamic string tokens"). */
export function expandTokens(dir: string, origin: string, main: ObjectInfo): string {
  const lib =
    main.cls === 64 && (multiarchTriplet(main) === null || main.machine === EM.X86_64) ? "lib64" : "lib";
  const platform: Record<number, string> = {
    [EM.X86_64]: "x86_64",
    [EM.I386]: "i686",
    [EM.AARCH64]: "aarch64",
  };
  return dir
    .replace(/\$(\{ORIGIN\}|ORIGIN(?![A-Za-z0-9_]))/g, origin)
    .replace(/\$(\{LIB\}|LIB(?![A-Za-z0-9_]))/g, lib)
    .replace(/\$(\{PLATFORM\}|PLATFORM(?![A-Za-z0-9_]))/g, platform[main.machine] ?? "unknown");
}

function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

function joinPath(dir: string, name: string): string {
  if (dir === "" || dir === ".") return name; // an empty rpath entry means the working directory
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}

const MUSL_RESERVED = /^lib(c|pthread|rt|m|dl|util|xnet)\./;

interface Loaded {
  node: DepNode;
  info: ObjectInfo;
  path: string;
  /** The object that first needed this one (glibc l_loader / musl needed_by). */
  loader: Loaded | null;
}

/**
 * Resolves the shared-library closure of one binary inside a root, as its loader would: glibc or
 * musl rules chosen from the interpreter, breadth-first load order, objects reused by name and
 * SONAME, wrong-architecture candidates skipped, symbol versions checked against the providers.
 */
export async function resolveDeps(src: ByteSource, opts: ResolveOptions): Promise<DepsResult> {
  const fs = opts.root;
  const cache = opts.cache ?? new LibraryCache();
  const main = await readObject(src);
  const problems: DepProblem[] = [];
  const tree: DepNode = { name: src.name, path: opts.location, via: null, children: [] };
  const result: DepsResult = {
    file: src.name,
    location: opts.location,
    root: fs.description,
    loader: "none",
    interpreter: main.interpreter,
    tree,
    libraries: [],
    problems,
  };
  const interp = main.interpreter;
  const isMusl =
    (interp !== null && /\/ld-musl-[^/]+\.so\.1$/.test(interp)) ||
    (interp === null && main.needed.some((n) => /^libc\.musl-/.test(n) || n === "libc.so"));
  if (interp === null && main.needed.length === 0) return result; // static: nothing to load
  result.loader = isMusl ? "musl" : "glibc";

  const all: Loaded[] = [];
  const byName = new Map<string, Loaded>();
  const byPath = new Map<string, Loaded>();
  const register = (l: Loaded, name: string) => {
    all.push(l);
    byPath.set(l.path, l);
    byName.set(name, l);
    // glibc _dl_name_match_p: a loaded object answers to the names it was requested by and to its
    // DT_SONAME (musl likewise compares names, then device and inode).
    if (l.info.soname) byName.set(l.info.soname, l);
  };
  const top: Loaded = { node: tree, info: main, path: opts.location, loader: null };
  byPath.set(top.path, top);

  // The kernel maps the interpreter from the root; the loader then counts itself as loaded.
  let interpLoaded: Loaded | null = null;
  if (interp !== null) {
    const r = resolvePath(fs, interp);
    if (!r.ok || r.stat.kind !== "file") {
      problems.push({
        code: "MISSING_INTERPRETER",
        severity: "error",
        message:
          !r.ok && r.reason === "ELOOP"
            ? `interpreter ${interp} is a symbolic link loop in ${fs.description}: exec fails with "Too many levels of symbolic links"`
            : `interpreter ${interp} is ${r.ok ? "not a regular file" : "missing"} in ${fs.description}: the kernel fails with "exec: no such file or directory"`,
        fix: isMusl
          ? "add musl's loader to the image (apk add musl), or link statically (musl-gcc -static)"
          : "use a glibc base image, pack with --bundle-libs, or link statically (CGO_ENABLED=0 for Go)",
      });
      tree.children.push({ name: interp, path: null, via: "interpreter", children: [], searched: [interp] });
    } else if ((r.stat.mode & 0o111) === 0) {
      // The kernel opens the interpreter for execution (open_exec): no execute bit, EACCES.
      problems.push({
        code: "INTERPRETER_NOT_EXECUTABLE",
        severity: "error",
        message: `interpreter ${r.path} has mode ${r.stat.mode.toString(8)}: exec fails with "Permission denied"`,
        fix: `chmod 755 ${r.path}`,
      });
      tree.children.push({ name: interp, path: r.path, via: "interpreter", children: [] });
    } else {
      const info = await loadObject(fs, r.path, cache);
      const node: DepNode = { name: interp, path: r.path, via: "interpreter", children: [] };
      tree.children.push(node);
      // load_elf_binary: a header it cannot read whole is EIO; one that is not ELF for this CPU, ELIBBAD.
      const short = r.stat.size < (main.cls === 64 ? 64 : 52);
      if ("error" in info) {
        problems.push({
          code: "INVALID_INTERPRETER",
          severity: "error",
          message: `${info.error}: exec fails with "${short ? "Input/output error" : "Accessing a corrupted shared library"}"`,
          fix: "replace the interpreter with a valid loader",
        });
      } else if (!sameArch(info, main)) {
        problems.push({
          code: "WRONG_ARCH_INTERPRETER",
          severity: "error",
          message: `interpreter ${r.path} is ${describeArch(info)}, the binary is ${describeArch(main)}: exec fails with "Accessing a corrupted shared library"`,
          fix: "use a base image of the binary's architecture",
        });
      } else {
        interpLoaded = { node, info, path: r.path, loader: null };
        register(interpLoaded, interp);
        result.libraries.push({ name: interp, path: r.path, via: "interpreter" });
      }
    }
  }

  if (!isMusl && cache.ldCache === undefined) cache.ldCache = await readCache(fs);
  if (!isMusl && cache.glibcRelease === undefined)
    cache.glibcRelease = interpLoaded ? await glibcRelease(fs, interpLoaded.path) : null;
  const muslDirs =
    isMusl && interp ? await muslSysPath(fs, interp, MUSL_ARCH[main.machine] ?? "unknown", cache) : [];
  const ldPath = (opts.ldLibraryPath ?? "").split(/[:;]/).filter((d) => d !== "");
  const proc = opts.procMounted ?? (fs.description === "scratch" || (fs.readdir("/proc") ?? []).length > 0);

  const queue: Loaded[] = [top];
  while (queue.length > 0) {
    const obj = queue.shift()!;
    // A name this object already failed to find fails again the same way (the search depends only
    // on the name and the requester): one search and one problem, however many DT_NEEDED repeat it
    // (a crafted file with 60 000 of them spent a minute in lstat, issue #12).
    const missing = new Map<string, DepNode>();
    for (const name of obj.info.needed) {
      const failed = missing.get(name);
      if (failed) {
        obj.node.children.push(failed);
        continue;
      }
      // musl's reserved names are the loader itself: with the loader missing, that one error says it.
      if (isMusl && MUSL_RESERVED.test(name) && !interpLoaded) continue;
      const seen =
        byName.get(name) ?? (isMusl && MUSL_RESERVED.test(name) && interpLoaded ? interpLoaded : undefined);
      if (seen) {
        obj.node.children.push({
          name,
          path: seen.path,
          via: seen === interpLoaded && isMusl && MUSL_RESERVED.test(name) ? "musl-builtin" : seen.node.via,
          alreadyLoaded: true,
          children: [],
        });
        continue;
      }
      const found = isMusl
        ? await searchMusl(fs, name, obj, ldPath, muslDirs, main, top.path)
        : await searchGlibc(fs, name, obj, ldPath, cache, main, proc ? top.path : null, opts.hwcaps ?? []);
      const node: DepNode = { name, path: found.path, via: found.via, children: [] };
      if (found.viaObject) node.viaObject = found.viaObject;
      if (found.skipped.length) node.skipped = found.skipped;
      if (found.hwcaps.length) node.hwcapsAlternatives = found.hwcaps;
      obj.node.children.push(node);
      if (found.path === null) {
        missing.set(name, node);
        node.searched = found.searched;
        const skippedNote = found.skipped.length
          ? `; skipped incompatible ${found.skipped.map((s) => s.path).join(", ")}`
          : "";
        problems.push({
          code: found.invalid ? "INVALID_LIBRARY" : "MISSING_LIBRARY",
          severity: "error",
          message: found.invalid
            ? isMusl
              ? `${name} (needed by ${obj.path}): ${found.invalid}`
              : `${name} (needed by ${obj.path}) is not a usable library: "error while loading shared libraries: ${found.invalid}"`
            : isMusl
              ? `${name} (needed by ${obj.path}) not found in ${fs.description}${skippedNote}: "Error loading shared library ${name}: No such file or directory"`
              : // glibc _dl_map_object: a candidate of the other class seen on the way changes the message.
                `${name} (needed by ${obj.path}) not found in ${fs.description}${skippedNote}: "error while loading shared libraries: ${name}: ${found.otherClass ? `wrong ELF class: ELFCLASS${main.cls === 64 ? 32 : 64}` : "cannot open shared object file"}"`,
          fix: found.invalid
            ? "replace the file with a valid library"
            : `add ${name} to the image (or pack with --bundle-libs), or link it statically`,
        });
        continue;
      }
      const again = byPath.get(found.path);
      if (again) {
        node.alreadyLoaded = true;
        byName.set(name, again);
        continue;
      }
      const l: Loaded = { node, info: found.info!, path: found.path, loader: obj };
      register(l, name);
      result.libraries.push({ name, path: found.path, via: found.via! });
      queue.push(l);
    }
  }

  if (!isMusl) checkVersions([top, ...all.filter((l) => l !== top)], byName, problems);
  return result;
}

function sameArch(a: ObjectInfo, b: ObjectInfo): boolean {
  return a.cls === b.cls && a.little === b.little && a.machine === b.machine;
}

function describeArch(o: ObjectInfo): string {
  return `ELF${o.cls} ${o.little ? "LSB" : "MSB"} machine ${o.machine}`;
}

/**
 * glibc's release from its loader's banner ("... release version 2.36."), which `ld.so --help` and
 * `ld.so --version` print: the search rules changed between releases (legacy hwcaps in 2.37).
 */
async function glibcRelease(fs: RootFs, loaderPath: string): Promise<string | null> {
  let src: ByteSource | null = null;
  try {
    src = fs.open(loaderPath);
    if (src.size > 16 << 20) return null;
    const b = await src.read(0, src.size);
    const text = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    const at = text.indexOf("release version ");
    if (at < 0) return null;
    const m = /^release version (\d+\.\d+)/.exec(text.toString("latin1", at, at + 32));
    return m ? m[1]! : null;
  } catch {
    return null;
  } finally {
    await src?.close();
  }
}

/**
 * Legacy hwcaps subdirectories that glibc before 2.37 tries in every search directory, best first
 * (seen with LD_DEBUG=libs on Debian 12's 2.36: tls/x86_64/x86_64, tls/x86_64, tls, x86_64/x86_64,
 * x86_64). Only x86-64 is modelled; other architectures use their platform strings.
 */
function legacySubdirs(main: ObjectInfo, release: string | null | undefined): string[] {
  if (!release || compareDotted(release, "2.37") >= 0) return [];
  if (main.machine !== EM.X86_64 || main.cls !== 64) return [];
  return ["tls/x86_64/x86_64", "tls/x86_64", "tls", "x86_64/x86_64", "x86_64"];
}

async function readCache(fs: RootFs): Promise<LdCacheEntry[] | null> {
  const r = resolvePath(fs, "/etc/ld.so.cache");
  if (!r.ok || r.stat.kind !== "file") return null;
  const src = fs.open(r.path);
  try {
    if (src.size > 64 << 20) return null;
    return parseLdSoCache(await src.read(0, src.size));
  } finally {
    await src.close();
  }
}

interface Found {
  path: string | null;
  via: Via | null;
  viaObject?: string;
  info?: ObjectInfo;
  skipped: { path: string; reason: string }[];
  /** A candidate of the other ELF class was passed over: glibc then says "wrong ELF class", not ENOENT. */
  otherClass?: boolean;
  searched: string[];
  hwcaps: string[];
  /** A candidate that exists but is not a usable ELF file: the glibc loader stops there. */
  invalid?: string;
}

type Candidate =
  | { ok: true; path: string; info: ObjectInfo }
  | { ok: false; skip?: string; invalid?: string; path?: string; loop?: boolean; otherClass?: boolean };

async function tryCandidate(
  fs: RootFs,
  path: string,
  main: ObjectInfo,
  cache: LibraryCache,
): Promise<Candidate> {
  const r = resolvePath(fs, path);
  if (!r.ok) return r.reason === "ELOOP" ? { ok: false, loop: true, path } : { ok: false };
  // glibc opens whatever the name is; reading a directory fails ("cannot read file data: Error 21")
  // and the loader gives up on this name rather than searching on.
  if (r.stat.kind === "dir")
    return { ok: false, invalid: `${r.path}: cannot read file data: Error 21`, path: r.path };
  if (r.stat.kind !== "file") return { ok: false, invalid: `${r.path}: not a regular file`, path: r.path };
  const info = await loadObject(fs, r.path, cache);
  if ("error" in info) {
    // open() failing with EACCES/EPERM is passed over like ENOENT (glibc open_path goes on).
    if (info.code === "EACCES" || info.code === "EPERM" || info.code === "ENOENT")
      return { ok: false, skip: `cannot open: ${info.code}`, path: r.path };
    // glibc open_verify's words, with the in-root path: a header it cannot read whole is "file too
    // short", bad magic "invalid ELF header"; anything else we cannot parse is named as we found it.
    const ehdr = main.cls === 64 ? 64 : 52;
    const says =
      r.stat.size < ehdr ? "file too short" : info.code === "INVALID_ELF" ? "invalid ELF header" : null;
    return { ok: false, invalid: says ? `${r.path}: ${says}` : info.error, path: r.path };
  }
  // glibc open_verify: a different class or machine is skipped and the search goes on.
  if (!sameArch(info, main))
    return {
      ok: false,
      skip: `${describeArch(info)}, not ${describeArch(main)}`,
      path: r.path,
      otherClass: info.cls !== main.cls,
    };
  return { ok: true, path: r.path, info };
}

async function searchGlibc(
  fs: RootFs,
  name: string,
  obj: Loaded,
  ldPath: string[],
  cache: LibraryCache,
  main: ObjectInfo,
  /** The main program's path, or null when the loader cannot learn it (no /proc/self/exe). */
  mainPath: string | null,
  hwcaps: string[],
): Promise<Found> {
  const found: Found = { path: null, via: null, skipped: [], searched: [], hwcaps: [] };
  // `quiet`: subdirectory probes are not listed in `searched`, and cache entries of another ABI are
  // not "skipped" (the loader filters the cache by its flags before opening anything).
  // glibc open_path: ENOENT, ENOTDIR and EACCES go on to the next directory; any other error (a
  // link loop: ELOOP) abandons the rest of this list, and the search resumes with the next source.
  let listStopped = false;
  const attempt = async (path: string, via: Via, viaObject?: string, quiet = false): Promise<boolean> => {
    if (!quiet) found.searched.push(path);
    const c = await tryCandidate(fs, path, main, cache);
    if (c.ok) {
      Object.assign(found, { path: c.path, via, info: c.info });
      if (viaObject) found.viaObject = viaObject;
      return true;
    }
    if (c.skip && !(quiet && via === "ld.so.cache")) found.skipped.push({ path: c.path!, reason: c.skip });
    if (c.otherClass) found.otherClass = true;
    if (c.loop) {
      found.skipped.push({
        path,
        reason: "symbolic link loop (Error 40): the rest of this search list is abandoned",
      });
      listStopped = true;
      return false;
    }
    if (c.invalid) {
      found.invalid = c.invalid;
      return true; // glibc reports "invalid ELF header" and gives up on this name
    }
    return false;
  };
  const legacy = legacySubdirs(main, cache.glibcRelease);
  const inDirs = async (dirs: string[], origin: string | null, via: Via, viaObject?: string) => {
    listStopped = false;
    for (const raw of dirs) {
      // An entry with $ORIGIN whose origin is unknown is dropped (glibc fillin_rpath).
      if (origin === null && /\$(\{ORIGIN\}|ORIGIN)/.test(raw)) continue;
      const dir = expandTokens(raw, origin ?? "", main);
      for (const sub of hwcaps) {
        if (await attempt(joinPath(`${dir}/glibc-hwcaps/${sub}`, name), via, viaObject, true)) return true;
        if (listStopped) return false;
      }
      for (const sub of legacy) {
        if (await attempt(joinPath(`${dir}/${sub}`, name), via, viaObject, true)) return true;
        if (listStopped) return false;
      }
      if (await attempt(joinPath(dir, name), via, viaObject)) {
        found.hwcaps = hwcapsVariants(fs, dir, name);
        return true;
      }
      if (listStopped) return false;
    }
    return false;
  };

  // The main program's origin needs /proc/self/exe; a library's comes from the path it was loaded by.
  const originOf = (l: Loaded) => (l.loader === null && mainPath === null ? null : dirname(l.path));
  if (name.includes("/")) {
    await attempt(expandTokens(name, dirname(obj.path), main), "path");
    return found;
  }
  // DT_RPATH of the requester and of each object up its loader chain, unless the requester has a
  // DT_RUNPATH (an object with DT_RUNPATH contributes no DT_RPATH: glibc ignores RPATH there).
  if (obj.info.runpath.length === 0) {
    for (let l: Loaded | null = obj; l; l = l.loader) {
      if (l.info.runpath.length === 0 && l.info.rpath.length > 0) {
        if (await inDirs(l.info.rpath, originOf(l), "rpath", l.path)) return found;
      }
    }
  }
  if (await inDirs(ldPath, mainPath === null ? null : dirname(mainPath), "ld_library_path")) return found;
  // DT_RUNPATH applies to the requester's own DT_NEEDED only (never inherited).
  if (obj.info.runpath.length > 0 && (await inDirs(obj.info.runpath, originOf(obj), "runpath"))) return found;
  if (!obj.info.nodeflib && cache.ldCache) {
    for (const e of cache.ldCache) {
      if (e.name !== name || e.hwcap !== 0n) continue;
      if (await attempt(e.path, "ld.so.cache", undefined, true)) return found;
    }
  }
  if (!obj.info.nodeflib && (await inDirs(glibcDefaultDirs(fs, main, cache), "/", "default"))) return found;
  return found;
}

function hwcapsVariants(fs: RootFs, dir: string, name: string): string[] {
  const base = `${dir}/glibc-hwcaps`;
  const subs = fs.readdir(resolvePath(fs, base).path) ?? [];
  return subs
    .map((s) => `${base}/${s}/${name}`)
    .filter((p) => {
      const r = resolvePath(fs, p);
      return r.ok && r.stat.kind === "file";
    });
}

async function searchMusl(
  fs: RootFs,
  name: string,
  obj: Loaded,
  ldPath: string[],
  sysPath: string[],
  main: ObjectInfo,
  mainPath: string,
): Promise<Found> {
  const found: Found = { path: null, via: null, skipped: [], searched: [], hwcaps: [] };
  // musl opens the first file that exists and fails if it is unusable: no skipping of other arches.
  // Only ENOENT, ENOTDIR, EACCES and ENAMETOOLONG let its search go on (ldso/dynlink.c path_open);
  // a link loop or a directory ends it.
  const attempt = async (path: string, via: Via, viaObject?: string): Promise<boolean> => {
    found.searched.push(path);
    const r = resolvePath(fs, path);
    if (!r.ok) {
      if (r.reason !== "ELOOP") return false;
      found.invalid = `Error loading shared library ${name}: Symbolic link loop (at ${path})`;
      return true;
    }
    if (r.stat.kind === "dir") {
      found.invalid = `Error loading shared library ${name}: Is a directory (at ${r.path})`;
      return true;
    }
    if (r.stat.kind !== "file") return false;
    const c = await tryCandidate(fs, r.path, main, new LibraryCache());
    if (c.ok) {
      Object.assign(found, { path: c.path, via, info: c.info });
      if (viaObject) found.viaObject = viaObject;
    } else found.invalid = c.invalid ?? `${r.path}: ${c.skip ?? "unusable"} (Exec format error)`;
    return true;
  };
  const inDirs = async (dirs: string[], origin: string, via: Via, viaObject?: string) => {
    for (const raw of dirs)
      if (await attempt(joinPath(expandTokens(raw, origin, main), name), via, viaObject)) return true;
    return false;
  };
  if (name.includes("/")) {
    await attempt(name, "path");
    return found;
  }
  if (await inDirs(ldPath, dirname(mainPath), "ld_library_path")) return found;
  // musl treats DT_RPATH and DT_RUNPATH alike and searches the requester's, then its needed-by chain.
  for (let l: Loaded | null = obj; l; l = l.loader) {
    const dirs = l.info.runpath.length ? l.info.runpath : l.info.rpath;
    if (
      dirs.length &&
      (await inDirs(dirs, dirname(l.path), l.info.runpath.length ? "runpath" : "rpath", l.path))
    )
      return found;
  }
  await inDirs(sysPath, "/", "musl-path");
  return found;
}

/**
 * glibc _dl_check_map_versions: every version an object needs from a library must be defined by
 * that library, unless the library has no version definitions at all (then nothing is checked) or
 * the need is weak.
 */
function checkVersions(objs: Loaded[], byName: Map<string, Loaded>, problems: DepProblem[]): void {
  for (const o of objs) {
    for (const need of o.info.versionNeeds) {
      const provider = byName.get(need.file);
      if (!provider || provider.info.versionDefs === null) continue;
      for (const v of need.versions) {
        if (v.weak || provider.info.versionDefs.has(v.name)) continue;
        problems.push({
          code: "MISSING_SYMBOL_VERSION",
          severity: "error",
          message: `${provider.path}: version \`${v.name}' not found (required by ${o.path})`,
          fix: /^GLIBC_/.test(v.name)
            ? `the root's glibc is older than ${v.name.slice(6)}: use a newer base image, build against an older glibc, or link statically`
            : `provide a ${need.file} that defines ${v.name} (a newer version of the library)`,
        });
      }
    }
  }
}

/** Directories of ld.so.conf, for explaining a library that only ld.so.conf (not the cache) lists. */
export async function ldConfDirs(fs: RootFs, cache: LibraryCache): Promise<string[]> {
  if (cache.ldConfDirs === undefined) cache.ldConfDirs = (await readLdSoConf(fs)).dirs;
  return cache.ldConfDirs;
}
