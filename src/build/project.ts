/**
 * The project file, `zerodep.yaml` (issue #14): what `zerodep build` builds and how the image looks,
 * so that a project is built with a bare `zerodep build`. Command-line flags override it key by key.
 *
 * ```yaml
 * # zerodep.yaml — everything optional; command-line flags override it
 * version: 1                 # if present, 1 (the only version)
 * build:                     # or the same keys under a top-level `zerodep:` section (a shared file)
 *   builds:                  # one entry per program
 *     - dir: .               # project directory of this build, relative to the file (must exist)
 *       main: ./cmd/server   # Go package / pattern or Cargo bin name (a build target; default ".")
 *       env: [GOEXPERIMENT=loopvar]   # compiler environment (buildEnv), KEY=VALUE
 *       flags: [-tags=netgo]          # buildFlags
 *       ldflags: ["-X main.version={{.Version}}"]
 *       platforms: [linux/amd64, linux/arm64]   # or "all"
 *   cgo: auto                # auto | off | static | bundle
 *   base: oci:base:latest    # any image reference pack accepts
 *   tags: [latest, "{{.Version}}"]
 *   push: [registry.example/app]      # a list, or a single string
 *   out: [oci:out]                    # a list, or a single string
 *   image:
 *     env: [TZ=UTC]
 *     args: [-addr, ":8080"]
 *     entrypoint: [/app/server]
 *     user: "65532:65532"
 *     workdir: /
 *     ports: ["8080", "9090/udp"]
 *     labels: {k: v}
 *     annotations: {k: v}
 *     add: [{src: static, dst: /srv/static}]  # or "static:/srv/static"; src relative to the file (must exist)
 *     ca-certs: auto          # auto | none | FILE (relative to the file, must exist)
 *     tzdata: auto            # auto | all | none
 *     stop-signal: SIGTERM
 * ```
 *
 * Rules: an unknown key, a duplicate key, a key that is not a string, a value of the wrong shape (a
 * string where a list is wanted, an env entry that is not KEY=VALUE, a word outside its set) is a
 * ZerodepError PROJECT_FILE naming FILE:LINE:COL. A null value (`tags:` with nothing after it) is the
 * same as the key being absent. Where a string is wanted a plain number or boolean is taken as written
 * (`ports: [8080]`, `user: 1000`, `tags: [1.0]`). With a top-level `zerodep:` section the other
 * top-level keys belong to other tools and are not looked at.
 *
 * Hostile input is bounded before the YAML library builds anything: at most 1 MiB, UTF-8 only, flow
 * nesting and compact block nesting (`- - - x`) capped while lexing (the CST of `[[[[…` half a MiB deep
 * takes ~600 MB), the nesting of the parsed tree capped before it is composed (the composer recurses;
 * a stack overflow inside a regular-expression compilation aborts the whole process instead of
 * throwing), the library's own O(n²) duplicate-key check replaced by a set per map, and aliases
 * followed at most 100 times (each follow scans the document, and a billion-laughs file would
 * otherwise be walked exponentially). The lexical and tree guards live in src/yaml/guards.ts, shared with
 * the Kubernetes manifest reader (src/k8s/yaml.ts).
 */
import { statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { Document, Pair, Scalar, YAMLMap, YAMLSeq, Node as YamlNode } from "yaml";
import { clip, ZerodepError } from "../errors.js";
import { ioErrorFrom, openRegularFile } from "../io/reader.js";
import {
  checkControlCharacters,
  checkLexicalNesting,
  checkTreeNesting,
  decodeUtf8 as decodeUtf8As,
  type Fail,
  lineCol,
  type Yaml,
  yamlLibrary,
} from "../yaml/guards.js";
import type { AddedPath, BuildOptions, CgoMode } from "./types.js";

/** Largest project file read; anything bigger is refused before parsing (a real one is a few hundred bytes). */
export const PROJECT_FILE_MAX_BYTES = 1 << 20;
/** File names findProjectFile looks for, in this order. */
export const PROJECT_FILE_NAMES = ["zerodep.yaml", "zerodep.yml"] as const;
/** Deepest nesting of collections accepted (the schema itself needs 6). */
const MAX_DEPTH = 64;
/** Aliases (*name) followed in the parts of the file that are read. */
const MAX_ALIASES = 100;

/** One `builds:` entry, paths resolved. */
export interface ProjectBuild {
  /** Absolute project directory of this build (the file's directory when not given). */
  dir: string;
  /** Go package / pattern or Cargo binary name; absent means the build's directory itself ("."). */
  main?: string;
  /** Compiler environment, KEY=VALUE (BuildOptions.buildEnv). */
  env?: string[];
  /** Extra build arguments (BuildOptions.buildFlags). */
  flags?: string[];
  ldflags?: string[];
  platforms?: string[] | "all";
  /** Where the entry starts, "FILE:LINE:COL" (for messages). */
  at: string;
}

/** The `image:` section, in BuildOptions' names; `add` sources and a `ca-certs` file resolved. */
export interface ProjectImage {
  env?: string[];
  args?: string[];
  entrypoint?: string[];
  user?: string;
  workdir?: string;
  ports?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  add?: AddedPath[];
  caCerts?: "auto" | "none" | string;
  tzdata?: "auto" | "all" | "none";
  stopSignal?: string;
}

/** A parsed `zerodep.yaml`. */
export interface ProjectFile {
  /** The file as given (messages name it so). */
  file: string;
  /** Absolute directory of the file: relative paths in it are relative to this. */
  dir: string;
  version: 1;
  builds: ProjectBuild[];
  cgo?: CgoMode;
  base?: string;
  tags?: string[];
  push?: string[];
  out?: string[];
  image: ProjectImage;
}

/** zerodep.yaml (else zerodep.yml) in `dir` itself, not its parents; null when there is none. */
export function findProjectFile(dir: string): string | null {
  for (const name of PROJECT_FILE_NAMES) {
    const p = join(dir, name);
    try {
      statSync(p);
      return p; // whatever it is: loadProject says clearly if it is a directory or a FIFO
    } catch (e) {
      // A dangling symlink or an unreadable directory is still "there": let loadProject say what is wrong.
      if ((e as { code?: string }).code !== "ENOENT") return p;
    }
  }
  return null;
}

/** Reads and parses a project file: at most PROJECT_FILE_MAX_BYTES, never blocking on a FIFO. */
export async function loadProject(file: string): Promise<ProjectFile> {
  let bytes: Uint8Array;
  try {
    const fh = await openRegularFile(file);
    try {
      const { size } = await fh.stat();
      if (size > PROJECT_FILE_MAX_BYTES) throw tooBig(file, size);
      // Read one byte more than allowed: a file that grew since fstat is refused too.
      const buf = new Uint8Array(PROJECT_FILE_MAX_BYTES + 1);
      let n = 0;
      for (;;) {
        const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n > PROJECT_FILE_MAX_BYTES) throw tooBig(file, n);
      }
      bytes = buf.subarray(0, n);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof ZerodepError && e.code === "PROJECT_FILE") throw e;
    const msg = e instanceof ZerodepError ? e.message : ioErrorFrom(file, e).message;
    throw new ZerodepError("PROJECT_FILE", msg, { cause: e });
  }
  return parseProject(decodeUtf8(bytes, file), file);
}

/** UTF-8 text of the file (a BOM dropped), or PROJECT_FILE naming the line and column of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  return decodeUtf8As(bytes, file, "PROJECT_FILE");
}

function tooBig(file: string, size: number): ZerodepError {
  return new ZerodepError(
    "PROJECT_FILE",
    `${file}: ${size} bytes; a project file may have at most ${PROJECT_FILE_MAX_BYTES} (1 MiB)`,
  );
}

/**
 * Parses the text of a project file. `file` names it in messages and its directory is what relative
 * paths are resolved against; `dir` and `add` sources (and a ca-certs file) must exist (checked here,
 * with the line of the key). Every problem is one ZerodepError PROJECT_FILE "FILE:LINE:COL: …".
 */
