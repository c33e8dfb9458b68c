// Issue #12 "Hostile images, registries and faults", local images: every JSON document read from an
// image (index.json, an index blob, a manifest, a config) is checked against its schema once, where it
// is read. A field of the wrong JSON type — generated here for every field zerodep reads × null,
// number, string, object, array — is exit 3 and one line on stderr naming the image and the JSON path,
// never a stack trace, for analyze, check IMAGE, inspect IMAGE, diff and copy.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { sha256 } from "../../src/oci/digest.js";
import { LayoutWriter } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import { cli } from "../cli/in-process.js";
import { cliPath } from "../helpers/cli.js";
import { needs, run } from "../helpers/env.js";
import { goArch } from "../oci/image-for-tests.js";
import { pad512, rawHeader } from "../tar/support.js";

type Path = (string | number)[];
const WRONG: unknown[] = [null, 7, "s", { a: 1 }, ["x"]];
const DELETE = Symbol("delete");

/** A one-layer image's documents, valid: the cases below break one field each. */
function layerTar(): Buffer {
  const body = Buffer.from("#!/bin/sh\n");
  return Buffer.concat([
    rawHeader({ name: "hello", typeflag: "0", size: body.length, mode: 0o755 }),
    pad512(body),
    Buffer.alloc(1024),
  ]);
}

function goodConfig(layer: Buffer): Record<string, unknown> {
  return {
    architecture: goArch,
    os: "linux",
    config: { Env: ["PATH=/bin"], Entrypoint: ["/hello"], Cmd: ["-v"], User: "0", Labels: { a: "b" } },
    rootfs: { type: "layers", diff_ids: [sha256(layer)] },
    history: [{ created_by: "layer 0" }],
  };
}

/** Sets (or with DELETE removes) the value at `path`; the empty path replaces the whole document. */
function edit(doc: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  let at = copy;
  for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === DELETE) delete at[last];
  else at[last] = value;
  return copy;
}

/** "config.rootfs.diff_ids[0]" for ["rootfs", "diff_ids", 0] under "config"; a label key is ["key"]. */
function jsonPath(root: string, path: Path): string {
  return path.reduce<string>(
    (s, k) => (typeof k === "number" ? `${s}[${k}]` : s.endsWith(".Labels") ? `${s}["${k}"]` : `${s}.${k}`),
    root,
  );
}

interface Case {
  doc: "config" | "manifest" | "index.json" | "index";
  path: Path;
  value: unknown;
}

/** Writes an OCI layout whose one image has `c` applied; returns the reference. */
async function writeCase(dir: string, c: Case | null): Promise<string> {
  const layer = layerTar();
  const w = await LayoutWriter.open(dir);
  const l = await w.putBlob(layer);
  let config: unknown = goodConfig(layer);
  if (c?.doc === "config") config = edit(config, c.path, c.value);
  const cf = await w.putBlob(Buffer.from(JSON.stringify(config)));
  let manifest: unknown = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, ...cf },
    layers: [{ mediaType: MediaType.ociLayer, ...l }],
  };
  if (c?.doc === "manifest") manifest = edit(manifest, c.path, c.value);
  const m = { mediaType: MediaType.ociManifest, ...(await w.putBlob(Buffer.from(JSON.stringify(manifest)))) };
  if (c?.doc === "index") {
    const index = edit({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [m] }, c.path, c.value);
    const i = await w.putBlob(Buffer.from(JSON.stringify(index)));
    w.setRef({ mediaType: MediaType.ociIndex, ...i }, "v1");
  } else {
    w.setRef(m, "v1");
  }
  await w.commit();
  if (c?.doc === "index.json") {
    const file = join(dir, "index.json");
    writeFileSync(file, JSON.stringify(edit(JSON.parse(readFileSync(file, "utf8")), c.path, c.value)));
  }
  return `oci:${dir}:v1`;
}

