/**
 * The facts test/fixtures/build.sh records in manifest.json ("expect", known from the build flags)
 * hold for our inspectFile, and each of them is first confirmed by an anchor tool (readelf, file,
 * go version -m) on the same binary, so a wrong manifest entry cannot make a wrong answer of ours
 * look right.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it, type TestContext } from "node:test";
import { readElf } from "../../src/elf/elf-file.js";
import { inspectFile } from "../../src/inspect/inspect.js";
import type { InspectResult } from "../../src/inspect/types.js";
import { FileSource } from "../../src/io/reader.js";
import { runBatched } from "../helpers/batch-run.js";
import { loadManifest, type ManifestEntry } from "../helpers/elf-corpus.js";
import { fixturesDir, needs } from "../helpers/env.js";
import {
  glibcFloorFromNames,
  parseGoVersionM,
  parseReadelf,
  parseVerdefNames,
  READELF_MACHINES,
  type ReadelfFacts,
  splitByFile,
} from "../helpers/readelf-text.js";

interface Anchors {
  re: ReadelfFacts;
  /** `readelf -W -n -s --dyn-syms -p .comment -t` text of this file. */
  more: string;
  /** `readelf -V` text (version definitions). */
  versions: string;
  file: string;
  go: { go: string; settings: Record<string, string> } | null;
  /** `readelf -A` text (ARM build attributes; empty for other machines). */
  attrs: string;
}

interface Check {
  fixture: string;
  fact: string;
  expected: unknown;
  anchor: unknown;
  ours: unknown;
  /** Facts that need Go build info, which src/inspect/go-facts.ts does not read yet. */
  needsGoInfo?: boolean;
}

const j = (v: unknown) => JSON.stringify(v ?? null);

/** Our arch names (GOARCH / OCI) for readelf's machine, class and endianness. */
function archFromReadelf(a: ReadelfFacts): string | null {
  const m = READELF_MACHINES[a.machineName ?? ""];
  const le = a.endian === "little";
  switch (m) {
    case 62:
      return "amd64";
    case 3:
      return "386";
    case 183:
      return "arm64";
    case 40:
      return "arm";
    case 243:
      return "riscv64";
    case 22:
      return "s390x";
    case 8:
      return (a.class === 64 ? "mips64" : "mips") + (le ? "le" : "");
    case 21:
      return le ? "ppc64le" : "ppc64";
    case 258:
      return "loong64";
    default:
      return null;
  }
}

/**
 * The platform variant by the rule README "inspect" states, from the anchors alone: arm is the newer
 * of GOARM (go version -m) and readelf -A's Tag_CPU_arch (major version; v4/v4T run on the oldest
 * OCI variant, v5); arm64 is v8; amd64 is the higher of GOAMD64 and readelf -n's "x86 ISA needed"
 * levels, written only above the baseline.
 */
function variantFromAnchors(x: Anchors): string | null {
  const arch = archFromReadelf(x.re);
  const settings = x.go?.settings ?? {};
  if (arch === "arm64") return "v8";
  if (arch === "arm") {
    const goarm = Number(/^\d+/.exec(settings["GOARM"] ?? "")?.[0] ?? 0);
    const tag = /Tag_CPU_arch: v(\d)/.exec(x.attrs)?.[1];
    const v = Math.max(goarm, tag === undefined ? 0 : Math.max(5, Number(tag)));
    return v > 0 ? `v${v}` : null;
  }
  if (arch === "amd64") {
    const goamd64 = Number(/^v(\d)$/.exec(settings["GOAMD64"] ?? "")?.[1] ?? 1);
    const needed = /x86 ISA needed: ([^\n]*)/.exec(x.more)?.[1] ?? "";
    const levels = [...needed.matchAll(/x86-64-v(\d)/g)].map((m) => Number(m[1]));
    const v = Math.max(goamd64, ...levels);
    return v > 1 ? `v${v}` : null;
  }
  return null;
}

