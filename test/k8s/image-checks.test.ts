/**
 * Reality tests of the image-aware k8s checks: every image is a real one built here (zerodep pack of the
 * fixtures, or tiny Go programs compiled by the test), read from an oci: layout or a real
 * docker-registry on 127.0.0.1, and wherever a finding predicts a runtime failure, podman + runc show
 * that failure (and that the fix the finding names makes it go away).
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { stringify } from "yaml";
import { imageChecks } from "../../src/k8s/image-checks.js";
import { IMAGE_CHECK_CODES } from "../../src/k8s/image-codes.js";
import type { K8sFinding } from "../../src/k8s/types.js";
import { pack } from "../../src/pack/pack.js";
import { streamedImage, tinyElf, zeroElfTar } from "../helpers/bomb-images.js";
import { fixture, needs, run } from "../helpers/env.js";
import { podman as podmanRaw, podmanRun } from "../helpers/podman.js";
import { startRegistry, type TestRegistry } from "../registry/registry-for-tests.js";
import { docsForTests } from "./docs-for-tests.js";

// Lower case: podman derives an image name from the oci: path.
const work = join(tmpdir(), `zd-k8s-img-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));
const podmanState = join(work, "podman");

const skip = needs({
  tools: ["podman", "runc", "skopeo", "go", "docker-registry"],
  fixtures: ["go-static", "go-user", "go-arm64", "go-cgo"],
});

/** A Deployment with one container, as a user would write it. */
function deployment(container: Record<string, unknown>, podSpec: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web" },
    spec: {
      selector: { matchLabels: { app: "web" } },
      template: {
        metadata: { labels: { app: "web" } },
        spec: { ...podSpec, containers: [{ name: "app", ...container }] },
      },
    },
  });
}

async function lint(yaml: string, images: Record<string, string>) {
  return imageChecks(docsForTests(yaml, "web.yaml"), { images });
}

const rules = (fs: K8sFinding[]) => fs.map((f) => f.rule).filter((r) => r !== "IMAGE_NOT_PINNED");

/** 1-based line of the first line of `text` that contains `needle` (computed from the YAML, not from us). */
function lineOf(text: string, needle: string): number {
  const i = text.split("\n").findIndex((l) => l.includes(needle));
  assert.ok(i >= 0, `${needle} in ${text}`);
  return i + 1;
}

