/**
 * Manifests read from YAML and JSON (issue #16): Helm-style streams, List expansion, YAML 1.1 scalars as
 * kubectl reads them, positions of fields (expected line:column counted by hand in the texts below), one
 * clear line for bad input, and hostile input (alias bombs, deep nesting, 10 MB documents, files over
 * 16 MiB) bounded in a child process with a watchdog.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { ZerodepError } from "../../src/errors.js";
import { loadManifests, MANIFEST_MAX_DOCUMENT_TOKENS, readManifestFile } from "../../src/k8s/yaml.js";
import { repoRoot } from "../helpers/env.js";
import { inChild } from "../helpers/in-child.js";

const work = join(tmpdir(), `zd-k8s-yaml-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

function errorOf(text: string, file = "m.yaml"): string {
  try {
    loadManifests(text, file);
  } catch (e) {
    assert.ok(e instanceof ZerodepError, String(e));
    assert.equal(e.code, "MANIFEST_INVALID");
    assert.ok(!e.message.includes("\n"), "one line");
    return e.message;
  }
  return "no error";
}

const HELM = [
  "---", // 1
  "# Source: app/templates/serviceaccount.yaml", // 2
  "---", // 3
  "# Source: app/templates/deployment.yaml", // 4
  "apiVersion: apps/v1", // 5
  "kind: Deployment", // 6
  "metadata:", // 7
  "  name: web", // 8
  "spec:", // 9
  "  template:", // 10
  "    spec:", // 11
  "      hostNetwork: yes # YAML 1.1, as kubectl reads it", // 12
  "      containers:", // 13
  "        - name: app", // 14
  "          securityContext:", // 15
  "            privileged: on", // 16
  "---", // 17
  "~", // 18
  "---", // 19
  '{"apiVersion": "v1", "kind": "List", "items": [', // 20
  '  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p\\/1"}, "spec": {"containers": []}},', // 21
  '  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"}}', // 22
  "]}", // 23
].join("\n");

test("a Helm stream: comments and empty documents skipped, a JSON List expanded into its items", () => {
  const docs = loadManifests(HELM, "rendered.yaml");
  assert.deepEqual(
    docs.map((d) => [d.index, (d.value as { kind: string }).kind]),
    [
      [1, "Deployment"],
      [3, "Pod"],
      [3, "Service"],
    ],
  );
  const spec = (docs[0]!.value as { spec: { template: { spec: Record<string, unknown> } } }).spec.template
    .spec;
  assert.equal(spec.hostNetwork, true);
  assert.deepEqual(spec.containers, [{ name: "app", securityContext: { privileged: true } }]);
  assert.equal((docs[1]!.value as { metadata: { name: string } }).metadata.name, "p/1");
  assert.equal(docs[0]!.file, "rendered.yaml");
});

test("positions: the key of a field, else its nearest existing parent; List items map into the item", () => {
  const [dep, pod, svc] = loadManifests(HELM, "rendered.yaml");
  const c0 = ["spec", "template", "spec", "containers", 0];
  assert.deepEqual(dep!.positionOf([...c0, "securityContext", "privileged"]), { line: 16, column: 13 });
  // absent: runAsNonRoot → the securityContext key that lacks it
  assert.deepEqual(dep!.positionOf([...c0, "securityContext", "runAsNonRoot"]), { line: 15, column: 11 });
  assert.deepEqual(dep!.positionOf(c0), { line: 14, column: 11 });
  assert.deepEqual(dep!.positionOf(["spec", "template", "spec", "hostNetwork"]), { line: 12, column: 7 });
  assert.deepEqual(dep!.positionOf([]), { line: 5, column: 1 });
  assert.deepEqual(pod!.positionOf(["metadata", "name"]), { line: 21, column: 52 });
  assert.deepEqual(pod!.positionOf([]), { line: 21, column: 3 });
  assert.deepEqual(svc!.positionOf(["spec", "containers"]), { line: 22, column: 3 });
});

test("YAML 1.1 scalars and merge keys as go-yaml v2 (kubectl) reads them; timestamps stay text", () => {
  const [d] = loadManifests(
    [
      "kind: X",
      "defaults: &d {runAsNonRoot: true, runAsUser: 1000}",
      "sc:",
      "  <<: *d",
      "  runAsUser: 0",
      "mode: 0644",
      "off: n",
      "created: 2024-01-02T03:04:05Z",
      "big: 9007199254740993",
    ].join("\n"),
    "m.yaml",
  );
  assert.deepEqual(d!.value, {
    kind: "X",
    defaults: { runAsNonRoot: true, runAsUser: 1000 },
    sc: { runAsUser: 0, runAsNonRoot: true },
    mode: 420,
    false: false,
    created: "2024-01-02T03:04:05Z",
    big: 9007199254740992,
  });
});

test("a __proto__ key is a plain property, not the prototype (no prototype pollution)", () => {
  const [d] = loadManifests("kind: X\n__proto__: {polluted: true}\n", "m.yaml");
  const v = d!.value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ["kind", "__proto__"]);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.deepEqual(d!.positionOf(["__proto__", "polluted"]), { line: 2, column: 13 });
});

test("bad input: one line with FILE:LINE:COL", () => {
  assert.equal(errorOf("a: 1\nb:\n  c: 1\n  c: 2\n"), 'm.yaml:4:3: duplicate key "c" (first at 3:3)');
  assert.match(errorOf("kind: Pod\nspec: [\n"), /^m\.yaml:3:1: not valid YAML: /);
  assert.equal(
    errorOf("---\n- a\n"),
    "m.yaml:2:1: document 0 is a list; a manifest is a map (apiVersion, kind, metadata, …)",
  );
  assert.equal(errorOf("a: *nope\n"), "m.yaml:1:4: alias *nope names no anchor before it");
  assert.match(errorOf("a: \u001b[31m\n"), /^m\.yaml:1:4: control character U\+001B: /);
  assert.equal(
    errorOf("kind: List\nitems:\n- 1\n"),
    "m.yaml:3:3: items[0] of a List is not a map (apiVersion, kind, metadata, …)",
  );
  assert.equal(
    errorOf("{a: 1}: x\n"),
    "m.yaml:1:1: a map key must be a scalar (a string or a number), not a collection",
  );
});

const yamlJs = join(repoRoot, "dist", "src", "k8s", "yaml.js");
/** readManifestFile in a child (a crash or hang cannot take the runner with it), with a watchdog. */
function readInChild(file: string, watchdogMs = 20_000) {
  return inChild(
    yamlJs,
    `return "documents " + (await m.readManifestFile(${JSON.stringify(file)})).length;`,
    watchdogMs,
  );
}
function write(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

test("billion laughs is refused after 100 aliases, in a child under the watchdog and 200 MiB", () => {
  const lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i <= 9; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(", ")}]`,
    );
  const r = readInChild(write("laughs.yaml", lines.join("\n")));
  assert.equal(r.signal, null, "finished within the watchdog");
  // a1 follows 9 aliases, a2 9 + 9 × 9 (99 so far); a3's first alias is the 100th, and the first alias
  // inside the a2 it stands for, "*a1" at line 3 column 10, is the 101st.
  assert.match(
    r.message,
    /^MANIFEST_INVALID .*laughs\.yaml:3:10: more than 100 aliases \(\*name\) followed: refusing an alias bomb$/,
  );
  assert.ok(r.mib < 200, `peak RSS ${r.mib.toFixed(0)} MiB`);
});

test("one big anchor used many times is refused before it expands", () => {
  const big = `x: &x [${Array(300_000).fill("1").join(",")}]\n${Array.from({ length: 50 }, (_, i) => `y${i}: *x`).join("\n")}`;
  const r = readInChild(write("bigalias.yaml", big));
  assert.equal(r.signal, null, "finished within the watchdog");
  assert.match(
    r.message,
    /^MANIFEST_INVALID .*bigalias\.yaml:1:\d+: aliases expand to more values than the file has: refusing an alias bomb$/,
  );
});

test("deep nesting (flow, compact block, indentation) is refused before the recursive composer runs", () => {
  const half = 1 << 19;
  const cases: [string, string, RegExp][] = [
    ["flow.yaml", "[".repeat(half) + "]".repeat(half), /flow\.yaml:1:129: nested more than 128 levels deep$/],
    ["compact.yaml", "- ".repeat(half), /compact\.yaml:1:257: nested more than 128 levels deep$/],
    [
      "indent.yaml",
      Array.from({ length: 1400 }, (_, i) => `${" ".repeat(i)}a:`).join("\n"),
      /indent\.yaml:129:129: nested more than 128 levels deep$/,
    ],
  ];
  for (const [name, text, want] of cases) {
    const r = readInChild(write(name, text));
    assert.equal(r.signal, null, `${name}: finished within the watchdog`);
    assert.match(r.message, want);
    assert.ok(r.mib < 300, `${name}: peak RSS ${r.mib.toFixed(0)} MiB`);
  }
});

test("a 10 MB ConfigMap is read (watchdog 60 s on a loaded 2-core machine, under 1 GiB)", () => {
  const text = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n${Array.from({ length: 100_000 }, (_, i) => `  key${i}: "${"x".repeat(90)}"\n`).join("")}`;
  assert.ok(text.length > 10_000_000);
  const r = readInChild(write("big.yaml", text), 60_000);
  assert.equal(r.signal, null, "finished within the watchdog");
  assert.equal(r.message, "documents 1");
  assert.ok(r.mib < 1024, `peak RSS ${r.mib.toFixed(0)} MiB`);
});

