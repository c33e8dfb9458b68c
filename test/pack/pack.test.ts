import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";
import { podman as podmanCmd, podmanRun } from "../helpers/podman.js";

// Lower case only: podman derives an image name from an oci: path, and names must be lower case.
const work = join(tmpdir(), `zd-pack-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

type PackJson = {
  digest: string;
  mediaType: string;
  images: {
    platform: { architecture: string; variant?: string };
    manifest: { digest: string };
    config: { digest: string };
    layers: { digest: string; diffId: string }[];
  }[];
};

function pack(
  args: string[],
  env: Record<string, string> = {},
): { code: number | null; json: PackJson | null; stderr: string } {
  const r = zerodep(["pack", "--json", ...args], { env });
  return { code: r.code, json: r.code === 0 ? (JSON.parse(r.stdout) as PackJson) : null, stderr: r.stderr };
}

function podman(image: string, extra: string[] = []) {
  return podmanRun(join(work, "podman"), image, extra);
}

describe("zerodep pack: the image as umoci and skopeo see it", () => {
  const skip = needs({ tools: ["umoci", "skopeo"], fixtures: ["go-x509"] });
  test("files, modes and owners are exactly the ones meant (umoci unpack)", { skip }, () => {
    const dir = join(work, "u1");
    const p = pack([fixture("go-x509"), "--out", `oci:${dir}:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const bundle = join(work, "u1-bundle");
    run("umoci", ["unpack", "--image", `${dir}:v1`, bundle]);
    const root = join(bundle, "rootfs");
    const list = (d: string, rel = ""): string[] =>
      readdirSync(join(root, rel))
        .sort()
        .flatMap((n) => {
          const r = rel ? `${rel}/${n}` : n;
          return statSync(join(root, r)).isDirectory() ? [`${r}/`, ...list(d, r)] : [r];
        });
    assert.deepEqual(list(root), [
      "app/",
      "app/go-x509",
      "etc/",
      "etc/group",
      "etc/passwd",
      "etc/ssl/",
      "etc/ssl/certs/",
      "etc/ssl/certs/ca-certificates.crt",
      "home/",
      "home/nonroot/",
      "tmp/",
    ]);
    const mode = (r: string) => statSync(join(root, r)).mode & 0o7777;
    assert.equal(mode("tmp"), 0o1777);
    assert.equal(mode("app/go-x509"), 0o755);
    assert.equal(mode("etc/passwd"), 0o644);
    assert.equal(statSync(join(root, "home/nonroot")).uid, 65532);
    assert.equal(statSync(join(root, "app/go-x509")).uid, 0);
    assert.deepEqual(readFileSync(join(root, "app/go-x509")), readFileSync(fixture("go-x509")));
    assert.deepEqual(
      readFileSync(join(root, "etc/ssl/certs/ca-certificates.crt")),
      readFileSync("/etc/ssl/certs/ca-certificates.crt"),
    );
    assert.match(
      readFileSync(join(root, "etc/passwd"), "utf8"),
      /^nonroot:x:65532:65532:nonroot:\/home\/nonroot:\/sbin\/nologin$/m,
    );
    // skopeo reads the same config we meant.
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${dir}:v1`]).stdout) as {
      config: Record<string, unknown>;
      architecture: string;
      rootfs: { diff_ids: string[] };
    };
    assert.equal(cfg.config.User, "65532:65532");
    assert.deepEqual(cfg.config.Entrypoint, ["/app/go-x509"]);
    assert.ok((cfg.config.Env as string[]).includes("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"));
    assert.equal(cfg.architecture, "amd64");
    assert.deepEqual(cfg.rootfs.diff_ids, [p.json!.images[0]!.layers[0]!.diffId]);
    // The diff_id is the sha256 of the uncompressed layer, checked with the real tools.
    const blob = join(dir, "blobs/sha256", p.json!.images[0]!.layers[0]!.digest.slice(7));
    const sum = spawnSync("sh", ["-c", `gzip -dc '${blob}' | sha256sum`], { encoding: "utf8" }).stdout.split(
      " ",
    )[0];
    assert.equal(`sha256:${sum}`, p.json!.images[0]!.layers[0]!.diffId);
    // Our manifest digest is the one skopeo computes over the bytes it reads.
    const raw = spawnSync("sh", ["-c", `skopeo inspect --raw oci:${dir}:v1 | sha256sum`], {
      encoding: "utf8",
    }).stdout.split(" ")[0];
    assert.equal(`sha256:${raw}`, p.json!.digest);
  });

  test("reproducible: same inputs give the same digests; SOURCE_DATE_EPOCH changes diff_id and config", {
    skip,
  }, () => {
    const a = pack([fixture("go-x509"), "--out", `oci:${join(work, "r1")}`]).json!;
    const b = pack([fixture("go-x509"), "--out", `oci:${join(work, "r2")}`]).json!;
    assert.deepEqual([a.digest, a.images], [b.digest, b.images]);
    const c = pack([fixture("go-x509"), "--out", `oci:${join(work, "r3")}`], {
      SOURCE_DATE_EPOCH: "1700000000",
    }).json!;
    assert.notEqual(c.images[0]!.layers[0]!.diffId, a.images[0]!.layers[0]!.diffId);
    assert.notEqual(c.images[0]!.config.digest, a.images[0]!.config.digest);
    const d = pack([fixture("go-x509"), "--out", `oci:${join(work, "r4")}`], {
      SOURCE_DATE_EPOCH: "1700000000",
    }).json!;
    assert.deepEqual([c.digest, c.images], [d.digest, d.images]);
    // The layer tar itself: sorted, numeric owners, the fixed mtime, two zero blocks at the end.
    const blob = join(work, "r3/blobs/sha256", c.images[0]!.layers[0]!.digest.slice(7));
    const listing = spawnSync("sh", ["-c", `gzip -dc '${blob}' | tar --numeric-owner --full-time -tvf -`], {
      encoding: "utf8",
    }).stdout;
    const names = listing
      .trim()
      .split("\n")
      .map((l) => l.split(/\s+/).pop()!);
    assert.deepEqual(names, [...names].sort());
    assert.ok(
      listing
        .trim()
        .split("\n")
        .every((l) => l.includes("2023-11-14 22:13:20")),
      listing,
    );
    const tarBytes = spawnSync("sh", ["-c", `gzip -dc '${blob}' | tail -c 1024 | tr -d '\\0' | wc -c`], {
      encoding: "utf8",
    }).stdout.trim();
    assert.equal(tarBytes, "0");
  });

  test("a second tag in the same layout keeps the first; a multi-arch index has one entry per platform", {
    skip: needs({ tools: ["skopeo"], fixtures: ["go-static", "go-arm64", "go-arm"] }),
  }, () => {
    const dir = join(work, "multi");
    assert.equal(pack([fixture("go-static"), "--out", `oci:${dir}:one`]).code, 0);
    const m = pack([
      fixture("go-static"),
      fixture("go-arm64"),
      fixture("go-arm"),
      "--out",
      `oci:${dir}:multi`,
    ]).json!;
    assert.equal(m.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      m.images.map((i) => [i.platform.architecture, i.platform.variant ?? ""]),
      [
        ["amd64", ""],
        ["arm64", "v8"],
        ["arm", "v7"],
      ],
    );
    const idx = JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${dir}:multi`]).stdout) as {
      manifests: { platform: { architecture: string } }[];
    };
    assert.deepEqual(
      idx.manifests.map((x) => x.platform.architecture),
      ["amd64", "arm64", "arm"],
    );
    assert.equal(
      JSON.parse(run("skopeo", ["inspect", "--raw", `oci:${dir}:one`]).stdout).mediaType,
      "application/vnd.oci.image.manifest.v1+json",
    );
    // skopeo copies the whole index.
    assert.equal(
      spawnSync("skopeo", ["copy", "--all", `oci:${dir}:multi`, `oci:${join(work, "multi-copy")}:m`]).status,
      0,
    );
  });

  test("refusals: two binaries for one platform (exit 2); an image whose entrypoint cannot run (exit 1, nothing written)", {
    skip: needs({ fixtures: ["go-static", "go-pie-internal"] }),
  }, () => {
    const dup = zerodep([
      "pack",
      fixture("go-static"),
      fixture("go-pie-internal"),
      "--out",
      `oci:${join(work, "dup")}`,
    ]);
    assert.equal(dup.code, 2);
    assert.match(dup.stderr, /both linux\/amd64: one binary per platform/);
    const dir = join(work, "refused");
    const r = zerodep(["pack", fixture("go-pie-internal"), "--out", `oci:${dir}`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the image's entrypoint cannot run: MISSING_INTERPRETER: .*-buildmode=pie trap/);
    assert.throws(() => statSync(dir));
    assert.equal(zerodep(["pack", "--force", fixture("go-pie-internal"), "--out", `oci:${dir}`]).code, 0);
  });
});

