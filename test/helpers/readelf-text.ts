/**
 * Parsers for the text output of the anchor tools (GNU readelf 2.40 `-hldSVW`, elfutils eu-readelf
 * `-hld`). They only ever turn the anchors' words into data: the tests then compare that data with
 * what our reader says. Nothing here looks at the binaries themselves.
 */

export interface ReadelfFacts {
  path: string;
  class: 32 | 64 | null;
  endian: "little" | "big" | null;
  /** First word of "Type:" (EXEC, DYN, REL, CORE, NONE). */
  type: string | null;
  /** "Machine:" as readelf names it. */
  machineName: string | null;
  entry: number | null;
  sections: { index: number; name: string; type: string; offset: number; size: number; flags: string }[];
  /** Program header types (PHDR, LOAD, GNU_RELRO ...) with readelf's "Flg" column. */
  segments: { type: string; flags: string }[];
  interpreter: string | null;
  /** File offset of the dynamic array ("Dynamic section at offset 0x..."). */
  dynamicOffset: number | null;
  /** null when readelf says there is no dynamic section. */
  dynamic: { tag: string; value: string }[] | null;
  needed: string[];
  soname: string | null;
  rpath: string | null;
  runpath: string | null;
  /** Words of DT_FLAGS and DT_FLAGS_1 as readelf prints them ("BIND_NOW", "NOW", "PIE" ...). */
  flags: string[];
  flags1: string[];
  verneed: { file: string; versions: string[] }[];
}

/**
 * readelf's names for e_machine, for the machines that occur in our fixtures and on Debian amd64
 * (binutils/readelf.c get_machine_name). An unknown name fails the test: extend the table then.
 */
export const READELF_MACHINES: Record<string, number> = {
  "Advanced Micro Devices X86-64": 62,
  "Intel 80386": 3,
  AArch64: 183,
  ARM: 40,
  "RISC-V": 243,
  "IBM S/390": 22,
  "MIPS R3000": 8,
  PowerPC64: 21,
  PowerPC: 20,
  LoongArch: 258,
  "Sparc v9": 43,
  None: 0,
};

function empty(path: string): ReadelfFacts {
  return {
    path,
    class: null,
    endian: null,
    type: null,
    machineName: null,
    entry: null,
    sections: [],
    segments: [],
    interpreter: null,
    dynamicOffset: null,
    dynamic: null,
    needed: [],
    soname: null,
    rpath: null,
    runpath: null,
    flags: [],
    flags1: [],
    verneed: [],
  };
}

const bracket = (v: string): string | null => /\[(.*)\]\s*$/.exec(v)?.[1] ?? null;

/**
 * Splits the output of one `readelf -hldSVW f1 f2 ...` run per file. readelf prints "File: <name>"
 * before each file only when it was given more than one, so a one-file batch is attributed directly.
 */
