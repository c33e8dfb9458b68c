// zerodep build against the real things: the user's go and cargo build committed sources (a module
// from the Go proxy, crates.io), the images run under podman+runc, `go version -m` reads the build
// settings back, skopeo reads configs and a real docker-registry receives pushes. Expected values come
// from git, the sources and the oracles, never from zerodep's own output.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { needs, repoRoot } from "../helpers/env.js";
import { podmanRun } from "../helpers/podman.js";
import { startRegistry, type TestRegistry } from "../registry/registry-for-tests.js";

// Lower case only: podman derives an image name from an oci: path.
const work = join(tmpdir(), `zd-build-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));
const src = (name: string) => join(repoRoot, "test", "fixtures", "build-src", name);
const skip = needs({ tools: ["go", "git", "podman", "runc", "skopeo"] });

type BuildJson = {
  version: string | null;
  created: string;
  git: { commit: string; tag: string | null; dirty: boolean } | null;
  binaries: {
    name: string;
    platform: string;
    file: string;
    command: string[];
    env: Record<string, string>;
    cgo: string;
  }[];
  images: {
    programs: string[];
    digest: string;
    mediaType: string;
    images: {
      platform: { architecture: string };
      manifest: { digest: string };
      layers: { digest: string }[];
    }[];
    destinations: { destination: string; report: { blobs: { digest: string; action: string }[] } }[];
  }[];
  warnings: { code: string }[];
};

function git(dir: string, ...args: string[]): string {
  const r = spawnSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** A fresh git clone-like copy of a fixture: committed (at a fixed date) and optionally tagged. */
function checkout(fixture: string, name: string, tag?: string): string {
  const dir = join(work, name);
  cpSync(src(fixture), dir, { recursive: true, filter: (s) => !s.includes("/target") });
  git(dir, "init", "-q");
  git(dir, "add", "-A");
  spawnSync(
    "git",
    ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init"],
    {
      env: {
        ...process.env,
        GIT_COMMITTER_DATE: "2026-03-01T10:00:00Z",
        GIT_AUTHOR_DATE: "2026-03-01T10:00:00Z",
      },
    },
  );
  if (tag) git(dir, "tag", tag);
  return dir;
}

function build(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = zerodep(["build", "--json", ...args], { env, timeoutMs: 600_000 });
  return { ...r, json: r.code === 0 ? (JSON.parse(r.stdout) as BuildJson) : null };
}

function podman(image: string, extra: string[] = []) {
  return podmanRun(join(work, "podman"), image, extra);
}

function skopeoConfig(image: string, arch = "amd64") {
  const r = spawnSync("skopeo", ["--override-arch", arch, "inspect", "--config", image], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    created: string;
    config: { Labels?: Record<string, string>; Entrypoint: string[]; User: string };
    history: { created_by: string; comment?: string }[];
  };
}

/** `go version -m` of a binary (the go tool parses it; it is never run). */
function goVersionM(file: string): string {
  const r = spawnSync("go", ["version", "-m", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

describe("zerodep build: a Go HTTP service, source to running image", { skip }, () => {
  let dir: string;
  let out: string;
  let bins: string;
  let r: ReturnType<typeof build>;
  before(() => {
    dir = checkout("go-service", "svc", "v1.2.3");
    out = join(work, "svc-out");
    bins = join(work, "svc-bin");
    r = build([
      "-C",
      dir,
      "--out",
      `oci:${out}`,
      "-t",
      "{{.Version}}",
      "--ldflags=-X main.version={{.Version}}",
      "--args=-once",
      "--platform",
      "linux/amd64,linux/arm64",
      "--bin-dir",
      bins,
    ]);
  });

  test("exit 0, one index with both platforms, tagged with the version", () => {
    assert.equal(r.code, 0, r.stderr);
    const j = r.json!;
    assert.equal(j.images.length, 1);
    assert.equal(j.images[0]!.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(j.images[0]!.images.map((i) => i.platform.architecture).sort(), ["amd64", "arm64"]);
    const index = JSON.parse(readFileSync(join(out, "index.json"), "utf8"));
    assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "v1.2.3");
  });

  test("the image runs under podman+runc and finds roots, zone and user; the version it prints is the tag", (t) => {
    const p = podman(`oci:${out}:v1.2.3`);
    assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
    t.diagnostic(p.stdout);
    assert.match(p.stdout, /^version v1\.2\.3$/m);
    assert.match(p.stdout, /^roots [1-9]\d*$/m);
    assert.match(p.stdout, /^zone Europe\/Paris \+0200$/m);
    assert.match(p.stdout, /^user nonroot 65532 \/home\/nonroot$/m);
  });

  test("labels, annotations, created and the binary's build info all say the same version, time and commit", () => {
    const commit = git(dir, "rev-parse", "HEAD");
    const commitTime = new Date(Number(git(dir, "log", "-1", "--format=%ct")) * 1000)
      .toISOString()
      .replace(".000", "");
    const c = skopeoConfig(`oci:${out}:v1.2.3`);
    assert.equal(c.created, commitTime);
    assert.equal(c.config.Labels?.["org.opencontainers.image.version"], "v1.2.3");
    assert.equal(c.config.Labels?.["org.opencontainers.image.created"], commitTime);
    assert.equal(c.config.Labels?.["org.opencontainers.image.revision"], commit);
    const bin = join(bins, "linux-amd64", "go-service");
    const m = goVersionM(bin);
    assert.match(m, /-trimpath=true/);
    assert.match(m, /CGO_ENABLED=0/);
    assert.match(m, /GOARCH=amd64/);
    // go omits -ldflags from the build info under -trimpath (they may hold paths): -s -w is read from
    // the ELF instead (no symbol table), -X from what the program prints (the podman test above).
    assert.doesNotMatch(m, /-ldflags/);
    const sections = spawnSync("readelf", ["-SW", bin], { encoding: "utf8" }).stdout;
    assert.match(sections, /\.text/);
    assert.doesNotMatch(sections, /\.symtab|\.debug_info/);
    assert.match(m, new RegExp(`vcs\\.revision=${commit}`));
    assert.match(m, /vcs\.modified=false/);
    assert.match(m, /mod\texample\.com\/zerodep\/go-service\tv1\.2\.3/);
    assert.match(m, /dep\tgithub\.com\/google\/uuid\tv1\.6\.0/);
    assert.match(goVersionM(join(bins, "linux-arm64", "go-service")), /GOARCH=arm64/);
  });

  test("runtime files and the program are separate layers; both platforms share the runtime layer", () => {
    const imgs = r.json!.images[0]!.images;
    for (const im of imgs) assert.equal(im.layers.length, 2);
    assert.equal(imgs[0]!.layers[0]!.digest, imgs[1]!.layers[0]!.digest);
    assert.notEqual(imgs[0]!.layers[1]!.digest, imgs[1]!.layers[1]!.digest);
    const c = skopeoConfig(`oci:${out}:v1.2.3`);
    assert.deepEqual(c.config.Entrypoint, ["/app/go-service"]);
    assert.equal(c.config.User, "65532:65532");
  });

  test("the arm64 image runs too, under qemu-user through binfmt_misc", (t) => {
    if (!existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
      // Register qemu-user-static's aarch64 handler (F flag: works inside containers) when we can.
      const conf = "/usr/lib/binfmt.d/qemu-aarch64.conf";
      if (existsSync(conf) && existsSync("/proc/sys/fs/binfmt_misc/register"))
        try {
          writeFileSync("/proc/sys/fs/binfmt_misc/register", readFileSync(conf));
        } catch {}
    }
    if (!existsSync("/proc/sys/fs/binfmt_misc/qemu-aarch64")) {
      if (process.env.CI === "true")
        assert.fail("cannot enable qemu-aarch64 in binfmt_misc: arm64 image not run");
      t.skip("LOUDLY: qemu-aarch64 binfmt handler cannot be enabled here: the arm64 image was not run");
      return;
    }
    const p = podman(`oci:${out}:v1.2.3`, ["--arch", "arm64"]);
    assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
    assert.match(p.stdout, /^version v1\.2\.3$/m);
    assert.match(p.stdout, /^zone Europe\/Paris \+0200$/m);
  });
});

describe("zerodep build: reproducible from two clones with different caches", { skip }, () => {
  test("same commit, other directory, other GOCACHE and GOMODCACHE: identical digests", () => {
    const a = checkout("go-service", "repro-a", "v0.1.0");
    const b = checkout("go-service", "repro-b-elsewhere", "v0.1.0");
    const ra = build(["-C", a, "--out", `oci:${join(work, "repro-a-out")}`]);
    assert.equal(ra.code, 0, ra.stderr);
    const rb = build(["-C", b, "--out", `oci:${join(work, "repro-b-out")}`], {
      GOCACHE: join(work, "gocache-b"),
      GOMODCACHE: join(work, "gomod-b"),
      GOPATH: join(work, "gopath-b"),
    });
    assert.equal(rb.code, 0, rb.stderr);
    assert.ok(
      existsSync(join(work, "gomod-b", "github.com", "google")),
      "the second build fetched its own modules",
    );
    assert.equal(ra.json!.images[0]!.digest, rb.json!.images[0]!.digest);
    // Can fail: a different commit time gives a different image.
    spawnSync(
      "git",
      ["-C", b, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--amend", "-qm", "other"],
      {
        env: { ...process.env, GIT_COMMITTER_DATE: "2026-04-01T00:00:00Z" },
      },
    );
    const rc = build(["-C", b, "--out", `oci:${join(work, "repro-c-out")}`]);
    assert.equal(rc.code, 0, rc.stderr);
    assert.notEqual(rc.json!.images[0]!.digest, ra.json!.images[0]!.digest);
  });
});

describe("zerodep build: several programs, cgo, Rust", { skip }, () => {
  test("./cmd/... puts both programs in one image; each runs", () => {
    const dir = checkout("go-two", "two");
    const out = join(work, "two-out");
    const r = build(["-C", dir, "./cmd/...", "--out", `oci:${out}:latest`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json!.images[0]!.programs.sort(), ["server", "worker"]);
    assert.ok(r.json!.warnings.some((w) => w.code === "VCS_DIRTY") === false);
    const s = podman(`oci:${out}:latest`);
    const w = podman(`oci:${out}:latest`, ["--entrypoint", "/app/worker"]);
    assert.equal(s.code, 0, s.stderr);
    assert.equal(w.code, 0, w.stderr);
    assert.equal(s.stdout.trim(), "hello from server");
    assert.equal(w.stdout.trim(), "hello from worker");
  });

  test("--split makes one image per program, tagged by name in the layout", () => {
    const dir = checkout("go-two", "two-split");
    const out = join(work, "two-split-out");
    const r = build(["-C", dir, "./cmd/...", "--split", "--out", `oci:${out}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json!.images.length, 2);
    for (const name of ["server", "worker"]) {
      const p = podman(`oci:${out}:${name}`);
      assert.equal(p.code, 0, p.stderr);
      assert.equal(p.stdout.trim(), `hello from ${name}`);
    }
  });

  test("a cgo module is linked statically (not refused) and runs on an empty base", () => {
    const dir = checkout("go-cgo", "cgo");
    const out = join(work, "cgo-out");
    const bins = join(work, "cgo-bin");
    const r = build(["-C", dir, "--out", `oci:${out}:latest`, "--bin-dir", bins]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.json!.warnings.some((w) => w.code === "CGO_USED"));
    assert.equal(r.json!.binaries[0]!.cgo, "static");
    const readelf = spawnSync("readelf", ["-lW", join(bins, "linux-amd64", "go-cgo")], { encoding: "utf8" });
    assert.doesNotMatch(readelf.stdout, /INTERP/);
    assert.match(goVersionM(join(bins, "linux-amd64", "go-cgo")), /CGO_ENABLED=1/);
    const p = podman(`oci:${out}:latest`);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout.trim(), "c-sum=761"); // the byte sum of "zerodep", computed in C
  });

  test("--cgo bundle links dynamically and bundles the loader and libraries; it runs", () => {
    const dir = checkout("go-cgo", "cgo-bundle");
    const out = join(work, "cgo-bundle-out");
    const bins = join(work, "cgo-bundle-bin");
    const r = build(["-C", dir, "--cgo", "bundle", "--out", `oci:${out}:latest`, "--bin-dir", bins]);
    assert.equal(r.code, 0, r.stderr);
    const readelf = spawnSync("readelf", ["-lW", join(bins, "linux-amd64", "go-cgo")], { encoding: "utf8" });
    assert.match(readelf.stdout, /INTERP/);
    assert.equal(r.json!.images[0]!.images[0]!.layers.length, 3, "runtime, libraries, program");
    const p = podman(`oci:${out}:latest`);
    assert.equal(p.code, 0, p.stderr);
    assert.equal(p.stdout.trim(), "c-sum=761");
  });

  test("--cgo off refuses a cgo module with CGO_REQUIRED, exit 3, nothing written", () => {
    const dir = checkout("go-cgo", "cgo-off");
    const out = join(work, "cgo-off-out");
    const r = build(["-C", dir, "--cgo", "off", "--out", `oci:${out}`]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /example\.com\/zerodep\/go-cgo\/native uses cgo/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
    assert.equal(existsSync(out), false);
  });

  test("a Rust binary for musl: static image that runs", { skip: needs({ tools: ["cargo"] }) }, () => {
    const dir = checkout("rust-hello", "rust");
    const out = join(work, "rust-out");
    const r = build(
      ["-C", dir, "--out", `oci:${out}:latest`, "--ca-certs", "/etc/ssl/certs/ca-certificates.crt"],
      {
        CARGO_TARGET_DIR: join(work, "rust-target"),
      },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.json!.binaries[0]!.platform, "linux/amd64");
    const p = podman(`oci:${out}:latest`);
    assert.equal(p.code, 0, `${p.stdout}\n${p.stderr}`);
    assert.match(p.stdout, /^hello from rust-hello \d+$/m);
    assert.match(p.stdout, /^roots \d+ bytes$/m);
    assert.match(p.stdout, /^tmp writable \/tmp$/m);
  });
});

