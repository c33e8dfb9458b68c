/**
 * Kubernetes manifests read from YAML (or JSON, which is YAML) with their source positions (issue #16):
 * multi-document streams as Helm renders them (`---` separators, comments, empty documents skipped),
 * `kind: List` (and `…List`) documents expanded into their items, each document as plain JSON values
 * plus `positionOf(path)` for SARIF's line and column.
 *
 * Scalars are read with YAML 1.1 rules, as kubectl and the API server read manifests (sigs.k8s.io/yaml
 * on go-yaml v2): `yes`/`no`/`on`/`off` are booleans, `0777` is octal. A duplicate key is refused (the
 * strict reader of sigs.k8s.io/yaml refuses it too; the lenient one silently keeps the last, and a
 * second `privileged:` must not hide the first from the lint); `<<` merge keys are applied as go-yaml
 * does (keys of the map itself win). test/k8s/yaml-kubectl.test.ts reads a corpus of scalars, keys and
 * structures with sigs.k8s.io/yaml itself and compares; the differences left (JSON's `\/` escape, the
 * `!!float` tag, keys beyond int64) are listed there.
 *
 * Hostile input is bounded: at most 16 MiB a file, UTF-8 only, no control characters, collections nested
 * at most 128 deep (checked on the token stream before the recursive composer runs; real CRD schemas
 * nest about 30), at most MANIFEST_MAX_DOCUMENT_TOKENS lexical tokens in one document, aliases followed
 * at most 100 times a file, and the values built from aliases at most the size of the file plus 100 000
 * (a billion-laughs file, or one anchor of 10 MB used 100 times, is refused instead of expanding).
 * Every problem is one ZerodepError MANIFEST_INVALID "FILE:LINE:COL: …".
 */
import type { Document, Scalar, LineCounter as YamlLineCounter, Node as YamlNode } from "yaml";
import { ZerodepError } from "../errors.js";
import { ioErrorFrom, openRegularFile } from "../io/reader.js";
import {
  checkControlCharacters,
  checkTreeNesting,
  decodeUtf8,
  escapedForMessage,
  guardedLexemes,
  type Yaml,
  yamlLibrary,
} from "../yaml/guards.js";
import type { K8sDocument, SourcePosition } from "./types.js";

/** Largest manifest file read (a rendered Helm chart of a big application is a few MB). */
export const MANIFEST_MAX_BYTES = 16 << 20;
/** Deepest nesting of collections accepted. */
export const MANIFEST_MAX_DEPTH = 128;
/** Aliases (*name) followed in one file. */
export const MANIFEST_MAX_ALIASES = 100;
/**
 * Lexical tokens in one YAML document: the parser holds a document's whole tree until it ends. A 10 MiB
 * ConfigMap of 100 000 keys has about 600 000; a 10 MiB flow list of small numbers would have 3 million
 * and take 1.7 GB.
 */
export const MANIFEST_MAX_DOCUMENT_TOKENS = 2_000_000;
/** Values that aliases may add beyond the size of the file. */
const ALIAS_EXTRA_VALUES = 100_000;

type Path = readonly (string | number)[];

function fail(file: string, lc: YamlLineCounter | null, text: string, offset: number, msg: string): never {
  const pos = lc ? lc.linePos(offset) : positionByScan(text, offset);
  throw new ZerodepError("MANIFEST_INVALID", `${file}:${pos.line}:${pos.col}: ${msg}`);
}

function positionByScan(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, col: offset - start + 1 };
}

/** Reads a manifest file: at most MANIFEST_MAX_BYTES, never blocking on a FIFO. */
export async function readManifestFile(path: string): Promise<K8sDocument[]> {
  let bytes: Uint8Array;
  try {
    const fh = await openRegularFile(path);
    try {
      const { size } = await fh.stat();
      if (size > MANIFEST_MAX_BYTES) throw tooBig(path, size);
      // Sized by fstat plus one byte, grown if the file grows meanwhile, never past the limit plus one.
      let buf = new Uint8Array(size + 1);
      let n = 0;
      for (;;) {
        if (n === buf.length) {
          const bigger = new Uint8Array(Math.min(buf.length * 2, MANIFEST_MAX_BYTES + 1));
          bigger.set(buf);
          buf = bigger;
        }
        const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
        if (bytesRead === 0) break;
        n += bytesRead;
        if (n > MANIFEST_MAX_BYTES) throw tooBig(path, n);
      }
      bytes = buf.subarray(0, n);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof ZerodepError && e.code === "MANIFEST_INVALID") throw e;
    throw ioErrorFrom(path, e);
  }
  return loadManifests(decodeUtf8(bytes, path, "MANIFEST_INVALID"), path);
}