export function parseReadelf(text: string, files: string[]): Map<string, ReadelfFacts> {
  const out = new Map<string, ReadelfFacts>();
  let cur: ReadelfFacts | null = files.length === 1 ? empty(files[0]!) : null;
  if (cur) out.set(cur.path, cur);
  let block: "none" | "sections" | "segments" | "dynamic" | "verneed" | "other" = "none";
  let need: { file: string; versions: string[] } | null = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("File: ") && files.length > 1) {
      cur = empty(line.slice(6));
      out.set(cur.path, cur);
      block = "none";
      continue;
    }
    if (!cur) continue;
    if (line === "") {
      block = "none";
      continue;
    }
    if (line.startsWith("Section Headers:")) {
      block = "sections";
      continue;
    }
    if (line.startsWith("Program Headers:")) {
      block = "segments";
      continue;
    }
    if (line.startsWith(" Section to Segment mapping:") || line.startsWith("Key to Flags:")) {
      block = "other";
      continue;
    }
    if (line.startsWith("Dynamic section at offset")) {
      block = "dynamic";
      cur.dynamic = [];
      cur.dynamicOffset = Number.parseInt(/offset 0x([0-9a-f]+)/.exec(line)?.[1] ?? "", 16);
      continue;
    }
    if (line.startsWith("Version needs section")) {
      block = "verneed";
      continue;
    }
    if (line.startsWith("Version symbols section") || line.startsWith("Version definition section")) {
      block = "other";
      continue;
    }
    if (block === "none") {
      const field = /^\s+(Class|Data|Type|Machine|Entry point address):\s+(.*?)\s*$/.exec(line);
      const v = field?.[2] ?? "";
      if (field?.[1] === "Class") cur.class = v === "ELF64" ? 64 : 32;
      else if (field?.[1] === "Data") cur.endian = /big endian/.test(v) ? "big" : "little";
      else if (field?.[1] === "Type") cur.type = v.split(" ")[0]!;
      else if (field?.[1] === "Machine") cur.machineName = v;
      else if (field?.[1] === "Entry point address") cur.entry = Number.parseInt(v, 16);
    } else if (block === "sections") {
      // [Nr] Name Type Address Off Size ES Flg Lk Inf Al  (-W: one line per section)
      const m =
        /^\s+\[\s*(\d+)\] (.*?)\s+(\S+)\s+([0-9a-f]{8,16}) ([0-9a-f]{6,}) ([0-9a-f]{6,}) [0-9a-f]{2} (.{3}) /.exec(
          line,
        );
      if (m) {
        cur.sections.push({
          index: Number(m[1]),
          name: m[2]!.trim(),
          type: m[3]!,
          offset: Number.parseInt(m[5]!, 16),
          size: Number.parseInt(m[6]!, 16),
          flags: m[7]!.trim(),
        });
      }
    } else if (block === "segments") {
      const interp = /\[Requesting program interpreter: (.*)\]$/.exec(line);
      const seg =
        /^\s+(\S+)\s+0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+ 0x[0-9a-f]+ (.{3}) (?:0x)?[0-9a-f]+$/.exec(
          line,
        );
      if (interp) cur.interpreter = interp[1]!;
      else if (seg) cur.segments.push({ type: seg[1]!, flags: seg[2]! });
    } else if (block === "dynamic") {
      const m = /^\s*0x[0-9a-f]+\s+\(([^)]+)\)\s+(.*)$/.exec(line);
      if (!m) continue;
      const tag = m[1]!;
      const value = m[2]!;
      cur.dynamic!.push({ tag, value });
      if (tag === "NEEDED") cur.needed.push(bracket(value) ?? value);
      else if (tag === "SONAME") cur.soname = bracket(value);
      else if (tag === "RPATH") cur.rpath = bracket(value);
      else if (tag === "RUNPATH") cur.runpath = bracket(value);
      else if (tag === "FLAGS") cur.flags.push(...value.trim().split(/\s+/));
      else if (tag === "FLAGS_1")
        cur.flags1.push(
          ...value
            .replace(/^Flags:/, "")
            .trim()
            .split(/\s+/),
        );
    } else if (block === "verneed") {
      const file = /^\s+[0-9a-fx]+: Version: \d+\s+File: (\S+)\s+Cnt: \d+/.exec(line);
      const ver = /^\s+0x[0-9a-f]+:\s+Name: (\S+)\s+Flags:/.exec(line);
      if (file) {
        need = { file: file[1]!, versions: [] };
        cur.verneed.push(need);
      } else if (ver && need) {
        need.versions.push(ver[1]!);
      }
    }
  }
  return out;
}

/** Highest GLIBC_x.y[.z] among readelf's verneed names; GLIBC_PRIVATE / GLIBC_ABI_* are markers. */
export function glibcFloorFromNames(names: string[]): string | null {
  let best: number[] | null = null;
  for (const n of names) {
    const m = /^GLIBC_(\d+(?:\.\d+)+)$/.exec(n);
    if (!m) continue;
    const v = m[1]!.split(".").map(Number);
    if (best === null || cmp(v, best) > 0) best = v;
  }
  return best ? best.join(".") : null;
}

