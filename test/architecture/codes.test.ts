/**
 * Every warning, problem and finding has a stable code from a closed list exported by its module
 * (issue #13: "a test asserts the README's code tables list exactly them"). The README must name every
 * code of every list, and every code the README names in a code list or table must exist.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FINDING_CODES, LAYER_WARNING_CODES } from "../../src/analyze/types.js";
import { BUILD_CODES } from "../../src/build/codes.js";
import { CHECK_CODES } from "../../src/check/check.js";
import { INSPECT_WARNING_CODES } from "../../src/inspect/types.js";
import { K8S_CODES } from "../../src/k8s/codes.js";
import { K8S_GEN_CODES } from "../../src/k8s/gen.js";
import { IMAGE_CHECK_CODES } from "../../src/k8s/image-codes.js";
import { MANIFEST_LIMIT_CODES } from "../../src/oci/limits.js";
import { IMAGE_ERROR_CODES } from "../../src/oci/validate.js";
import { REGISTRY_ERROR_CODES } from "../../src/registry/errors.js";
import { DEP_CODES } from "../../src/resolve/resolve.js";
import { TAR_WARNING_CODES } from "../../src/tar/reader.js";
import { repoRoot } from "../helpers/env.js";

const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
const LISTS = {
  BUILD_CODES,
  DEP_CODES,
  CHECK_CODES,
  INSPECT_WARNING_CODES,
  FINDING_CODES,
  LAYER_WARNING_CODES,
  TAR_WARNING_CODES,
  REGISTRY_ERROR_CODES,
  MANIFEST_LIMIT_CODES,
  IMAGE_ERROR_CODES,
  K8S_GEN_CODES,
  K8S_CODES,
  IMAGE_CHECK_CODES,
};
const known = new Set<string>(Object.values(LISTS).flat());
const CODE = /`([A-Z][A-Z0-9]*(?:_[A-Z0-9<>]+)+)`/g;

/** The README text from a heading that starts with `start` to the next heading of that level or higher. */
function section(start: string): string {
  const i = readme.indexOf(start);
  assert.ok(i >= 0, `README has a section ${start}`);
  const level = /^#+/.exec(start)![0].length;
  const rest = readme.slice(i + start.length);
  const next = new RegExp(`\\n#{1,${level}} `).exec(rest);
  return rest.slice(0, next ? next.index : undefined);
}

/** Codes named after "codes:" up to the end of that sentence, and in `| \`CODE\` |` table rows. */
function listed(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/codes?(?: \([^)]*\))?:([\s\S]*?)\.(?:\s|$)/g))
    for (const c of m[1]!.matchAll(CODE)) out.push(c[1]!);
  for (const m of text.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)) out.push(m[1]!);
  return out.filter((c) => !c.includes("<"));
}

test("each module's code list is named in the README section of its command", () => {
  const where: [readonly string[], string][] = [
    [DEP_CODES, "### `zerodep deps"],
    [BUILD_CODES, "### `zerodep build"],
    // check's section says "those of deps, plus …".
    [CHECK_CODES.filter((c) => !(DEP_CODES as readonly string[]).includes(c)), "### `zerodep check"],
    [FINDING_CODES.filter((c) => !(CHECK_CODES as readonly string[]).includes(c)), "### `zerodep analyze"],
    [LAYER_WARNING_CODES, "### `zerodep analyze"],
    [INSPECT_WARNING_CODES, "### Warning codes"],
    [REGISTRY_ERROR_CODES, "### Reliability: limits and hostile registries"],
    [MANIFEST_LIMIT_CODES, "### Reliability: limits and hostile registries"],
    [IMAGE_ERROR_CODES, "### Local images"],
    [K8S_GEN_CODES, "### `zerodep k8s gen"],
    [K8S_CODES, "### Kubernetes: `zerodep k8s gen`"],
    [IMAGE_CHECK_CODES, "### Kubernetes: `zerodep k8s gen`"],
  ];
  const missing: string[] = [];
  for (const [codes, heading] of where) {
    const text = section(heading);
    for (const c of codes) if (!text.includes(`\`${c}\``)) missing.push(`${c} (in ${heading})`);
  }
  assert.deepEqual(missing, []);
});

test("every code the README lists exists", () => {
  const unknown = listed(readme).filter((c) => !known.has(c));
  assert.deepEqual([...new Set(unknown)], []);
  // The table of inspect warnings is exactly the list.
  const table = [...section("### Warning codes").matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual([...table].sort(), [...INSPECT_WARNING_CODES].sort());
});

test("code lists hold no duplicates and every code is UPPER_SNAKE", () => {
  for (const [name, list] of Object.entries(LISTS)) {
    assert.equal(new Set(list).size, list.length, `${name} has duplicates`);
    // TIMEOUT predates the rule and is kept: scripts match on it (the distribution spec's own codes,
    // DENIED and UNAUTHORIZED, are single words too).
    const re =
      name === "REGISTRY_ERROR_CODES" ? /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/ : /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;
    for (const c of list) assert.match(c, re, `${name}: ${c}`);
  }
});
