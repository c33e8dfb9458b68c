// Image references at the CLI edge: an invalid one is a usage error (exit 2, one line) and nothing is
// created on disk (the directory listing is compared before and after, not our own account of it);
// pulling into oci-archive: keeps the tag, read back by skopeo (the anchor) from the file.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { checkImage } from "../../src/analyze/check-image.js";
import { diffImages } from "../../src/analyze/diff.js";
import { inspectImage } from "../../src/analyze/inspect-image.js";
import { parseImageRef } from "../../src/image/reference.js";
import { copy } from "../../src/transfer/copy.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";
import { startRegistry, type TestRegistry } from "../registry/registry-for-tests.js";

const work = join(tmpdir(), `zd-refcli-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

/** Every path under dir (recursive), sorted. */
function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe("an invalid reference creates nothing", () => {
  const skip = needs({ fixtures: ["go-static"] });
  const bin = fixture("go-static");

  test("pack, copy, pull and push refuse it with exit 2 and one line, before touching the disk", {
    skip,
    timeout: 120_000,
  }, () => {
    const d = join(work, "nothing");
    mkdirSync(d, { recursive: true });
    const layout = join(work, "src-layout");
    const p = zerodep(["pack", bin, "--out", `oci:${layout}:v1`, "--ca-certs", "none", "--tzdata", "none"]);
    assert.equal(p.code, 0, p.stderr);
    const cases: string[][] = [
      // The examples: today the first made the directory "x:Bad" with "Tag" inside.
      ["pack", bin, "--out", `oci:${d}/x:Bad/Tag`],
      ["pack", bin, "--out", `oci:${d}/x:v1,latest`],
      ["pack", bin, "--out", `oci:${d}/x:${"t".repeat(129)}`],
      ["pack", bin, "--out", `oci-archive:${d}/x.tar:Bad/Tag`],
      ["pack", bin, "--out", `docker-archive:${d}/x.tar:app:Bad/Tag`],
      ["pack", bin, "--out", `docker-archive:${d}/x.tar:MyApp:v1`],
      ["pack", bin, "--out", "oci::v1"],
      ["pack", bin, "--out", `oci:${d}/x:v1`, "--push", `oci:${d}/y`],
      ["pack", bin, "--out", `oci:${d}/x:v1`, "--base", `oci:${d}/b:Bad/Tag`],
      ["pack", bin, "--out", `oci:${d}/x:v1`, "--push", "127.0.0.1:1/app@sha256:abc"],
      ["copy", `oci:${layout}:v1`, `oci:${d}/y:Bad/Tag`],
      ["copy", `oci:${layout}:v1`, `oci-archive:${d}/y.tar:v1,latest`],
      ["copy", `oci:${layout}:Bad/Tag`, `oci:${d}/y:v1`],
      ["pull", "127.0.0.1:1/app:v1", "--out", `oci:${d}/z:Bad/Tag`],
      ["pull", "127.0.0.1:1/app:v1", "--out", `oci-archive:${d}/z.tar:v1,latest`],
      ["pull", `oci:${layout}:v1`, "--out", `oci:${d}/z`],
      ["push", `oci:${layout}:v1`, `oci:${d}/w`],
    ];
    const before = listing(d);
    for (const args of cases) {
      const r = zerodep(args, { timeoutMs: 30_000 });
      const what = args.join(" ");
      assert.equal(r.code, 2, `${what}: ${r.stderr}`);
      assert.equal(r.stdout, "", what);
      assert.equal(r.stderr.trimEnd().split("\n").length, 1, `${what}: one line: ${r.stderr}`);
      assert.deepEqual(listing(d), before, `${what} created something`);
    }
    assert.deepEqual(before, []);
  });
});

describe("the library takes the parsed value as it takes the string", () => {
  const skip = needs({ tools: ["skopeo"], fixtures: ["go-static"] });
  test("checkImage, inspectImage, analyze, diffImages and copy: same results from the value", {
    skip,
    timeout: 120_000,
  }, async () => {
    const layout = join(work, "lib-layout");
    const p = zerodep([
      "pack",
      fixture("go-static"),
      "--out",
      `oci:${layout}:v1`,
      "--ca-certs",
      "none",
      "--tzdata",
      "none",
    ]);
    assert.equal(p.code, 0, p.stderr);
    const spec = `oci:${layout}:v1`;
    const ref = parseImageRef(spec);
    assert.deepEqual(await checkImage(ref), await checkImage(spec));
    assert.deepEqual(await inspectImage(ref), await inspectImage(spec));
    assert.deepEqual(await analyze(ref), await analyze(spec));
    assert.equal((await diffImages(ref, spec)).changed.length, 0);
    const out = join(work, "lib-copy.tar");
    const r = await copy(ref, parseImageRef(`oci-archive:${out}:w`));
    assert.equal(r.destination, `oci-archive:${out}:w`);
    // skopeo, the anchor, reads the manifest zerodep reports back from the archive under the tag.
    const raw = run("skopeo", ["inspect", "--raw", `oci-archive:${out}:w`]).stdout;
    assert.equal(`sha256:${createHash("sha256").update(raw).digest("hex")}`, r.digest);
  });
});

describe("pull into oci-archive: keeps the tag", () => {
  const skip = needs({ tools: ["docker-registry", "skopeo"], fixtures: ["go-static"] });
  let reg: TestRegistry | undefined;
  const digestOf = (ref: string, extra: string[] = []) =>
    `sha256:${createHash("sha256")
      .update(run("skopeo", ["inspect", "--raw", ...extra, ref]).stdout)
      .digest("hex")}`;

  before(async () => {
    if (skip) return;
    reg = await startRegistry({ kind: "plain" });
  });
  after(async () => {
    await reg?.stop();
  });

  test("oci-archive:FILE gets the reference's tag; oci-archive:FILE:TAG its own", {
    skip,
    timeout: 180_000,
  }, () => {
    const layout = join(work, "pull-src");
    const p = zerodep([
      "pack",
      fixture("go-static"),
      "--out",
      `oci:${layout}:v1`,
      "--ca-certs",
      "none",
      "--tzdata",
      "none",
    ]);
    assert.equal(p.code, 0, p.stderr);
    const remote = `${reg!.host}/refs/app:v1`;
    const pushed = zerodep(["push", `oci:${layout}:v1`, remote]);
    assert.equal(pushed.code, 0, pushed.stderr);
    const want = digestOf(`docker://${remote}`, ["--tls-verify=false"]);

    const untagged = join(work, "pulled.tar");
    const a = zerodep(["pull", remote, "--out", `oci-archive:${untagged}`]);
    assert.equal(a.code, 0, a.stderr);
    // Before: index.json had no ref.name and skopeo said 'no descriptor found for reference "v1"'.
    assert.equal(digestOf(`oci-archive:${untagged}:v1`), want);

    const tagged = join(work, "pulled-other.tar");
    const b = zerodep(["pull", remote, "--out", `oci-archive:${tagged}:other`]);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(digestOf(`oci-archive:${tagged}:other`), want);
    const r = run("skopeo", ["inspect", "--raw", `oci-archive:${tagged}:v1`], { allowFail: true });
    assert.notEqual(r.status, 0, "only the tag asked for is in the archive");
  });
});
