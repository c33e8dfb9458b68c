/**
 * `zerodep build` against ko (the anchor, github.com/google/ko) on the same project and the same base:
 * test/fixtures/build-src/go-service (net/http, CA roots, a time zone, os/user, a module from the Go
 * proxy) in a fresh git repository, built by both tools for linux/amd64 into OCI layouts. The base is
 * a stand-in for ko's default cgr.dev/chainguard/static (unreachable here), pushed to a local
 * docker-registry: passwd/group with nonroot 65532, /tmp, the CA bundle, zoneinfo (test/helpers/
 * static-base.ts) — what a distroless static base gives a Go service, so that ko's image can run the
 * service at all, and both tools start from the same bytes.
 *
 * Asserted (facts that must hold): both images run the service under podman (`-once` finds roots, zone
 * and user and exits 0); `go version -m` of the two binaries agrees on GOOS, GOARCH, CGO_ENABLED=0,
 * -trimpath and vcs.revision (the commit); zerodep's image is no larger than ko's on the same base.
 * Everything else (ldflags, config, layers, sizes) is printed as a table in the test log, not judged.
 * zerodep build's default (no --base: scratch plus what the binary needs) is built and run too.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { needs, skipUnlessCI } from "../helpers/env.js";
import { koPath } from "../helpers/ko.js";
import { podman } from "../helpers/podman.js";
import { makeStaticBase, pushStaticBase } from "../helpers/static-base.js";
import { startRegistry, type TestRegistry } from "../registry/registry-for-tests.js";
import {
  gitFixtureCopy,
  goVersionM,
  type LayoutImage,
  readLayoutImage,
  unpackLayers,
} from "./build-for-tests.js";

const ko = koPath();
// podman names an oci: image after its directory, and a reference must be lower case: no mkdtemp.
const work = join(tmpdir(), `zerodep-ko-compare-${process.pid}`);
const PLATFORM = "linux/amd64";

/**
 * The same environment for both tools. This machine kind sets GOFLAGS=-buildvcs=false in go's env
 * file; the environment variable overrides it, so both builds stamp the commit (as ko does by default
 * in a git checkout).
 */
const buildEnv = { ...process.env, GOFLAGS: "-buildvcs=true", GOTOOLCHAIN: "local" };

interface Built {
  tool: string;
  layout: string;
  image: LayoutImage;
  binary: string;
  binarySize: number;
  go: ReturnType<typeof goVersionM>;
  /** .symtab and .debug_* sections per readelf -S: -ldflags "-s -w" removes them (Go does not record
   * -ldflags under -trimpath, so `go version -m` cannot tell). */
  symbols: string;
  run: { code: number | null; stdout: string; stderr: string };
}

function runOnce(state: string, ref: string) {
  const limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];
  return podman(state, ["run", "--rm", "--network", "none", ...limits, ref, "-once"]);
}

function collect(tool: string, layout: string, ref: string, tag: string | undefined, state: string): Built {
  const image = readLayoutImage(layout, PLATFORM, tag);
  const root = join(work, `${tool}-root`);
  unpackLayers(layout, image, root);
  const entry = image.config.config.Entrypoint?.[0];
  assert.ok(entry, `${tool}: no entrypoint in ${JSON.stringify(image.config.config)}`);
  const binary = join(root, entry);
  return {
    tool,
    layout,
    image,
    binary: entry,
    binarySize: statSync(binary).size,
    go: goVersionM(binary),
    symbols: symbolSections(binary),
    run: runOnce(state, ref),
  };
}