export function parseProject(text: string, file: string): ProjectFile {
  const Y = yamlLibrary();
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const at = (offset: number) => `${file}:${lineCol(text, offset)}`;
  const fail = (offset: number, msg: string): never => {
    throw new ZerodepError("PROJECT_FILE", `${at(offset)}: ${msg}`);
  };
  if (text.length > PROJECT_FILE_MAX_BYTES) {
    throw new ZerodepError(
      "PROJECT_FILE",
      `${file}: ${text.length} characters; a project file may have at most 1 MiB`,
    );
  }
  checkControlCharacters(text, fail);
  checkLexicalNesting(Y, text, MAX_DEPTH, fail);
  const tokens = Array.from(new Y.Parser().parse(text));
  checkTreeNesting(tokens, MAX_DEPTH, fail);
  const composer = new Y.Composer({
    // The library's duplicate check compares every key with every other (98 s for a 1 MiB flow map):
    // readMap does it with a set, in the maps that are read.
    uniqueKeys: false,
    prettyErrors: false,
    merge: false,
    version: "1.2",
    schema: "core",
  });
  const docs = Array.from(composer.compose(tokens, true, text.length));
  const doc = docs[0] as Document.Parsed;
  if (docs.length > 1) fail(docs[1]!.range[0], "more than one YAML document (---): a project file has one");
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) fail(problem.pos[0], `not valid YAML: ${escaped(problem.message.split("\n")[0]!)}`);
  return new ProjectReader(Y, doc, text, file, at, fail).read();
}

const TOP_KEYS = ["version", "build"];
const BUILD_KEYS = ["builds", "cgo", "base", "tags", "push", "out", "image"];
const ENTRY_KEYS = ["dir", "main", "env", "flags", "ldflags", "platforms"];
const IMAGE_KEYS = [
  "env",
  "args",
  "entrypoint",
  "user",
  "workdir",
  "ports",
  "labels",
  "annotations",
  "add",
  "ca-certs",
  "tzdata",
  "stop-signal",
];
const CGO_MODES: readonly CgoMode[] = ["auto", "off", "static", "bundle"];
const TZDATA_MODES = ["auto", "all", "none"] as const;
const ENV_ENTRY = /^[A-Za-z_][A-Za-z0-9_]*=/;
const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9._]+)?$/;
const PORT = /^[0-9]{1,5}(\/(tcp|udp|sctp))?$/;

type Entry = { key: Scalar; value: YamlNode | null };

/** Walks the composed document along the schema only: nothing outside it is ever visited. */
class ProjectReader {
  private aliases = 0;
  private readonly dir: string;
  constructor(
    private readonly Y: Yaml,
    private readonly doc: Document.Parsed,
    private readonly text: string,
    private readonly file: string,
    private readonly at: (offset: number) => string,
    private readonly fail: Fail,
  ) {
    this.dir = resolve(dirname(file));
  }

  read(): ProjectFile {
    const project: ProjectFile = { file: this.file, dir: this.dir, version: 1, builds: [], image: {} };
    const root = this.deref(this.doc.contents);
    if (root === null) return project;
    if (!this.Y.isMap(root)) return this.wrongType(root, "the file", "a map of keys (version, build)");
    let section: Map<string, Entry>;
    let path: string;
    const zerodep = this.findKey(root, "zerodep");
    if (zerodep) {
      // A shared file: only the zerodep section is ours, with version allowed inside it.
      section = this.readMap(this.value(zerodep), "zerodep", ["version", ...BUILD_KEYS]);
      path = "zerodep";
      this.readVersion(section.get("version"));
    } else {
      const top = this.readMap(root, "the file", TOP_KEYS);
      this.readVersion(top.get("version"));
      section = this.readMap(this.value(top.get("build")), "build", BUILD_KEYS);
      path = "build";
    }
    const builds = this.value(section.get("builds"));
    if (builds !== null) {
      const seq = this.seq(builds, `${path}.builds`);
      project.builds = seq.items.map((item, i) => this.readBuild(item, `${path}.builds[${i}]`));
    }
    const cgo = this.word(section.get("cgo"), `${path}.cgo`, CGO_MODES);
    if (cgo !== undefined) project.cgo = cgo;
    const base = this.optString(section.get("base"), `${path}.base`);
    if (base !== undefined) project.base = base;
    const tags = this.optStrings(section.get("tags"), `${path}.tags`);
    if (tags) project.tags = tags;
    for (const k of ["push", "out"] as const) {
      const e = section.get(k);
      const v = this.value(e);
      if (v === null) continue;
      project[k] = this.Y.isScalar(v) ? [this.string(v, `${path}.${k}`)] : this.strings(v, `${path}.${k}`);
    }
    const image = this.value(section.get("image"));
    if (image !== null) project.image = this.readImage(image, `${path}.image`);
    return project;
  }

