/**
 * Differential test against file(1) 5.44 (libmagic) on every ELF fixture and every ELF file under
 * /usr/bin, /usr/sbin, /usr/lib/x86_64-linux-gnu and /usr/libexec: its linking words, "pie
 * executable" / "shared object", interpreter, "with debug_info" and "[not] stripped" against our
 * linkage, hardening.pie, interpreter, debug.present and stripped.
 *
 * How file decides (read in libmagic src/readelf.c 1.175, dophn_exec / dodynamic / doshn, and
 * magic/Magdir/elf; file 5.44 here behaves the same, e.g. libabsl_city.so, FLAGS_1=NOW and no NEEDED,
 * is a "shared object, ... static-pie linked"):
 * - no PT_DYNAMIC: "statically linked".
 * - PT_DYNAMIC: "static-pie linked" when the dynamic array has a DT_FLAGS_1 entry (*any* value: the
 *   mere tag sets its `pie` flag) and `need` is 0, where `need` counts PT_INTERP plus every DT_NEEDED;
 *   otherwise "dynamically linked".
 * - ET_DYN is "pie executable" when DT_FLAGS_1 has DF_1_PIE (it sets the x bits of its idea of the
 *   file mode, which the magic entry `${x?pie executable:shared object}` reads), and "shared object"
 *   otherwise; reaching PT_DYNAMIC clears those bits first. Without PT_DYNAMIC the real file mode
 *   decides.
 * - "not stripped" when a SHT_SYMTAB exists *or* a section is named exactly ".debug_info";
 *   "with debug_info" when a section is named ".debug_info" (of any type, size or compression).
 * Where these rules differ from ours by design, the difference is an explicit rule below whose
 * precondition is checked against readelf, never against our own reader.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, it, type TestContext } from "node:test";
import { inspectFile } from "../../src/inspect/inspect.js";
import type { InspectResult } from "../../src/inspect/types.js";
import { runBatched } from "../helpers/batch-run.js";
import { fixtureElfFiles, machineElfFiles } from "../helpers/elf-corpus.js";
import { fixture, needs, run } from "../helpers/env.js";
import { parseReadelf, type ReadelfFacts } from "../helpers/readelf-text.js";

interface FileSays {
  raw: string;
  elfType: "executable" | "pie executable" | "shared object" | "relocatable" | "core file" | null;
  linking: "statically" | "static-pie" | "dynamically" | null;
  interpreter: string | null;
  debugInfo: boolean;
  stripped: boolean | null;
}

/** Parses one `file -b` description of an ELF file into the words we compare. */
export function parseFileDescription(raw: string): FileSays {
  const t =
    /\bLSB (pie executable|executable|shared object|relocatable|core file)\b/.exec(raw) ??
    /\bMSB (pie executable|executable|shared object|relocatable|core file)\b/.exec(raw);
  const l = /, (statically|static-pie|dynamically) linked/.exec(raw);
  const i = /, interpreter ([^,]+)/.exec(raw);
  return {
    raw,
    elfType: (t?.[1] as FileSays["elfType"]) ?? null,
    linking: (l?.[1] as FileSays["linking"]) ?? null,
    interpreter: i ? i[1]! : null,
    debugInfo: /, with debug_info\b/.test(raw),
    stripped: /, not stripped\b/.test(raw) ? false : /, stripped\b/.test(raw) ? true : null,
  };
}

interface Row {
  path: string;
  file: FileSays;
  ours: InspectResult;
}

/** What `file` should print for our facts, if it followed our definitions. */
function oursInFileWords(r: InspectResult): Omit<FileSays, "raw"> {
  const l = r.linkage;
  return {
    elfType:
      r.elf?.type === "EXEC"
        ? "executable"
        : r.elf?.type === "REL"
          ? "relocatable"
          : r.elf?.type === "CORE"
            ? "core file"
            : r.elf?.type === "DYN"
              ? r.hardening?.pie
                ? "pie executable"
                : "shared object"
              : null,
    linking:
      l === "static"
        ? "statically"
        : l === "static-pie"
          ? "static-pie"
          : l === "dynamic" || l === "shared-library"
            ? "dynamically"
            : null,
    interpreter: r.interpreter,
    debugInfo: r.debug?.present ?? false,
    stripped: r.stripped,
  };
}

type Field = keyof Omit<FileSays, "raw">;

