/**
 * loadManifests reads YAML as kubectl does (issue #16: the lint must see the values the API server
 * will get): each document below is read by sigs.k8s.io/yaml v1.6.0 (go-yaml v2, YAML 1.1; the
 * reader of kubectl and client-go) through the oracle in test/oracles/psa, and by loadManifests. The
 * values must be equal; what kubectl's strict reader refuses (duplicate keys) or cannot read at all,
 * loadManifests refuses too.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ZerodepError } from "../../src/errors.js";
import { loadManifests } from "../../src/k8s/yaml.js";
import { skipNow } from "../helpers/env.js";
import { psaOracle, runPsaOracle } from "../helpers/psa-oracle.js";

const SCALARS = [
  "y",
  "Y",
  "yes",
  "Yes",
  "YES",
  "n",
  "N",
  "no",
  "No",
  "on",
  "On",
  "ON",
  "off",
  "Off",
  "true",
  "True",
  "TRUE",
  "false",
  "False",
  "~",
  "null",
  "Null",
  "NULL",
  "0644",
  "0o17",
  "0x1F",
  "-0x1F",
  "0b101",
  "+0b1",
  "1_000",
  "-1_0",
  "+12",
  "-0",
  "0",
  "00",
  "08",
  "0777",
  "1e3",
  "1.5e3",
  "12.0",
  ".5",
  "-.5",
  "1.",
  "0.1",
  ".inf",
  "-.Inf",
  ".nan",
  "1:20",
  "190:20:30",
  "2024-01-02",
  "2024-01-02T03:04:05Z",
  "2001-12-14 21:59:43.10 -5",
  "9007199254740993",
  "123456789012345678901234567890",
  "=",
  "'quoted'",
  '"dq \\u00e9 \\/"',
  "foo bar",
  "runtime/default",
  "'0644'",
  '"yes"',
  "!!str 123",
  "!!str yes",
  '!!int "12"',
  "!!float 1",
  "'<<'",
];

const DOCS = [
  ...SCALARS.map((s) => `kind: X\nv: ${s}\n`),
  ...SCALARS.filter((s) => !s.startsWith("!!")).map((s) => `kind: X\n${s}: 1\n`),
  "base: &b {x: 1, z: 2}\nm:\n  <<: *b\n  z: 3\n",
  "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nm:\n  <<: [*a, *b]\n",
  "a: &a [1, 2]\nb: *a\n",
  "a: |\n  line 1\n  line 2\nb: >-\n  folded\n  text\n",
  '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c"}]}}',
  "a: 1\na: 2\n",
  "a:\n  b: 1\n  b: 1\n",
  "yes: 1\ntrue: 2\n",
  "1: a\n'1': b\n",
  "a: [1, {b: c}, [d]]\n",
  "a:\n- 1\n-   - 2\n    - 3\n",
  'key with spaces: value\n"quoted key": 1\n',
  "a: 'it''s'\nb: \"tab\\there\"\n",
];

/**
 * Where loadManifests refuses on purpose what kubectl reads silently: keys that differ only in their
 * YAML type become one JSON key, and kubectl keeps whichever came last.
 */
const REFUSED_ON_PURPOSE = ["1: a\n'1': b\n"];
/**
 * Not handled like kubectl (none of them in real manifests): JSON's `\/` escape, which go-yaml v2
 * refuses; the `!!float` tag; a key too big for int64, which kubectl formats as a float32.
 */
const KNOWN_DIFFERENT = [
  'kind: X\nv: "dq \\u00e9 \\/"\n',
  'kind: X\n"dq \\u00e9 \\/": 1\n',
  "kind: X\nv: !!float 1\n",
  "kind: X\n123456789012345678901234567890: 1\n",
];

/** JSON with sorted keys (Go's encoding/json sorts map keys). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}

test("loadManifests reads every document as sigs.k8s.io/yaml (kubectl) does", async (t) => {
  const bin = psaOracle();
  if (!bin) return skipNow(t, "MISSING: tool go (builds the oracle, test/oracles/psa)");
  const want = await runPsaOracle(
    bin,
    DOCS.map((yaml) => ({ yaml })),
  );
  const disagreements: string[] = [];
  let agree = 0;
  DOCS.forEach((text, i) => {
    const w = want[i]!;
    let got: unknown;
    let err: string | undefined;
    try {
      const docs = loadManifests(text, "m.yaml");
      got = docs.length === 0 ? null : docs[0]!.value;
    } catch (e) {
      if (!(e instanceof ZerodepError)) throw e;
      err = e.message;
    }
    // A merged key that the map sets again is a duplicate to the strict reader only; YAML's merge lets
    // the map's own key win, as kubectl's (non-strict) reader does.
    const strict = w.strictError !== undefined && !text.includes("<<:");
    const refuses = w.error !== undefined || strict || REFUSED_ON_PURPOSE.includes(text);
    const same = refuses ? err !== undefined : err === undefined && canonical(got) === canonical(w.json);
    if (KNOWN_DIFFERENT.includes(text)) {
      assert.ok(!same, `now read alike, drop it from KNOWN_DIFFERENT: ${JSON.stringify(text)}`);
      return;
    }
    if (same) agree++;
    else
      disagreements.push(
        `${JSON.stringify(text)}\n  kubectl: ${JSON.stringify(w)}\n  ours: ${err ?? JSON.stringify(got)}`,
      );
  });
  t.diagnostic(
    `${agree} of ${DOCS.length - KNOWN_DIFFERENT.length} documents read alike (${KNOWN_DIFFERENT.length} known differences)`,
  );
  assert.deepEqual(disagreements, []);
});
