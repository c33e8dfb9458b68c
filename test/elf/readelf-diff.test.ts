/**
 * Differential test against GNU readelf 2.40 (and elfutils eu-readelf as a second opinion) on the
 * same inputs: every ELF fixture and every ELF file under /usr/bin, /usr/sbin,
 * /usr/lib/x86_64-linux-gnu and /usr/libexec of this machine. Golden values come from the anchors
 * only; the classification rules applied to readelf's facts are the ones written in README "Linkage rules"
 * ("ELF: linkage", "ELF: hardening"), restated below next to each check.
 */
import assert from "node:assert/strict";
import { before, describe, it, type TestContext } from "node:test";
import { readElf } from "../../src/elf/elf-file.js";
import type { VersionNeed } from "../../src/elf/versions.js";
import { inspectFile } from "../../src/inspect/inspect.js";
import type { InspectResult, Linkage } from "../../src/inspect/types.js";
import { FileSource } from "../../src/io/reader.js";
import { runBatched } from "../helpers/batch-run.js";
import { everyNth, fixtureElfFiles, machineElfFiles } from "../helpers/elf-corpus.js";
import { needs } from "../helpers/env.js";
import {
  type EuReadelfFacts,
  glibcFloorFromNames,
  parseEuReadelf,
  parseReadelf,
  READELF_MACHINES,
  type ReadelfFacts,
  splitByFile,
  undefinedSymbolsAtVersion,
} from "../helpers/readelf-text.js";

interface Raw {
  sections: { name: string; type: number; size: number }[];
  segments: number[];
  versionNeeds: VersionNeed[];
  error?: string;
}

interface Row {
  path: string;
  anchor: ReadelfFacts;
  ours: InspectResult;
  raw: Raw;
}

async function readRaw(path: string): Promise<Raw> {
  const src = FileSource.open(path);
  try {
    const elf = await readElf(src);
    return {
      sections: elf.sections.map((s) => ({ name: s.name, type: s.type, size: s.size })),
      segments: elf.programHeaders.map((p) => p.type),
      versionNeeds: elf.versionNeeds,
    };
  } catch (err) {
    return { sections: [], segments: [], versionNeeds: [], error: String(err) };
  } finally {
    src.closeNow();
  }
}

/** readelf's section type names for the types whose numbers we also name (src/elf/section-header.ts). */
const SHT_BY_READELF_NAME: Record<string, number> = {
  NULL: 0,
  PROGBITS: 1,
  SYMTAB: 2,
  STRTAB: 3,
  RELA: 4,
  HASH: 5,
  DYNAMIC: 6,
  NOTE: 7,
  NOBITS: 8,
  REL: 9,
  DYNSYM: 11,
  INIT_ARRAY: 14,
  FINI_ARRAY: 15,
  PREINIT_ARRAY: 16,
  GROUP: 17,
  RELR: 19,
  GNU_HASH: 0x6ffffff6,
  VERDEF: 0x6ffffffd,
  VERNEED: 0x6ffffffe,
  VERSYM: 0x6fffffff,
};

/** readelf's program header type names (binutils get_segment_type) for the types we know by number. */
const PT_BY_READELF_NAME: Record<string, number> = {
  NULL: 0,
  LOAD: 1,
  DYNAMIC: 2,
  INTERP: 3,
  NOTE: 4,
  SHLIB: 5,
  PHDR: 6,
  TLS: 7,
  GNU_EH_FRAME: 0x6474e550,
  GNU_STACK: 0x6474e551,
  GNU_RELRO: 0x6474e552,
  GNU_PROPERTY: 0x6474e553,
};
const ptName = (n: number) =>
  Object.entries(PT_BY_READELF_NAME).find(([, v]) => v === n)?.[0] ?? `0x${n.toString(16)}`;

const hasTag = (f: ReadelfFacts, tag: string) => f.dynamic?.some((d) => d.tag === tag) ?? false;

/**
 * README "Linkage rules", applied to readelf's words. Two refinements of ours, both documented in
 * src/inspect/elf-facts.ts classifyLinkage. Linkers give every executable (PIEs included) a
 * DT_DEBUG entry and never a shared object, so: an ET_DYN with PT_INTERP but without DF_1_PIE is a
 * runnable library (libc.so.6, pam_cap.so) unless it has DT_DEBUG and no SONAME (a PIE from a linker
 * older than DF_1_PIE); and an ET_DYN without PT_INTERP or DF_1_PIE is an old static PIE when it has
 * DT_DEBUG, no SONAME and an entry point.
 */