  private readVersion(e: Entry | undefined): void {
    const v = this.value(e);
    if (v === null) return;
    if (!(this.Y.isScalar(v) && v.value === 1)) {
      this.fail(start(v), `version must be 1 (the only project file version), got ${this.describe(v)}`);
    }
  }

  private readBuild(node: unknown, path: string): ProjectBuild {
    const n = this.deref(node);
    const m = this.readMap(n, path, ENTRY_KEYS);
    const build: ProjectBuild = { dir: this.dir, at: this.at(n === null ? 0 : start(n)) };
    const dir = m.get("dir");
    const dirValue = this.optString(dir, `${path}.dir`);
    if (dirValue !== undefined)
      build.dir = this.existing(dirValue, this.value(dir)!, `${path}.dir`, "directory");
    const main = this.optString(m.get("main"), `${path}.main`);
    if (main !== undefined) build.main = main;
    const env = this.optEnv(m.get("env"), `${path}.env`);
    if (env) build.env = env;
    const flags = this.optStrings(m.get("flags"), `${path}.flags`);
    if (flags) build.flags = flags;
    const ldflags = this.optStrings(m.get("ldflags"), `${path}.ldflags`);
    if (ldflags) build.ldflags = ldflags;
    const p = this.value(m.get("platforms"));
    if (p !== null) {
      if (this.Y.isScalar(p) && p.value === "all") build.platforms = "all";
      else {
        const seq = this.seq(p, `${path}.platforms`, `a list of OS/ARCH[/VARIANT] or "all"`);
        build.platforms = seq.items.map((item, i) => {
          const s = this.string(item, `${path}.platforms[${i}]`);
          if (!PLATFORM.test(s)) {
            this.fail(
              start(this.deref(item)!),
              `${path}.platforms: ${q(s)} is not OS/ARCH[/VARIANT] (linux/amd64, linux/arm/v7)`,
            );
          }
          return s;
        });
      }
    }
    return build;
  }

  private readImage(node: YamlNode, path: string): ProjectImage {
    const m = this.readMap(node, path, IMAGE_KEYS);
    const image: ProjectImage = {};
    const env = this.optEnv(m.get("env"), `${path}.env`);
    if (env) image.env = env;
    for (const k of ["args", "entrypoint"] as const) {
      const v = this.optStrings(m.get(k), `${path}.${k}`);
      if (v) image[k] = v;
    }
    for (const [k, name] of [
      ["user", "user"],
      ["workdir", "workdir"],
      ["stop-signal", "stopSignal"],
    ] as const) {
      const v = this.optString(m.get(k), `${path}.${k}`);
      if (v !== undefined) image[name] = v;
    }
    const ports = this.value(m.get("ports"));
    if (ports !== null) {
      image.ports = this.seq(ports, `${path}.ports`).items.map((item, i) => {
        const s = this.string(item, `${path}.ports[${i}]`);
        const port = Number(s.split("/")[0]);
        if (!PORT.test(s) || port < 1 || port > 65535) {
          this.fail(start(this.deref(item)!), `${path}.ports: ${q(s)} is not PORT[/tcp|udp|sctp] (1-65535)`);
        }
        return s;
      });
    }
    for (const k of ["labels", "annotations"] as const) {
      const v = this.value(m.get(k));
      if (v === null) continue;
      const map = this.readMap(v, `${path}.${k}`, null);
      image[k] = Object.fromEntries(
        [...map].map(([key, e]) => [
          key,
          e.value === null ? "" : this.string(e.value, `${path}.${k}[${q(key, 100)}]`),
        ]),
      );
    }
    const add = this.value(m.get("add"));
    if (add !== null) {
      image.add = this.seq(add, `${path}.add`).items.map((item, i) =>
        this.readAdd(item, `${path}.add[${i}]`),
      );
    }
    const ca = m.get("ca-certs");
    const caValue = this.optString(ca, `${path}.ca-certs`);
    if (caValue !== undefined) {
      image.caCerts =
        caValue === "auto" || caValue === "none"
          ? caValue
          : this.existing(caValue, this.value(ca)!, `${path}.ca-certs`, "file");
    }
    const tz = this.word(m.get("tzdata"), `${path}.tzdata`, TZDATA_MODES);
    if (tz !== undefined) image.tzdata = tz;
    return image;
  }