describe("zerodep build: registries, tags and the one-new-layer promise", { skip }, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ kind: "plain" });
  });
  after(() => reg?.stop());

  test("ZERODEP_REPO and -t a,b: both tags pushed; a rebuild after a code change pushes exactly one new layer", () => {
    const dir = checkout("go-service", "push", "v2.0.0");
    const env = { ZERODEP_REPO: `${reg.host}/team` };
    const r1 = build(["-C", dir, "-t", "latest,{{.Version}}", "--insecure"], env);
    assert.equal(r1.code, 0, r1.stderr);
    for (const tag of ["latest", "v2.0.0"]) {
      const s = spawnSync(
        "skopeo",
        ["inspect", "--tls-verify=false", `docker://${reg.host}/team/go-service:${tag}`],
        {
          encoding: "utf8",
        },
      );
      assert.equal(s.status, 0, s.stderr);
      assert.equal(JSON.parse(s.stdout).Digest, r1.json!.images[0]!.digest);
    }
    // Change the program, commit, build again: only the program layer is new.
    const main = join(dir, "main.go");
    writeFileSync(main, readFileSync(main, "utf8").replace('"ok %s\\n"', '"ok! %s\\n"'));
    git(dir, "commit", "-qam", "change");
    const r2 = build(["-C", dir, "--insecure"], env);
    assert.equal(r2.code, 0, r2.stderr);
    const blobs = r2.json!.images[0]!.destinations[0]!.report.blobs;
    const layers = r2.json!.images[0]!.images[0]!.layers.map((l) => l.digest);
    const sent = blobs.filter((b) => layers.includes(b.digest as string) && b.action === "uploaded");
    assert.equal(sent.length, 1, JSON.stringify(blobs));
    assert.equal(sent[0]!.digest, layers.at(-1));
  });
});