function tooBig(file: string, size: number): ZerodepError {
  return new ZerodepError(
    "MANIFEST_INVALID",
    `${file}: ${size} bytes; a manifest file may have at most ${MANIFEST_MAX_BYTES} (16 MiB)`,
  );
}

/**
 * Parses a manifest stream (the text of `file`; "-" for stdin): one K8sDocument per non-empty YAML
 * document, or per item of a List document (its `index` is then the List's, and its positions point into
 * the item). A document that is not a map is refused.
 *
 * The text is lexed once and composed one document at a time; the library's trees of a document are
 * dropped once it is converted (positions are kept as the offsets of each key and item, beside the
 * values), so that memory follows the values, not the library's trees of the whole stream.
 */
export function loadManifests(text: string, file: string): K8sDocument[] {
  const Y = yamlLibrary();
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  const early = (offset: number, msg: string): never => fail(file, null, text, offset, msg);
  if (text.length > MANIFEST_MAX_BYTES) {
    throw new ZerodepError(
      "MANIFEST_INVALID",
      `${file}: ${text.length} characters; a manifest file may have at most 16 MiB`,
    );
  }
  checkControlCharacters(text, early);
  const lc = new Y.LineCounter();
  const bad = (offset: number, msg: string): never => fail(file, lc, text, offset, msg);
  const parser = new Y.Parser(lc.addNewLine);
  const composer = new Y.Composer({
    // The library's duplicate check is O(n²) per map; the conversion below uses a set per map.
    uniqueKeys: false,
    prettyErrors: false,
    merge: false,
    version: "1.1",
  });
  const conv = new Converter(Y, text, lc, bad);
  const out: K8sDocument[] = [];
  let index = 0;
  const take = (doc: Document.Parsed) => {
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) bad(problem.pos[0], `not valid YAML: ${escapedForMessage(problem.message.split("\n")[0]!)}`);
    addDocument(Y, conv, doc, index++, file, lc, out);
  };
  lc.addNewLine(0);
  for (const lexeme of guardedLexemes(Y, text, MANIFEST_MAX_DEPTH, early, MANIFEST_MAX_DOCUMENT_TOKENS)) {
    for (const token of parser.next(lexeme)) {
      checkTreeNesting([token], MANIFEST_MAX_DEPTH, bad);
      for (const doc of composer.next(token)) take(doc as Document.Parsed);
    }
  }
  for (const token of parser.end()) {
    checkTreeNesting([token], MANIFEST_MAX_DEPTH, bad);
    for (const doc of composer.next(token)) take(doc as Document.Parsed);
  }
  for (const doc of composer.end(false, text.length)) take(doc as Document.Parsed);
  return out;
}

function addDocument(
  Y: Yaml,
  conv: Converter,
  doc: Document.Parsed,
  index: number,
  file: string,
  lc: YamlLineCounter,
  out: K8sDocument[],
): void {
  conv.startDocument();
  const root = conv.deref(doc.contents);
  if (root === null || (Y.isScalar(root) && root.value === null)) return; // empty, comments only, or ~
  if (!Y.isMap(root)) {
    conv.fail(
      start(root),
      `document ${index} is ${Y.isSeq(root) ? "a list" : "a scalar"}; a manifest is a map (apiVersion, kind, metadata, …)`,
    );
  }
  const value = conv.toValue(root, 0) as Record<string, unknown>;
  const rootAt = start(root);
  const positionOf = (path: Path): SourcePosition => {
    const p = lc.linePos(locate(value, rootAt, path));
    return { line: p.line, column: p.col };
  };
  const items = value.items;
  if (typeof value.kind === "string" && value.kind.endsWith("List") && Array.isArray(items)) {
    items.forEach((item, i) => {
      const p = ["items", i];
      if (item === null || typeof item !== "object" || Array.isArray(item)) {
        conv.fail(
          locate(value, rootAt, p),
          `items[${i}] of a ${value.kind} is not a map (apiVersion, kind, metadata, …)`,
        );
      }
      out.push({ file, index, value: item, positionOf: (path) => positionOf([...p, ...path]) });
    });
    return;
  }
  out.push({ file, index, value, positionOf });
}

