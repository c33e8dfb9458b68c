/**
 * Differential test against checksec.sh 2.6 (`checksec --output=json --file=X`) on every ELF
 * executable/shared-object fixture and a deterministic sample of this machine's ELF files: RELRO,
 * canary, NX, PIE, FORTIFY, plus symbols / RPATH / RUNPATH.
 *
 * How checksec 2.6 decides (its filecheck()):
 * - relro: "GNU_RELRO" in `readelf -l`, then the text "BIND_NOW" anywhere in `readelf -d` → full.
 * - canary: `readelf -s` (dynamic *and* static symbol tables) matches __stack_chk_fail,
 *   __stack_chk_guard or __intel_security_cookie as a substring.
 * - nx: GNU_STACK present and not RWE.
 * - pie: EXEC → no; DYN with "DEBUG" in `readelf -d` → yes, else "dso"; REL → rel.
 * - fortify: some `readelf --dyn-syms` name (leading underscores and @version dropped) ends in _chk,
 *   defined or imported.
 * Our rules (src/inspect/elf-facts.ts computeHardening) differ by design in the places listed in
 * CHECKSEC_RULES; each rule's precondition is checked with readelf, never with our own reader.
 */
import assert from "node:assert/strict";
import { closeSync, copyFileSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { inspectFile } from "../../src/inspect/inspect.js";
import type { InspectResult } from "../../src/inspect/types.js";
import { runBatched, runPerFile } from "../helpers/batch-run.js";
import { everyNth, fixtureElfFiles, machineElfFiles } from "../helpers/elf-corpus.js";
import { fixture, needs, run } from "../helpers/env.js";
import { parseReadelf, type ReadelfFacts } from "../helpers/readelf-text.js";

type Cs = Record<
  "relro" | "canary" | "nx" | "pie" | "rpath" | "runpath" | "symbols" | "fortify_source",
  string
>;
type Field = "relro" | "canary" | "nx" | "pie" | "fortify" | "symbols" | "rpath" | "runpath";

/** Our facts in checksec's vocabulary. null = we decline to decide (canary/fortify "n/a"). */
function oursInChecksecWords(r: InspectResult): Record<Field, string | null> {
  const h = r.hardening;
  const yn = (b: boolean | null | undefined) => (b === null || b === undefined ? null : b ? "yes" : "no");
  return {
    relro: h ? (h.relro === "none" ? "no" : h.relro) : null,
    canary: yn(h?.canary),
    nx: yn(h?.nx),
    pie: h ? (h.pie === null ? "dso" : h.pie ? "yes" : "no") : null,
    fortify: yn(h?.fortify),
    symbols: r.stripped === null ? null : r.stripped ? "no" : "yes",
    rpath: r.rpath.length > 0 ? "yes" : "no",
    runpath: r.runpath.length > 0 ? "yes" : "no",
  };
}

function checksecWords(c: Cs): Record<Field, string> {
  return {
    relro: c.relro,
    canary: c.canary,
    nx: c.nx,
    pie: c.pie,
    fortify: c.fortify_source,
    symbols: c.symbols,
    rpath: c.rpath,
    runpath: c.runpath,
  };
}

interface Ctx {
  a: ReadelfFacts;
  /** `readelf --dyn-syms -W`: name (without @version) → defined? (Ndx not UND). Only for rule checks. */
  dynsyms: Map<string, boolean>;
  cs: string;
  ours: string | null;
  r: InspectResult;
}

interface Rule {
  field: Field;
  why: string;
  applies: (c: Ctx) => boolean;
  /** Files of the reference machine or fixtures on which the rule must fire when they are in the sample. */
  seenOn: RegExp[];
}

const hasTag = (a: ReadelfFacts, tag: string) => a.dynamic?.some((d) => d.tag === tag) ?? false;
const noLoader = (a: ReadelfFacts) => a.interpreter === null && a.needed.length === 0;
const isGo = (a: ReadelfFacts) =>
  a.sections.some(
    (s) => s.name === ".go.buildinfo" || s.name === ".gopclntab" || s.name === ".note.go.buildid",
  );
const isMusl = (a: ReadelfFacts) => /\/ld-musl-[^/]+\.so\.1$/.test(a.interpreter ?? "");

export const CHECKSEC_RULES: Map<string, Rule> = new Map([
  [
    "df1-now-is-bind-now",
    {
      field: "relro",
      why:
        "checksec 2.6 greps the text BIND_NOW in readelf -d, so a file that asks for immediate binding " +
        "only with DF_1_NOW in DT_FLAGS_1 ('Flags: NOW') shows as partial. glibc's loader honours " +
        "DF_1_NOW exactly like DT_BIND_NOW (elf/dynamic-link.h), so with GNU_RELRO it is full RELRO.",
      applies: ({ a, cs, ours }) =>
        cs === "partial" &&
        ours === "full" &&
        a.segments.some((s) => s.type === "GNU_RELRO") &&
        a.flags1.includes("NOW") &&
        !hasTag(a, "BIND_NOW") &&
        !a.flags.includes("BIND_NOW"),
      seenOn: [/\/variant-df1-now-only$/],
    },
  ],
  [
    "static-canary-undecidable",
    {
      field: "canary",
      why:
        "a static binary carries libc's own __stack_chk_fail (and __stack_chk_guard) whether or not the " +
        "program was compiled with -fstack-protector, and its symbols may be stripped: checksec's " +
        "'yes' (c-static, musl-static) and 'no' (stripped) both say nothing about the program. We report n/a.",
      applies: ({ a, ours }) =>
        ours === null && noLoader(a) && (a.type === "EXEC" || a.flags1.includes("PIE")),
      seenOn: [/\/c-static$/, /\/c-static-pie$/, /\/musl-static$/, /\/go-static$/],
    },
  ],
  [
    "go-canary-undecidable",
    {
      field: "canary",
      why:
        "Go code never uses the C stack protector (its stacks are checked by the runtime's own prologue), " +
        "so the absence of __stack_chk_fail in a cgo binary says nothing about its C parts' flags: n/a.",
      applies: ({ a, cs, ours }) => ours === null && cs === "no" && isGo(a),
      seenOn: [/\/go-cgo$/, /\/go-pie-external$/],
    },
  ],
  [
    "static-fortify-undecidable",
    {
      field: "fortify",
      why:
        "checksec looks for *_chk in the dynamic symbols only, which a static binary does not have: its " +
        "'no' is not evidence. We report n/a.",
      applies: ({ a, cs, ours }) => ours === null && cs === "no" && noLoader(a),
      seenOn: [/\/c-static$/, /\/musl-static$/, /\/go-static$/],
    },
  ],
  [
    "go-fortify-undecidable",
    {
      field: "fortify",
      why: "Go code has no FORTIFY_SOURCE; for a cgo binary the absence of __*_chk imports proves nothing.",
      applies: ({ a, cs, ours }) => ours === null && cs === "no" && isGo(a),
      seenOn: [/\/go-cgo$/],
    },
  ],
  [
    "musl-fortify-undecidable",
    {
      field: "fortify",
      why:
        "musl implements _FORTIFY_SOURCE in its headers (fortify-headers) without __*_chk functions, so no " +
        "*_chk import is no evidence of no FORTIFY: n/a.",
      applies: ({ a, cs, ours }) => ours === null && cs === "no" && isMusl(a),
      seenOn: [/\/musl-dynamic$/],
    },
  ],
  [
    "library-defines-chk",
    {
      field: "fortify",
      why:
        "checksec counts *_chk symbols a library defines (libc.so.6 defines all of them; sanitizer " +
        "runtimes too). Only imports show that the library's own code was compiled with FORTIFY.",
      applies: ({ dynsyms, cs, ours, r }) => {
        if (cs !== "yes" || ours !== "no" || r.linkage !== "shared-library") return false;
        const chk = [...dynsyms].filter(([n]) => /_chk$/.test(n));
        return chk.length > 0 && chk.every(([, defined]) => defined);
      },
      seenOn: [/\/libc\.so\.6$/],
    },
  ],
]);

function parseDynSyms(text: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of text.split("\n")) {
    // Num: Value Size Type Bind Vis Ndx Name
    const m = /^\s*\d+: [0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\S+\s+(\S+)\s+(\S+)/.exec(line);
    if (!m) continue;
    const name = m[2]!.replace(/@.*$/, "");
    out.set(name, (out.get(name) ?? false) || m[1] !== "UND");
  }
  return out;
}

/**
 * No file of the reference machine asks for immediate binding with DF_1_NOW alone (ld -z now writes
 * both DF_BIND_NOW and DF_1_NOW), so make one: copy c-hardened (-z relro -z now) and clear the
 * DT_FLAGS value. The entry to patch is located with readelf (offset of the dynamic array, position
 * of the FLAGS line), not with our reader. The result still runs: glibc honours DF_1_NOW alone.
 */
function writeDf1NowOnly(src: string, dst: string): void {
  copyFileSync(src, dst);
  const a = [...parseReadelf(run("readelf", ["-hdW", dst]).stdout, [dst]).values()][0]!;
  assert.equal(a.class, 64);
  assert.equal(a.endian, "little");
  const idx = a.dynamic?.findIndex((d) => d.tag === "FLAGS" && d.value.includes("BIND_NOW")) ?? -1;
  assert.ok(a.dynamicOffset !== null && idx >= 0, "c-hardened has no DT_FLAGS BIND_NOW");
  assert.ok(a.flags1.includes("NOW"), "c-hardened has no DF_1_NOW");
  const fd = openSync(dst, "r+");
  try {
    writeSync(fd, Buffer.alloc(8), 0, 8, a.dynamicOffset! + idx * 16 + 8); // Elf64_Dyn.d_val
  } finally {
    closeSync(fd);
  }
}

describe("checksec --output=json vs inspectFile hardening", {
  skip: needs({
    tools: ["checksec", "readelf"],
    fixtures: ["c-hardened", "c-execstack", "asm-no-gnu-stack"],
  }),
}, () => {
  let sample: string[] = [];
  const ours = new Map<string, InspectResult>();
  const said = new Map<string, Cs>();
  const anchor = new Map<string, ReadelfFacts>();

  let tmp = "";
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  before(async () => {
    // Fixtures, 50 machine files spread over the sorted list, and 24 of the rarer kinds (ET_EXEC, static, static-pie),
    // which a plain every-n-th sample of a distribution mostly misses. Selecting with our reader is
    // fine: the comparison is still against checksec.
    const machine = machineElfFiles();
    const rare: string[] = [];
    for (const p of machine) {
      const r = await inspectFile(p);
      if (r.elf?.type === "EXEC" || r.linkage === "static" || r.linkage === "static-pie") rare.push(p);
    }
    // The files the rules name as examples are always included, so each rule meets its witness.
    const witnesses = machine.filter((p) =>
      [...CHECKSEC_RULES.values()].some((r) => r.seenOn.some((re) => re.test(p))),
    );
    tmp = mkdtempSync(join(tmpdir(), "zerodep-checksec-diff-"));
    const variant = join(tmp, "variant-df1-now-only");
    writeDf1NowOnly(fixture("c-hardened"), variant);
    sample = [
      ...new Set([
        ...fixtureElfFiles(),
        variant,
        ...everyNth(machine, 50),
        ...everyNth(rare, 24),
        ...witnesses,
      ]),
    ];
    for (const p of sample) ours.set(p, await inspectFile(p));
    sample = sample.filter((p) => ours.get(p)!.elf?.type === "EXEC" || ours.get(p)!.elf?.type === "DYN");
    const outs = await runPerFile("checksec", (f) => ["--output=json", `--file=${f}`], sample, {
      parallel: 2,
    });
    for (const [f, o] of outs) {
      const j = JSON.parse(o.stdout) as Record<string, Cs>;
      const v = j[f];
      if (!v) throw new Error(`checksec said nothing about ${f}: ${o.stdout}${o.stderr}`);
      said.set(f, v);
    }
    for (const b of await runBatched("readelf", ["-hldSW"], sample, { batchSize: 80 }))
      for (const [k, v] of parseReadelf(b.stdout, b.files)) anchor.set(k, v);
  });

  it("agrees on relro, canary, nx, pie, fortify, symbols, rpath, runpath except where a rule explains", async (t: TestContext) => {
    const fields: Field[] = ["relro", "canary", "nx", "pie", "fortify", "symbols", "rpath", "runpath"];
    const diffs: { path: string; field: Field; cs: string; ours: string | null }[] = [];
    for (const p of sample) {
      const c = checksecWords(said.get(p)!);
      const o = oursInChecksecWords(ours.get(p)!);
      for (const f of fields) if (c[f] !== o[f]) diffs.push({ path: p, field: f, cs: c[f], ours: o[f] });
    }
    const needSyms = [...new Set(diffs.filter((d) => d.field === "fortify").map((d) => d.path))];
    const dynsyms = new Map<string, Map<string, boolean>>();
    for (const [f, o] of await runPerFile("readelf", (f) => ["--dyn-syms", "-W", f], needSyms))
      dynsyms.set(f, parseDynSyms(o.stdout));

    const fired = new Map<string, string[]>([...CHECKSEC_RULES.keys()].map((k) => [k, []]));
    const unexplained: string[] = [];
    for (const d of diffs) {
      const ctx: Ctx = {
        a: anchor.get(d.path)!,
        dynsyms: dynsyms.get(d.path) ?? new Map(),
        cs: d.cs,
        ours: d.ours,
        r: ours.get(d.path)!,
      };
      const rule = [...CHECKSEC_RULES].find(([, r]) => r.field === d.field && r.applies(ctx));
      if (rule) fired.get(rule[0])!.push(d.path);
      else unexplained.push(`${d.path}: ${d.field}: checksec ${d.cs} vs ours ${d.ours}`);
    }
    for (const f of fields) {
      const n = diffs.filter((d) => d.field === f).length;
      t.diagnostic(`${f}: identical on ${sample.length - n} of ${sample.length}, ${n} explained by a rule`);
    }
    for (const [name, paths] of fired)
      t.diagnostic(
        `rule ${name}: ${paths.length} file(s)${paths.length ? ` e.g. ${basename(paths[0]!)}` : ""}`,
      );
    // The two ways to an executable stack are in the sample, so the nx comparison above meets them.
    const stackOf = (p: string) => anchor.get(p)!.segments.find((s) => s.type === "GNU_STACK");
    const noStack = sample.filter((p) => stackOf(p) === undefined);
    const rwe = sample.filter((p) => stackOf(p)?.flags.includes("E"));
    assert.ok(
      noStack.some((p) => basename(p) === "asm-no-gnu-stack"),
      "no file without PT_GNU_STACK",
    );
    assert.ok(
      rwe.some((p) => basename(p) === "c-execstack"),
      "no file with an executable GNU_STACK",
    );
    for (const p of [...noStack, ...rwe]) {
      if (ours.get(p)!.elf?.type !== "EXEC" && ours.get(p)!.elf?.type !== "DYN") continue;
      assert.equal(said.get(p)!.nx, "no", `${p}: checksec nx`);
      assert.equal(ours.get(p)!.hardening?.nx, false, `${p}: our nx`);
    }
    assert.deepEqual(unexplained.slice(0, 30), [], `${unexplained.length} unexplained disagreement(s)`);
    // Each rule keeps documenting real files: it fires on its named examples.
    for (const [name, rule] of CHECKSEC_RULES) {
      for (const re of rule.seenOn) {
        for (const example of sample.filter((p) => re.test(p))) {
          assert.ok(fired.get(name)!.includes(example), `rule ${name} did not fire on ${example}`);
        }
      }
    }
  });
});
