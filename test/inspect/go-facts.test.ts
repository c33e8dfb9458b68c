/**
 * What `zerodep inspect` reports about Go binaries (the `go` object of --json, and the `go` rows of
 * the human output) against `go version -m`, on every Go fixture, the binaries test/go builds (a
 * replaced dependency, quoted -ldflags/-gcflags, PE and Mach-O) and the Go toolchain's own programs
 * (real dependency lists). test/go/build-info.test.ts compares the parser's re-rendering byte for
 * byte; this compares what the CLI actually shows a user, field by field, with go's text parsed here
 * by its own rules (runtime/debug BuildInfo.String), so a fact lost or altered between the parser
 * and the output cannot pass.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, it, type TestContext } from "node:test";
import { buildGoTestBinaries, filesIn } from "../go/go-binaries-for-tests.js";
import { zerodep } from "../helpers/cli.js";
import { loadManifest } from "../helpers/elf-corpus.js";
import { fixturesDir, needs, run } from "../helpers/env.js";

interface GoMod {
  path: string;
  version: string;
  sum: string;
  replace?: { path: string; version: string; sum: string };
}

/** One file's `go version -m` output, structured. `settingLines` are the build lines as go prints them. */
interface GoVersionM {
  version: string;
  path: string | null;
  main: GoMod | null;
  deps: GoMod[];
  settings: [string, string][];
  settingLines: string[];
}

/** strconv.Unquote for the double-quoted strings strconv.Quote writes. */
function unquote(q: string): string {
  assert.ok(q.startsWith('"') && q.endsWith('"'), `not a Go quoted string: ${q}`);
  const simple: Record<string, string> = {
    a: "\x07",
    b: "\b",
    f: "\f",
    n: "\n",
    r: "\r",
    t: "\t",
    v: "\v",
    "\\": "\\",
    '"': '"',
    "'": "'",
  };
  let out = "";
  const s = q.slice(1, -1);
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== "\\") {
      out += s[i];
      continue;
    }
    const c = s[++i]!;
    if (c in simple) out += simple[c];
    else if (c === "x" || c === "u" || c === "U") {
      const n = c === "x" ? 2 : c === "u" ? 4 : 8;
      out += String.fromCodePoint(Number.parseInt(s.slice(i + 1, i + 1 + n), 16));
      i += n;
    } else if (/[0-7]/.test(c)) {
      out += String.fromCharCode(Number.parseInt(s.slice(i, i + 3), 8));
      i += 2;
    } else throw new Error(`unknown escape \\${c} in ${q}`);
  }
  return out;
}

/** Splits a Go-quoted-or-bare token off the front of `s` (a quoted one ends at its closing quote). */
function takeToken(s: string, stop: string): [string, string] {
  if (s.startsWith('"')) {
    let i = 1;
    while (i < s.length && s[i] !== '"') i += s[i] === "\\" ? 2 : 1;
    return [unquote(s.slice(0, i + 1)), s.slice(i + 1)];
  }
  const at = s.indexOf(stop);
  return at < 0 ? [s, ""] : [s.slice(0, at), s.slice(at)];
}

/** Parses `go version -m f1 f2 ...` (files go could not read print nothing on stdout). */
function parseGoVersionM(text: string): Map<string, GoVersionM> {
  const out = new Map<string, GoVersionM>();
  let cur: GoVersionM | null = null;
  let last: GoMod | null = null;
  for (const line of text.split("\n")) {
    const head = /^(\S.*): (\S+)$/.exec(line);
    if (head && !line.startsWith("\t")) {
      cur = { version: head[2]!, path: null, main: null, deps: [], settings: [], settingLines: [] };
      out.set(head[1]!, cur);
      last = null;
      continue;
    }
    if (!cur || line.trim() === "") continue;
    const f = line.slice(1).split("\t");
    const mod = (): GoMod => ({ path: f[1]!, version: f[2] ?? "", sum: f[3] ?? "" });
    switch (f[0]) {
      case "path":
        cur.path = f.slice(1).join("\t");
        break;
      case "mod":
        cur.main = last = mod();
        break;
      case "dep":
        last = mod();
        cur.deps.push(last);
        break;
      case "=>":
        assert.ok(last, `=> without a module line: ${line}`);
        last.replace = mod();
        break;
      case "build": {
        const kv = line.slice("\tbuild\t".length);
        const [key, rest] = takeToken(kv, "=");
        assert.ok(rest.startsWith("="), `build line without '=': ${line}`);
        const v = rest.slice(1);
        cur.settings.push([key, v.startsWith('"') ? unquote(v) : v]);
        cur.settingLines.push(kv);
        break;
      }
      default:
        throw new Error(`unexpected go version -m line: ${JSON.stringify(line)}`);
    }
  }
  return out;
}