function podman(image: string, extra: string[] = []) {
  const r = podmanRun(podmanState, image, extra);
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

/** `podman run --rm --network none ARGS…` (image and its arguments inside ARGS). */
function podmanArgs(args: string[]) {
  const limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];
  const r = podmanRaw(podmanState, ["run", "--rm", "--network", "none", ...limits, ...args]);
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

async function packTo(name: string, opts: Partial<Parameters<typeof pack>[0]> & { binaries: string[] }) {
  const dir = join(work, name);
  const r = await pack({ out: `oci:${dir}:t`, ...opts });
  return { ref: `oci:${dir}:t`, digest: r.digest };
}

// Two tiny Go programs (std only, CGO_ENABLED=0): one that creates a temporary file, one that links
// net/http/pprof and expvar and can probe its own endpoints.
const TMP_GO = `package main

import (
	"fmt"
	"os"
)

func main() {
	f, err := os.CreateTemp("", "zd-")
	if err != nil {
		fmt.Println("tmp failed:", err)
		os.Exit(1)
	}
	fmt.Println("wrote", f.Name())
	f.Close()
	os.Remove(f.Name())
}
`;
const LOOKUP_GO = `package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
)

func main() {
	u, err := user.LookupId(strconv.Itoa(os.Getuid()))
	if err != nil {
		fmt.Println("lookup failed:", err)
		os.Exit(1)
	}
	fmt.Println("running as", u.Username)
}
`;
const DEBUG_GO = `package main

import (
	"expvar"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
)

var hits = expvar.NewInt("hits")

func main() {
	if len(os.Args) > 1 && os.Args[1] == "probe" {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		go http.Serve(ln, nil)
		for _, p := range []string{"/debug/pprof/cmdline", "/debug/vars"} {
			r, err := http.Get("http://" + ln.Addr().String() + p)
			if err != nil {
				fmt.Println(err)
				os.Exit(1)
			}
			fmt.Println(p, r.StatusCode)
			r.Body.Close()
		}
		return
	}
	hits.Add(1)
	http.ListenAndServe(":8080", nil)
}
`;

describe("k8s image checks: each finding on a real image, each predicted failure shown by podman", {
  skip,
}, () => {
  const img: Record<string, { ref: string; digest: string }> = {};
  before(async () => {
    const src = join(work, "gosrc");
    mkdirSync(join(src, "tmpw"), { recursive: true });
    mkdirSync(join(src, "dbg"), { recursive: true });
    mkdirSync(join(src, "lookup"), { recursive: true });
    writeFileSync(join(src, "lookup", "main.go"), LOOKUP_GO);
    writeFileSync(join(src, "go.mod"), "module zdk8s\n\ngo 1.22\n");
    writeFileSync(join(src, "tmpw", "main.go"), TMP_GO);
    writeFileSync(join(src, "dbg", "main.go"), DEBUG_GO);
    const bin = join(work, "bin");
    mkdirSync(bin);
    run("sh", ["-c", `cd ${src} && go build -trimpath -o ${bin}/ ./tmpw ./dbg ./lookup`], {
      env: {
        ...process.env,
        CGO_ENABLED: "0",
        GOOS: "linux",
        GOARCH: "amd64",
        GOTOOLCHAIN: "local",
        GOFLAGS: "",
      },
    });
    img.nonroot = await packTo("nonroot", { binaries: [fixture("go-static")], user: "nonroot" });
    img.root = await packTo("root", { binaries: [fixture("go-static")], user: "0" });
    img.bigid = await packTo("bigid", { binaries: [fixture("go-static")], user: "4294967295", force: true });
    img.numeric = await packTo("numeric", { binaries: [fixture("go-static")] });
    img.user = await packTo("user", { binaries: [fixture("go-user")] });
    img.lookup = await packTo("lookup", { binaries: [join(bin, "lookup")] });
    img.multi = await packTo("multi", { binaries: [fixture("go-static"), fixture("go-arm64")] });
    img.tmp = await packTo("tmp", { binaries: [join(bin, "tmpw")], ports: ["8080/tcp"] });
    img.dbg = await packTo("dbg", { binaries: [join(bin, "dbg")], ports: ["8080/tcp"] });
    img.cgo = await packTo("cgo", { binaries: [fixture("go-cgo")], force: true });
  });

  test("the rule codes are one closed list", () => {
    assert.equal(new Set(IMAGE_CHECK_CODES).size, IMAGE_CHECK_CODES.length);
    for (const c of IMAGE_CHECK_CODES) assert.match(c, /^[A-Z][A-Z0-9_]+$/);
  });

  test("runAsNonRoot with a non-numeric image USER: the kubelet's own words; numeric USER passes", async () => {
    // The kubelet's format strings, verbatim from kubernetes/kubernetes
    // pkg/kubelet/kuberuntime/security_context_others.go (verifyRunAsNonRoot). We cannot run a kubelet
    // here, so the prediction is checked against its source text: %s is the user part of config.User
    // (containerd/CRI-O getUserFromImage), the "(pod: %q, container: %s)" suffix is the kubelet's own.
    const KUBELET_NON_NUMERIC =
      "container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)";
    const KUBELET_ROOT = "container has runAsNonRoot and image will run as root (pod: %q, container: %s)";
    const head = (f: string) => f.slice(0, f.indexOf(" (pod: "));
    const images = { "reg.example/app:nonroot": img.nonroot!.ref, "reg.example/app:root": img.root!.ref };
    const y = deployment({ image: "reg.example/app:nonroot", securityContext: { runAsNonRoot: true } });
    const r = await lint(y, images);
    const f = r.findings.find((x) => x.rule === "IMAGE_USER_NOT_NUMERIC");
    assert.ok(f, JSON.stringify(r));
    assert.equal(f.level, "error");
    assert.ok(f.message.includes(head(KUBELET_NON_NUMERIC).replace("%s", "nonroot")), f.message);
    assert.equal(f.field, "spec.template.spec.containers[0].securityContext.runAsNonRoot");
    assert.equal(f.position?.line, lineOf(y, "runAsNonRoot:"));
    assert.equal(f.document.kind, "Deployment");
    assert.equal(f.document.name, "web");
    // The image's config really says "nonroot" (skopeo reads it, not us).
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", img.nonroot!.ref]).stdout) as {
      config: { User: string };
    };
    assert.equal(cfg.config.User, "nonroot");
    // And it is a kubelet policy, not a runtime failure: runc runs the same image as "nonroot".
    const real = podman(img.nonroot!.ref);
    assert.equal(real.code, 0, real.out);
    assert.match(real.out, /hello from zerodep/);

    // Pod-level runAsNonRoot, USER 0: the other variant.
    const y2 = deployment({ image: "reg.example/app:root" }, { securityContext: { runAsNonRoot: true } });
    const r2 = await lint(y2, images);
    const f2 = r2.findings.find((x) => x.rule === "IMAGE_USER_ROOT");
    assert.ok(f2, JSON.stringify(r2));
    assert.ok(f2.message.includes(head(KUBELET_ROOT)), f2.message);
    assert.equal(f2.field, "spec.template.spec.securityContext.runAsNonRoot");

    // USER 4294967295 (a uid beyond int32): the third variant.
    const KUBELET_INVALID =
      "container has runAsNonRoot and image has an invalid user id (%d). (Must be 1-(%d)): %s (pod: %q, container: %s)";
    const r3 = await lint(
      deployment({ image: "reg.example/app:big", securityContext: { runAsNonRoot: true } }),
      {
        "reg.example/app:big": img.bigid!.ref,
      },
    );
    const f3 = r3.findings.find((x) => x.rule === "IMAGE_USER_ID_INVALID");
    assert.ok(f3, JSON.stringify(r3));
    const want = head(KUBELET_INVALID)
      .replace("%d", "4294967295")
      .replace("%d", String(2 ** 31 - 1))
      // validation.IsValidUserID → InclusiveRangeError(0, math.MaxInt32), k8s.io/apimachinery
      .replace("%s", `must be between 0 and ${2 ** 31 - 1}, inclusive`);
    assert.ok(f3.message.includes(want), `${f3.message}\n${want}`);

    // A runAsUser settles it (the kubelet checks only that one), and so does a numeric USER.
    const ok1 = await lint(
      deployment({
        image: "reg.example/app:nonroot",
        securityContext: { runAsNonRoot: true, runAsUser: 65532 },
      }),
      images,
    );
    assert.deepEqual(rules(ok1.findings), []);
    const ok2 = await lint(
      deployment({ image: "reg.example/app:v1", securityContext: { runAsNonRoot: true } }),
      {
        "reg.example/app:v1": img.numeric!.ref,
      },
    );
    assert.deepEqual(rules(ok2.findings), []);
  });

  test("runAsUser absent from /etc/passwd while the program looks users up: the lookup really fails", async () => {
    const images = { "reg.example/lookup:v1": img.lookup!.ref, "reg.example/user:v1": img.user!.ref };
    const y = deployment({ image: "reg.example/lookup:v1", securityContext: { runAsUser: 1234 } });
    const r = await lint(y, images);
    const f = r.findings.find((x) => x.rule === "RUN_AS_USER_NOT_IN_PASSWD");
    assert.ok(f, JSON.stringify(r));
    assert.equal(f.level, "warning");
    assert.equal(f.field, "spec.template.spec.containers[0].securityContext.runAsUser");
    assert.equal(f.position?.line, lineOf(y, "runAsUser:"));
    assert.match(f.message, /unknown userid 1234/);
    // podman appends a passwd line for an unknown --user at run time (its --passwd default); the
    // kubelet's CRI runtime containerd does not, so podman is asked not to either.
    const real = podman(img.lookup!.ref, ["--user", "1234", "--passwd=false"]);
    assert.notEqual(real.code, 0, real.out);
    assert.match(real.out, /lookup failed: user: unknown userid 1234/);
    // os/user.Current (the go-user fixture) fails too: without a passwd line (and no $USER, which the
    // kubelet does not set) pure Go cannot make up the user.
    const cur = await lint(
      deployment({ image: "reg.example/user:v1", securityContext: { runAsUser: 1234 } }),
      images,
    );
    assert.ok(cur.findings.some((x) => x.rule === "RUN_AS_USER_NOT_IN_PASSWD"));
    const degraded = podman(img.user!.ref, ["--user", "1234", "--passwd=false"]);
    assert.match(degraded.out, /no user: user: Current requires cgo or \$USER set in environment/);
    assert.ok(
      cur.findings
        .find((x) => x.rule === "RUN_AS_USER_NOT_IN_PASSWD")!
        .message.includes("Current requires cgo or $USER set in environment"),
    );
    // 65532 is in the passwd pack writes: no finding, and the lookup finds "nonroot".
    const ok = await lint(
      deployment({ image: "reg.example/lookup:v1", securityContext: { runAsUser: 65532 } }),
      images,
    );
    assert.deepEqual(rules(ok.findings), []);
    const good = podman(img.lookup!.ref, ["--user", "65532", "--passwd=false"]);
    assert.equal(good.code, 0, good.out);
    assert.match(good.out, /running as nonroot/);
  });

  test("command: [sh, -c, …] on a scratch image: no shell, and runc really finds none", async () => {
    const images = { "reg.example/app:v1": img.numeric!.ref };
    const y = deployment({ image: "reg.example/app:v1", command: ["sh", "-c", "echo hi"] });
    const r = await lint(y, images);
    const f = r.findings.find((x) => x.rule === "COMMAND_NOT_IN_IMAGE");
    assert.ok(f, JSON.stringify(r));
    assert.equal(f.level, "error");
    assert.equal(f.field, "spec.template.spec.containers[0].command[0]");
    assert.equal(f.position?.line, lineOf(y, "- sh"));
    const real = podmanArgs(["--entrypoint", "sh", img.numeric!.ref, "-c", "echo hi"]);
    assert.notEqual(real.code, 0, real.out);
    assert.match(real.out, /exec: "sh": executable file not found in \$PATH/);
    assert.ok(f.message.includes("executable file not found in $PATH"), f.message);
    // The program itself, by path, is there.
    const ok = await lint(deployment({ image: "reg.example/app:v1", command: ["/app/go-static"] }), images);
    assert.deepEqual(rules(ok.findings), []);
  });

  test("nodeSelector / required affinity on an architecture the index lacks (skopeo shows the index)", async () => {
    const raw = JSON.parse(run("skopeo", ["inspect", "--raw", img.multi!.ref]).stdout) as {
      manifests: { platform: { os: string; architecture: string } }[];
    };
    const archs = raw.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`).sort();
    assert.deepEqual(archs, ["linux/amd64", "linux/arm64"]);
    const images = { "reg.example/multi:v1": img.multi!.ref };
    const y = deployment(
      { image: "reg.example/multi:v1" },
      { nodeSelector: { "kubernetes.io/arch": "s390x" } },
    );
    const r = await lint(y, images);
    const f = r.findings.find((x) => x.rule === "PLATFORM_NOT_IN_IMAGE");
    assert.ok(f, JSON.stringify(r));
    assert.match(f.message, /linux\/s390x/);
    assert.equal(f.field, "spec.template.spec.nodeSelector.kubernetes.io/arch");
    assert.equal(f.position?.line, lineOf(y, "kubernetes.io/arch:"));
    // skopeo, asked for that platform, finds nothing either.
    const s = run("skopeo", ["--override-arch", "s390x", "inspect", img.multi!.ref], { allowFail: true });
    assert.notEqual(s.status, 0);
    // Affinity with two values, one missing: named; arm64 alone is fine.
    const aff = {
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              {
                matchExpressions: [
                  { key: "kubernetes.io/arch", operator: "In", values: ["amd64", "riscv64"] },
                ],
              },
            ],
          },
        },
      },
    };
    const r2 = await lint(deployment({ image: "reg.example/multi:v1" }, aff), images);
    const f2 = r2.findings.find((x) => x.rule === "PLATFORM_NOT_IN_IMAGE");
    assert.ok(f2, JSON.stringify(r2));
    assert.match(f2.message, /linux\/riscv64/);
    assert.doesNotMatch(f2.message, /linux\/amd64 nodes/);
    const ok = await lint(
      deployment({ image: "reg.example/multi:v1" }, { nodeSelector: { "kubernetes.io/arch": "arm64" } }),
      images,
    );
    assert.deepEqual(rules(ok.findings), []);
  });

  test("readOnlyRootFilesystem without /tmp for a program that creates temp files: podman --read-only fails, --tmpfs /tmp passes", async () => {
    const images = { "reg.example/tmp:v1": img.tmp!.ref };
    const y = deployment({ image: "reg.example/tmp:v1", securityContext: { readOnlyRootFilesystem: true } });
    const r = await lint(y, images);
    const f = r.findings.find((x) => x.rule === "READ_ONLY_ROOT_NEEDS_MOUNT");
    assert.ok(f, JSON.stringify(r));
    assert.equal(f.field, "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem");
    assert.match(f.message, / at \/tmp/);
    // podman mounts a tmpfs on /tmp of a --read-only container unless told not to; Kubernetes does not.
    const ro = podman(img.tmp!.ref, ["--read-only", "--read-only-tmpfs=false"]);
    assert.notEqual(ro.code, 0, ro.out);
    assert.match(ro.out, /read-only file system/);
    const fixed = podman(img.tmp!.ref, ["--read-only", "--read-only-tmpfs=false", "--tmpfs", "/tmp"]);
    assert.equal(fixed.code, 0, fixed.out);
    assert.match(fixed.out, /wrote \/tmp\/zd-/);
    // With the emptyDir the finding asks for: none.
    const ok = await lint(
      deployment(
        {
          image: "reg.example/tmp:v1",
          securityContext: { readOnlyRootFilesystem: true },
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
        { volumes: [{ name: "tmp", emptyDir: {} }] },
      ),
      images,
    );
    assert.deepEqual(
      rules(ok.findings).filter((x) => x !== "DEBUG_ENDPOINT_EXPOSED"),
      [],
    );
    // TMPDIR moves Go's temporary files: the mount must be there instead, and runc agrees.
    const moved = await lint(
      deployment(
        {
          image: "reg.example/tmp:v1",
          env: [{ name: "TMPDIR", value: "/scratch" }],
          securityContext: { readOnlyRootFilesystem: true },
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
        { volumes: [{ name: "tmp", emptyDir: {} }] },
      ),
      images,
    );
    const fm = moved.findings.find((x) => x.rule === "READ_ONLY_ROOT_NEEDS_MOUNT");
    assert.ok(fm, JSON.stringify(moved));
    assert.match(fm.message, / at \/scratch/);
    const ro2 = podman(img.tmp!.ref, [
      "--read-only",
      "--read-only-tmpfs=false",
      "--tmpfs",
      "/tmp",
      "-e",
      "TMPDIR=/scratch",
    ]);
    assert.notEqual(ro2.code, 0, ro2.out);
    assert.match(ro2.out, /\/scratch\/zd-.*(read-only file system|no such file or directory)/);
    const ok2 = podman(img.tmp!.ref, [
      "--read-only",
      "--read-only-tmpfs=false",
      "--tmpfs",
      "/scratch",
      "-e",
      "TMPDIR=/scratch",
    ]);
    assert.equal(ok2.code, 0, ok2.out);
    // A program with no temp files (hello) and a read-only root: nothing to say, and it runs.
    const hello = await lint(
      deployment({ image: "reg.example/app:v1", securityContext: { readOnlyRootFilesystem: true } }),
      { "reg.example/app:v1": img.numeric!.ref },
    );
    assert.deepEqual(rules(hello.findings), []);
    assert.equal(podman(img.numeric!.ref, ["--read-only", "--read-only-tmpfs=false"]).code, 0);
  });

  test("the check IMAGE verdict: cgo forced onto scratch will not run, and podman agrees", async () => {
    const y = deployment({ image: "reg.example/cgo:v1" });
    const r = await lint(y, { "reg.example/cgo:v1": img.cgo!.ref });
    const f = r.findings.find((x) => x.rule === "ENTRYPOINT_WILL_NOT_RUN");
    assert.ok(f, JSON.stringify(r));
    assert.match(f.message, /MISSING_INTERPRETER/);
    assert.equal(f.field, "spec.template.spec.containers[0].image");
    const real = podman(img.cgo!.ref);
    assert.notEqual(real.code, 0, real.out);
    assert.match(real.out, /no such file or directory/);
  });

  test("pprof and expvar linked into a program with a port: found, and really served", async () => {
    const images = { "reg.example/dbg:v1": img.dbg!.ref, "reg.example/tmp:v1": img.tmp!.ref };
    const y = deployment({ image: "reg.example/dbg:v1", ports: [{ containerPort: 8080 }] });
    const r = await lint(y, images);
    const f = r.findings.find((x) => x.rule === "DEBUG_ENDPOINT_EXPOSED");
    assert.ok(f, JSON.stringify(r));
    assert.match(f.message, /net\/http\/pprof/);
    assert.match(f.message, /expvar/);
    assert.equal(f.field, "spec.template.spec.containers[0].ports");
    // The program's own probe of its endpoints, inside the container: both answer 200.
    const real = podmanArgs([img.dbg!.ref, "probe"]);
    assert.equal(real.code, 0, real.out);
    assert.match(real.out, /\/debug\/pprof\/cmdline 200/);
    assert.match(real.out, /\/debug\/vars 200/);
    // Without a declared port the image's ExposedPorts (8080/tcp) still count.
    const r2 = await lint(deployment({ image: "reg.example/dbg:v1" }), images);
    assert.ok(r2.findings.some((x) => x.rule === "DEBUG_ENDPOINT_EXPOSED" && x.field.endsWith(".image")));
    // A Go program without them, same port: nothing.
    const ok = await lint(
      deployment({ image: "reg.example/tmp:v1", ports: [{ containerPort: 8080 }] }),
      images,
    );
    assert.ok(!ok.findings.some((x) => x.rule === "DEBUG_ENDPOINT_EXPOSED"), JSON.stringify(ok));
  });

  test("through a real registry: tag vs digest, and an image that cannot be fetched is a note", async () => {
    let reg: TestRegistry | undefined;
    try {
      reg = await startRegistry({ kind: "plain" });
      const name = `${reg.host}/app`;
      const p = await pack({
        binaries: [fixture("go-static")],
        user: "nonroot",
        push: `${name}:v1`,
        registry: { insecure: true },
      });
      const yaml = [
        deployment({ image: `${name}:v1`, securityContext: { runAsNonRoot: true } }),
        deployment({ image: `${name}@${p.digest}` }),
        deployment({ image: name }),
        deployment({ image: `${name}:latest` }),
        deployment({ image: `${reg.host}/missing:v1` }),
      ].join("---\n");
      const gets = () =>
        reg!
          .log()
          .split("\n")
          .filter((l) => l.includes("GET /v2/app/manifests/v1 ")).length;
      const before = gets();
      const r = await imageChecks(docsForTests(yaml, "all.yaml"), {
        registry: { insecure: true, retries: 0 },
      });
      // One image named by three containers of three documents is fetched once per run (one GET per run).
      const many = await imageChecks(
        docsForTests(
          [0, 1, 2]
            .map(() => deployment({ image: `${name}:v1`, securityContext: { runAsNonRoot: true } }))
            .join("---\n"),
        ),
        { registry: { insecure: true } },
      );
      assert.equal(many.findings.filter((f) => f.rule === "IMAGE_USER_NOT_NUMERIC").length, 3);
      assert.equal(gets() - before, 2, reg.log().slice(-3000));
      const by = (i: number) => r.findings.filter((f) => f.document.index === i).map((f) => f.rule);
      // Read through the registry: the config's USER reached the kubelet check.
      assert.deepEqual(by(0).sort(), ["IMAGE_NOT_PINNED", "IMAGE_USER_NOT_NUMERIC"]);
      assert.deepEqual(by(1), []);
      assert.match(r.findings.find((f) => f.document.index === 2)!.message, /no tag and no digest/);
      assert.match(r.findings.find((f) => f.document.index === 3)!.message, /:latest/);
      // Documents 2 and 3 name the tag the registry does not have (latest): skipped with a note too.
      assert.ok(
        r.notes.some((n) => n.includes(`image ${name} not checked`) && /MANIFEST_UNKNOWN/.test(n)),
        JSON.stringify(r.notes),
      );
      assert.ok(
        r.notes.some((n) => n.includes(`image ${name}:latest not checked`)),
        JSON.stringify(r.notes),
      );
      assert.deepEqual(by(4), ["IMAGE_NOT_PINNED"]);
      const note = r.notes.find((n) => n.includes(`${reg!.host}/missing:v1`));
      assert.ok(note, JSON.stringify(r.notes));
      assert.match(note, /not checked/);
      assert.match(note, /all\.yaml/);
    } finally {
      await reg?.stop();
    }
  });

  test("odd manifest shapes: no crash, init containers checked, a bad reference is a note", async () => {
    const yaml = [
      stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "b" } }),
      stringify({
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "d" },
        spec: { template: { spec: { containers: "x" } } },
      }),
      stringify({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "p" },
        spec: {
          nodeSelector: [],
          securityContext: "yes",
          affinity: {
            nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [7] } },
          },
          initContainers: [
            {
              name: "init",
              image: "reg.example/app@sha256:" + "a".repeat(64),
              command: ["sh", "-c", "true"],
            },
          ],
          containers: [
            1,
            null,
            { name: "a" },
            { name: "b", image: 5, securityContext: [] },
            { name: "c", image: "Not A Ref::" },
          ],
        },
      }),
    ].join("---\n");
    const r = await imageChecks(docsForTests(yaml, "odd.yaml"), {
      images: { ["reg.example/app@sha256:" + "a".repeat(64)]: img.numeric!.ref },
    });
    assert.deepEqual(
      r.findings.map((f) => `${f.rule} ${f.field}`),
      ["COMMAND_NOT_IN_IMAGE spec.initContainers[0].command[0]", "IMAGE_NOT_PINNED spec.containers[4].image"],
    );
    assert.equal(r.notes.length, 1, JSON.stringify(r.notes));
    assert.match(r.notes[0]!, /container "c": image Not A Ref:: not checked/);
  });

  test("a gzip bomb layer is refused by the layer limit: a note, bounded in time", async () => {
    const ref = await streamedImage(join(work, "bomb"), [() => zeroElfTar(tinyElf(), 1, 64 << 20)], {
      Entrypoint: ["/opt/bomb0"],
    });
    const started = Date.now();
    const r = await imageChecks(docsForTests(deployment({ image: "reg.example/bomb:v1" })), {
      images: { "reg.example/bomb:v1": ref },
      maxLayerBytes: 1 << 20,
    });
    assert.ok(Date.now() - started < 20_000, "watchdog: finishes within 20 s");
    assert.deepEqual(rules(r.findings), []);
    assert.equal(r.notes.length, 1, JSON.stringify(r));
    assert.match(r.notes[0]!, /image reg\.example\/bomb:v1 not checked: .*layer 0/);
  });

  test("an unreachable registry is a note, not a crash", async () => {
    const r = await imageChecks(docsForTests(deployment({ image: "127.0.0.1:1/app:v1" })), {
      registry: { insecure: true, retries: 0 },
    });
    assert.deepEqual(
      r.findings.map((f) => f.rule),
      ["IMAGE_NOT_PINNED"],
    );
    assert.equal(r.notes.length, 1);
    assert.match(r.notes[0]!, /127\.0\.0\.1:1\/app:v1 not checked/);
  });
});