function symbolSections(file: string): string {
  const r = spawnSync("readelf", ["-S", "-W", file], { encoding: "utf8", maxBuffer: 16 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const names = [...r.stdout.matchAll(/\]\s+(\.symtab|\.z?debug_\w+)\s/g)].map((m) => m[1]!);
  return names.length ? `${names.length}: ${names.join(" ")}` : "none (stripped)";
}

const total = (b: Built) => b.image.layers.reduce((n, l) => n + l.size, 0);

function table(rows: Built[]): string {
  const setting = (k: string) => (b: Built) => (b.go.build.has(k) ? b.go.build.get(k) || "(set)" : "-");
  const lines: [string, (b: Built) => string][] = [
    ["binary", (b) => `${b.binary} (${b.binarySize} B)`],
    ["GOOS/GOARCH", (b) => `${setting("GOOS")(b)}/${setting("GOARCH")(b)}`],
    ["CGO_ENABLED", setting("CGO_ENABLED")],
    ["-trimpath", setting("-trimpath")],
    ["-ldflags", setting("-ldflags")],
    [".symtab/.debug_*", (b) => b.symbols],
    ["-buildmode", setting("-buildmode")],
    ["-tags", setting("-tags")],
    ["GOAMD64", setting("GOAMD64")],
    ["vcs.revision", setting("vcs.revision")],
    ["vcs.time", setting("vcs.time")],
    ["vcs.modified", setting("vcs.modified")],
    ["User", (b) => JSON.stringify(b.image.config.config.User ?? null)],
    ["Entrypoint", (b) => JSON.stringify(b.image.config.config.Entrypoint ?? null)],
    ["Cmd", (b) => JSON.stringify(b.image.config.config.Cmd ?? null)],
    ["Env", (b) => JSON.stringify(b.image.config.config.Env ?? null)],
    ["WorkingDir", (b) => JSON.stringify(b.image.config.config.WorkingDir ?? null)],
    ["layers", (b) => `${b.image.layers.length}: ${b.image.layers.map((l) => l.size).join(" + ")} B`],
    ["layers total (gzip)", (b) => `${total(b)} B`],
    ["manifest", (b) => `${b.image.manifestDigest.slice(0, 19)}… (${b.image.manifestSize} B)`],
    ["-once", (b) => `exit ${b.run.code}: ${b.run.stdout.trim().split("\n").join(" | ")}`],
  ];
  const width = Math.max(...lines.map(([k]) => k.length));
  const out = [`${"".padEnd(width)}  ${rows.map((r) => r.tool).join("  ||  ")}`];
  for (const [k, f] of lines) out.push(`${k.padEnd(width)}  ${rows.map(f).join("  ||  ")}`);
  return out.join("\n");
}

describe("zerodep build vs ko build: go-service on the same base", {
  skip:
    (process.arch !== "x64" ? "needs an amd64 machine" : false) ||
    needs({
      tools: ["go", "git", "podman", "runc", "skopeo", "docker-registry", "tar", "gzip", "readelf"],
    }) ||
    skipUnlessCI(
      ko ? false : "MISSING: ko (.ci/run builds it into ~/.cache/zerodep-ci; or ZERODEP_KO=/path)",
    ),
}, () => {
  let reg: TestRegistry;
  let src: string;
  let head: string;
  const state = join(work, "podman");
  let baseRef: string;
  let koBuilt: Built;
  let zdBuilt: Built;
  let zdDefault: Built;

  before(async () => {
    rmSync(work, { recursive: true, force: true });
    mkdirSync(work, { recursive: true });
    reg = await startRegistry({ kind: "plain" });
    baseRef = `${reg.host}/base:latest`;
    pushStaticBase(makeStaticBase(join(work, "base")), baseRef);
    src = join(work, "go-service");
    head = gitFixtureCopy("go-service", src);
  });
  after(async () => {
    await reg?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("ko build writes an image of the service on the base, and it runs", () => {
    const layout = join(work, "ko-oci");
    // KO_DOCKER_REPO=ko.local would load into a Docker daemon even with --push=false; a registry
    // repository with --push=false only names the image (nothing is pushed), and --oci-layout-path
    // writes it.
    const r = spawnSync(
      ko!,
      ["build", "--push=false", "--oci-layout-path", layout, "--platform", PLATFORM, "--bare", "./"],
      {
        cwd: src,
        encoding: "utf8",
        timeout: 600_000,
        env: { ...buildEnv, KO_DOCKER_REPO: `${reg.host}/ko`, KO_DEFAULTBASEIMAGE: baseRef },
      },
    );
    assert.equal(r.status, 0, `ko build: ${r.stderr}`);
    koBuilt = collect("ko", layout, `oci:${layout}`, undefined, state);
    assert.equal(koBuilt.run.code, 0, `ko's image -once: ${koBuilt.run.stdout}${koBuilt.run.stderr}`);
  });

  test("zerodep build on the same base writes an image that runs", () => {
    const layout = join(work, "zd-oci");
    const args = ["build", "-C", src, "--base", baseRef, "--insecure", "--platform", PLATFORM];
    const r = zerodep([...args, "--out", `oci:${layout}:latest`, "--json"], {
      env: buildEnv,
      timeoutMs: 600_000,
    });
    assert.equal(r.code, 0, `zerodep build: ${r.stderr}`);
    zdBuilt = collect("zerodep --base", layout, `oci:${layout}:latest`, "latest", state);
    assert.equal(zdBuilt.run.code, 0, `zerodep's image -once: ${zdBuilt.run.stdout}${zdBuilt.run.stderr}`);
  });

  test("zerodep build's default (scratch plus what the binary needs) runs the service too", () => {
    const layout = join(work, "zd-default-oci");
    const args = ["build", "-C", src, "--platform", PLATFORM, "--out", `oci:${layout}:latest`, "--json"];
    const r = zerodep(args, { env: buildEnv, timeoutMs: 600_000 });
    assert.equal(r.code, 0, `zerodep build: ${r.stderr}`);
    zdDefault = collect("zerodep (scratch)", layout, `oci:${layout}:latest`, "latest", state);
    assert.equal(zdDefault.run.code, 0, `-once: ${zdDefault.run.stdout}${zdDefault.run.stderr}`);
  });

  test("the binaries agree on GOOS, GOARCH, CGO_ENABLED=0, -trimpath and the commit", (t) => {
    assert.ok(koBuilt && zdBuilt, "both builds must have succeeded");
    t.diagnostic(`\n${table([koBuilt, zdBuilt, ...(zdDefault ? [zdDefault] : [])])}`);
    for (const b of [koBuilt, zdBuilt]) {
      assert.equal(b.go.path, "example.com/zerodep/go-service", b.tool);
      assert.equal(b.go.build.get("GOOS"), "linux", b.tool);
      assert.equal(b.go.build.get("GOARCH"), "amd64", b.tool);
      assert.equal(b.go.build.get("CGO_ENABLED"), "0", b.tool);
      assert.equal(b.go.build.get("-trimpath"), "true", b.tool);
      assert.equal(b.go.build.get("vcs.revision"), head, `${b.tool}: ${b.go.text}`);
    }
  });

  test("zerodep's image is no larger than ko's on the same base", () => {
    assert.ok(koBuilt && zdBuilt, "both builds must have succeeded");
    // Both start from the same base layer; what each adds is the difference.
    assert.equal(zdBuilt.image.layers[0]?.digest, koBuilt.image.layers[0]?.digest, "same base layer first");
    assert.ok(
      total(zdBuilt) <= total(koBuilt),
      `zerodep ${total(zdBuilt)} B of layers > ko ${total(koBuilt)} B:\n${table([koBuilt, zdBuilt])}`,
    );
  });
});