  private readAdd(node: unknown, path: string): AddedPath {
    const n = this.deref(node);
    let src: string;
    let dst: string;
    let srcNode: YamlNode;
    if (this.Y.isScalar(n)) {
      const s = this.string(n, path);
      // The destination is an absolute path in the image: the first ":/" ends the host path.
      const cut = s.indexOf(":/");
      if (cut <= 0) this.fail(start(n), `${path}: ${q(s)} is not SRC:/DST (or {src: SRC, dst: /DST})`);
      src = s.slice(0, cut);
      dst = s.slice(cut + 1);
      srcNode = n;
    } else {
      const m = this.readMap(n, path, ["src", "dst"]);
      for (const k of ["src", "dst"]) {
        if (this.value(m.get(k)) === null) this.fail(n === null ? 0 : start(n), `${path}: "${k}" is missing`);
      }
      srcNode = this.value(m.get("src"))!;
      const dstNode = this.value(m.get("dst"))!;
      src = this.string(srcNode, `${path}.src`);
      dst = this.string(dstNode, `${path}.dst`);
      if (!dst.startsWith("/"))
        this.fail(start(dstNode), `${path}.dst: ${q(dst)} is not an absolute path in the image`);
    }
    return { src: this.existing(src, srcNode, `${path}.src`, "any"), dst };
  }

  /** `s` resolved against the file's directory; it must exist (and be a directory or a file when asked). */
  private existing(s: string, node: YamlNode, path: string, kind: "directory" | "file" | "any"): string {
    const p = isAbsolute(s) ? s : resolve(this.dir, s);
    const where = start(node);
    let st: import("node:fs").Stats;
    try {
      st = statSync(p);
    } catch (err) {
      return this.fail(where, `${path}: ${ioErrorFrom(escaped(p, 300), err).message}`);
    }
    if (kind === "directory" && !st.isDirectory())
      this.fail(where, `${path}: ${escaped(p, 300)} is not a directory`);
    if (kind === "file" && !st.isFile())
      this.fail(where, `${path}: ${escaped(p, 300)} is not a regular file`);
    return p;
  }

  /** The pair whose plain key is `name` in a map, without validating the map (to tell the two forms apart). */
  private findKey(m: YAMLMap, name: string): Entry | undefined {
    let found: Entry | undefined;
    for (const pair of m.items as Pair<unknown, unknown>[]) {
      const k = pair.key;
      if (!(this.Y.isScalar(k) && k.value === name)) continue;
      if (found) this.fail(start(k), `duplicate key ${q(name)} (first at ${this.at(start(found.key))})`);
      found = { key: k, value: this.deref(pair.value) };
    }
    return found;
  }

  /**
   * A map's entries by key, checked: string keys only, no duplicates, and (when `known` is given) no
   * key outside it. A null node is an empty map.
   */
  private readMap(node: unknown, path: string, known: readonly string[] | null): Map<string, Entry> {
    const out = new Map<string, Entry>();
    const n = this.deref(node);
    if (n === null) return out;
    if (!this.Y.isMap(n)) return this.wrongType(n, path, "a map (key: value)");
    for (const pair of n.items as Pair<unknown, unknown>[]) {
      const k = this.deref(pair.key);
      if (k === null) this.fail(start(n), `${path}: a key is empty`);
      if (!this.Y.isScalar(k) || typeof k.value !== "string") {
        return this.fail(start(k), `${path}: a key must be a string, got ${this.describe(k)}`);
      }
      const key = k.value;
      const first = out.get(key);
      if (first) {
        this.fail(
          start(k),
          `duplicate key ${q(key, 100)} in ${path} (first at ${this.at(start(first.key))})`,
        );
      }
      if (known && !known.includes(key)) {
        this.fail(start(k), `unknown key ${q(key, 100)} in ${path} (known: ${known.join(", ")})`);
      }
      out.set(key, { key: k, value: this.deref(pair.value) });
    }
    return out;
  }

  private value(e: Entry | undefined): YamlNode | null {
    if (!e || e.value === null) return null;
    if (this.Y.isScalar(e.value) && e.value.value === null) return null;
    return e.value;
  }

  private seq(node: YamlNode, path: string, what = "a list ([a, b] or one `- item` a line)"): YAMLSeq {
    if (!this.Y.isSeq(node)) return this.wrongType(node, path, what);
    return node;
  }