/**
 * An intentional difference: which field, when it applies (decided from readelf's view of the file,
 * the second anchor, plus what file printed), and why we differ. `seenOn` names files of the
 * reference machine (Debian 12 amd64) or fixtures where the rule must fire when they exist, so a
 * rule cannot silently stop matching what it documents.
 */
interface Rule {
  field: Field;
  why: string;
  applies: (a: ReadelfFacts, file: FileSays, ours: InspectResult) => boolean;
  seenOn: RegExp[];
}

const hasTag = (a: ReadelfFacts, tag: string) => a.dynamic?.some((d) => d.tag === tag) ?? false;
const hasSection = (a: ReadelfFacts, name: string) => a.sections.some((s) => s.name === name);
const hasSymtab = (a: ReadelfFacts) => a.sections.some((s) => s.type === "SYMTAB");

export const FILE_RULES: Map<string, Rule> = new Map([
  [
    "flags1-without-pie-is-not-static-pie",
    {
      field: "linking",
      why:
        "file 5.44 calls any object with a DT_FLAGS_1 entry, no DT_NEEDED and no PT_INTERP 'static-pie " +
        "linked', whatever the flags say (dodynamic sets pie=1 on the tag). A shared library that needs " +
        "nothing (libicudata, libabsl_*, pam_deny.so, valgrind preloads) and was linked with -z now gets " +
        "DT_FLAGS_1=NOW: it is no executable. We call static-pie only with DF_1_PIE (README 'Linkage rules').",
      applies: (a, f, o) =>
        f.linking === "static-pie" &&
        hasTag(a, "FLAGS_1") &&
        !a.flags1.includes("PIE") &&
        a.needed.length === 0 &&
        a.interpreter === null &&
        o.linkage === "shared-library",
      seenOn: [/\/libicudata\.so\.\d/, /\/security\/pam_deny\.so$/, /\/vgpreload_core-amd64-linux\.so$/],
    },
  ],
  [
    "debug-info-section-is-not-a-symbol-table",
    {
      field: "stripped",
      why:
        "file says 'not stripped' when a section is named .debug_info even without .symtab (doshn sets " +
        "stripped=0 on the name). Stripped means no SHT_SYMTAB for us (README 'Linkage rules'), which is what " +
        "strip --strip-all removes and what symbol-based checks need.",
      applies: (a, f, o) =>
        f.stripped === false && !hasSymtab(a) && hasSection(a, ".debug_info") && o.stripped === true,
      seenOn: [/\/variant-keep-debug-info$/],
    },
  ],
  [
    "zdebug-info-is-debug-info",
    {
      field: "debugInfo",
      why:
        "file only knows the name .debug_info; GNU-style compressed .zdebug_info (gcc -gz=zlib-gnu) is " +
        "debug info too.",
      applies: (a, f, o) => !f.debugInfo && hasSection(a, ".zdebug_info") && o.debug?.present === true,
      seenOn: [/\/variant-zdebug$/],
    },
  ],
]);

/**
 * Variants of the c-debug fixture made with objcopy, so that each rule above is exercised by a real
 * file on every machine: .debug_info kept without .symtab, and GNU-style .zdebug_* sections.
 */
const VARIANTS: { name: string; args: string[] }[] = [
  { name: "variant-keep-debug-info", args: ["--strip-all", "--keep-section=.debug_info"] },
  { name: "variant-zdebug", args: ["--compress-debug-sections=zlib-gnu"] },
];