function cases(): Case[] {
  const out: Case[] = [];
  // Values a field may legitimately hold are left out (null for optional fields: Go writes "Env": null).
  const add = (doc: Case["doc"], path: Path, valid: (v: unknown) => boolean = () => false) => {
    for (const value of WRONG) if (!valid(value)) out.push({ doc, path, value });
  };
  const isNull = (v: unknown) => v === null;
  const isString = (v: unknown) => typeof v === "string";
  const isArray = Array.isArray;
  const isObject = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
  const or =
    (...fs: ((v: unknown) => boolean)[]) =>
    (v: unknown) =>
      fs.some((f) => f(v));
  add("config", []);
  for (const k of ["architecture", "os"]) add("config", [k], or(isNull, isString));
  add("config", ["config"], or(isNull, isObject));
  for (const k of ["Env", "Entrypoint", "Cmd"]) {
    add(
      "config",
      ["config", k],
      or(isNull, (v) => isArray(v) && (v as unknown[]).every(isString)),
    );
    add("config", ["config", k, 0], isString);
  }
  add("config", ["config", "User"], or(isNull, isString));
  add("config", ["config", "Labels"], or(isNull, isObject));
  add("config", ["config", "Labels", "a"], isString);
  add("config", ["config", "ExposedPorts"], or(isNull, isObject));
  add("config", ["rootfs"]);
  out.push({ doc: "config", path: ["rootfs"], value: DELETE });
  add("config", ["rootfs", "diff_ids"]);
  add("config", ["rootfs", "diff_ids", 0], isString);
  add(
    "config",
    ["history"],
    or(isNull, (v) => isArray(v) && (v as unknown[]).every(isObject)),
  );
  add("config", ["history", 0], isObject);
  add("config", ["history", 0, "created_by"], or(isNull, isString));
  add("config", ["history", 0, "empty_layer"], isNull);

  add("manifest", []);
  add("manifest", ["config"]);
  out.push({ doc: "manifest", path: ["config"], value: DELETE });
  add("manifest", ["config", "size"], (v) => typeof v === "number");
  add("manifest", ["config", "digest"]);
  add("manifest", ["layers"]);
  add("manifest", ["layers", 0]);
  for (const value of [null, "12", { n: 1 }, [12], -1, 1.5])
    out.push({ doc: "manifest", path: ["layers", 0, "size"], value });
  for (const value of [null, 7, "sha256:../../../etc/passwd"])
    out.push({ doc: "manifest", path: ["layers", 0, "digest"], value });
  add("manifest", ["layers", 0, "mediaType"], isString);

  for (const doc of ["index.json", "index"] as const) {
    add(doc, ["manifests"]);
    add(doc, ["manifests", 0]);
    for (const value of [null, "12", -1]) out.push({ doc, path: ["manifests", 0, "size"], value });
  }
  return out;
}

const ROOT: Record<Case["doc"], string> = {
  config: "config",
  manifest: "manifest",
  "index.json": "",
  index: "index",
};

/** The JSON path the error line must name ("manifests[0].size" for index.json, which has no root word). */
function expectedPath(c: Case): string {
  return jsonPath(ROOT[c.doc], c.path).replace(/^\./, "");
}