/**
 * A scalar key as sigs.k8s.io/yaml turns it into a JSON key: integers in full (int64), .inf/-.inf/.nan
 * by name. (Other floats are formatted as float32 there; no manifest has float keys.)
 */
function keyString(v: unknown, n: Scalar): string {
  if (typeof v !== "number") return String(v);
  if (Number.isNaN(v)) return ".nan";
  if (!Number.isFinite(v)) return v > 0 ? ".inf" : "-.inf";
  const src = typeof n.source === "string" ? n.source.replaceAll("_", "") : "";
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(src)) {
    const big = BigInt(src);
    if (big >= -(2n ** 63n) && big < 2n ** 63n) return big.toString();
  }
  return String(v);
}

function start(n: unknown): number {
  return (n as { range?: [number, number, number] | null }).range?.[0] ?? 0;
}

/** Source offsets of the keys of each converted map and the items of each converted list. */
const OFFSETS = new WeakMap<object, Record<string, number> | number[]>();

/** Composed nodes to plain values: aliases counted and bounded, keys unique, `<<` merged. */
class Converter {
  private aliases = 0;
  private values = 0;
  private anchors = new Map<string, YamlNode>();
  private readonly maxValues: number;
  constructor(
    private readonly Y: Yaml,
    text: string,
    private readonly lc: YamlLineCounter,
    readonly fail: (offset: number, msg: string) => never,
  ) {
    this.maxValues = text.length + ALIAS_EXTRA_VALUES;
  }

  /** Anchors are scoped to their document. */
  startDocument(): void {
    this.anchors = new Map();
  }

  /**
   * The node an alias stands for: the latest anchor of that name converted so far (the library's own
   * resolve scans the whole document for each alias).
   */
  deref(node: unknown): YamlNode | null {
    if (node === null || node === undefined) return null;
    if (!this.Y.isAlias(node)) {
      const anchor = (node as { anchor?: string }).anchor;
      if (anchor) this.anchors.set(anchor, node as YamlNode);
      return node as YamlNode;
    }
    if (++this.aliases > MANIFEST_MAX_ALIASES) {
      this.fail(
        start(node),
        `more than ${MANIFEST_MAX_ALIASES} aliases (*name) followed: refusing an alias bomb`,
      );
    }
    const target = this.anchors.get(node.source);
    if (!target)
      return this.fail(
        start(node),
        `alias *${escapedForMessage(node.source, 100)} names no anchor before it`,
      );
    return target;
  }