test("a 10 MB flow list of tiny values is refused by the token cap, not read into gigabytes", () => {
  const r = readInChild(
    write("flow-big.yaml", `a: [${Array.from({ length: 1_500_000 }, (_, i) => i).join(",")}]\n`),
    60_000,
  );
  assert.equal(r.signal, null, "finished within the watchdog");
  assert.match(
    r.message,
    /^MANIFEST_INVALID .*flow-big\.yaml:1:\d+: a YAML document of more than 2000000 tokens$/,
  );
  assert.ok(r.mib < 1024, `peak RSS ${r.mib.toFixed(0)} MiB`);
});

test("the token cap is per document: a stream with more tokens than one document may have is read", () => {
  const doc = (i: number) =>
    `---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d${i}\n  labels: {app: x}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        securityContext: {runAsNonRoot: true}\n`;
  const text = Array.from({ length: 30_000 }, (_, i) => doc(i)).join("");
  let tokens = 0;
  for (const _ of new (createRequire(import.meta.url)("yaml") as typeof import("yaml")).Lexer().lex(text))
    tokens++;
  assert.ok(tokens > MANIFEST_MAX_DOCUMENT_TOKENS, `${tokens} tokens in the stream`);
  const r = readInChild(write("stream.yaml", text), 60_000);
  assert.equal(r.signal, null, "finished within the watchdog");
  assert.equal(r.message, "documents 30000");
});

test("a file over 16 MiB is refused before it is read; not UTF-8 names the byte", async () => {
  const p = join(work, "huge.yaml");
  writeFileSync(p, "");
  truncateSync(p, (16 << 20) + 1);
  await assert.rejects(readManifestFile(p), (e: ZerodepError) => {
    assert.equal(e.code, "MANIFEST_INVALID");
    assert.match(
      e.message,
      /huge\.yaml: 16777217 bytes; a manifest file may have at most 16777216 \(16 MiB\)$/,
    );
    return true;
  });
  const bad = write("latin1.yaml", "kind: Pod\nmetadata:\n  name: caf\xe9\n");
  writeFileSync(bad, Buffer.from("kind: Pod\nmetadata:\n  name: caf\xe9\n", "latin1"));
  await assert.rejects(readManifestFile(bad), /latin1\.yaml:3:12: not UTF-8 \(byte 0xe9 at offset 31\)/);
  await assert.rejects(
    readManifestFile(join(work, "absent.yaml")),
    (e: Error) => !(e instanceof ZerodepError) || e.code !== "MANIFEST_INVALID",
  );
});
