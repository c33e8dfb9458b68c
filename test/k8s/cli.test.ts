// zerodep k8s gen → lint → policy from the command line, on an image built by the test: the generated
// manifest lints clean (Pod Security restricted and every image-aware check), a worsened copy fails
// with positions, SARIF validates against the SARIF 2.1.0 schema (read from the go-sarif module, which
// embeds the OASIS schema, and checked by Python's jsonschema), and bad input is one line.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { needs, repoRoot } from "../helpers/env.js";

const work = join(tmpdir(), `zd-k8s-cli-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));
const skip = needs({ tools: ["go", "git", "skopeo", "/usr/bin/python3"] });

/** The SARIF 2.1.0 JSON schema, from the go-sarif module (fetched through the Go module proxy). */
function sarifSchema(): string {
  const r = spawnSync("go", ["mod", "download", "-json", "github.com/owenrumney/go-sarif/v3@v3.3.1"], {
    encoding: "utf8",
    cwd: work,
  });
  assert.equal(r.status, 0, r.stderr);
  const dir = (JSON.parse(r.stdout) as { Dir: string }).Dir;
  const src = readFileSync(join(dir, "pkg", "report", "v210", "sarif", "schema.go"), "utf8");
  const m = /`(\{[\s\S]*\})\s*`/.exec(src);
  assert.ok(m, "schema.go holds the schema as a raw string");
  const file = join(work, "sarif-schema-2.1.0.json");
  writeFileSync(file, m[1]!);
  assert.match(m[1]!, /"\$schema": "http:\/\/json-schema.org\/draft-04\/schema#"/);
  return file;
}

function validate(schema: string, doc: string): { ok: boolean; out: string } {
  const py = `import json,sys,jsonschema
s=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))
errs=sorted(jsonschema.Draft4Validator(s).iter_errors(d), key=str)
print("\\n".join(e.message for e in errs[:5])); sys.exit(1 if errs else 0)`;
  const r = spawnSync("/usr/bin/python3", ["-c", py, schema, doc], { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe("zerodep k8s: gen → lint → policy", { skip }, () => {
  let image: string;
  let gen: string;
  let digest: string;
  before(() => {
    const dir = join(work, "svc");
    spawnSync("cp", ["-r", join(repoRoot, "test", "fixtures", "build-src", "go-service"), dir]);
    image = `oci:${join(work, "img")}:latest`;
    const b = zerodep(["build", "-C", dir, "--out", image, "--port", "8080", "--json"], {
      timeoutMs: 300_000,
    });
    assert.equal(b.code, 0, b.stderr);
    digest = (JSON.parse(b.stdout) as { images: { digest: string }[] }).images[0]!.digest;
    gen = join(work, "gen.yaml");
    const g = zerodep([
      "k8s",
      "gen",
      image,
      "--repository",
      "registry.example/team/svc",
      "--service",
      "-o",
      gen,
    ]);
    assert.equal(g.code, 0, g.stderr);
  });

  test("gen pins the image by the digest build wrote, and writes a Service for the exposed port", () => {
    const y = readFileSync(gen, "utf8");
    assert.ok(y.includes(`image: registry.example/team/svc@${digest}`), y);
    assert.match(y, /^kind: Service$/m);
    assert.match(y, /containerPort: 8080/);
  });

  test("the generated manifest lints clean, images included", () => {
    const r = zerodep([
      "k8s",
      "lint",
      gen,
      "--image",
      `registry.example/team/svc@${digest}=${image}`,
      "--json",
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const j = JSON.parse(r.stdout) as { findings: unknown[]; notes: string[]; workloads: number };
    assert.equal(j.workloads, 1);
    assert.deepEqual(j.findings, []);
    assert.deepEqual(j.notes, []);
  });

  test("a worsened copy fails with the API server's words at the right line; SARIF 2.1.0 validates", () => {
    const lines = readFileSync(gen, "utf8").split("\n");
    const at = lines.findIndex((l) => l.includes("allowPrivilegeEscalation: false"));
    lines[at] = lines[at]!.replace("false", "true");
    const bad = join(work, "bad.yaml");
    writeFileSync(bad, lines.join("\n"));
    const sarif = join(work, "out.sarif");
    const r = zerodep(["k8s", "lint", bad, "--no-images", "--sarif", sarif]);
    assert.equal(r.code, 1, r.stderr);
    const col = lines[at]!.indexOf("allowPrivilegeEscalation") + 1;
    assert.ok(
      r.stdout.includes(
        `${bad}:${at + 1}:${col}  error   PSA_allowPrivilegeEscalation  Deployment/svc: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "svc" must set securityContext.allowPrivilegeEscalation=false)`,
      ),
      r.stdout,
    );
    const v = validate(sarifSchema(), sarif);
    assert.ok(v.ok, v.out);
    const s = JSON.parse(readFileSync(sarif, "utf8"));
    const res = s.runs[0].results[0];
    assert.equal(res.ruleId, "PSA_allowPrivilegeEscalation");
    assert.deepEqual(res.locations[0].physicalLocation.region, { startLine: at + 1, startColumn: col });
    // Can fail: the validator rejects a SARIF log with a wrong level.
    s.runs[0].results[0].level = "fatal";
    writeFileSync(join(work, "broken.sarif"), JSON.stringify(s));
    assert.equal(validate(sarifSchema(), join(work, "broken.sarif")).ok, false);
  });

  test("stdin (-) and --fail-on", () => {
    const r = zerodep(["k8s", "lint", "-", "--no-images", "--level", "baseline"], {
      input: readFileSync(gen, "utf8"),
    });
    assert.equal(r.code, 0, r.stderr);
    const w = zerodep(["k8s", "lint", gen, "--fail-on", "warning"]); // the registry image is not reachable: a note only
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stderr, /note: .* not checked/);
  });

  test("documents that are not Kubernetes objects are notes, not crashes; other kinds pass through", () => {
    const f = join(work, "odd.yaml");
    writeFileSync(
      f,
      "just: a map\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {}\n",
    );
    const r = zerodep(["k8s", "lint", f, "--no-images", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { notes: string[]; documents: number; workloads: number };
    assert.equal(j.documents, 3);
    assert.equal(j.workloads, 0);
    assert.equal(j.notes.filter((n) => /not a Kubernetes object/.test(n)).length, 1);
    assert.ok(j.notes.some((n) => /Deployment d has no pod template/.test(n)));
  });

  test("invalid YAML is exit 3 with file:line:column, one line", () => {
    const f = join(work, "broken.yaml");
    writeFileSync(f, "apiVersion: v1\nkind: Pod\nmetadata: {name: x\n");
    const r = zerodep(["k8s", "lint", f, "--no-images"]);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`${f.replace(/[.]/g, "\\.")}:\\d+:\\d+: `));
  });

  test("policy: a Kyverno ClusterPolicy, Gatekeeper constraints, and what neither can see", () => {
    const k = zerodep(["k8s", "policy", "--action", "Enforce"]);
    assert.equal(k.code, 0, k.stderr);
    assert.match(k.stdout, /^kind: ClusterPolicy$/m);
    assert.match(k.stdout, /validationFailureAction: Enforce|failureAction: Enforce/);
    const g = zerodep(["k8s", "policy", "--engine", "gatekeeper"]);
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /constraints\.gatekeeper\.sh/);
    const e = zerodep(["k8s", "policy", "--explain"]);
    assert.match(e.stdout, /never the image/);
  });
});
