import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const work = join(tmpdir(), `zd-inspect-image-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

test("inspect IMAGE: the entrypoint's facts equal inspect of the file packed into it; --path and absent paths", {
  skip: needs({ tools: ["skopeo"], fixtures: ["go-cgo", "c-hardened"] }),
}, () => {
  const dir = join(work, "img");
  assert.equal(zerodep(["pack", fixture("go-cgo"), "--bundle-libs", "--out", `oci:${dir}:t`]).code, 0);
  const archive = join(work, "img.tar");
  run("skopeo", ["copy", "--quiet", `oci:${dir}:t`, `docker-archive:${archive}:zd/img:t`]);
  const direct = JSON.parse(zerodep(["inspect", "--json", fixture("go-cgo")]).stdout) as Record<
    string,
    unknown
  >;
  for (const spec of [`oci:${dir}:t`, `docker-archive:${archive}`]) {
    const r = zerodep(["inspect", "--json", spec]);
    assert.equal(r.code, 0, r.stderr);
    const fromImage = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(fromImage.path, `${spec}:/app/go-cgo`);
    assert.deepEqual({ ...fromImage, path: null }, { ...direct, path: null }, spec);
  }
  // Another file of the image (the bundled libc) and one that is not there: exit 3, both reported.
  const r = zerodep([
    "inspect",
    "--json",
    `oci:${dir}:t`,
    "--path",
    "/nope",
    "--path",
    "/lib64/ld-linux-x86-64.so.2",
  ]);
  assert.equal(r.code, 3);
  const [missing, loader] = r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.match(String(missing!.error), /no such file in the image/);
  // --bundle-libs copied the host's loader (through its symlink): the same bytes, the same facts.
  const host = JSON.parse(zerodep(["inspect", "--json", "/lib64/ld-linux-x86-64.so.2"]).stdout) as Record<
    string,
    unknown
  >;
  assert.deepEqual({ ...loader, path: null }, { ...host, path: null });
});
