/**
 * Go string literal quoting, as Go's strconv package does it: `quoteGo` is strconv.Quote and
 * `unquoteGo`/`quotedPrefixGo` are strconv.Unquote/QuotedPrefix. Build info `build` lines use them for
 * keys and values that contain spaces, tabs, quotes, backquotes or '=' (runtime/debug.BuildInfo.String).
 *
 * Go strings are bytes; ours are UTF-16. Decoding happens once, with U+FFFD for invalid UTF-8, so a
 * value holding invalid UTF-8 would print as "\ufffd"-ish text where Go prints `\xff`. The Go toolchain
 * never writes such values into build info (they come from flags and environment variables it has
 * already validated), so this is the only known divergence.
 */

/** unicode.IsPrint as strconv uses it: letters, marks, numbers, punctuation, symbols and ASCII space. */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** strconv.Quote: double-quoted Go literal with Go's escapes (lower-case hex, \u / \U for non-printables). */
export function quoteGo(s: string): string {
  let out = '"';
  for (const ch of s) {
    const r = ch.codePointAt(0) ?? 0xfffd;
    if (ch === '"' || ch === "\\") {
      out += "\\" + ch;
      continue;
    }
    if (r === 0x20 || (r < 0xd800 && PRINTABLE.test(ch)) || (r > 0xdfff && PRINTABLE.test(ch))) {
      out += ch;
      continue;
    }
    switch (r) {
      case 0x07:
        out += "\\a";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0b:
        out += "\\v";
        continue;
    }
    if (r < 0x20 || r === 0x7f) out += `\\x${hex(r, 2)}`;
    else if (r >= 0xd800 && r <= 0xdfff)
      out += "\\ufffd"; // lone surrogate: Go would see U+FFFD
    else if (r < 0x10000) out += `\\u${hex(r, 4)}`;
    else out += `\\U${hex(r, 8)}`;
  }
  return out + '"';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

function pushUtf8(buf: number[], s: string): void {
  for (const b of encoder.encode(s)) buf.push(b);
}

function unhex(c: string): number {
  const n = c.charCodeAt(0);
  if (n >= 0x30 && n <= 0x39) return n - 0x30;
  if (n >= 0x61 && n <= 0x66) return n - 0x61 + 10;
  if (n >= 0x41 && n <= 0x46) return n - 0x41 + 10;
  return -1;
}

/**
 * Port of strconv's unquote(in, decode): returns the literal at the start of `s` (its source text
 * when !decode, its value otherwise) and the rest, or null on a syntax error.
 */
function unquoteGoPrefix(s: string, decode: boolean): { out: string; rest: string } | null {
  if (s.length < 2) return null;
  const quote = s[0]!;
  const endq = s.indexOf(quote, 1);
  if (endq < 0) return null;
  if (quote === "`") {
    const body = s.slice(1, endq);
    // Raw strings cannot contain a backquote; carriage returns are discarded (Go spec, raw literals).
    return { out: decode ? body.replaceAll("\r", "") : s.slice(0, endq + 1), rest: s.slice(endq + 1) };
  }
  if (quote !== '"' && quote !== "'") return null;

  const buf: number[] = [];
  let i = 1;
  while (i < s.length && s[i] !== quote) {
    const c = s[i]!;
    if (c === "\n") return null;
    if (c !== "\\") {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushUtf8(buf, ch);
      i += ch.length;
      if (quote === "'") break;
      continue;
    }
    if (i + 1 >= s.length) return null;
    const e = s[i + 1]!;
    i += 2;
    const simple: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, "\\": 0x5c };
    if (e in simple) {
      buf.push(simple[e]!);
    } else if (e === "x" || e === "u" || e === "U") {
      const n = e === "x" ? 2 : e === "u" ? 4 : 8;
      if (i + n > s.length) return null;
      let v = 0;
      for (let j = 0; j < n; j++) {
        const x = unhex(s[i + j]!);
        if (x < 0) return null;
        v = v * 16 + x;
      }
      i += n;
      if (e === "x") {
        buf.push(v); // a raw byte, possibly half of a UTF-8 sequence
      } else {
        if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return null; // utf8.ValidRune
        pushUtf8(buf, String.fromCodePoint(v));
      }
    } else if (e >= "0" && e <= "7") {
      if (i + 2 > s.length) return null;
      let v = e.charCodeAt(0) - 0x30;
      for (let j = 0; j < 2; j++) {
        const x = s.charCodeAt(i + j) - 0x30;
        if (x < 0 || x > 7) return null;
        v = v * 8 + x;
      }
      i += 2;
      if (v > 255) return null;
      buf.push(v);
    } else if (e === "'" || e === '"') {
      if (e !== quote) return null;
      buf.push(e.charCodeAt(0));
    } else {
      return null;
    }
    if (quote === "'") break;
  }
  if (i >= s.length || s[i] !== quote) return null;
  const rest = s.slice(i + 1);
  return { out: decode ? decoder.decode(new Uint8Array(buf)) : s.slice(0, i + 1), rest };
}

/** strconv.Unquote: the whole of `s` must be one literal. */
export function unquoteGo(s: string): string | null {
  const r = unquoteGoPrefix(s, true);
  return r === null || r.rest !== "" ? null : r.out;
}

/** strconv.QuotedPrefix: the source text of the literal at the start of `s`. */
export function quotedPrefixGo(s: string): string | null {
  const r = unquoteGoPrefix(s, false);
  return r === null ? null : r.out;
}
