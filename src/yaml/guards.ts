/**
 * What every reader of untrusted YAML in zerodep runs before the `yaml` library builds a tree
 * (zerodep.yaml in src/build/project.ts, Kubernetes manifests in src/k8s/yaml.ts). Hostile input is
 * bounded here: UTF-8 only, no control characters, flow nesting and compact block nesting (`- - - x`)
 * capped while lexing (the CST of `[[[[…` half a MiB deep takes ~600 MB), the nesting of the parsed tree
 * capped before it is composed (the composer recurses; a stack overflow inside a regular-expression
 * compilation aborts the whole process instead of throwing). Aliases and duplicate keys are left to the
 * readers, which walk the composed tree themselves (counting aliases, one set of keys per map).
 *
 * The library is loaded on first use, so that only commands that read YAML pay for it.
 */
import { createRequire } from "node:module";
import type { CST } from "yaml";
import { ZerodepError } from "../errors.js";

export type Yaml = typeof import("yaml");
let yamlLib: Yaml | undefined;
/**
 * The YAML library, loaded on first use. It is required synchronously (the parsers are synchronous; the
 * package's "node" entry is CommonJS, the same module `await import("yaml")` would load).
 */
export function yamlLibrary(): Yaml {
  yamlLib ??= createRequire(import.meta.url)("yaml") as Yaml;
  return yamlLib;
}

/** Throws the reader's one-line error for a character offset of the text. */
export type Fail = (offset: number, msg: string) => never;

/** "LINE:COL" of a character offset, both from 1 (columns count UTF-16 units, as editors mostly do). */
export function lineCol(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    start = i + 1;
  }
  return `${line}:${offset - start + 1}`;
}

/** UTF-8 text of the bytes (a BOM dropped), or ZerodepError `code` naming the line and column of the first bad byte. */
export function decodeUtf8(bytes: Uint8Array, file: string, code: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    let line = 1;
    let start = 0;
    for (let i = 0; i < bad; i++) {
      if (bytes[i] === 0x0a) {
        line++;
        start = i + 1;
      }
    }
    const byte = (bytes[bad] ?? 0).toString(16).padStart(2, "0");
    throw new ZerodepError(
      code,
      `${file}:${line}:${bad - start + 1}: not UTF-8 (byte 0x${byte} at offset ${bad}); save the file as UTF-8`,
    );
  }
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence (RFC 3629). */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      if (c === 0xe0) lo = 0xa0; // no overlong forms
      if (c === 0xed) hi = 0x9f; // no surrogates
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f; // nothing past U+10FFFF
    } else return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined) return i;
      if (k === 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return i;
    }
    i += n + 1;
  }
  return b.length;
}

/**
 * YAML streams are printable characters only (YAML 1.2 §5.1): a NUL or a terminal escape is refused
 * before it can end up in a value (and in a message printed to a terminal).
 */
export function checkControlCharacters(text: string, fail: Fail): void {
  const control = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]/.exec(text);
  if (control) {
    const u = control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, "0");
    fail(
      control.index,
      `control character U+${u}: YAML allows only printable characters (escape it in a "quoted string")`,
    );
  }
}

/**
 * Caps flow nesting (`[[[[`) and block indicators on one line (`- - - -`) on the lexer's flat token
 * stream, before the parser builds its tree of the whole file (whose size grows with depth × length).
 */
export function checkLexicalNesting(Y: Yaml, text: string, maxDepth: number, fail: Fail): void {
  for (const _ of guardedLexemes(Y, text, maxDepth, fail));
}

/**
 * The lexer's tokens of the text, checked as checkLexicalNesting does while they pass: a reader can feed
 * them to `Parser.next` and lex the text only once.
 */
export function* guardedLexemes(
  Y: Yaml,
  text: string,
  maxDepth: number,
  fail: Fail,
  maxTokensPerDocument = Number.POSITIVE_INFINITY,
): Generator<string> {
  const { DOCUMENT, FLOW_END, SCALAR } = Y.CST;
  let offset = 0;
  let tokens = 0;
  let flow = 0;
  let onLine = 0;
  let atScalar = false;
  for (const lx of new Y.Lexer().lex(text)) {
    yield lx;
    // A new document starts at the stream's start marker, at `---` and after `...`.
    if (lx === DOCUMENT || lx === "---" || lx === "...") tokens = 0;
    else if (++tokens > maxTokensPerDocument) {
      // The parser keeps the tree of the whole document (hundreds of bytes a token) until it ends.
      fail(offset, `a YAML document of more than ${maxTokensPerDocument} tokens`);
    }
    if (atScalar) {
      atScalar = false;
      offset += lx.length;
      continue;
    }
    switch (lx) {
      case DOCUMENT:
      case FLOW_END:
        if (lx === FLOW_END) flow = 0;
        continue; // markers of the lexer, not characters of the source
      case SCALAR:
        atScalar = true;
        continue;
      case "[":
      case "{":
        if (++flow > maxDepth) fail(offset, `nested more than ${maxDepth} levels deep`);
        break;
      case "]":
      case "}":
        if (flow > 0) flow--;
        break;
      case "-":
      case "?":
      case ":":
        if (flow === 0 && ++onLine > maxDepth) fail(offset, `nested more than ${maxDepth} levels deep`);
        break;
      case "\n":
      case "\r\n":
        onLine = 0;
        break;
    }
    offset += lx.length;
  }
}

/** Caps the nesting of collections in the parsed tree (indentation can nest ~1400 levels in 1 MiB). */
export function checkTreeNesting(tokens: CST.Token[], maxDepth: number, fail: Fail): void {
  const stack: [CST.Token, number][] = tokens.map((t) => [t, 0]);
  while (stack.length > 0) {
    const [t, depth] = stack.pop()!;
    switch (t.type) {
      case "document":
        if (t.value) stack.push([t.value, depth]);
        break;
      case "block-map":
      case "block-seq":
      case "flow-collection":
        if (depth + 1 > maxDepth) fail(t.offset, `nested more than ${maxDepth} levels deep`);
        for (const item of t.items as CST.CollectionItem[]) {
          if (item.key) stack.push([item.key, depth + 1]);
          if (item.value) stack.push([item.value, depth + 1]);
        }
        break;
    }
  }
}

/** A value from the file as echoed in a message: clipped, control characters escaped (no terminal escapes). */
export function escapedForMessage(s: string, max = 200): string {
  const clipped = s.length <= max ? s : `${s.slice(0, max)}…`;
  return JSON.stringify(clipped).slice(1, -1);
}