  toValue(n: YamlNode | null, depth: number): unknown {
    if (++this.values > this.maxValues) {
      this.fail(start(n), "aliases expand to more values than the file has: refusing an alias bomb");
    }
    if (depth > MANIFEST_MAX_DEPTH) this.fail(start(n), `nested more than ${MANIFEST_MAX_DEPTH} levels deep`);
    const Y = this.Y;
    if (n === null) return null;
    if (Y.isScalar(n)) return this.scalar(n);
    if (Y.isSeq(n)) {
      const offsets: number[] = [];
      const out = n.items.map((it) => {
        offsets.push(start(it));
        return this.toValue(this.deref(it), depth + 1);
      });
      OFFSETS.set(out, offsets);
      return out;
    }
    if (Y.isMap(n)) {
      const out: Record<string, unknown> = {};
      const offsets: Record<string, number> = Object.create(null);
      const merged: [Record<string, unknown>, number][] = [];
      const set = (o: Record<string, unknown>, k: string, v: unknown) => {
        // A key "__proto__" must be a plain property, not the prototype.
        if (k === "__proto__") {
          Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
        } else o[k] = v;
      };
      for (const pair of n.items) {
        const keyNode = this.deref(pair.key);
        if (keyNode !== null && !Y.isScalar(keyNode)) {
          this.fail(start(keyNode), "a map key must be a scalar (a string or a number), not a collection");
        }
        const keyScalar = keyNode as Scalar | null;
        const at = keyNode ? start(keyNode) : start(pair.value);
        const raw = keyScalar ? this.scalar(keyScalar, true) : null;
        // kubectl (sigs.k8s.io/yaml) cannot turn a null key into a JSON key either.
        if (raw === null) this.fail(at, "a map key is null (~, null or nothing): JSON has no such key");
        // The library's YAML 1.1 schema reads a plain `<<` as its merge symbol.
        const key = typeof raw === "symbol" ? "<<" : keyString(raw, keyScalar!);
        if (key === "<<" && keyScalar?.type === "PLAIN") {
          for (const m of this.mergeSources(this.deref(pair.value as unknown), depth)) merged.push([m, at]);
          continue;
        }
        const first = offsets[key];
        if (first !== undefined) {
          const p = this.lc.linePos(first);
          this.fail(at, `duplicate key "${escapedForMessage(key, 100)}" (first at ${p.line}:${p.col})`);
        }
        offsets[key] = at;
        set(out, key, this.toValue(this.deref(pair.value as unknown), depth + 1));
      }
      // Merged keys never override the map's own keys; of several merged maps the first wins (go-yaml).
      for (const [m, at] of merged) {
        for (const [k, v] of Object.entries(m)) {
          if (offsets[k] !== undefined) continue;
          offsets[k] = at;
          set(out, k, v);
        }
      }
      OFFSETS.set(out, offsets);
      return out;
    }
    return null;
  }

  /**
   * A scalar as go-yaml v2 gives it to sigs.k8s.io/yaml: timestamps and binary stay the text written,
   * sexagesimal `1:20` is a string, `0o17` is octal, and .inf/.nan are refused (JSON has no such numbers).
   */
  scalar(n: Scalar, asKey = false): unknown {
    const v = n.value;
    if (typeof v === "bigint") return Number(v);
    if (v instanceof Uint8Array || v instanceof Date) return n.source ?? String(v);
    if (typeof v === "number") {
      if (n.type === "PLAIN" && typeof n.source === "string" && n.source.includes(":")) return n.source;
      if (!Number.isFinite(v) && !asKey) {
        this.fail(start(n), `${escapedForMessage(String(n.source), 40)} is not a JSON number`);
      }
    }
    if (
      typeof v === "string" &&
      n.type === "PLAIN" &&
      v.includes("0o") &&
      !n.tag &&
      /^[-+]?0o[0-7_]+$/.test(v)
    ) {
      const sign = v.startsWith("-") ? -1 : 1;
      return sign * Number.parseInt(v.replace(/^[-+]?0o/, "").replaceAll("_", ""), 8);
    }
    return v ?? null;
  }

  /** The maps a `<<` value names: one map (usually an alias) or a list of them. */
  private mergeSources(v: YamlNode | null, depth: number): Record<string, unknown>[] {
    const Y = this.Y;
    const one = (n: YamlNode | null): Record<string, unknown> => {
      if (!Y.isMap(n)) this.fail(start(n), "a << merge key needs a map or a list of maps");
      return this.toValue(n, depth + 1) as Record<string, unknown>;
    };
    if (Y.isSeq(v)) return v.items.map((it) => one(this.deref(it)));
    return [one(v)];
  }
}

/**
 * The source offset of a path in a converted document, or of its nearest existing parent: a key's
 * offset for a map entry (where editors and SARIF viewers point at `privileged: true`), an item's start
 * for a list.
 */
function locate(root: unknown, rootAt: number, path: Path): number {
  let v = root;
  let at = rootAt;
  for (const step of path) {
    if (v === null || typeof v !== "object") break;
    const offsets = OFFSETS.get(v);
    if (!offsets) break;
    if (Array.isArray(v)) {
      if (typeof step !== "number" || step < 0 || step >= v.length) break;
      at = (offsets as number[])[step]!;
      v = v[step];
    } else {
      if (typeof step !== "string" || !Object.hasOwn(v, step)) break;
      at = (offsets as Record<string, number>)[step]!;
      v = (v as Record<string, unknown>)[step];
    }
  }
  return at;
}