function symbolSection(more: string, table: ".dynsym" | ".symtab"): { name: string; defined: boolean }[] {
  const out: { name: string; defined: boolean }[] = [];
  let inside = false;
  for (const line of more.split("\n")) {
    if (line.startsWith("Symbol table '")) inside = line.startsWith(`Symbol table '${table}'`);
    else if (line === "") inside = false;
    else if (inside) {
      const m = /^\s*\d+: [0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)\s+(\S+)/.exec(line);
      if (m) out.push({ name: m[2]!.replace(/@.*$/, ""), defined: m[1] !== "UND" });
    }
  }
  return out;
}

/** The C library as the anchors show it: loader name, version needs, ABI tag note, libc symbols. */
function libcFromAnchors(x: Anchors): string {
  const a = x.re;
  if (/\/ld-musl-[^/]+\.so\.1$/.test(a.interpreter ?? "")) return "musl";
  if (a.verneed.some((n) => n.versions.some((v) => v.startsWith("GLIBC_")))) return "glibc";
  if (a.interpreter === null && a.needed.length === 0) {
    if (/NT_GNU_ABI_TAG \(ABI version tag\)\s+OS: Linux/.test(x.more)) return "glibc";
    const syms = new Set(symbolSection(x.more, ".symtab").map((s) => s.name));
    if (syms.has("__init_libc") || syms.has("__libc_start_init")) return "musl";
    if (x.go !== null) return "none";
  }
  return "unknown";
}

function readelfLinkage(a: ReadelfFacts): string {
  const pie = a.flags1.includes("PIE");
  if (a.interpreter !== null) return "dynamic";
  if (a.type === "EXEC") return "static";
  return pie ? "static-pie" : "shared";
}

const fileLinkage = (f: string) =>
  /static-pie linked/.test(f)
    ? "static-pie"
    : /statically linked/.test(f)
      ? "static"
      : /interpreter /.test(f)
        ? "dynamic"
        : /dynamically linked/.test(f)
          ? "shared"
          : "?";