function linkageFromReadelf(f: ReadelfFacts): Linkage {
  if (f.type === "REL") return "relocatable";
  if (f.type === "CORE") return "core";
  const pie = f.flags1.includes("PIE");
  if (f.interpreter !== null) {
    if (f.type === "DYN" && !pie && (f.soname !== null || !hasTag(f, "DEBUG"))) return "shared-library";
    return "dynamic";
  }
  if (f.type === "EXEC") return "static";
  if (pie) return "static-pie";
  if (f.soname === null && hasTag(f, "DEBUG") && (f.entry ?? 0) !== 0) return "static-pie";
  return "shared-library";
}

/** Full RELRO: PT_GNU_RELRO and any of DT_BIND_NOW, DF_BIND_NOW, DF_1_NOW (bits, not equality). */
function relroFromReadelf(f: ReadelfFacts): "none" | "partial" | "full" {
  if (!f.segments.some((s) => s.type === "GNU_RELRO")) return "none";
  const now = hasTag(f, "BIND_NOW") || f.flags.includes("BIND_NOW") || f.flags1.includes("NOW");
  return now ? "full" : "partial";
}

function pieFromReadelf(f: ReadelfFacts): boolean | null {
  if (f.type === "EXEC") return false;
  const l = linkageFromReadelf(f);
  return l === "dynamic" || l === "static-pie" ? true : null;
}

/** NX: PT_GNU_STACK without PF_X; no PT_GNU_STACK means an executable stack. */
function nxFromReadelf(f: ReadelfFacts): boolean {
  const st = f.segments.find((s) => s.type === "GNU_STACK");
  return st !== undefined && !st.flags.includes("E");
}

const show = (v: unknown) => JSON.stringify(v);

/**
 * Compares one field over all rows and fails with the first disagreements (all of them are
 * counted). Returns the number of rows that were compared.
 */
function compare(
  t: TestContext,
  what: string,
  rows: Row[],
  pick: (r: Row) => { anchor: unknown; ours: unknown } | null,
): void {
  const bad: string[] = [];
  let n = 0;
  for (const r of rows) {
    const p = pick(r);
    if (p === null) continue;
    n++;
    if (show(p.anchor) !== show(p.ours))
      bad.push(`${r.path}: readelf ${show(p.anchor)} vs ours ${show(p.ours)}`);
  }
  t.diagnostic(`${what}: identical on ${n - bad.length} of ${n} files`);
  assert.ok(n > 0, `${what}: nothing compared`);
  assert.deepEqual(bad.slice(0, 25), [], `${what}: ${bad.length} disagreement(s)`);
}

const FILES = [...fixtureElfFiles(), ...machineElfFiles()];

