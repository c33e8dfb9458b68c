// k8s policy: the Kyverno ClusterPolicy has the rules the README names, and Kyverno's own engine (its
// CLI, `kyverno apply`) passes every manifest k8s gen writes and fails a worsened one rule by rule.
// The Gatekeeper form is checked for its shape only (Gatekeeper is not run).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { generateManifests } from "../../src/k8s/gen.js";
import {
  gatekeeperConstraints,
  kyvernoPolicy,
  POLICY_EXPLANATION,
  POLICY_RULES,
} from "../../src/k8s/policy.js";
import { zerodep } from "../helpers/cli.js";
import { needs } from "../helpers/env.js";
import { buildGoProgram, kyvernoPath, TMP_WRITER } from "./gen-tools-for-tests.js";

const yaml = createRequire(import.meta.url)("yaml") as typeof import("yaml");

// biome-ignore lint/suspicious/noExplicitAny: the policy document, walked by its known shape
type Obj = Record<string, any>;

test("a Kyverno ClusterPolicy with the named rules, each matching Pods (autogen covers controllers)", () => {
  const r = kyvernoPolicy();
  const doc = yaml.parse(r.yaml) as Obj;
  assert.deepEqual(r.document, doc);
  assert.equal(doc.apiVersion, "kyverno.io/v1");
  assert.equal(doc.kind, "ClusterPolicy");
  assert.equal(doc.metadata.name, "zerodep-restricted");
  assert.equal(doc.spec.validationFailureAction, "Audit");
  assert.deepEqual(
    doc.spec.rules.map((x: Obj) => x.name),
    [...POLICY_RULES],
  );
  for (const rule of doc.spec.rules as Obj[]) {
    assert.deepEqual(rule.match, { any: [{ resources: { kinds: ["Pod"] } }] });
    assert.deepEqual(rule.exclude, { any: [{ resources: { namespaces: ["kube-system"] } }] });
    assert.equal(typeof rule.validate.message, "string");
  }
  assert.deepEqual(doc.spec.rules[0].validate.podSecurity, { level: "restricted", version: "latest" });
  assert.equal(kyvernoPolicy().yaml, r.yaml, "deterministic");
});

test("options: Enforce, a name, no exclusions, a pinned Pod Security version; bad values are usage errors", () => {
  const d = kyvernoPolicy({
    action: "Enforce",
    name: "team-a",
    excludeNamespaces: [],
    podSecurityVersion: "v1.30",
  }).document as Obj;
  assert.equal(d.spec.validationFailureAction, "Enforce");
  assert.equal(d.metadata.name, "team-a");
  assert.equal(d.spec.rules[0].exclude, undefined);
  assert.equal(d.spec.rules[0].validate.podSecurity.version, "v1.30");
  assert.throws(() => kyvernoPolicy({ name: "Bad_Name" }), { code: "USAGE" });
  assert.throws(() => kyvernoPolicy({ action: "Warn" as "Audit" }), { code: "USAGE" });
});

test("the explanation says what an admission policy cannot see", () => {
  for (const fact of ["/etc/passwd", "emptyDir", "GOMAXPROCS", "USER", "entrypoint"])
    assert.ok(POLICY_EXPLANATION.includes(fact), fact);
  assert.equal(kyvernoPolicy().explanation, POLICY_EXPLANATION);
});

test("the Gatekeeper form: one constraint per gatekeeper-library template, dryrun unless Enforce", () => {
  const g = gatekeeperConstraints();
  const docs = yaml.parseAllDocuments(g.yaml).map((d) => d.toJS() as Obj);
  assert.deepEqual(g.documents, docs);
  assert.deepEqual(
    docs.map((d) => d.kind),
    [
      "K8sPSPPrivilegedContainer",
      "K8sPSPHostNamespace",
      "K8sPSPHostFilesystem",
      "K8sPSPAllowPrivilegeEscalationContainer",
      "K8sPSPCapabilities",
      "K8sPSPSeccompV2",
      "K8sPSPAllowedUsers",
      "K8sPSPReadOnlyRootFilesystem",
      "K8sImageDigests",
    ],
  );
  for (const d of docs) {
    assert.equal(d.apiVersion, "constraints.gatekeeper.sh/v1beta1");
    assert.equal(d.spec.enforcementAction, "dryrun");
    assert.deepEqual(d.spec.match.excludedNamespaces, ["kube-system"]);
  }
  assert.equal(new Set(docs.map((d) => d.metadata.name)).size, docs.length, "names are unique");
  assert.equal(
    (gatekeeperConstraints({ action: "Enforce" }).documents[0] as Obj).spec.enforcementAction,
    "deny",
  );
});

const work = join(tmpdir(), `zd-k8s-policy-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

test("kyverno apply: every generated kind passes every rule; a worsened Deployment fails four of them", {
  skip: needs({ tools: ["go"] }) || (kyvernoPath() ? false : needs({ tools: ["kyverno"] })),
  timeout: 300_000,
}, async () => {
  const kyverno = kyvernoPath()!;
  const bin = buildGoProgram(join(work, "src"), "tmpwriter", TMP_WRITER, "1.24");
  const ref = `oci:${join(work, "layout")}:t`;
  const p = zerodep(["pack", bin, "--port", "8080", "--out", ref]);
  assert.equal(p.code, 0, p.stderr);
  const policy = join(work, "policy.yaml");
  writeFileSync(policy, kyvernoPolicy({ action: "Enforce" }).yaml);
  const files: string[] = [];
  for (const kind of ["Deployment", "StatefulSet", "Job", "CronJob", "Pod"] as const) {
    const r = await generateManifests(ref, { kind, schedule: "0 3 * * *", ports: [80] });
    const f = join(work, `${kind}.yaml`);
    writeFileSync(f, r.yaml);
    files.push(f);
  }
  const apply = (resources: string[]) => {
    const r = spawnSync(kyverno, ["apply", policy, ...resources.flatMap((f) => ["--resource", f])], {
      encoding: "utf8",
      timeout: 120_000,
    });
    return { code: r.status, out: `${r.stdout}${r.stderr}` };
  };
  const good = apply(files);
  assert.equal(good.code, 0, good.out);
  // Six rules on each of five workloads (Kyverno's autogen turns each Pod rule into controller rules).
  assert.match(good.out, /pass: 30, fail: 0, warn: 0, error: 0, skip: 0/);

  const r = await generateManifests(ref);
  const worse = join(work, "worse.yaml");
  writeFileSync(
    worse,
    r.yaml
      .replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
      .replace("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true")
      .replace(/runAsUser: \d+/, "runAsUser: 0")
      .replace(/@sha256:[0-9a-f]{64}/, ":latest"),
  );
  const bad = apply([worse]);
  assert.notEqual(bad.code, 0, bad.out);
  assert.match(bad.out, /pass: 2, fail: 4/);
  for (const rule of [
    "pod-security-restricted",
    "require-numeric-run-as-user",
    "require-read-only-root-filesystem",
    "require-image-digest",
  ])
    assert.match(bad.out, new RegExp(`autogen-${rule}`), rule);
  // The podSecurity rule speaks PSA's words.
  assert.match(bad.out, /Forbidden reason: allowPrivilegeEscalation != false/);
});