function checksFor(e: ManifestEntry, x: Anchors, r: InspectResult, raw: Raw): Check[] {
  const ex = e.expect;
  const a = x.re;
  const out: Check[] = [];
  const add = (fact: string, anchor: unknown, ours: unknown, needsGoInfo = false) => {
    if (!(fact in ex)) return;
    out.push({ fixture: e.name, fact, expected: ex[fact], anchor, ours, needsGoInfo });
  };
  add("class", a.class, r.elf?.class);
  add("endian", a.endian, r.elf?.endian);
  add("machine", READELF_MACHINES[a.machineName ?? ""] ?? a.machineName, r.elf?.machine);
  add("type", a.type, r.elf?.type);
  // Two anchors for linkage: README "Linkage rules" on readelf's facts, and file's words.
  const l = readelfLinkage(a);
  add(
    "linkage",
    l === fileLinkage(x.file) ? l : `readelf ${l} / file ${fileLinkage(x.file)}`,
    r.linkage === "shared-library" ? "shared" : r.linkage,
  );
  // Our pie is null for shared libraries by design (types.ts: "null for shared libraries").
  add(
    "pie",
    a.type === "DYN" ? a.flags1.includes("PIE") : false,
    r.linkage === "shared-library" && r.hardening?.pie === null ? false : r.hardening?.pie,
  );
  add("interp", a.interpreter, r.interpreter);
  add("needed", a.needed, r.needed);
  add("soname", a.soname, r.soname);
  add("rpath", a.rpath, r.rpath.length ? r.rpath.join(":") : null);
  add("runpath", a.runpath, r.runpath.length ? r.runpath.join(":") : null);
  add("libc", libcFromAnchors(x), r.libc, ex["libc"] === "none");
  add("glibcMin", glibcFloorFromNames(a.verneed.flatMap((n) => n.versions)), r.glibcMin);
  add("versionDefs", parseVerdefNames(x.versions), raw.versionDefs);
  if ("versionNeeds" in ex) {
    const pickNeeds = (needs: { file: string; versions: string[] }[]) =>
      Object.fromEntries(
        needs.filter((n) => n.file in (ex["versionNeeds"] as object)).map((n) => [n.file, n.versions]),
      );
    add("versionNeeds", pickNeeds(a.verneed), pickNeeds(raw.versionNeeds));
  }
  const relroSeg = a.segments.some((s) => s.type === "GNU_RELRO");
  const now =
    (a.dynamic ?? []).some((d) => d.tag === "BIND_NOW") ||
    a.flags.includes("BIND_NOW") ||
    a.flags1.includes("NOW");
  add("relro", relroSeg ? (now ? "full" : "partial") : "none", r.hardening?.relro);
  const stack = a.segments.find((s) => s.type === "GNU_STACK");
  add("nx", stack !== undefined && !stack.flags.includes("E"), r.hardening?.nx);
  const dyn = symbolSection(x.more, ".dynsym");
  add(
    "canary",
    dyn.some((s) => s.name === "__stack_chk_fail" || s.name === "__stack_chk_guard"),
    r.hardening?.canary,
  );
  add(
    "fortify",
    dyn.some((s) => !s.defined && /^__\w+_chk$/.test(s.name) && s.name !== "__stack_chk_fail"),
    r.hardening?.fortify,
  );
  const symtab = a.sections.some((s) => s.type === "SYMTAB");
  add(
    "stripped",
    !symtab && /, stripped\b/.test(x.file) ? true : symtab && /not stripped/.test(x.file) ? false : "?",
    r.stripped,
  );
  const di = a.sections.find((s) => s.name === ".debug_info");
  add("debugInfo", di !== undefined && di.size > 0 && /with debug_info/.test(x.file), r.debug?.present);
  if ("debugCompression" in ex) {
    // readelf -t prints the Elf_Chdr type ("ZLIB, <size>, <align>") under each compressed section.
    const z = /\.debug_info\n\s+\S+.*\n\s+\[[0-9a-f]+\]: COMPRESSED\n\s+ZLIB,/.test(x.more);
    add("debugCompression", z ? "zlib" : "not zlib", r.debug?.compressed ? "zlib" : "none");
  }
  if ("comment" in ex) {
    const c = String(ex["comment"]);
    const dump = /String dump of section '\.comment':\n([\s\S]*?)\n\n/.exec(x.more)?.[1] ?? "";
    add("comment", dump.includes(c) ? c : dump, r.toolchain.some((t) => t.includes(c)) ? c : r.toolchain);
  }
  add("goos", x.go?.settings["GOOS"] ?? null, r.os);
  add("goarch", x.go?.settings["GOARCH"] ?? null, r.arch);
  add("variant", variantFromAnchors(x), r.variant);
  return out;
}

interface Raw {
  versionDefs: string[];
  versionNeeds: { file: string; versions: string[] }[];
}

async function readRaw(path: string): Promise<Raw> {
  const src = FileSource.open(path);
  try {
    const elf = await readElf(src);
    return {
      versionDefs: elf.versionDefs.filter((d) => !d.base).map((d) => d.names[0] ?? "?"),
      versionNeeds: elf.versionNeeds.map((n) => ({ file: n.file, versions: n.versions.map((v) => v.name) })),
    };
  } finally {
    src.closeNow();
  }
}

const ENTRIES = loadManifest().filter((e) => e.expect["format"] === "elf");