describe("readelf -hldSVW vs readElf/inspectFile", {
  skip: needs({ tools: ["readelf"], fixtures: ["manifest.json"] }),
}, () => {
  let rows: Row[] = [];
  before(async () => {
    const batches = await runBatched("readelf", ["-hldSVW"], FILES, { batchSize: 80, parallel: 2 });
    const anchor = new Map<string, ReadelfFacts>();
    for (const b of batches) for (const [k, v] of parseReadelf(b.stdout, b.files)) anchor.set(k, v);
    for (const path of FILES) {
      const a = anchor.get(path);
      if (!a) throw new Error(`readelf printed nothing for ${path}`);
      rows.push({ path, anchor: a, ours: await inspectFile(path), raw: await readRaw(path) });
    }
    rows = rows.filter((r) => r.anchor.type !== null || r.ours.format === "elf");
  });

  it("readelf's words were parsed (the comparisons below are not vacuous)", () => {
    const count = (p: (a: ReadelfFacts) => boolean) => rows.filter((r) => p(r.anchor)).length;
    assert.ok(rows.length > 50, `only ${rows.length} ELF files`);
    assert.ok(count((a) => a.needed.length > 0) > 10, "NEEDED");
    assert.ok(count((a) => a.interpreter !== null) > 10, "PT_INTERP");
    assert.ok(count((a) => a.soname !== null) > 0, "SONAME");
    assert.ok(count((a) => a.rpath !== null) > 0 && count((a) => a.runpath !== null) > 0, "RPATH/RUNPATH");
    assert.ok(count((a) => a.verneed.length > 0) > 10, "verneed");
    assert.ok(count((a) => a.sections.length > 0) > 50, "sections");
    assert.ok(
      count((a) => a.flags1.includes("PIE")) > 0 && count((a) => a.flags1.includes("NOW")) > 0,
      "FLAGS_1",
    );
    assert.ok(count((a) => a.class === 32) > 0 && count((a) => a.endian === "big") > 0, "class/endianness");
  });

  it("reads every file readelf reads", (t) => {
    compare(t, "parsed without error", rows, (r) => ({
      anchor: r.anchor.type !== null,
      ours: r.ours.error === undefined && r.raw.error === undefined,
    }));
  });

  it("ELF header: type, machine, class, endianness", (t) => {
    compare(t, "e_type", rows, (r) => ({ anchor: r.anchor.type, ours: r.ours.elf?.type ?? null }));
    compare(t, "e_machine", rows, (r) => ({
      anchor: READELF_MACHINES[r.anchor.machineName ?? ""] ?? `unknown name ${r.anchor.machineName}`,
      ours: r.ours.elf?.machine ?? null,
    }));
    compare(t, "class", rows, (r) => ({ anchor: r.anchor.class, ours: r.ours.elf?.class ?? null }));
    compare(t, "endianness", rows, (r) => ({ anchor: r.anchor.endian, ours: r.ours.elf?.endian ?? null }));
  });

  it("PT_INTERP", (t) => {
    compare(t, "interpreter", rows, (r) => ({ anchor: r.anchor.interpreter, ours: r.ours.interpreter }));
  });

  it("dynamic section: NEEDED (in order), SONAME, RPATH, RUNPATH", (t) => {
    compare(t, "NEEDED", rows, (r) => ({ anchor: r.anchor.needed, ours: r.ours.needed }));
    compare(t, "SONAME", rows, (r) => ({ anchor: r.anchor.soname, ours: r.ours.soname }));
    compare(t, "RPATH", rows, (r) => ({
      anchor: r.anchor.rpath,
      ours: r.ours.rpath.length ? r.ours.rpath.join(":") : null,
    }));
    compare(t, "RUNPATH", rows, (r) => ({
      anchor: r.anchor.runpath,
      ours: r.ours.runpath.length ? r.ours.runpath.join(":") : null,
    }));
  });

  it("program headers: types in order", (t) => {
    compare(t, "program header types", rows, (r) => ({
      anchor: r.anchor.segments.map((s) => (s.type in PT_BY_READELF_NAME ? s.type : "other")),
      ours: r.raw.segments.map((n) => {
        const name = ptName(n);
        return name.startsWith("0x") ? "other" : name;
      }),
    }));
  });

  it("section headers: names, sizes, types", (t) => {
    // readelf lists section 0 (SHT_NULL) too; so does readElf.
    compare(t, "section names and sizes", rows, (r) => ({
      anchor: r.anchor.sections.map((s) => `${s.name}:${s.size}`),
      ours: r.raw.sections.map((s) => `${s.name}:${s.size}`),
    }));
    compare(t, "section types (those both name)", rows, (r) => {
      const a: string[] = [];
      const o: string[] = [];
      r.anchor.sections.forEach((s, i) => {
        const n = SHT_BY_READELF_NAME[s.type];
        if (n === undefined) return;
        a.push(`${i}:${n}`);
        o.push(`${i}:${r.raw.sections[i]?.type}`);
      });
      return { anchor: a, ours: o };
    });
    compare(t, "inspect sections (no NULL entry) match readelf", rows, (r) => ({
      anchor: r.anchor.sections.filter((s) => s.index > 0).map((s) => s.name),
      ours: r.ours.sections.map((s) => s.name),
    }));
  });

  it("version needs and minimum glibc", (t) => {
    compare(t, "verneed (file + version names)", rows, (r) => ({
      anchor: r.anchor.verneed,
      ours: r.raw.versionNeeds.map((n) => ({ file: n.file, versions: n.versions.map((v) => v.name) })),
    }));
    compare(t, "minimum GLIBC", rows, (r) => ({
      anchor: glibcFloorFromNames(r.anchor.verneed.flatMap((n) => n.versions)),
      ours: r.ours.glibcMin,
    }));
  });

  it("glibcMinSymbols: the imports bound to GLIBC_<glibcMin> (readelf --dyn-syms -W)", async (t) => {
    // 400 of the files that need glibc: inspect reads only the symbol entries whose .gnu.version
    // index is the floor's, readelf prints every symbol with its version.
    const subset = everyNth(
      rows.filter((r) => r.ours.glibcMin !== null),
      400,
    );
    const batches = await runBatched(
      "readelf",
      ["--dyn-syms", "-W"],
      subset.map((r) => r.path),
      { batchSize: 60, parallel: 2 },
    );
    const text = new Map<string, string>();
    for (const b of batches) for (const [k, v] of splitByFile(b.stdout, b.files)) text.set(k, v);
    assert.ok(subset.length > 20, `only ${subset.length} files need glibc`);
    compare(t, "glibcMinSymbols", subset, (r) => ({
      anchor: undefinedSymbolsAtVersion(text.get(r.path) ?? "", `GLIBC_${r.ours.glibcMin}`),
      ours: r.ours.glibcMinSymbols,
    }));
    const nonEmpty = subset.filter((r) => r.ours.glibcMinSymbols.length > 0).length;
    assert.ok(nonEmpty > subset.length / 2, `glibcMinSymbols empty on ${subset.length - nonEmpty} files`);
  });

  it("linkage, PIE, RELRO and NX from readelf's headers", (t) => {
    compare(t, "linkage", rows, (r) => ({ anchor: linkageFromReadelf(r.anchor), ours: r.ours.linkage }));
    const exe = rows.filter((r) => r.anchor.type === "EXEC" || r.anchor.type === "DYN");
    compare(t, "pie", exe, (r) => ({ anchor: pieFromReadelf(r.anchor), ours: r.ours.hardening?.pie }));
    compare(t, "relro", exe, (r) => ({ anchor: relroFromReadelf(r.anchor), ours: r.ours.hardening?.relro }));
    compare(t, "nx", exe, (r) => ({ anchor: nxFromReadelf(r.anchor), ours: r.ours.hardening?.nx }));
  });

  it("eu-readelf agrees on a sample (second opinion)", {
    skip: needs({ tools: ["eu-readelf"] }),
  }, async (t) => {
    // The fixtures plus every 8th machine file: enough to catch a readelf quirk that we copied.
    const sample = [...fixtureElfFiles(), ...everyNth(machineElfFiles(), 200)];
    const batches = await runBatched("eu-readelf", ["-hld"], sample, { batchSize: 60, parallel: 2 });
    const eu = new Map<string, EuReadelfFacts>();
    for (const b of batches) for (const [k, v] of parseEuReadelf(b.stdout, b.files)) eu.set(k, v);
    const byPath = new Map(rows.map((r) => [r.path, r]));
    const sub = sample.map((p) => byPath.get(p)).filter((r): r is Row => r !== undefined);
    const pick = (f: (e: EuReadelfFacts) => unknown, g: (r: Row) => unknown) => (r: Row) => {
      const e = eu.get(r.path);
      return e ? { anchor: f(e), ours: g(r) } : { anchor: "eu-readelf printed nothing", ours: null };
    };
    compare(
      t,
      "eu-readelf e_type",
      sub,
      pick(
        (e) => e.type,
        (r) => r.ours.elf?.type,
      ),
    );
    compare(
      t,
      "eu-readelf interpreter",
      sub,
      pick(
        (e) => e.interpreter,
        (r) => r.ours.interpreter,
      ),
    );
    compare(
      t,
      "eu-readelf NEEDED",
      sub,
      pick(
        (e) => e.needed,
        (r) => r.ours.needed,
      ),
    );
    compare(
      t,
      "eu-readelf SONAME/RPATH/RUNPATH",
      sub,
      pick(
        (e) => [e.soname, e.rpath, e.runpath],
        (r) => [
          r.ours.soname,
          r.ours.rpath.length ? r.ours.rpath.join(":") : null,
          r.ours.runpath.length ? r.ours.runpath.join(":") : null,
        ],
      ),
    );
    compare(
      t,
      "eu-readelf program header types",
      sub,
      pick(
        (e) => e.segments.map((s) => (s in PT_BY_READELF_NAME ? s : "other")),
        (r) => r.raw.segments.map((n) => (ptName(n).startsWith("0x") ? "other" : ptName(n))),
      ),
    );
  });
});