function cmp(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export interface EuReadelfFacts {
  path: string;
  type: string | null;
  interpreter: string | null;
  needed: string[];
  soname: string | null;
  rpath: string | null;
  runpath: string | null;
  segments: string[];
}

/** Splits `eu-readelf -hld f1 f2 ...`: elfutils prints "\n<name>:\n" before each file when given several. */
export function parseEuReadelf(text: string, files: string[]): Map<string, EuReadelfFacts> {
  const out = new Map<string, EuReadelfFacts>();
  const fresh = (path: string): EuReadelfFacts => ({
    path,
    type: null,
    interpreter: null,
    needed: [],
    soname: null,
    rpath: null,
    runpath: null,
    segments: [],
  });
  const wanted = new Set(files);
  let cur: EuReadelfFacts | null = files.length === 1 ? fresh(files[0]!) : null;
  if (cur) out.set(cur.path, cur);
  let block: "none" | "segments" | "dynamic" = "none";
  let prevBlank = true;
  for (const line of text.split("\n")) {
    const header = files.length > 1 && prevBlank && line.endsWith(":") ? line.slice(0, -1) : null;
    prevBlank = line === "";
    if (header !== null && wanted.has(header)) {
      cur = fresh(header);
      out.set(header, cur);
      block = "none";
      continue;
    }
    if (!cur) continue;
    if (line.startsWith("Program Headers:")) block = "segments";
    else if (line.startsWith(" Section to Segment mapping:")) block = "none";
    else if (line.startsWith("Dynamic segment contains")) block = "dynamic";
    const type = /^\s+Type:\s+(\S+)/.exec(line);
    if (type && cur.type === null) cur.type = type[1]!;
    if (block === "segments") {
      const interp = /\[Requesting program interpreter: (.*)\]$/.exec(line);
      const seg = /^\s+(\S+)\s+0x[0-9a-f]+ 0x/.exec(line);
      if (interp) cur.interpreter = interp[1]!;
      else if (seg) cur.segments.push(seg[1]!);
    } else if (block === "dynamic") {
      const m = /^\s+(NEEDED|SONAME|RPATH|RUNPATH)\s+.*\[(.*)\]\s*$/.exec(line);
      if (m) {
        if (m[1] === "NEEDED") cur.needed.push(m[2]!);
        else if (m[1] === "SONAME") cur.soname = m[2]!;
        else if (m[1] === "RPATH") cur.rpath = m[2]!;
        else cur.runpath = m[2]!;
      }
    }
  }
  return out;
}

/** Splits multi-file readelf output on its "File: <name>" lines (a one-file batch has none). */
export function splitByFile(text: string, files: string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (files.length === 1) {
    out.set(files[0]!, text);
    return out;
  }
  let cur: string | null = null;
  let buf: string[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("File: ")) {
      if (cur !== null) out.set(cur, buf.join("\n"));
      cur = line.slice(6);
      buf = [];
    } else buf.push(line);
  }
  if (cur !== null) out.set(cur, buf.join("\n"));
  return out;
}

/** Version definitions from `readelf -V`: names of the non-BASE entries, in order. */
export function parseVerdefNames(text: string): string[] {
  const out: string[] = [];
  let inDefs = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("Version definition section")) inDefs = true;
    else if (line === "") inDefs = false;
    else if (inDefs) {
      const m = /Flags: (\S+)\s+Index: \d+\s+Cnt: \d+\s+Name: (\S+)/.exec(line);
      if (m && m[1] !== "BASE") out.push(m[2]!);
    }
  }
  return out;
}

/** `go version -m f1 f2 ...`: "build" settings per file ("<file>: go1.x" starts each file). */
export function parseGoVersionM(text: string): Map<string, { go: string; settings: Record<string, string> }> {
  const out = new Map<string, { go: string; settings: Record<string, string> }>();
  let cur: { go: string; settings: Record<string, string> } | null = null;
  for (const line of text.split("\n")) {
    const h = /^(\S.*): (go\S+)$/.exec(line);
    if (h) {
      cur = { go: h[2]!, settings: {} };
      out.set(h[1]!, cur);
      continue;
    }
    const b = /^\tbuild\t([^=]+)=(.*)$/.exec(line);
    if (b && cur) cur.settings[b[1]!] = b[2]!;
  }
  return out;
}

/**
 * The imported symbols (`UND`) bound to `GLIBC_<floor>` in one file's `readelf --dyn-syms -W`
 * output: readelf prints each versioned dynamic symbol as `name@VERSION (index)`. Sorted, unique.
 */
export function undefinedSymbolsAtVersion(text: string, version: string): string[] {
  const out = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^\s*\d+:\s+[0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\S+\s+UND\s+([^@\s]+)@([^\s(@]+)/.exec(line);
    if (m && m[2] === version) out.add(m[1]!);
  }
  return [...out].sort();
}