/** The human output of `zerodep inspect`, one block of `[label, value]` rows per file. */
function parseHuman(text: string): Map<string, [string, string][]> {
  const out = new Map<string, [string, string][]>();
  let rows: [string, string][] | null = null;
  for (const raw of text.replace(/\x1b\[[0-9;]*m/g, "").split("\n")) {
    if (raw === "") continue;
    if (!raw.startsWith(" ")) {
      rows = [];
      out.set(raw.slice(0, raw.indexOf("  ")), rows);
    } else if (rows && raw.startsWith("  ") && !raw.startsWith("  !") && !raw.startsWith("    fix:")) {
      // Rows are "  " + label padded to 11 + value; sub-rows' labels start with two spaces.
      rows.push([raw.slice(2, 13).trimEnd(), raw.slice(13)]);
    }
  }
  return out;
}

/** Go settings the default (non --verbose) build row must show when go prints them. */
const HEADLINE_SETTINGS = [
  "CGO_ENABLED",
  "GOOS",
  "GOARCH",
  "GOAMD64",
  "GOARM",
  "-buildmode",
  "-trimpath",
  "-tags",
  "-ldflags",
  "vcs.revision",
  "vcs.modified",
];

/** Go build lines (as go prints them) appear in a space-joined row as whole tokens, each once. */
function rowHasLines(row: string, lines: string[]): string[] {
  const missing: string[] = [];
  for (const l of lines) if (!` ${row} `.includes(` ${l} `)) missing.push(l);
  return missing;
}

/** Bounded sample of the toolchain's own binaries: real dependency lists and settings. */
function toolchainBinaries(): string[] {
  const goroot = run("go", ["env", "GOROOT"]).stdout.trim();
  const host = `${run("go", ["env", "GOHOSTOS"]).stdout.trim()}_${run("go", ["env", "GOHOSTARCH"]).stdout.trim()}`;
  const tools = join(goroot, "pkg", "tool", host);
  return [...filesIn(join(goroot, "bin")), ...filesIn(tools).slice(0, 8)];
}

describe("inspect's Go facts vs go version -m", { skip: needs({ tools: ["go"] }) }, () => {
  let files: string[] = [];
  let want = new Map<string, GoVersionM>();
  const json = new Map<string, { go: Record<string, unknown> | null; slices?: unknown[] }>();
  let human = new Map<string, [string, string][]>();
  let verbose = new Map<string, [string, string][]>();

  before(() => {
    const fixtures = loadManifest()
      .filter((e) => e.kind === "go")
      .map((e) => join(fixturesDir, e.name));
    assert.ok(fixtures.length >= 20, "Go fixtures missing: run test/fixtures/build.sh");
    files = [...fixtures, ...filesIn(buildGoTestBinaries()), ...toolchainBinaries()];
    want = parseGoVersionM(run("go", ["version", "-m", ...files], { allowFail: true }).stdout);
    // Mach-O universal files: go reads the first slice; inspect reports slices separately.
    files = files.filter((f) => want.has(f) && !f.endsWith("-fat"));
    const j = zerodep(["inspect", "--json", ...files], { timeoutMs: 120_000 });
    assert.equal(j.code, 0, j.stderr);
    for (const line of j.stdout.split("\n").filter(Boolean)) {
      const r = JSON.parse(line) as { path: string; go: Record<string, unknown> | null };
      json.set(r.path, r);
    }
    const h = zerodep(["inspect", ...files], { timeoutMs: 120_000 });
    assert.equal(h.code, 0, h.stderr);
    human = parseHuman(h.stdout);
    const v = zerodep(["inspect", "--verbose", ...files], { timeoutMs: 120_000 });
    assert.equal(v.code, 0, v.stderr);
    verbose = parseHuman(v.stdout);
  });

  it("--json: version, path, main module, every dep (path, version, sum, replacement), every build setting in order", (t: TestContext) => {
    const bad: string[] = [];
    let deps = 0;
    let replaced = 0;
    for (const f of files) {
      const w = want.get(f)!;
      const g = json.get(f)?.go as {
        version: string;
        path: string;
        main: GoMod | null;
        deps: GoMod[];
        settings: Record<string, string>;
      } | null;
      if (!g) {
        bad.push(`${f}: no go object`);
        continue;
      }
      const cmp = (what: string, a: unknown, b: unknown) => {
        if (JSON.stringify(a) !== JSON.stringify(b))
          bad.push(`${f}: ${what}: go ${JSON.stringify(b)}, ours ${JSON.stringify(a)}`);
      };
      cmp("version", g.version, w.version);
      cmp("path", g.path, w.path);
      cmp("main", g.main, w.main);
      cmp("deps", g.deps, w.deps);
      cmp("settings", Object.entries(g.settings), w.settings);
      deps += w.deps.length;
      replaced += w.deps.filter((d) => d.replace).length;
    }
    t.diagnostic(`${files.length} Go binaries, ${deps} deps (${replaced} replaced) compared`);
    assert.deepEqual(bad, []);
    // The corpus must hold the cases that make this comparison worth something.
    assert.ok(files.length >= 30, `only ${files.length} Go binaries`);
    assert.ok(replaced >= 1, "no replaced dependency in the corpus");
    const vcs = want.get(join(fixturesDir, "go-vcs"));
    assert.ok(vcs, "go-vcs fixture missing");
    for (const k of ["vcs", "vcs.revision", "vcs.time", "vcs.modified"])
      assert.ok(
        vcs.settings.some(([key]) => key === k),
        `go-vcs: go version -m prints no ${k}`,
      );
  });

  it("human rows: go version, path, mod, dep count, headline build settings as go prints them", () => {
    const bad: string[] = [];
    for (const f of files) {
      const w = want.get(f)!;
      const rows = human.get(f);
      if (!rows) {
        bad.push(`${f}: no human block`);
        continue;
      }
      const get = (label: string) => rows.filter(([l]) => l === label).map(([, v]) => v);
      if (get("go")[0] !== w.version) bad.push(`${f}: go row ${get("go")[0]} vs ${w.version}`);
      if (w.path !== null && get("  path")[0] !== w.path) bad.push(`${f}: path row ${get("  path")[0]}`);
      if (w.main) {
        const m = [w.main.path, w.main.version, w.main.sum].filter(Boolean).join(" ");
        if (get("  mod")[0] !== m) bad.push(`${f}: mod row ${get("  mod")[0]} vs ${m}`);
      }
      const depRows = get("  dep");
      const more = rows.map(([, v]) => /^… (\d+) more \(--verbose\)$/.exec(v)?.[1]).find(Boolean);
      if (depRows.length + Number(more ?? 0) !== w.deps.length)
        bad.push(`${f}: ${depRows.length} dep rows + ${more ?? 0} more vs ${w.deps.length} deps`);
      depRows.forEach((r, i) => {
        const d = w.deps[i]!;
        const e = `${d.path} ${d.version}${d.replace ? ` => ${d.replace.path} ${d.replace.version}` : ""}`;
        if (r !== e) bad.push(`${f}: dep row ${r} vs ${e}`);
      });
      const headline = w.settingLines.filter((_l, i) => HEADLINE_SETTINGS.includes(w.settings[i]![0]));
      const build = get("  build")[0] ?? "";
      for (const m of rowHasLines(build, headline)) bad.push(`${f}: build row lacks ${m}: ${build}`);
    }
    assert.deepEqual(bad, []);
  });

  it("--verbose rows: every dep and every build setting exactly as go version -m prints it", () => {
    const bad: string[] = [];
    for (const f of files) {
      const w = want.get(f)!;
      const rows = verbose.get(f) ?? [];
      const deps = rows.filter(([l]) => l === "  dep").map(([, v]) => v);
      const wantDeps = w.deps.map(
        (d) => `${d.path} ${d.version}${d.replace ? ` => ${d.replace.path} ${d.replace.version}` : ""}`,
      );
      if (JSON.stringify(deps) !== JSON.stringify(wantDeps)) bad.push(`${f}: dep rows differ`);
      const build = rows.find(([l]) => l === "  build")?.[1] ?? "";
      for (const m of rowHasLines(build, w.settingLines)) bad.push(`${f}: build row lacks ${m}`);
      // Nothing else in the row: its length is exactly the lines plus one space between each.
      const len = w.settingLines.reduce((a, l) => a + l.length, 0) + Math.max(0, w.settingLines.length - 1);
      if (build.length !== len) bad.push(`${f}: build row has ${build.length} chars, go's lines ${len}`);
    }
    assert.deepEqual(bad, []);
  });
});
