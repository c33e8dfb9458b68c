import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { copy, push } from "../../src/transfer/copy.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";
import { zerodepAsync } from "./cli-async-for-tests.js";
import { startProxy, type TestProxy, uploadRequests } from "./proxy-for-tests.js";
import { startRegistry, type TestRegistry } from "./registry-for-tests.js";

// Lower case only: repository names and podman/skopeo paths must be lower case.
const skip = needs({ tools: ["docker-registry", "skopeo"], fixtures: ["go-static", "go-arm64"] });

/** sha256 of what skopeo (the anchor) reads for a reference: the exact manifest bytes. */
function skopeoDigest(ref: string, extra: string[] = []): string {
  const raw = run("skopeo", ["inspect", "--raw", ...extra, ref]).stdout;
  return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
}

describe("registry over plain HTTP (docker-registry on 127.0.0.1)", { skip, timeout: 240_000 }, () => {
  let reg: TestRegistry;
  let work: string;
  let one: string;
  let multi: string;
  before(async () => {
    reg = await startRegistry({ kind: "plain" });
    work = mkdtempSync(join(tmpdir(), "zerodep-regtest-"));
    one = `oci:${join(work, "one")}:v1`;
    multi = `oci:${join(work, "multi")}:v1`;
    const p1 = zerodep([
      "pack",
      fixture("go-static"),
      "--out",
      one,
      "--ca-certs",
      "none",
      "--tzdata",
      "none",
    ]);
    assert.equal(p1.code, 0, p1.stderr);
    const p2 = zerodep([
      "pack",
      fixture("go-static"),
      fixture("go-arm64"),
      "--out",
      multi,
      "--ca-certs",
      "none",
      "--tzdata",
      "none",
    ]);
    assert.equal(p2.code, 0, p2.stderr);
  });
  after(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("push with zerodep, read with skopeo: the same manifest digest, every blob readable", () => {
    const r = zerodep(["push", one, `${reg.host}/zd/one:v1`, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { digest: string; schemaVersion: number; blobs: { action: string }[] };
    assert.equal(j.schemaVersion, 1);
    const local = skopeoDigest(one);
    assert.equal(j.digest, local);
    assert.equal(skopeoDigest(`docker://${reg.host}/zd/one:v1`, ["--tls-verify=false"]), local);
    // skopeo pulls every blob and checks its digest.
    const out = join(work, "skopeo-pulled");
    run("skopeo", ["copy", "--src-tls-verify=false", `docker://${reg.host}/zd/one:v1`, `oci:${out}:x`]);
    assert.equal(skopeoDigest(`oci:${out}:x`), local);
  });

  test("push with skopeo, pull with zerodep: identical digests, a layout skopeo can read back", () => {
    run("skopeo", ["copy", "--dest-tls-verify=false", one, `docker://${reg.host}/sk/one:v1`]);
    const remote = skopeoDigest(`docker://${reg.host}/sk/one:v1`, ["--tls-verify=false"]);
    const dir = join(work, "zd-pulled");
    const r = zerodep(["pull", `${reg.host}/sk/one:v1`, "--out", `oci:${dir}`, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { digest: string }).digest, remote);
    // Without a tag in --out, the layout is tagged with the reference's tag.
    assert.equal(skopeoDigest(`oci:${dir}:v1`), remote);
    run("skopeo", ["copy", `oci:${dir}:v1`, `oci:${join(work, "verify")}:v1`]);
  });

  test("multi-arch index round trip: push, pull all, pull one platform", () => {
    const r = zerodep(["push", multi, `${reg.host}/zd/multi:v1`, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const idx = JSON.parse(
      run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/zd/multi:v1`]).stdout,
    ) as {
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    assert.deepEqual(idx.manifests.map((m) => m.platform.architecture).sort(), ["amd64", "arm64"]);
    assert.equal(
      skopeoDigest(`docker://${reg.host}/zd/multi:v1`, ["--tls-verify=false"]),
      skopeoDigest(multi),
    );
    const all = join(work, "multi-all");
    assert.equal(zerodep(["pull", `${reg.host}/zd/multi:v1`, "--out", `oci:${all}:v1`]).code, 0);
    assert.equal(skopeoDigest(`oci:${all}:v1`), skopeoDigest(multi));
    run("skopeo", ["copy", "--all", `oci:${all}:v1`, `oci:${join(work, "multi-verify")}:v1`]);
    const arm = join(work, "multi-arm");
    const p = zerodep([
      "pull",
      `${reg.host}/zd/multi:v1`,
      "--platform",
      "linux/arm64",
      "--out",
      `oci:${arm}:a`,
    ]);
    assert.equal(p.code, 0, p.stderr);
    const armDigest = idx.manifests.find((m) => m.platform.architecture === "arm64")!.digest;
    assert.equal(skopeoDigest(`oci:${arm}:a`), armDigest);
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${arm}:a`]).stdout) as {
      architecture: string;
    };
    assert.equal(cfg.architecture, "arm64");
  });

  describe("through a recording proxy", () => {
    let proxy: TestProxy;
    before(async () => {
      proxy = await startProxy(reg.port);
    });
    after(async () => proxy?.close());

    test("re-push uploads nothing: only HEADs and the manifest PUT", async () => {
      const first = await push(one, `${proxy.host}/rp/one:v1`);
      assert.ok(uploadRequests(proxy.seen).length > 0);
      proxy.seen.length = 0;
      const second = await push(one, `${proxy.host}/rp/one:v1`);
      assert.equal(second.digest, first.digest);
      assert.deepEqual(uploadRequests(proxy.seen), []);
      assert.ok(proxy.seen.some((s) => s.method === "HEAD" && s.url.includes("/blobs/") && s.status === 200));
      assert.ok(second.blobs.every((b) => b.action === "exists"));
    });

    test("copy between repositories of one registry mounts every blob (POST ?mount= answered 201)", async () => {
      await push(multi, `${proxy.host}/mnt/src:v1`);
      proxy.seen.length = 0;
      const r = await copy(`${proxy.host}/mnt/src:v1`, `${proxy.host}/mnt/dst:v1`);
      const mounts = proxy.seen.filter((s) => s.method === "POST" && s.url.includes("mount="));
      assert.equal(mounts.length, 4);
      assert.ok(mounts.every((m) => m.status === 201));
      assert.ok(
        !proxy.seen.some((s) => s.method === "PATCH" || (s.method === "PUT" && s.url.includes("/blobs/"))),
      );
      assert.ok(
        !proxy.seen.some((s) => s.method === "GET" && s.url.includes("/blobs/sha256")),
        "no blob was downloaded",
      );
      assert.equal(skopeoDigest(`docker://${reg.host}/mnt/dst:v1`, ["--tls-verify=false"]), r.digest);
    });
    test("pack --out twice and --push twice: one image, four destinations, the same digest everywhere", async () => {
      const a = join(work, "tee-a");
      const b = join(work, "tee-b.tar");
      proxy.seen.length = 0;
      const r = await zerodepAsync([
        "pack",
        fixture("go-static"),
        "--out",
        `oci:${a}:v1`,
        "--out",
        `oci-archive:${b}:v1`,
        "--push",
        `${proxy.host}/tee/one:v1`,
        "--push",
        `${proxy.host}/tee/two:latest`,
        "--ca-certs",
        "none",
        "--tzdata",
        "none",
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const j = r.json as {
        digest: string;
        destinations: { destination: string; report: { digest: string } }[];
      };
      assert.equal(j.destinations.length, 4);
      // Read back by the anchor, each from its own medium.
      assert.equal(skopeoDigest(`oci:${a}:v1`), j.digest);
      assert.equal(skopeoDigest(`oci-archive:${b}:v1`), j.digest);
      assert.equal(skopeoDigest(`docker://${reg.host}/tee/one:v1`, ["--tls-verify=false"]), j.digest);
      assert.equal(skopeoDigest(`docker://${reg.host}/tee/two:latest`, ["--tls-verify=false"]), j.digest);
      // The second repository of the same registry mounts (or finds) the blobs: each is uploaded once.
      const puts = proxy.seen.filter((s) => s.method === "PUT" && s.url.includes("/blobs/uploads/"));
      assert.equal(puts.length, 2, "config and layer uploaded once each");
    });

    test("pack --base REG --push REG: the base's layers are mounted, not uploaded again", async () => {
      await push(one, `${proxy.host}/mb/base:v1`);
      const baseCfg = JSON.parse(run("skopeo", ["inspect", "--config", one]).stdout) as {
        rootfs: { diff_ids: string[] };
      };
      const baseManifest = JSON.parse(run("skopeo", ["inspect", "--raw", one]).stdout) as {
        layers: { digest: string }[];
      };
      proxy.seen.length = 0;
      const r = await zerodepAsync([
        "pack",
        fixture("go-static"),
        "--base",
        `${proxy.host}/mb/base:v1`,
        "--path",
        "/app/second",
        "--push",
        `${proxy.host}/mb/app:v1`,
        "--ca-certs",
        "none",
        "--tzdata",
        "none",
        "--json",
      ]);
      assert.equal(r.code, 0, r.stderr);
      const mounts = proxy.seen.filter((s) => s.method === "POST" && s.url.includes("mount="));
      for (const l of baseManifest.layers)
        assert.ok(
          mounts.some((m) => m.url.includes(encodeURIComponent(l.digest)) || m.url.includes(l.digest)),
          `base layer ${l.digest} mounted`,
        );
      assert.ok(mounts.every((m) => m.status === 201));
      const raw = JSON.parse(
        run("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/mb/app:v1`]).stdout,
      ) as { layers: { digest: string }[] };
      assert.equal(raw.layers.length, baseManifest.layers.length + 1);
      assert.deepEqual(
        raw.layers.slice(0, -1).map((l) => l.digest),
        baseManifest.layers.map((l) => l.digest),
      );
      const cfg = JSON.parse(
        run("skopeo", ["inspect", "--config", "--tls-verify=false", `docker://${reg.host}/mb/app:v1`]).stdout,
      ) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(cfg.rootfs.diff_ids.slice(0, -1), baseCfg.rootfs.diff_ids);
      // The image runs through the anchor's eyes: every blob of it is readable from the registry.
      run("skopeo", [
        "copy",
        "--src-tls-verify=false",
        `docker://${reg.host}/mb/app:v1`,
        `oci:${join(work, "mb-copy")}:v1`,
      ]);
    });
  });

  test("pack --push, and pack --base from the registry", async () => {
    const r = await zerodepAsync([
      "pack",
      fixture("go-static"),
      "--push",
      `${reg.host}/zd/packed:v2`,
      "--ca-certs",
      "none",
      "--tzdata",
      "none",
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = r.json as { digest: string; pushed: { digest: string } };
    assert.equal(j.pushed.digest, j.digest);
    assert.equal(skopeoDigest(`docker://${reg.host}/zd/packed:v2`, ["--tls-verify=false"]), j.digest);
    const based = join(work, "based");
    const b = await zerodepAsync([
      "pack",
      fixture("go-static"),
      "--base",
      `${reg.host}/zd/one:v1`,
      "--path",
      "/app/second",
      "--out",
      `oci:${based}:v1`,
      "--ca-certs",
      "none",
      "--tzdata",
      "none",
    ]);
    assert.equal(b.code, 0, b.stderr);
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${based}:v1`]).stdout) as {
      rootfs: { diff_ids: string[] };
    };
    const baseCfg = JSON.parse(run("skopeo", ["inspect", "--config", one]).stdout) as {
      rootfs: { diff_ids: string[] };
    };
    assert.equal(cfg.rootfs.diff_ids.length, baseCfg.rootfs.diff_ids.length + 1);
    assert.equal(cfg.rootfs.diff_ids[0], baseCfg.rootfs.diff_ids[0]);
  });

  test("errors are one clear line: unknown tag, bad reference, unreachable registry", () => {
    const a = zerodep(["pull", `${reg.host}/zd/one:nope`, "--out", `oci:${join(work, "x")}`]);
    assert.equal(a.code, 3);
    assert.match(a.stderr, /MANIFEST_UNKNOWN/);
    assert.equal(a.stderr.trim().split("\n").length, 1);
    const b = zerodep(["push", one, "UPPER/Case:v1"]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /lower-case/);
    const c = zerodep(["push", one, "127.0.0.1:1/x:v1", "--retries", "0"]);
    assert.equal(c.code, 3);
    assert.match(c.stderr, /ECONNREFUSED/);
    assert.ok(!readFileSync(join(work, "one", "index.json"), "utf8").includes("nope"));
  });

  test("analyze, diff, check and inspect read a registry image as they read the layout it came from", () => {
    const ref = `${reg.host}/zd/remote:v1`;
    run("skopeo", ["copy", "--quiet", "--all", "--dest-tls-verify=false", multi, `docker://${ref}`]);
    const plat = ["--platform", "linux/amd64"];
    const a = (spec: string) => {
      const r = zerodep(["analyze", "--json", ...plat, spec]);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout) as Record<string, unknown>;
      return { ...j, image: null };
    };
    assert.deepEqual(a(ref), a(multi));
    const d = zerodep(["diff", ...plat, multi, ref]);
    assert.equal(d.code, 0, `identical images: ${d.stdout}${d.stderr}`);
    const c = zerodep(["check", "--json", ...plat, ref]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal((JSON.parse(c.stdout) as { runnable: boolean }).runnable, true);
    const i = zerodep(["inspect", "--json", ...plat, ref]);
    assert.equal(i.code, 0, i.stderr);
    const direct = JSON.parse(zerodep(["inspect", "--json", fixture("go-static")]).stdout) as object;
    assert.deepEqual({ ...(JSON.parse(i.stdout) as object), path: null }, { ...direct, path: null });
  });
});