describe("zerodep pack: images run for real (podman + runc)", () => {
  const skip = needs({
    tools: ["podman", "runc"],
    fixtures: ["go-user", "go-x509", "go-tz", "go-pie-internal", "go-arm64"],
  });
  test("a static Go binary runs as uid 65532 (nonroot)", { skip }, () => {
    const dir = join(work, "p-user");
    assert.equal(pack([fixture("go-user"), "--out", `oci:${dir}:t`]).code, 0);
    const r = podman(`oci:${dir}:t`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from zerodep \(user\) nonroot \/home\/nonroot/);
  });

  test("system roots: found with the packed CA bundle, missing without it, as check predicted", {
    skip,
  }, () => {
    const withCa = join(work, "p-ca");
    assert.equal(pack([fixture("go-x509"), "--out", `oci:${withCa}:t`]).code, 0);
    const ok = podman(`oci:${withCa}:t`);
    assert.equal(ok.code, 0, ok.stderr);
    const n = Number(/roots: (\d+)/.exec(ok.stdout)?.[1]);
    const expected = (
      readFileSync("/etc/ssl/certs/ca-certificates.crt", "utf8").match(/BEGIN CERTIFICATE/g) ?? []
    ).length;
    assert.equal(n, expected);
    const noCa = join(work, "p-noca");
    const p = zerodep(["pack", fixture("go-x509"), "--ca-certs", "none", "--out", `oci:${noCa}:t`]);
    assert.equal(p.code, 0);
    assert.match(p.stderr, /MISSING_CA_CERTIFICATES/);
    const bad = podman(`oci:${noCa}:t`);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout, /roots: 0|no system cert pool/);
  });

  test("a named time zone loads with the packed zoneinfo", { skip }, () => {
    const dir = join(work, "p-tz");
    assert.equal(pack([fixture("go-tz"), "--out", `oci:${dir}:t`]).code, 0);
    const r = podman(`oci:${dir}:t`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from zerodep \(tz\) 2024-01-02 04:04:05 \+0100 CET/);
  });

  test("the Go PIE trap, forced into scratch, fails as predicted; a multi-arch index runs the amd64 entry", {
    skip,
  }, () => {
    const dir = join(work, "p-pie");
    assert.equal(zerodep(["pack", "--force", fixture("go-pie-internal"), "--out", `oci:${dir}:t`]).code, 0);
    const r = podman(`oci:${dir}:t`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /no such file or directory/i);
    const multi = join(work, "p-multi");
    assert.equal(pack([fixture("go-user"), fixture("go-arm64"), "--out", `oci:${multi}:t`]).code, 0);
    const m = podman(`oci:${multi}:t`);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, /hello from zerodep \(user\) nonroot/);
  });

  test("a dynamic C or cgo binary is refused for scratch, and runs with --bundle-libs", {
    skip: needs({ tools: ["podman", "runc"], fixtures: ["c-hardened", "go-cgo", "musl-dynamic"] }),
  }, () => {
    const refused = zerodep(["pack", fixture("c-hardened"), "--out", `oci:${join(work, "p-c-refused")}`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /MISSING_INTERPRETER/);
    const c = join(work, "p-c");
    assert.equal(pack([fixture("c-hardened"), "--bundle-libs", "--out", `oci:${c}:t`]).code, 0);
    const rc = podman(`oci:${c}:t`);
    assert.equal(rc.code, 0, rc.stderr);
    assert.match(rc.stdout, /^hello from zerodep \(1 args\)$/m);
    const g = join(work, "p-cgo");
    assert.equal(pack([fixture("go-cgo"), "--bundle-libs", "--out", `oci:${g}:t`]).code, 0);
    const rg = podman(`oci:${g}:t`);
    assert.equal(rg.code, 0, rg.stderr);
    assert.match(rg.stdout, /hello from zerodep \(cgo\)/);
    assert.match(rg.stdout, /user: nonroot/);
    const m = join(work, "p-musl");
    assert.equal(pack([fixture("musl-dynamic"), "--bundle-libs", "--out", `oci:${m}:t`]).code, 0);
    const rm = podman(`oci:${m}:t`);
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /hello from zerodep/);
  });

  test("--out docker-archive: loads with podman load and runs; --out oci-archive: is read by skopeo", {
    skip: needs({ tools: ["podman", "runc", "skopeo"], fixtures: ["go-static"] }),
  }, () => {
    const file = join(work, "hello-docker.tar");
    const p = pack([fixture("go-static"), "--out", `docker-archive:${file}:zdtest/hello:v1`]);
    assert.equal(p.code, 0, p.stderr);
    const load = podmanCmd(join(work, "podman"), ["load", "-i", file]);
    assert.equal(load.code, 0, load.stderr);
    const name = /Loaded image(?:\(s\))?: (\S+)/.exec(load.stdout)?.[1];
    assert.ok(name, load.stdout);
    const r = podman(name!);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from zerodep/);
    const oa = join(work, "hello-oci.tar");
    const q = pack([fixture("go-static"), "--out", `oci-archive:${oa}:v1`]);
    assert.equal(q.code, 0, q.stderr);
    const raw = spawnSync("sh", ["-c", `skopeo inspect --raw oci-archive:${oa} | sha256sum`], {
      encoding: "utf8",
    }).stdout.split(" ")[0];
    assert.equal(`sha256:${raw}`, q.json!.digest);
    // No temporary layout is left beside the archive.
    assert.deepEqual(
      readdirSync(work).filter((n) => n.includes("zerodep")),
      [],
    );
  });

  test("--base: layers kept, config merged, media-type family kept; a corrupt base blob is an error", {
    skip: needs({ tools: ["podman", "runc", "skopeo"], fixtures: ["c-hardened", "go-cgo"] }),
  }, () => {
    // A glibc base made by pack itself: the loader and libc from --bundle-libs.
    const base = join(work, "b-glibc");
    assert.equal(pack([fixture("c-hardened"), "--bundle-libs", "--out", `oci:${base}:glibc`]).code, 0);
    // Without the base, go-cgo is refused for scratch; on it, check passes and the image runs.
    const on = join(work, "b-on");
    const p = pack([
      fixture("go-cgo"),
      "--base",
      `oci:${base}:glibc`,
      "--env",
      "A=1",
      "--out",
      `oci:${on}:t`,
    ]);
    assert.equal(p.code, 0, p.stderr);
    const baseCfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${base}:glibc`]).stdout) as {
      rootfs: { diff_ids: string[] };
    };
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${on}:t`]).stdout) as {
      config: { Env: string[]; Entrypoint: string[] };
      rootfs: { diff_ids: string[] };
      history: unknown[];
    };
    assert.deepEqual(cfg.rootfs.diff_ids.slice(0, -1), baseCfg.rootfs.diff_ids);
    assert.equal(cfg.history.length, 2);
    assert.deepEqual(cfg.config.Entrypoint, ["/app/go-cgo"]);
    assert.ok(cfg.config.Env.includes("A=1"));
    const r = podman(`oci:${on}:t`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /hello from zerodep \(cgo\)/);
    // A Docker-format base (skopeo --format v2s2) keeps Docker media types; loads and runs as a docker-archive.
    const dbase = join(work, "b-docker");
    assert.equal(
      spawnSync("skopeo", ["copy", "--format", "v2s2", `oci:${base}:glibc`, `oci:${dbase}:glibc`]).status,
      0,
    );
    const tarFile = join(work, "b-docker.tar");
    assert.equal(
      pack([
        fixture("go-cgo"),
        "--base",
        `oci:${dbase}:glibc`,
        "--out",
        `docker-archive:${tarFile}:zdtest/cgo:v1`,
      ]).code,
      0,
    );
    const raw = JSON.parse(run("skopeo", ["inspect", "--raw", `docker-archive:${tarFile}`]).stdout) as {
      mediaType: string;
      config: { mediaType: string };
      layers: { mediaType: string }[];
    };
    assert.equal(raw.mediaType, "application/vnd.docker.distribution.manifest.v2+json");
    assert.equal(raw.config.mediaType, "application/vnd.docker.container.image.v1+json");
    assert.ok(raw.layers.every((l) => l.mediaType === "application/vnd.docker.image.rootfs.diff.tar.gzip"));
    // Bases from archives: an oci-archive and the legacy docker-archive skopeo writes (uncompressed
    // Docker layers, no OCI index), read in place; the result runs.
    const ociArchive = join(work, "b-base-oci.tar");
    const legacy = join(work, "b-base-legacy.tar");
    run("skopeo", ["copy", "--quiet", `oci:${base}:glibc`, `oci-archive:${ociArchive}:glibc`]);
    run("skopeo", ["copy", "--quiet", `oci:${base}:glibc`, `docker-archive:${legacy}:zd/base:glibc`]);
    // The Docker-family result goes to a docker-archive: containers/image reads Docker manifests only
    // from docker transports, never from an OCI layout's index.
    for (const [i, spec] of [`oci-archive:${ociArchive}:glibc`, `docker-archive:${legacy}`].entries()) {
      const o = i === 0 ? `oci:${join(work, "b-arch-0")}:t` : `docker-archive:${join(work, "b-arch-1.tar")}`;
      const q = pack([fixture("go-cgo"), "--base", spec, "--out", o]);
      assert.equal(q.code, 0, q.stderr);
      const c = JSON.parse(run("skopeo", ["inspect", "--config", o]).stdout) as {
        rootfs: { diff_ids: string[] };
      };
      assert.deepEqual(c.rootfs.diff_ids.slice(0, -1), baseCfg.rootfs.diff_ids, spec);
      const rr = podman(o);
      assert.equal(rr.code, 0, `${spec}: ${rr.stderr}`);
      assert.match(rr.stdout, /hello from zerodep \(cgo\)/);
    }
    // A base whose blob no longer matches its digest: a clear error naming the digest, nothing written.
    const bad = join(work, "b-bad");
    run("cp", ["-r", base, bad]);
    const layerBlob = readdirSync(join(bad, "blobs/sha256"))
      .map((h) => join(bad, "blobs/sha256", h))
      .sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const bytes = readFileSync(layerBlob);
    bytes[bytes.length - 100] = (bytes[bytes.length - 100] ?? 0) ^ 0xff;
    writeFileSync(layerBlob, bytes);
    const out = join(work, "b-bad-out");
    const e = zerodep(["pack", fixture("go-cgo"), "--base", `oci:${bad}:glibc`, "--out", `oci:${out}:t`]);
    assert.equal(e.code, 3);
    assert.match(e.stderr, /sha256:[0-9a-f]{64}/);
    assert.throws(() => statSync(out));
  });
});