describe("fixture facts (manifest.json), confirmed by the anchors", {
  skip: needs({ tools: ["readelf", "file", "go"] }),
}, () => {
  const checks: Check[] = [];
  const results = new Map<string, InspectResult>();
  const anchors = new Map<string, Anchors>();

  before(async () => {
    assert.ok(ENTRIES.length > 0, "no ELF fixtures in manifest.json: run test/fixtures/build.sh");
    const paths = ENTRIES.map((e) => join(fixturesDir, e.name));
    const [hl, more, vers, file, gov, attrs] = await Promise.all([
      runBatched("readelf", ["-hldSVW"], paths, { batchSize: 60 }),
      runBatched("readelf", ["-W", "-n", "-s", "-p", ".comment", "-t"], paths, { batchSize: 60 }),
      runBatched("readelf", ["-VW"], paths, { batchSize: 60 }),
      runBatched("file", ["-N", "-F", "\u0001"], paths, { batchSize: 100 }),
      runBatched(
        "go",
        ["version", "-m"],
        paths.filter((_, i) => ENTRIES[i]!.kind === "go"),
        { batchSize: 60 },
      ),
      runBatched("readelf", ["-A"], paths, { batchSize: 60 }),
    ]);
    const re = new Map<string, ReadelfFacts>();
    for (const b of hl) for (const [k, v] of parseReadelf(b.stdout, b.files)) re.set(k, v);
    const moreBy = new Map<string, string>();
    for (const b of more) for (const [k, v] of splitByFile(b.stdout, b.files)) moreBy.set(k, v);
    const versBy = new Map<string, string>();
    for (const b of vers) for (const [k, v] of splitByFile(b.stdout, b.files)) versBy.set(k, v);
    const fileBy = new Map<string, string>();
    for (const b of file)
      for (const line of b.stdout.split("\n")) {
        const at = line.indexOf("\u0001");
        if (at > 0) fileBy.set(line.slice(0, at), line.slice(at + 1).trim());
      }
    const goBy = new Map<string, { go: string; settings: Record<string, string> }>();
    for (const b of gov) for (const [k, v] of parseGoVersionM(b.stdout)) goBy.set(k, v);
    const attrsBy = new Map<string, string>();
    for (const b of attrs) for (const [k, v] of splitByFile(b.stdout, b.files)) attrsBy.set(k, v);
    for (const [i, e] of ENTRIES.entries()) {
      const p = paths[i]!;
      const x: Anchors = {
        re: re.get(p)!,
        more: moreBy.get(p) ?? "",
        versions: versBy.get(p) ?? "",
        file: fileBy.get(p) ?? "",
        go: goBy.get(p) ?? null,
        attrs: attrsBy.get(p) ?? "",
      };
      anchors.set(e.name, x);
      const r = await inspectFile(p);
      results.set(e.name, r);
      checks.push(...checksFor(e, x, r, await readRaw(p)));
    }
  });

  it("every manifest fact is confirmed by readelf / file / go version -m", (t: TestContext) => {
    const bad = checks.filter((c) => j(c.anchor) !== j(c.expected));
    t.diagnostic(`${checks.length - bad.length} of ${checks.length} manifest facts confirmed by the anchors`);
    assert.deepEqual(
      bad.map((c) => `${c.fixture} ${c.fact}: manifest ${j(c.expected)} vs anchor ${j(c.anchor)}`),
      [],
    );
  });

  it("inspectFile reproduces every manifest fact", (t: TestContext) => {
    const mine = checks.filter((c) => !c.needsGoInfo);
    const bad = mine.filter((c) => j(c.ours) !== j(c.expected));
    t.diagnostic(`${mine.length - bad.length} of ${mine.length} facts identical`);
    assert.deepEqual(
      bad.map((c) => `${c.fixture} ${c.fact}: expected ${j(c.expected)}, ours ${j(c.ours)}`),
      [],
    );
  });

  it("variant: the stricter of GOARM/GOAMD64 (go version -m) and readelf -A / -n, on every ELF fixture", () => {
    const bad: string[] = [];
    for (const e of ENTRIES) {
      const want = variantFromAnchors(anchors.get(e.name)!);
      const got = results.get(e.name)!.variant;
      if (got !== want) bad.push(`${e.name}: ours ${got}, anchors ${want}`);
    }
    assert.deepEqual(bad, []);
  });

  it("variant: where Go's setting and the ELF disagree, the ELF's stricter CPU wins", {
    skip: needs({ fixtures: ["go-armv6-cgo-v7", "go-cgo-amd64-v3", "go-armv6", "go-arm", "go-arm64"] }),
  }, () => {
    // The anchors must show the disagreement itself, or the case proves nothing.
    const arm = anchors.get("go-armv6-cgo-v7");
    assert.ok(arm, "go-armv6-cgo-v7 fixture missing");
    assert.equal(arm.go?.settings["GOARM"], "6");
    assert.match(arm.attrs, /Tag_CPU_arch: v7\n/);
    assert.equal(results.get("go-armv6-cgo-v7")!.variant, "v7");
    const x86 = anchors.get("go-cgo-amd64-v3")!;
    assert.equal(x86.go?.settings["GOAMD64"], "v1");
    assert.match(x86.more, /x86 ISA needed: [^\n]*x86-64-v3/);
    assert.equal(results.get("go-cgo-amd64-v3")!.variant, "v3");
    // And where only Go says it (no .ARM.attributes in a pure Go binary), Go's setting is the label.
    for (const [name, v] of [
      ["go-armv6", "v6"],
      ["go-arm", "v7"],
      ["go-arm64", "v8"],
    ] as const) {
      assert.doesNotMatch(anchors.get(name)!.attrs, /Tag_CPU_arch/, name);
      assert.equal(results.get(name)!.variant, v, name);
    }
  });

  it("arch and os for every ELF fixture", () => {
    for (const e of ENTRIES) {
      const x = anchors.get(e.name)!;
      const r = results.get(e.name)!;
      assert.equal(r.arch, archFromReadelf(x.re), `${e.name}: arch`);
      // Linux: readelf's GNU ABI tag says so, or the program asks for a Linux loader or for glibc
      // symbol versions (libzd.so.1 has neither note nor loader), or is static musl, or Go's GOOS.
      const linux =
        /OS: Linux/.test(x.more) ||
        /^\/lib(64)?\/ld-/.test(x.re.interpreter ?? "") ||
        x.re.verneed.some((n) => n.versions.some((v) => v.startsWith("GLIBC_"))) ||
        libcFromAnchors(x) === "musl" || // musl only targets Linux
        x.go?.settings["GOOS"] === "linux";
      assert.ok(linux, `${e.name}: no anchor says Linux`);
      assert.equal(r.os, "linux", `${e.name}: os`);
    }
  });

  it("facts that need Go build info", (t: TestContext) => {
    const mine = checks.filter((c) => c.needsGoInfo);
    const bad = mine.filter((c) => j(c.ours) !== j(c.expected));
    t.diagnostic(`${mine.length - bad.length} of ${mine.length} facts identical`);
    assert.deepEqual(
      bad.map((c) => `${c.fixture} ${c.fact}: expected ${j(c.expected)}, ours ${j(c.ours)}`),
      [],
    );
  });

  it("warning codes where the anchors make them meaningful", () => {
    for (const e of ENTRIES) {
      const x = anchors.get(e.name)!;
      const codes = new Set(results.get(e.name)!.warnings.map((w) => w.code));
      // PT_INTERP without any DT_NEEDED (go-pie-internal): not static, whatever it looks like.
      const interpNoNeeded = x.re.interpreter !== null && x.re.needed.length === 0;
      assert.equal(codes.has("INTERP_WITHOUT_NEEDED"), interpNoNeeded, `${e.name}: INTERP_WITHOUT_NEEDED`);
      // The stack is executable without GNU_STACK or with RWE (executables only).
      if (x.re.type === "EXEC" || (x.re.type === "DYN" && x.re.soname === null)) {
        const st = x.re.segments.find((s) => s.type === "GNU_STACK");
        assert.equal(
          codes.has("EXECUTABLE_STACK"),
          st === undefined || st.flags.includes("E"),
          `${e.name}: EXECUTABLE_STACK`,
        );
      }
      // No GLIBC_x.y needed at all: no glibc floor warning.
      const floor = glibcFloorFromNames(x.re.verneed.flatMap((n) => n.versions));
      if (floor === null) assert.ok(!codes.has("GLIBC_TOO_NEW"), `${e.name}: GLIBC_TOO_NEW without a floor`);
    }
    // glibcnew.c calls arc4random (glibc 2.36): newer than Debian 11 / Ubuntu 20.04 (2.31).
    const gn = anchors.get("c-glibc-new");
    if (gn) {
      assert.equal(glibcFloorFromNames(gn.re.verneed.flatMap((n) => n.versions)), "2.36");
      const w = results.get("c-glibc-new")!.warnings.find((x) => x.code === "GLIBC_TOO_NEW");
      assert.ok(w, "c-glibc-new: GLIBC_TOO_NEW");
      assert.match(w.message, /2\.36/);
      assert.match(w.message, /arc4random/);
    }
    assert.ok(anchors.has("go-pie-internal"), "go-pie-internal fixture missing");
  });
});
