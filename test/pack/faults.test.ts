import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, test } from "node:test";
import { cliPath, zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";

const work = join(tmpdir(), `zd-pack-faults-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

/** Every file under dir with its bytes, for "left exactly as it was" comparisons. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, `${rel}${e.name}/`);
      else out.set(`${rel}${e.name}`, readFileSync(p).toString("base64"));
    }
  };
  walk(dir, "");
  return out;
}

/**
 * pack under a file-size limit (RLIMIT_FSIZE, 512 KiB): Node ignores SIGXFSZ, so the first write past
 * the limit fails with EFBIG — what a full disk looks like to the writer.
 */
function packLimited(args: string[]) {
  const quoted = [process.execPath, cliPath, "pack", ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`);
  return spawnSync("sh", ["-c", `ulimit -f 1024; exec ${quoted.join(" ")}`], {
    encoding: "utf8",
    timeout: 60_000,
  });
}

/** Starts pack and SIGKILLs it once a staged blob beside `layout` has bytes; returns the signal it died of. */
async function packKilledMidBlob(layout: string, args: string[]): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, [cliPath, "pack", ...args], { stdio: "ignore" });
  const exited = new Promise<NodeJS.Signals | null>((res) => child.on("exit", (_c, sig) => res(sig)));
  let done = false;
  void exited.then(() => {
    done = true;
  });
  const parent = dirname(layout);
  while (!done) {
    for (const n of readdirSync(parent)) {
      if (!n.includes(".zerodep-tmp-")) continue;
      const blobs = join(parent, n, "blobs");
      let staged: string[] = [];
      try {
        staged = readdirSync(blobs).filter((b) => b.startsWith(".incoming-"));
      } catch {}
      if (staged.some((b) => (statSyncSafe(join(blobs, b))?.size ?? 0) > 0)) child.kill("SIGKILL");
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return exited;
}

function statSyncSafe(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

describe("pack: faults leave existing output intact", () => {
  const skip = needs({ tools: ["skopeo"], fixtures: ["go-static", "go-x509"] });

  test("killed mid-write and out of space (EFBIG): the layout is byte-identical afterwards", {
    skip,
  }, async () => {
    const layout = join(work, "layout");
    assert.equal(zerodep(["pack", fixture("go-static"), "--out", `oci:${layout}:old`]).code, 0);
    const before = snapshot(layout);

    // go-x509 with the CA bundle: a layer well over 512 KiB, so the limit strikes inside the blob write.
    // Killed (SIGKILL) while its layer blob is being written: watch the staging directory and strike
    // as soon as the blob file has bytes.
    const killed = await packKilledMidBlob(layout, [
      fixture("go-x509"),
      "--ca-certs",
      "/etc/ssl/certs/ca-certificates.crt",
      "--out",
      `oci:${layout}:new`,
    ]);
    assert.equal(killed, "SIGKILL", "the run finished before it could be interrupted");
    assert.deepEqual(snapshot(layout), before, "an interrupted run changed the layout");

    const full = packLimited([
      fixture("go-x509"),
      "--ca-certs",
      "/etc/ssl/certs/ca-certificates.crt",
      "--out",
      `oci:${layout}:new`,
    ]);
    assert.equal(full.status, 3, full.stderr);
    const lines = full.stderr.trim().split("\n");
    assert.equal(lines.length, 1, `one line, no stack trace: ${full.stderr}`);
    assert.match(lines[0]!, /^zerodep pack: .*(EFBIG|too large|No space|write)/i);
    assert.deepEqual(snapshot(layout), before, "a failed run changed the layout");
    // The old image is still whole for a third-party reader.
    run("skopeo", ["inspect", `oci:${layout}:old`]);
    // What the interrupted run left behind is only a staging directory, never a referenced blob.
    for (const name of readdirSync(work)) assert.ok(name === "layout" || name.includes("zerodep"), name);
  });

  test("bad binaries: not ELF, not Linux, unreadable — one clear line, exit 3, nothing written", {
    skip,
  }, () => {
    const out = join(work, "none");
    const text = join(work, "script.sh");
    writeFileSync(text, "#!/bin/sh\necho hi\n", { mode: 0o755 });
    const cases: [string, RegExp][] = [
      [text, /not a Linux ELF executable/],
      [fixture("go-windows.exe"), /not a Linux ELF executable \(pe/],
      [join(work, "missing"), /missing/],
    ];
    for (const [file, re] of cases) {
      const r = zerodep(["pack", file, "--out", `oci:${out}:t`]);
      assert.equal(r.code, 3, `${file}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, re);
    }
    const noread = join(work, "noread");
    cpSync(fixture("go-static"), noread);
    chmodSync(noread, 0o111);
    const r = zerodep(["pack", noread, "--out", `oci:${out}:t`]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /not readable/);
    assert.deepEqual(
      readdirSync(work).filter((n) => n.startsWith("none")),
      [],
    );
  });

  test("a base whose blob is missing, or whose layer has a '..' entry, is refused by name", { skip }, () => {
    const base = join(work, "base");
    assert.equal(zerodep(["pack", fixture("go-static"), "--out", `oci:${base}:b`]).code, 0);
    const index = JSON.parse(readFileSync(join(base, "index.json"), "utf8")) as {
      manifests: { digest: string }[];
    };
    const manifest = JSON.parse(
      readFileSync(join(base, "blobs/sha256", index.manifests[0]!.digest.slice(7)), "utf8"),
    ) as { layers: { digest: string }[] };
    const layerHex = manifest.layers[0]!.digest.slice(7);

    const missing = join(work, "base-missing");
    cpSync(base, missing, { recursive: true });
    rmSync(join(missing, "blobs/sha256", layerHex));
    const m = zerodep([
      "pack",
      fixture("go-x509"),
      "--base",
      `oci:${missing}:b`,
      "--out",
      `oci:${join(work, "o1")}:t`,
    ]);
    assert.equal(m.code, 3, m.stderr);
    assert.match(m.stderr, new RegExp(`blob sha256:${layerHex} is missing`));

    // A layer (made with GNU tar's --transform) holding "../escape": refused, naming the entry.
    const evil = join(work, "evil");
    mkdirSync(join(evil, "root"), { recursive: true });
    writeFileSync(join(evil, "root", "escape"), "x");
    run("tar", [
      "-cf",
      join(evil, "layer.tar"),
      "-C",
      join(evil, "root"),
      "--transform",
      "s,^escape,../../escape,",
      "escape",
    ]);
    assert.match(run("tar", ["-tvf", join(evil, "layer.tar")]).stdout, /\.\.\/\.\.\/escape/);
    const tarball = join(evil, "layer.tar");
    const ar = join(work, "evil.tar");
    // Append the layer to the base with umoci-free means: a docker-archive whose manifest lists it.
    const dir = join(work, "evil-archive");
    mkdirSync(dir, { recursive: true });
    run("skopeo", ["copy", "--quiet", `oci:${base}:b`, `docker-archive:${join(dir, "b.tar")}:zd/b:1`]);
    run("tar", ["-xf", join(dir, "b.tar"), "-C", dir]);
    rmSync(join(dir, "b.tar"));
    const dm = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
      Config: string;
      Layers: string[];
    }[];
    cpSync(tarball, join(dir, "evil-layer.tar"));
    dm[0]!.Layers.push("evil-layer.tar");
    const cfg = JSON.parse(readFileSync(join(dir, dm[0]!.Config), "utf8")) as {
      rootfs: { diff_ids: string[] };
    };
    cfg.rootfs.diff_ids.push(`sha256:${createHash("sha256").update(readFileSync(tarball)).digest("hex")}`);
    writeFileSync(join(dir, dm[0]!.Config), JSON.stringify(cfg));
    writeFileSync(join(dir, "manifest.json"), JSON.stringify(dm));
    run("tar", ["-cf", ar, "-C", dir, "."]);
    const e = zerodep([
      "pack",
      fixture("go-x509"),
      "--base",
      `docker-archive:${ar}`,
      "--out",
      `oci:${join(work, "o2")}:t`,
    ]);
    assert.equal(e.code, 3, e.stderr);
    assert.match(e.stderr, /\.\.\/\.\.\/escape/);
    assert.match(e.stderr, /offset \d+/);
  });
});