  /** A string; a plain number or boolean is taken as written. */
  private string(node: unknown, path: string): string {
    const n = this.deref(node);
    if (this.Y.isScalar(n)) {
      if (typeof n.value === "string") return n.value;
      if (typeof n.value === "number" || typeof n.value === "boolean" || typeof n.value === "bigint") {
        return n.source ?? String(n.value);
      }
    }
    if (n === null) this.fail(0, `${path}: expected a string`);
    return this.wrongType(n, path, "a string");
  }

  private strings(node: YamlNode, path: string): string[] {
    return this.seq(node, path).items.map((item, i) => this.string(item, `${path}[${i}]`));
  }

  private optString(e: Entry | undefined, path: string): string | undefined {
    const v = this.value(e);
    return v === null ? undefined : this.string(v, path);
  }

  private optStrings(e: Entry | undefined, path: string): string[] | undefined {
    const v = this.value(e);
    return v === null ? undefined : this.strings(v, path);
  }

  private optEnv(e: Entry | undefined, path: string): string[] | undefined {
    const v = this.value(e);
    if (v === null) return undefined;
    return this.seq(v, path, "a list of KEY=VALUE").items.map((item, i) => {
      const s = this.string(item, `${path}[${i}]`);
      if (!ENV_ENTRY.test(s)) this.fail(start(this.deref(item)!), `${path}: ${q(s)} is not KEY=VALUE`);
      return s;
    });
  }

  private word<T extends string>(e: Entry | undefined, path: string, words: readonly T[]): T | undefined {
    const v = this.value(e);
    if (v === null) return undefined;
    const s = this.string(v, path);
    if (!(words as readonly string[]).includes(s)) {
      this.fail(start(v), `${path}: ${q(s)} is not one of ${words.join(", ")}`);
    }
    return s as T;
  }

  /** The node an alias stands for (counted: at most MAX_ALIASES are followed), or the node itself. */
  private deref(node: unknown): YamlNode | null {
    if (node === null || node === undefined) return null;
    if (!this.Y.isAlias(node)) return node as YamlNode;
    if (++this.aliases > MAX_ALIASES) {
      this.fail(start(node), `more than ${MAX_ALIASES} aliases (*name) followed: refusing an alias bomb`);
    }
    const target = node.resolve(this.doc);
    if (!target)
      return this.fail(start(node), `alias *${escaped(node.source, 100)} names no anchor before it`);
    return target;
  }

  private wrongType(n: YamlNode | null, path: string, expected: string): never {
    const got = this.describe(n);
    const where = n === null ? 0 : start(n);
    // `{{.Version}}` unquoted is a flow map in YAML: say so rather than "got a map".
    const src = this.text.slice(where, where + 2);
    const hint = src === "{{" ? ' (quote templates: "{{.Version}}")' : "";
    return this.fail(where, `${path}: expected ${expected}, got ${got}${hint}`);
  }

  private describe(n: YamlNode | null): string {
    if (n === null) return "nothing";
    if (this.Y.isMap(n)) return "a map";
    if (this.Y.isSeq(n)) return "a list";
    if (this.Y.isScalar(n)) {
      const v = n.value;
      if (v === null) return "null";
      if (typeof v === "string") return `the string ${q(v, 60)}`;
      return `${typeof v === "number" ? "the number" : typeof v === "boolean" ? "the boolean" : "the value"} ${escaped(n.source ?? String(v), 60)}`;
    }
    return "an unsupported node";
  }
}

function start(n: { range?: [number, number, number] | null } | unknown): number {
  return (n as { range?: [number, number, number] | null }).range?.[0] ?? 0;
}

/** One build of the file in BuildOptions' names: what `zerodep build` would run for that entry alone. */
export interface ProjectBuildOptions {
  dir: string;
  targets: string[];
  buildEnv?: string[];
  buildFlags?: string[];
  ldflags?: string[];
  platforms?: string[] | "all";
  /** Where the entry starts, "FILE:LINE:COL". */
  at: string;
}