describe("file(1) vs inspectFile", {
  skip: needs({ tools: ["file", "readelf", "objcopy"], fixtures: ["c-debug"] }),
}, () => {
  const rows: Row[] = [];
  let tmp = "";
  let FILES: string[] = [];
  before(() => {
    tmp = mkdtempSync(join(tmpdir(), "zerodep-file-diff-"));
    const variants = VARIANTS.map((v) => {
      const out = join(tmp, v.name);
      run("objcopy", [...v.args, fixture("c-debug"), out]);
      return out;
    });
    FILES = [...fixtureElfFiles(), ...variants, ...machineElfFiles()];
  });
  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });
  // `file -b` drops the names, so run with names and a separator that cannot occur in a path here.
  before(async () => {
    const batches = await runBatched("file", ["-N", "-F", "\u0001"], FILES, { batchSize: 200, parallel: 2 });
    const said = new Map<string, string>();
    for (const b of batches) {
      for (const line of b.stdout.split("\n")) {
        const at = line.indexOf("\u0001");
        if (at > 0) said.set(line.slice(0, at), line.slice(at + 1).trim());
      }
    }
    for (const path of FILES) {
      const raw = said.get(path);
      if (raw === undefined) throw new Error(`file printed nothing for ${path}`);
      rows.push({ path, file: parseFileDescription(raw), ours: await inspectFile(path) });
    }
  });

  it("calls every file an ELF file", () => {
    const notElf = rows.filter((r) => !r.file.raw.includes("ELF") || r.ours.format !== "elf");
    assert.deepEqual(
      notElf.map((r) => `${r.path}: ${r.file.raw}`),
      [],
    );
  });

  let disagreements: { row: Row; field: Field; fileSays: unknown; ours: unknown }[] = [];
  before(() => {
    disagreements = [];
    for (const row of rows) {
      const o = oursInFileWords(row.ours);
      for (const field of ["elfType", "linking", "interpreter", "debugInfo", "stripped"] as Field[]) {
        if (JSON.stringify(row.file[field]) !== JSON.stringify(o[field]))
          disagreements.push({ row, field, fileSays: row.file[field], ours: o[field] });
      }
    }
  });

  it("agrees on every field except where an explicit rule explains why", async (t: TestContext) => {
    // The second anchor for the rules' preconditions: readelf on the disagreeing files only.
    const paths = [...new Set(disagreements.map((d) => d.row.path))];
    const anchor = new Map<string, ReadelfFacts>();
    if (paths.length > 0) {
      for (const b of await runBatched("readelf", ["-hldSW"], paths, { batchSize: 80 }))
        for (const [k, v] of parseReadelf(b.stdout, b.files)) anchor.set(k, v);
    }
    const fired = new Map<string, string[]>([...FILE_RULES.keys()].map((k) => [k, []]));
    const unexplained: string[] = [];
    for (const d of disagreements) {
      const a = anchor.get(d.row.path);
      const rule = a
        ? [...FILE_RULES].find(([, r]) => r.field === d.field && r.applies(a, d.row.file, d.row.ours))
        : undefined;
      if (rule) fired.get(rule[0])!.push(d.row.path);
      else
        unexplained.push(
          `${d.row.path}: ${d.field}: file ${JSON.stringify(d.fileSays)} vs ours ${JSON.stringify(d.ours)} (${d.row.file.raw})`,
        );
    }
    const fields: Field[] = ["elfType", "linking", "interpreter", "debugInfo", "stripped"];
    for (const f of fields) {
      const n = disagreements.filter((d) => d.field === f).length;
      t.diagnostic(`${f}: identical on ${rows.length - n} of ${rows.length}, ${n} explained by a rule`);
    }
    for (const [name, paths] of fired) {
      t.diagnostic(
        `rule ${name}: ${paths.length} file(s)${paths.length ? ` e.g. ${basename(paths[0]!)}` : ""}`,
      );
    }
    assert.deepEqual(unexplained.slice(0, 30), [], `${unexplained.length} unexplained disagreement(s)`);
    // Each rule keeps documenting real files: where a named example exists, the rule fired for it.
    for (const [name, rule] of FILE_RULES) {
      for (const re of rule.seenOn) {
        const example = rows.find((r) => re.test(r.path));
        if (example)
          assert.ok(fired.get(name)!.includes(example.path), `rule ${name} did not fire on ${example.path}`);
      }
    }
  });

  it("the parsed words are not vacuous", () => {
    const count = (p: (r: Row) => boolean) => rows.filter(p).length;
    assert.ok(count((r) => r.file.linking === "statically") > 0);
    assert.ok(count((r) => r.file.linking === "static-pie") > 0);
    assert.ok(count((r) => r.file.linking === "dynamically") > 0);
    assert.ok(count((r) => r.file.elfType === "pie executable") > 0);
    assert.ok(count((r) => r.file.elfType === "shared object") > 0);
    assert.ok(count((r) => r.file.debugInfo) > 0);
    assert.ok(count((r) => r.file.stripped === true) > 0 && count((r) => r.file.stripped === false) > 0);
    assert.ok(count((r) => r.file.interpreter !== null) > 0);
  });
});
