// k8s gen against real images: packed by `zerodep pack` from Go programs built here, their facts
// checked against what other tools read from the same bytes (skopeo for the digest, tar for the image's
// passwd, `go version -m` and `go tool nm` for the binary), and the manifests judged by a strict decode
// into k8s.io/api and by kube-score.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type GenResult, generateManifests, goFollowsCpuLimit } from "../../src/k8s/gen.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";
import { psaOracle, runPsaOracle } from "../helpers/psa-oracle.js";
import { startRegistry, type TestRegistry } from "../registry/registry-for-tests.js";
import {
  buildGoProgram,
  CACHE_WRITER,
  goDefaultGodebug,
  goHasSymbol,
  kubeScorePath,
  TMP_WRITER,
} from "./gen-tools-for-tests.js";

const work = join(tmpdir(), `zd-k8s-gen-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

/** Packs a binary into oci:DIR:t with extra pack flags; returns the reference. */
function pack(name: string, binary: string, flags: string[] = []): string {
  const ref = `oci:${join(work, name)}:t`;
  const r = zerodep(["pack", binary, ...flags, "--out", ref]);
  assert.equal(r.code, 0, r.stderr);
  return ref;
}

/** The manifest digest of an image as skopeo reads it. */
function skopeoDigest(ref: string, extra: string[] = []): string {
  return (JSON.parse(run("skopeo", ["inspect", ...extra, ref]).stdout) as { Digest: string }).Digest;
}

/** A file of an image in an OCI layout, read with tar from the layers (last layer wins). */
function fileFromLayout(dir: string, path: string): string | null {
  const index = JSON.parse(readFileSync(join(dir, "index.json"), "utf8")) as {
    manifests: { digest: string }[];
  };
  const blob = (d: string) => join(dir, "blobs", ...d.split(":"));
  const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), "utf8")) as {
    layers: { digest: string }[];
  };
  let found: string | null = null;
  for (const l of manifest.layers) {
    const names = run("tar", ["-tzf", blob(l.digest)]).stdout.split("\n");
    const name = names.find((n) => n.replace(/^\.?\//, "") === path.replace(/^\//, ""));
    if (name) found = run("tar", ["-xzOf", blob(l.digest), name]).stdout;
  }
  return found;
}

// biome-ignore lint/suspicious/noExplicitAny: the tests walk generated documents by their known shape
type Obj = Record<string, any>;
/** The pod spec of the generated workload. */
function podSpec(r: GenResult): Obj {
  const w = r.documents[0] as Obj;
  switch (w.kind) {
    case "Pod":
      return w.spec;
    case "CronJob":
      return w.spec.jobTemplate.spec.template.spec;
    default:
      return w.spec.template.spec;
  }
}
const container = (r: GenResult): Obj => podSpec(r).containers[0];
const envNames = (r: GenResult): string[] => (container(r).env ?? []).map((e: Obj) => e.name);

describe("k8s gen: the manifest's facts are the image's facts", () => {
  const skip = needs({ tools: ["go", "skopeo", "tar"], fixtures: ["go-static"] });
  let tmpWriter = "";
  let tmpWriterNew = "";
  before(() => {
    if (skip) return;
    // The same program, once with go.mod "go 1.24" (the toolchain then writes containermaxprocs=0 into
    // DefaultGODEBUG) and once with "go 1.25".
    tmpWriter = buildGoProgram(join(work, "src-old"), "tmpwriter", TMP_WRITER, "1.24");
    tmpWriterNew = buildGoProgram(join(work, "src-new"), "tmpwriter", TMP_WRITER, "1.25");
  });

  test("USER nonroot becomes the uid/gid of the image's own passwd row; a custom numeric USER is kept", {
    skip,
  }, async () => {
    const ref = pack("named", fixture("go-static"), ["--user", "nonroot"]);
    const passwd = fileFromLayout(join(work, "named"), "/etc/passwd");
    assert.ok(passwd, "the packed image has /etc/passwd");
    const row = passwd!
      .split("\n")
      .find((l) => l.startsWith("nonroot:"))!
      .split(":");
    const r = await generateManifests(ref);
    const sc = podSpec(r).securityContext;
    assert.equal(sc.runAsUser, Number(row[2]));
    assert.equal(sc.runAsGroup, Number(row[3]));
    assert.equal(sc.fsGroup, Number(row[3]));
    assert.equal(sc.runAsNonRoot, true);
    assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" });
    assert.equal(podSpec(r).automountServiceAccountToken, false);
    const csc = container(r).securityContext;
    assert.equal(csc.allowPrivilegeEscalation, false);
    assert.equal(csc.readOnlyRootFilesystem, true);
    assert.deepEqual(csc.capabilities, { drop: ["ALL"] });

    const custom = await generateManifests(pack("custom", fixture("go-static"), ["--user", "12345:23456"]));
    assert.equal(podSpec(custom).securityContext.runAsUser, 12345);
    assert.equal(podSpec(custom).securityContext.runAsGroup, 23456);
  });

  test("a USER the image's passwd lacks and a root USER are refused with their codes", { skip }, async () => {
    const unknown = pack("unknown-user", fixture("go-static"), ["--user", "ghost", "--force"]);
    await assert.rejects(generateManifests(unknown), (e: Error & { code?: string }) => {
      assert.equal(e.code, "K8S_USER_UNKNOWN");
      assert.match(e.message, /ghost/);
      return true;
    });
    const root = pack("root-user", fixture("go-static"), ["--user", "0:0", "--force"]);
    await assert.rejects(generateManifests(root), { code: "K8S_RUNS_AS_ROOT" });
    // With an explicit uid the root image gets one, never 0.
    const r = await generateManifests(root, { runAsUser: 4242 });
    assert.equal(podSpec(r).securityContext.runAsUser, 4242);
  });

  test("the image is pinned by the digest skopeo reads; a local layout says it must be pushed", {
    skip,
  }, async () => {
    const ref = pack("pin", fixture("go-static"));
    const digest = skopeoDigest(ref);
    const r = await generateManifests(ref, { name: "pinned" });
    assert.equal(container(r).image, `localhost/pinned@${digest}`);
    assert.ok(r.warnings.some((w) => w.code === "K8S_IMAGE_NOT_PUSHED"));
    const pushed = await generateManifests(ref, { repository: "registry.example/team/app" });
    assert.equal(container(pushed).image, `registry.example/team/app@${digest}`);
    assert.equal(container(pushed).name, "app");
    assert.ok(!pushed.warnings.some((w) => w.code === "K8S_IMAGE_NOT_PUSHED"));
    const local = await generateManifests(ref, { repository: "localhost:5000/app" });
    assert.equal(container(local).image, `localhost:5000/app@${digest}`);
    for (const bad of ["registry.example/app:v1", "registry.example/app@sha256:00", "app", "Registry/App"])
      await assert.rejects(generateManifests(ref, { repository: bad }), { code: "USAGE" }, bad);
  });

  test("a multi-arch index is pinned whole; the facts come from the chosen platform's image, and say so", {
    skip: skip || needs({ fixtures: ["go-arm64"] }),
  }, async () => {
    const ref = pack("multi", fixture("go-static"), [fixture("go-arm64")]);
    const index = JSON.parse(readFileSync(join(work, "multi", "index.json"), "utf8")) as {
      manifests: { digest: string; mediaType: string }[];
    };
    assert.equal(index.manifests[0]!.mediaType, "application/vnd.oci.image.index.v1+json");
    const r = await generateManifests(ref, { platform: "linux/arm64" });
    assert.equal(r.facts.digest, index.manifests[0]!.digest);
    assert.ok(container(r).image.endsWith(`@${index.manifests[0]!.digest}`));
    assert.match(r.facts.platform, /^linux\/arm64/);
    assert.notEqual(r.facts.manifestDigest, r.facts.digest);
    assert.ok(r.warnings.some((w) => w.code === "K8S_ONE_PLATFORM_READ"));
  });

  test("emptyDir at /tmp exactly when the binary creates temporary files (go tool nm agrees)", {
    skip,
  }, async () => {
    assert.equal(goHasSymbol(tmpWriter, "os.CreateTemp"), true);
    assert.equal(goHasSymbol(fixture("go-static"), "os.CreateTemp"), false);
    const withTmp = await generateManifests(pack("tmp", tmpWriter));
    assert.deepEqual(container(withTmp).volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
    assert.deepEqual(podSpec(withTmp).volumes, [{ name: "tmp", emptyDir: {} }]);
    assert.deepEqual(withTmp.facts.needs, ["tmp"]);
    const without = await generateManifests(pack("notmp", fixture("go-static")));
    assert.equal(container(without).volumeMounts, undefined);
    assert.equal(podSpec(without).volumes, undefined);
    // TMPDIR in the image moves the mount there.
    const moved = await generateManifests(pack("tmpdir", tmpWriter, ["--env", "TMPDIR=/scratch"]));
    assert.deepEqual(container(moved).volumeMounts, [{ name: "scratch", mountPath: "/scratch" }]);
  });

  test("a Go program that calls os.UserCacheDir gets an emptyDir at its passwd home's .cache", {
    skip,
  }, async () => {
    const bin = buildGoProgram(join(work, "src-cache"), "cachewriter", CACHE_WRITER, "1.25");
    assert.equal(goHasSymbol(bin, "os.UserCacheDir"), true);
    const ref = pack("cache", bin);
    const passwd = fileFromLayout(join(work, "cache"), "/etc/passwd")!;
    const home = passwd
      .split("\n")
      .find((l) => l.split(":")[2] === "65532")!
      .split(":")[5];
    const r = await generateManifests(ref);
    assert.deepEqual(
      container(r).volumeMounts.map((m: Obj) => m.mountPath),
      [`${home}/.cache`],
    );
    // XDG_CACHE_HOME in the image wins, as os.UserCacheDir reads it first.
    const xdg = await generateManifests(pack("cache-xdg", bin, ["--env", "XDG_CACHE_HOME=/var/cache/app"]));
    assert.deepEqual(
      container(xdg).volumeMounts.map((m: Obj) => m.mountPath),
      ["/var/cache/app"],
    );
  });

  test("NET_BIND_SERVICE only for a port below 1024: 8080 from ExposedPorts gets none, 80 gets it", {
    skip,
  }, async () => {
    const ref = pack("ports", fixture("go-static"), ["--port", "8080"]);
    const high = await generateManifests(ref, { service: true });
    assert.deepEqual(container(high).ports, [{ name: "tcp-8080", containerPort: 8080, protocol: "TCP" }]);
    assert.deepEqual(container(high).securityContext.capabilities, { drop: ["ALL"] });
    assert.equal(podSpec(high).securityContext.sysctls, undefined);
    assert.equal(high.documents.length, 2);
    const svc = high.documents[1] as Obj;
    assert.equal(svc.kind, "Service");
    assert.deepEqual(svc.spec.selector, (high.documents[0] as Obj).spec.selector.matchLabels);

    const low = await generateManifests(ref, { ports: [80] });
    assert.deepEqual(
      container(low).ports.map((p: Obj) => p.containerPort),
      [80, 8080],
    );
    assert.deepEqual(container(low).securityContext.capabilities, {
      drop: ["ALL"],
      add: ["NET_BIND_SERVICE"],
    });
    assert.deepEqual(podSpec(low).securityContext.sysctls, [
      { name: "net.ipv4.ip_unprivileged_port_start", value: "80" },
    ]);
    assert.ok(low.warnings.some((w) => w.code === "K8S_PRIVILEGED_PORT"));
    assert.equal(low.documents.length, 1, "no Service unless asked");
  });

  test("GOMAXPROCS from limits.cpu only when DefaultGODEBUG says containermaxprocs=0 (go version -m agrees)", {
    skip,
  }, async () => {
    assert.match(goDefaultGodebug(tmpWriter), /(^|,)containermaxprocs=0(,|$)/);
    assert.doesNotMatch(goDefaultGodebug(tmpWriterNew), /containermaxprocs=0/);
    const old = await generateManifests(pack("go-old", tmpWriter));
    assert.deepEqual(envNames(old), ["GOMAXPROCS", "GOMEMLIMIT"]);
    assert.deepEqual(container(old).env[0].valueFrom, {
      resourceFieldRef: { resource: "limits.cpu", divisor: "1" },
    });
    assert.deepEqual(container(old).env[1].valueFrom, {
      resourceFieldRef: { resource: "limits.memory", divisor: "1" },
    });
    assert.equal(old.facts.go?.followsCpuLimit, false);
    const fresh = await generateManifests(pack("go-new", tmpWriterNew));
    assert.deepEqual(envNames(fresh), ["GOMEMLIMIT"]);
    assert.equal(fresh.facts.go?.followsCpuLimit, true);
    // The image's GODEBUG overrides DefaultGODEBUG, as the runtime applies it.
    const forced = await generateManifests(
      pack("go-env", tmpWriterNew, ["--env", "GODEBUG=containermaxprocs=0"]),
    );
    assert.deepEqual(envNames(forced), ["GOMAXPROCS", "GOMEMLIMIT"]);
  });

  test("the rule itself: versions before 1.25, DefaultGODEBUG, the image's GODEBUG and GOMAXPROCS", () => {
    assert.equal(goFollowsCpuLimit("go1.24.9", null, {}).follows, false);
    assert.equal(goFollowsCpuLimit("go1.25.0", null, {}).follows, true);
    assert.equal(goFollowsCpuLimit("go1.26.8", "containermaxprocs=0,updatemaxprocs=0", {}).follows, false);
    // updatemaxprocs=0 stops the updates only; the value at start still follows the limit.
    assert.equal(goFollowsCpuLimit("go1.26.8", "updatemaxprocs=0", {}).follows, true);
    assert.equal(
      goFollowsCpuLimit("go1.26.8", "containermaxprocs=0", { GODEBUG: "containermaxprocs=1" }).follows,
      true,
    );
    assert.equal(goFollowsCpuLimit("go1.20.1", null, { GOMAXPROCS: "2" }).follows, true);
  });

  test("deterministic: the same image gives the same bytes; every kind has its shape", { skip }, async () => {
    const ref = pack("kinds", tmpWriter, ["--port", "8080"]);
    const a = await generateManifests(ref, { service: true });
    const b = await generateManifests(ref, { service: true });
    assert.equal(a.yaml, b.yaml);
    const cron = await generateManifests(ref, { kind: "CronJob", schedule: "0 3 * * *" });
    assert.equal((cron.documents[0] as Obj).spec.schedule, "0 3 * * *");
    assert.equal(podSpec(cron).restartPolicy, "Never");
    const sts = await generateManifests(ref, { kind: "StatefulSet", service: true });
    assert.equal((sts.documents[1] as Obj).spec.clusterIP, "None");
    assert.equal((sts.documents[0] as Obj).spec.serviceName, (sts.documents[1] as Obj).metadata.name);
    await assert.rejects(generateManifests(ref, { kind: "CronJob" }), { code: "USAGE" });
    await assert.rejects(generateManifests(ref, { name: "Not_A_Label" }), { code: "USAGE" });
    await assert.rejects(generateManifests(ref, { resources: { limits: { memory: "lots" } } }), {
      code: "USAGE",
    });
  });
});

describe("k8s gen from a registry: pinned REPO@DIGEST of the pushed image", () => {
  const skip = needs({ tools: ["docker-registry", "skopeo"], fixtures: ["go-static"] });
  let reg: TestRegistry | undefined;
  before(async () => {
    if (!skip) reg = await startRegistry({ kind: "plain" });
  });
  after(async () => reg?.stop());

  test("the pin is the registry's digest of the tag", { skip }, async () => {
    const ref = `${reg!.host}/team/svc:v1`;
    const p = zerodep(["pack", fixture("go-static"), "--port", "8080", "--push", ref]);
    assert.equal(p.code, 0, p.stderr);
    const digest = skopeoDigest(`docker://${ref}`, ["--tls-verify=false"]);
    const r = await generateManifests(ref);
    assert.equal(container(r).image, `${reg!.host}/team/svc@${digest}`);
    assert.equal(container(r).name, "svc");
    assert.ok(!r.warnings.some((w) => w.code === "K8S_IMAGE_NOT_PUSHED"));
  });
});