/** The file's builds one by one, each with its own directory and settings (for callers that build them apart). */
export function projectBuilds(project: ProjectFile): ProjectBuildOptions[] {
  return project.builds.map((b) => {
    const o: ProjectBuildOptions = { dir: b.dir, targets: [b.main ?? "."], at: b.at };
    if (b.env) o.buildEnv = b.env;
    if (b.flags) o.buildFlags = b.flags;
    if (b.ldflags) o.ldflags = b.ldflags;
    if (b.platforms) o.platforms = b.platforms;
    return o;
  });
}

/** Per-build settings that one BuildOptions holds once for every target. */
const SHARED = ["dir", "buildEnv", "buildFlags", "ldflags", "platforms"] as const;

/**
 * BuildOptions from the file and the command line: a flag that is given wins over the file's key (a list
 * given replaces the file's list), except that the image and compiler environments (KEY=VALUE) and the
 * labels and annotations merge key by key, the flag's value winning. Every build's `main` becomes a
 * target; dir, env, flags, ldflags and platforms come from the first build (dir: else the file's
 * directory), so builds that differ in one of them not overridden by a flag are a PROJECT_FILE error
 * (see projectBuilds). Flags the file has no key for (split, version, registry, callbacks …) pass through.
 */
export function mergeProject(project: ProjectFile, flags: Partial<BuildOptions>): BuildOptions {
  const builds = projectBuilds(project);
  const first = builds[0];
  if (first) {
    // buildEnv merges rather than replaces: a flag does not make differing build environments equal.
    const compared = SHARED.filter((k) => k === "buildEnv" || flags[k] === undefined);
    for (const [i, b] of builds.entries()) {
      for (const k of compared) {
        if (JSON.stringify(b[k]) === JSON.stringify(first[k])) continue;
        const name = {
          dir: "dir",
          buildEnv: "env",
          buildFlags: "flags",
          ldflags: "ldflags",
          platforms: "platforms",
        }[k];
        const show = (v: unknown) => (v === undefined ? "none" : clip(JSON.stringify(v), 120));
        throw new ZerodepError(
          "PROJECT_FILE",
          `${b.at}: per-build settings differ: builds[${i}] has ${name} ${show(b[k])}, builds[0] (${first.at}) has ${show(first[k])}; ` +
            "one build gives all its programs the same dir, env, flags, ldflags and platforms " +
            `(set ${name} on the command line, or build the entries separately)`,
        );
      }
    }
  }
  const img = project.image;
  const file: Partial<BuildOptions> = {
    targets: first ? builds.map((b) => b.targets[0]!) : undefined,
    dir: first?.dir ?? project.dir,
    buildEnv: first?.buildEnv,
    buildFlags: first?.buildFlags,
    ldflags: first?.ldflags,
    platforms: first?.platforms,
    cgo: project.cgo,
    base: project.base,
    tags: project.tags,
    push: project.push,
    out: project.out,
    env: img.env,
    args: img.args,
    entrypoint: img.entrypoint,
    user: img.user,
    workdir: img.workdir,
    ports: img.ports,
    labels: img.labels,
    annotations: img.annotations,
    add: img.add,
    caCerts: img.caCerts,
    tzdata: img.tzdata,
    stopSignal: img.stopSignal,
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(file)) if (v !== undefined) out[k] = v;
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) out[k] = v;
  if (file.env && flags.env) out.env = mergeEnv(file.env, flags.env);
  if (file.buildEnv && flags.buildEnv) out.buildEnv = mergeEnv(file.buildEnv, flags.buildEnv);
  if (file.labels && flags.labels) out.labels = { ...file.labels, ...flags.labels };
  if (file.annotations && flags.annotations) out.annotations = { ...file.annotations, ...flags.annotations };
  return out as BuildOptions;
}

/** KEY=VALUE lists merged by key: `over` replaces a key of `base` in place, new keys follow in order. */
function mergeEnv(base: string[], over: string[]): string[] {
  const m = new Map<string, string>();
  const keyOf = (e: string) => {
    const i = e.indexOf("=");
    return i < 0 ? e : e.slice(0, i);
  };
  for (const e of base) m.set(keyOf(e), e);
  for (const e of over) m.set(keyOf(e), e);
  return [...m.values()];
}

/** A value from the file as echoed in a message: clipped, quoted, control characters escaped (no terminal escapes). */
function q(s: string, max = 200): string {
  return JSON.stringify(clip(s, max));
}

function escaped(s: string, max = 200): string {
  return q(s, max).slice(1, -1);
}
