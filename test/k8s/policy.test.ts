// k8s policy: the Kyverno ClusterPolicy has the rules the README names. (Kyverno's own engine was run on
// it by hand — `kyverno apply` v1.13.4: every generated kind passes, a worsened Deployment fails four
// rules — but its CLI takes about 20 minutes and 1 GB of modules to build, too much for CI.)
// The Gatekeeper form is checked for its shape only (Gatekeeper is not run).
import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import {
  gatekeeperConstraints,
  kyvernoPolicy,
  POLICY_EXPLANATION,
  POLICY_RULES,
} from "../../src/k8s/policy.js";

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