/** The security-relevant kube-score checks (see the README: why pull policy and network policy are not). */
const SECURITY_CHECKS = [
  "container-security-context-user-group-id",
  "container-security-context-privileged",
  "container-security-context-readonlyrootfilesystem",
  "container-seccomp-profile",
  "container-resources",
  "container-ephemeral-storage-request-and-limit",
  "container-image-tag",
];

interface KubeScoreCheck {
  check: { id: string };
  grade: number;
  skipped: boolean;
  comments: { summary: string }[] | null;
}
function kubeScore(bin: string, yaml: string): Map<string, KubeScoreCheck> {
  const file = join(work, `ks-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const r = spawnSync(
    bin,
    ["score", "--enable-optional-test", "container-seccomp-profile", "--output-format", "json", file],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.ok(r.status === 0 || r.status === 1, r.stderr);
  const out = new Map<string, KubeScoreCheck>();
  for (const o of JSON.parse(r.stdout) as {
    object_name: string;
    type_meta: { kind: string };
    checks: KubeScoreCheck[];
  }[])
    if (o.type_meta.kind !== "Service") for (const c of o.checks) out.set(c.check.id, c);
  return out;
}

describe("third-party judges: strict k8s.io/api decode and kube-score's security checks", () => {
  const ks = kubeScorePath();
  const skip =
    needs({ tools: ["go"], fixtures: ["go-static"] }) || (ks ? false : needs({ tools: ["kube-score"] }));
  // The project's Pod Security oracle (test/oracles/psa, k8s.io/pod-security-admission v0.37.2, cached
  // by .ci/run) answers both: PSA's evaluation of a pod, and a strict decode into the k8s.io/api types.
  let oracle = "";
  let ref = "";
  before(() => {
    if (skip) return;
    oracle = psaOracle() ?? "";
    const bin = buildGoProgram(join(work, "src-judge"), "tmpwriter", TMP_WRITER, "1.24");
    ref = pack("judged", bin, ["--port", "8080", "--port", "443"]);
  });

  const kinds = ["Deployment", "StatefulSet", "Job", "CronJob", "Pod"] as const;
  /** The pod template of a workload document, as the admission plugin evaluates it. */
  const podOfDoc = (d: Record<string, unknown>) => {
    const at: Record<string, string[]> = { Pod: [], CronJob: ["spec", "jobTemplate", "spec", "template"] };
    let t = d as Record<string, unknown>;
    for (const k of at[d.kind as string] ?? ["spec", "template"]) t = t[k] as Record<string, unknown>;
    return { metadata: t.metadata ?? {}, spec: t.spec, level: "restricted", version: "latest" };
  };

  test("every kind decodes strictly into k8s.io/api; a typo does not (the decoder is strict)", {
    skip,
  }, async () => {
    for (const kind of kinds) {
      const r = await generateManifests(ref, { kind, service: true, schedule: "*/5 * * * *" });
      const out = await runPsaOracle(
        oracle,
        r.documents.map((d) => ({ decode: d })),
      );
      for (const [i, o] of out.entries()) {
        assert.equal(o.error, undefined, `${kind} document ${i}: ${o.error}`);
        assert.deepEqual(o.decodeErrors, [], `${kind} document ${i}`);
      }
    }
    const r = await generateManifests(ref);
    const typo = JSON.parse(
      JSON.stringify(r.documents[0]).replace('"readOnlyRootFilesystem"', '"readOnlyRootFileSystem"'),
    );
    const [bad] = await runPsaOracle(oracle, [{ decode: typo }]);
    assert.match((bad!.decodeErrors ?? []).join("; "), /unknown field/);
  });

  test("Pod Security Admission's evaluator: restricted allowed for every kind (with a port below 1024 too)", {
    skip,
  }, async () => {
    for (const kind of kinds) {
      const r = await generateManifests(ref, { kind, service: true, schedule: "*/5 * * * *", ports: [80] });
      assert.ok((container(r).securityContext.capabilities.add ?? []).includes("NET_BIND_SERVICE"));
      const [d] = await runPsaOracle(oracle, [podOfDoc(r.documents[0]!)]);
      assert.equal(d!.allowed, true, `${kind}: ${d!.reasons.join(", ")} ${d!.details.join("; ")}`);
    }
    // The negative control, in the API server's words.
    const r = await generateManifests(ref);
    const worse = JSON.parse(
      JSON.stringify(r.documents[0]).replace(
        '"allowPrivilegeEscalation":false',
        '"allowPrivilegeEscalation":true',
      ),
    );
    const [d] = await runPsaOracle(oracle, [podOfDoc(worse)]);
    assert.equal(d!.allowed, false);
    assert.match(d!.details.join("; "), /must set securityContext\.allowPrivilegeEscalation=false/);
  });

  test("kube-score finds nothing in its security checks for any kind; it does when a field is dropped", {
    skip,
  }, async () => {
    for (const kind of kinds) {
      const r = await generateManifests(ref, { kind, service: true, schedule: "*/5 * * * *" });
      const checks = kubeScore(ks!, r.yaml);
      for (const id of SECURITY_CHECKS) {
        const c = checks.get(id);
        assert.ok(c, `${kind}: kube-score ran ${id}`);
        assert.equal(c.skipped, false, `${kind}: ${id} skipped`);
        assert.equal(c.grade, 10, `${kind}: ${id}: ${JSON.stringify(c.comments)}`);
      }
    }
    // The negative control: the same manifest with a writable root and a low uid.
    const r = await generateManifests(ref);
    const worse = r.yaml
      .replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
      .replace(/runAsUser: \d+/, "runAsUser: 1000");
    const checks = kubeScore(ks!, worse);
    assert.equal(checks.get("container-security-context-readonlyrootfilesystem")?.grade, 1);
    assert.equal(checks.get("container-security-context-user-group-id")?.grade, 1);
  });
});