/** In-process run of the real command table with a watchdog: a hang fails the test instead of stalling it. */
async function runWatched(argv: string[]) {
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`zerodep ${argv.join(" ")}: still running after 20 s`)),
      20_000,
    );
  });
  try {
    return await Promise.race([cli(argv), watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

function assertOneLine(
  r: { code: number | null; stdout: string; stderr: string },
  what: string,
  mustName: string[],
): void {
  const ctx = `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
  assert.equal(r.code, 3, ctx);
  assert.equal(r.stdout, "", ctx);
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, ctx);
  assert.doesNotMatch(r.stderr, /\n\s+at /, ctx);
  for (const s of mustName)
    assert.ok(r.stderr.includes(s), `stderr should name ${JSON.stringify(s)}: ${ctx}`);
}

describe("hostile JSON in local images: one line naming the file and the JSON path, exit 3", () => {
  test("every field zerodep reads × null, number, string, object, array: analyze, check, inspect, diff, copy", async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-json-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const good = await writeCase(join(work, "good"), null);
    // The valid image passes everywhere, so each failure below is the one broken field.
    assert.equal((await cli(["analyze", good])).code, 0);
    assert.equal((await cli(["inspect", good])).code, 0);
    const all = cases();
    assert.ok(all.length > 100, `${all.length} cases`);
    const failures: string[] = [];
    for (const [n, c] of all.entries()) {
      const dir = join(work, `c${n}`);
      const ref = await writeCase(dir, c);
      const path = expectedPath(c);
      const label = `${c.doc} ${path} = ${c.value === DELETE ? "(missing)" : JSON.stringify(c.value)}`;
      const runs: string[][] = [
        ["analyze", ref],
        ["check", ref],
        ["inspect", ref],
        ["diff", good, ref],
      ];
      // copy moves bytes and never reads a config: only broken manifests and indexes must stop it.
      if (c.doc !== "config") runs.push(["copy", ref, `oci:${join(work, `out${n}`)}:v1`]);
      for (const argv of runs) {
        try {
          const r = await runWatched(argv);
          assertOneLine(r, `${label}: zerodep ${argv.join(" ")}`, [dir, path]);
        } catch (e) {
          failures.push(`${label}: ${argv[0]}: ${(e as Error).message.split("\n").slice(0, 4).join(" | ")}`);
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual(failures, []);
  });

  test("docker-archive manifest.json: every field × wrong types", {
    skip: needs({ tools: ["tar"] }),
  }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-docker-json-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const layer = layerTar();
    const good = [{ Config: "config.json", RepoTags: ["app:v1"], Layers: ["layer.tar"] }];
    const edits: { path: Path; value: unknown }[] = [];
    for (const value of WRONG) {
      if (!Array.isArray(value)) edits.push({ path: [], value });
      if (!(typeof value === "object" && value !== null && !Array.isArray(value)))
        edits.push({ path: [0], value });
      if (typeof value !== "string") edits.push({ path: [0, "Config"], value });
      if (!Array.isArray(value)) edits.push({ path: [0, "Layers"], value });
      if (typeof value !== "string") edits.push({ path: [0, "Layers", 0], value });
    }
    const failures: string[] = [];
    for (const [n, e] of edits.entries()) {
      const root = join(work, `r${n}`);
      mkdirSync(root);
      writeFileSync(join(root, "manifest.json"), JSON.stringify(edit(good, e.path, e.value)));
      writeFileSync(join(root, "config.json"), JSON.stringify(goodConfig(layer)));
      writeFileSync(join(root, "layer.tar"), layer);
      const file = join(work, `a${n}.tar`);
      run("tar", ["-cf", file, "-C", root, "."]);
      for (const cmd of ["analyze", "check", "inspect"]) {
        const label = `manifest.json ${JSON.stringify(e.path)} = ${JSON.stringify(e.value)}: ${cmd}`;
        try {
          assertOneLine(await runWatched([cmd, `docker-archive:${file}`]), label, [file, "manifest.json"]);
        } catch (err) {
          failures.push(`${label}: ${(err as Error).message.split("\n").slice(0, 4).join(" | ")}`);
        }
      }
    }
    assert.deepEqual(failures, []);
  });

  test("through the built CLI (main.js): a string Env, a null layer, a missing rootfs", async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-hostile-json-cli-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const picks: Case[] = [
      { doc: "config", path: ["config", "Env"], value: "PATH=/bin" },
      { doc: "manifest", path: ["layers", 0], value: null },
      { doc: "config", path: ["rootfs"], value: DELETE },
      { doc: "index.json", path: ["manifests", 0], value: null },
    ];
    for (const [n, c] of picks.entries()) {
      const dir = join(work, `c${n}`);
      const ref = await writeCase(dir, c);
      for (const cmd of ["analyze", "check", "inspect"]) {
        const r = spawnSync(process.execPath, [cliPath, cmd, ref], {
          encoding: "utf8",
          timeout: 20_000,
          killSignal: "SIGKILL",
        });
        assertOneLine({ code: r.status, stdout: r.stdout, stderr: r.stderr }, `${cmd} ${expectedPath(c)}`, [
          dir,
          expectedPath(c),
        ]);
      }
    }
  });
});