describe("zerodep build: --add, --env, --version, dirty trees", { skip }, () => {
  test("--add puts a file (mode kept) and a directory in their own layer; --version and --env reach the config", () => {
    const dir = checkout("go-two", "add");
    const assets = join(work, "assets");
    mkdirSync(join(assets, "static", "css"), { recursive: true });
    writeFileSync(join(assets, "static", "css", "a.css"), "body{}\n");
    writeFileSync(join(assets, "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    writeFileSync(join(dir, "untracked.txt"), "x");
    const out = join(work, "add-out");
    const r = build([
      "-C",
      dir,
      "./cmd/server",
      "--out",
      `oci:${out}:latest`,
      "--version",
      "9.9.9",
      "--env",
      "MODE=prod",
      "--add",
      `${join(assets, "static")}:/srv/static`,
      "--add",
      `${join(assets, "run.sh")}:/usr/local/bin/run.sh`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(
      r.json!.warnings.some((w) => w.code === "VCS_DIRTY"),
      "an untracked file makes the tree dirty, as Go's vcs.modified says",
    );
    assert.equal(r.json!.version, "9.9.9");
    const c = skopeoConfig(`oci:${out}:latest`) as ReturnType<typeof skopeoConfig> & {
      config: { Env: string[] };
    };
    assert.equal(c.config.Labels?.["org.opencontainers.image.version"], "9.9.9");
    assert.ok(c.config.Env.includes("MODE=prod"));
    assert.deepEqual(
      c.history.map((h) => h.comment),
      ["/etc/passwd, /etc/group, /tmp and runtime files", "added files", "the programs"],
    );
    // The added layer, read back with tar: modes and contents as on the host.
    const layers = r.json!.images[0]!.images[0]!.layers;
    const blob = join(out, "blobs", "sha256", layers[1]!.digest.slice(7));
    const list = spawnSync("tar", ["-tvzf", blob], { encoding: "utf8" }).stdout;
    assert.match(list, /^-rwxr-xr-x .* usr\/local\/bin\/run\.sh$/m);
    assert.match(list, /^-rw-r--r-- .* srv\/static\/css\/a\.css$/m);
    const p = podman(`oci:${out}:latest`, ["--entrypoint", "/usr/local/bin/run.sh"]);
    // No shell in the image: the script cannot run, and the kernel says so (it exists, its interpreter does not).
    assert.notEqual(p.code, 0);
  });
});

describe("zerodep build: tags on explicit references, --platform all", { skip }, () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ kind: "plain" });
  });
  after(() => reg?.stop());
  test("a --push reference with a tag keeps it; one without gets every -t", () => {
    const dir = checkout("go-two", "tags");
    const r = build([
      "-C",
      dir,
      "./cmd/server",
      "--insecure",
      "--push",
      `${reg.host}/a:pinned`,
      "--push",
      `${reg.host}/b`,
      "-t",
      "x,y",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const tags = (repo: string) => {
      const s = spawnSync("skopeo", ["list-tags", "--tls-verify=false", `docker://${reg.host}/${repo}`], {
        encoding: "utf8",
      });
      assert.equal(s.status, 0, s.stderr);
      return (JSON.parse(s.stdout).Tags as string[]).sort();
    };
    assert.deepEqual(tags("a"), ["pinned"]);
    assert.deepEqual(tags("b"), ["x", "y"]);
  });
  test("--platform all builds the base image's platforms", () => {
    const dir = checkout("go-two", "all");
    const base = join(work, "all-base");
    const b = build([
      "-C",
      dir,
      "./cmd/server",
      "--platform",
      "linux/amd64,linux/arm64",
      "--out",
      `oci:${base}:latest`,
    ]);
    assert.equal(b.code, 0, b.stderr);
    const r = build([
      "-C",
      dir,
      "./cmd/worker",
      "--base",
      `oci:${base}:latest`,
      "--platform",
      "all",
      "--out",
      `oci:${join(work, "all-out")}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json!.binaries.map((x) => x.platform).sort(), ["linux/amd64", "linux/arm64/v8"]);
    // The base's layers come first, ours after: runtime files are the base's (it has passwd), so only the program layer is added.
    assert.equal(r.json!.images[0]!.images[0]!.layers.length, 1);
  });
});

describe("zerodep build: bad input, one line each, nothing written", { skip }, () => {
  const one = (r: { code: number | null; stderr: string }, code: number, re: RegExp) => {
    assert.equal(r.code, code, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  };
  test("no go.mod and no Cargo.toml", () => {
    const dir = join(work, "empty");
    mkdirSync(dir);
    one(build(["-C", dir, "--out", `oci:${join(work, "e-out")}`]), 3, /NO_PROJECT|no go\.mod/);
    assert.equal(existsSync(join(work, "e-out")), false);
  });
  test("a package that is not main", () => {
    const dir = checkout("go-two", "notmain");
    one(
      build(["-C", dir, "./internal/greet", "--out", `oci:${join(work, "nm-out")}`]),
      3,
      /package greet, not main/,
    );
    assert.equal(existsSync(join(work, "nm-out")), false);
  });
  test("a compile error: the compiler's message with file and line", () => {
    const dir = checkout("go-two", "broken");
    writeFileSync(
      join(dir, "cmd", "server", "main.go"),
      "package main\n\nfunc main() { undefinedThing() }\n",
    );
    const r = build(["-C", dir, "./cmd/server", "--out", `oci:${join(work, "b-out")}`]);
    one(r, 3, /go build failed \(linux\/amd64\): .*main\.go:3:\d+: undefined: undefinedThing/);
    assert.equal(existsSync(join(work, "b-out")), false);
  });
  test("an unknown template field is a usage error before anything is built", () => {
    const dir = checkout("go-two", "tmpl");
    one(
      build([
        "-C",
        dir,
        "./cmd/server",
        "--ldflags=-X main.v={{.Nope}}",
        "--out",
        `oci:${join(work, "t-out")}`,
      ]),
      2,
      /unknown field \{\{\.Nope\}\}/,
    );
  });
  test("a cgo module for a platform with no C cross compiler", {
    skip: existsSync("/usr/bin/aarch64-linux-gnu-gcc") ? "aarch64-linux-gnu-gcc is installed" : false,
  }, () => {
    const dir = checkout("go-cgo", "cgo-arm");
    one(
      build(["-C", dir, "--platform", "linux/arm64", "--out", `oci:${join(work, "ca-out")}`]),
      3,
      /CGO_NO_TOOLCHAIN|no C compiler for arm64/,
    );
    assert.equal(existsSync(join(work, "ca-out")), false);
  });
  test("--platform not in the base image", () => {
    const dir = checkout("go-two", "base-plat");
    const base = join(work, "base-two");
    const b = build(["-C", dir, "./cmd/server", "--out", `oci:${base}:latest`]);
    assert.equal(b.code, 0, b.stderr);
    one(
      build([
        "-C",
        dir,
        "./cmd/worker",
        "--base",
        `oci:${base}:latest`,
        "--platform",
        "linux/arm64",
        "--out",
        `oci:${join(work, "bp-out")}`,
      ]),
      3,
      /linux\/arm64: the base image has linux\/amd64/,
    );
  });
  test("no go on PATH: TOOLCHAIN_MISSING", () => {
    const dir = checkout("go-two", "nogo");
    one(
      build(["-C", dir, "./cmd/server", "--out", `oci:${join(work, "ng-out")}`], { PATH: "/nonexistent" }),
      3,
      /go: not found on PATH/,
    );
  });
  test("readdir sanity: no staging directory left in TMPDIR", () => {
    const tmp = join(work, "tmp-own");
    mkdirSync(tmp);
    const dir = checkout("go-two", "clean");
    const r = build(["-C", dir, "./cmd/server", "--out", `oci:${join(work, "cl-out")}`], { TMPDIR: tmp });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(tmp), []);
  });
});

describe("zerodep build: zerodep.yaml in the project", { skip }, () => {
  test("builds, platforms, ldflags templates and image settings come from the file; a flag overrides it", () => {
    const dir = checkout("go-two", "proj", "v3.1.0");
    writeFileSync(
      join(dir, "zerodep.yaml"),
      [
        "version: 1",
        "build:",
        "  builds:",
        "    - main: ./cmd/worker",
        "    - main: ./cmd/server",
        '  tags: ["{{.Version}}"]',
        "  image:",
        "    env: [MODE=file]",
        "    labels: {team: core}",
        "",
      ].join("\n"),
    );
    const out = join(work, "proj-out");
    const r = build(["-C", dir, "--out", `oci:${out}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.json!.images[0]!.programs, ["worker", "server"]);
    const c = skopeoConfig(`oci:${out}:v3.1.0`);
    assert.deepEqual(c.config.Entrypoint, ["/app/worker"]);
    assert.equal(c.config.Labels?.team, "core");
    const p = podman(`oci:${out}:v3.1.0`);
    assert.equal(p.stdout.trim(), "hello from worker");
    const r2 = build(["-C", dir, "./cmd/server", "--out", `oci:${join(work, "proj-out2")}:x`]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.deepEqual(r2.json!.images[0]!.programs, ["server"]);
  });

  test("an unknown key is exit 3 with file, line and column; nothing is built", () => {
    const dir = checkout("go-two", "proj-bad");
    writeFileSync(join(dir, "zerodep.yaml"), "build:\n  builds:\n    - main: ./cmd/server\n  imgae: {}\n");
    const r = build(["-C", dir, "--out", `oci:${join(work, "pb-out")}`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /zerodep\.yaml:4:3: unknown key "imgae"/);
    assert.equal(existsSync(join(work, "pb-out")), false);
  });
});
