import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ZerodepError } from "../../src/errors.js";
import { canonicalJson, compareCodePoints } from "../../src/oci/canonical-json.js";
import { needs, run } from "../helpers/env.js";

const text = (v: unknown) => new TextDecoder().decode(canonicalJson(v));

// Keys chosen so that UTF-16 code unit order (JS sort) and code point order disagree: U+1F600 is
// stored as the surrogate pair D83D DE00, which sorts before U+FF21 by code unit but after it by code point.
const VECTOR = {
  "\u{1F600}": "astral",
  "\uFF21": "fullwidth A",
  é: ["x", 1, true, null, { z: 0, y: -12, x: 'a"b\\c\n\t\u0001\u007f' }],
  b: { d: {}, c: [], "": "empty key" },
  a: 9007199254740991,
  A: false,
  "a b": "space",
  "a-b": 0,
};
// Hand-checked: keys by code point: "" < "A" < "a" < "a b" < "a-b" < "b"... at each level.
const EXPECTED =
  '{"A":false,"a":9007199254740991,"a b":"space","a-b":0,"b":{"":"empty key","c":[],"d":{}},' +
  '"é":["x",1,true,null,{"x":"a\\"b\\\\c\\n\\t\\u0001\u007f","y":-12,"z":0}],"Ａ":"fullwidth A","😀":"astral"}';

test("canonicalJson: keys sorted by code point at every level, no whitespace (hand-checked vector)", () => {
  assert.equal(text(VECTOR), EXPECTED);
});

test("canonicalJson: UTF-8 output, insertion order never matters", () => {
  const reversed = Object.fromEntries(Object.entries(VECTOR).reverse());
  assert.deepEqual(canonicalJson(reversed), canonicalJson(VECTOR));
  assert.deepEqual(
    Buffer.from(canonicalJson({ é: 1 })),
    Buffer.from([0x7b, 0x22, 0xc3, 0xa9, 0x22, 0x3a, 0x31, 0x7d]),
  );
  assert.deepEqual(JSON.parse(text(VECTOR)), VECTOR);
});

test("canonicalJson: code point order differs from JS sort on astral keys", () => {
  const keys = ["\u{1F600}", "\uFF21"];
  assert.deepEqual([...keys].sort(), ["\u{1F600}", "\uFF21"]); // UTF-16 code units: wrong for us
  assert.deepEqual([...keys].sort(compareCodePoints), ["\uFF21", "\u{1F600}"]);
  assert.equal(compareCodePoints("ab", "a"), 1);
  assert.equal(compareCodePoints("", "a"), -1);
  assert.equal(compareCodePoints("x\u{1F600}", "x\u{1F600}"), 0);
});

test("canonicalJson: undefined properties are dropped; values without a JSON form are refused", () => {
  assert.equal(text({ a: undefined, b: 1 }), '{"b":1}');
  assert.equal(text({ d: new Date(0) }), '{"d":"1970-01-01T00:00:00.000Z"}');
  assert.equal(text({ n: -0 }), '{"n":0}');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (const bad of [
    NaN,
    Infinity,
    1n,
    () => 1,
    Symbol("s"),
    undefined,
    [undefined],
    new Map(),
    new Uint8Array(2),
    cyclic,
  ]) {
    assert.throws(
      () => canonicalJson(bad),
      (e: unknown) => e instanceof ZerodepError && e.code === "JSON_UNSERIALIZABLE",
      String(typeof bad),
    );
  }
  // A shared (not cyclic) sub-object is fine.
  const shared = { k: 1 };
  assert.equal(text({ a: shared, b: shared }), '{"a":{"k":1},"b":{"k":1}}');
});

test("canonicalJson matches Go encoding/json marshalling the same map (SetEscapeHTML(false))", {
  skip: needs({ tools: ["go"] }),
}, () => {
  const dir = mkdtempSync(join(tmpdir(), "zerodep-cjson-"));
  try {
    writeFileSync(join(dir, "in.json"), JSON.stringify(VECTOR, null, 2));
    writeFileSync(
      join(dir, "main.go"),
      `package main
import ("bytes"; "encoding/json"; "os")
func main() {
	raw, _ := os.ReadFile(os.Args[1])
	var v any
	d := json.NewDecoder(bytes.NewReader(raw)); d.UseNumber()
	if err := d.Decode(&v); err != nil { panic(err) }
	e := json.NewEncoder(os.Stdout); e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil { panic(err) }
}
`,
    );
    const env = { ...process.env, GOCACHE: process.env.GOCACHE ?? join(dir, "gocache"), GO111MODULE: "off" };
    const out = run("go", ["run", join(dir, "main.go"), join(dir, "in.json")], { env }).stdout;
    assert.equal(text(VECTOR), out.replace(/\n$/, ""));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
