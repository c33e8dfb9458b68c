// Shared by the build tests and the build bench: a fixture project copied into a fresh git repository
// (so that `go build` stamps vcs.* the same way for every tool), the images tools write to OCI layouts
// read back with the real tar, and `go version -m` of the binaries in them.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../helpers/env.js";

/** A fixed commit time: vcs.time and zerodep's `created` come out the same on every run. */
export const COMMIT_DATE = "2026-01-02T03:04:05Z";

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** Copies test/fixtures/build-src/NAME to `dest`, commits it (one commit, fixed date) and returns HEAD. */
export function gitFixtureCopy(name: string, dest: string): string {
  cpSync(join(repoRoot, "test", "fixtures", "build-src", name), dest, { recursive: true });
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "zerodep",
    GIT_AUTHOR_EMAIL: "dev@zerodep.invalid",
    GIT_COMMITTER_NAME: "zerodep",
    GIT_COMMITTER_EMAIL: "dev@zerodep.invalid",
    GIT_AUTHOR_DATE: COMMIT_DATE,
    GIT_COMMITTER_DATE: COMMIT_DATE,
    GIT_CONFIG_NOSYSTEM: "1",
  };
  sh("git", ["init", "-q", "-b", "main"], { cwd: dest, env });
  sh("git", ["add", "-A"], { cwd: dest, env });
  sh("git", ["commit", "-q", "-m", `fixture ${name}`], { cwd: dest, env });
  return sh("git", ["rev-parse", "HEAD"], { cwd: dest, env }).trim();
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface LayoutImage {
  manifestDigest: string;
  manifestSize: number;
  layers: Descriptor[];
  config: {
    architecture: string;
    os: string;
    config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; WorkingDir?: string };
    history?: { created_by?: string; comment?: string }[];
  };
}

const blob = (layout: string, digest: string) => join(layout, "blobs", digest.replace(":", "/"));
const json = (file: string) => JSON.parse(readFileSync(file, "utf8"));

const INDEX_TYPES = new Set([
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
]);

/**
 * The image for `platform` ("linux/amd64") in an OCI layout: index.json's entry tagged `tag` (or its
 * only entry), through one level of nested index.
 */
export function readLayoutImage(layout: string, platform: string, tag?: string): LayoutImage {
  const top = json(join(layout, "index.json")) as { manifests: Descriptor[] };
  const tagged = tag
    ? top.manifests.filter((m) => m.annotations?.["org.opencontainers.image.ref.name"] === tag)
    : top.manifests;
  if (tagged.length !== 1) throw new Error(`${layout}: ${tagged.length} entries for tag ${tag ?? "(any)"}`);
  let desc = tagged[0]!;
  const [os, arch] = platform.split("/");
  if (INDEX_TYPES.has(desc.mediaType)) {
    const idx = json(blob(layout, desc.digest)) as { manifests: Descriptor[] };
    const hit = idx.manifests.find((m) => m.platform?.os === os && m.platform?.architecture === arch);
    if (!hit) throw new Error(`${layout}: no ${platform} in index ${desc.digest}`);
    desc = hit;
  }
  const manifest = json(blob(layout, desc.digest)) as { config: Descriptor; layers: Descriptor[] };
  const config = json(blob(layout, manifest.config.digest)) as LayoutImage["config"];
  if (config.os !== os || config.architecture !== arch)
    throw new Error(`${layout}: ${desc.digest} is ${config.os}/${config.architecture}, not ${platform}`);
  return { manifestDigest: desc.digest, manifestSize: desc.size, layers: manifest.layers, config };
}

/** Unpacks every layer in order into `dest` with GNU tar (whiteouts are not needed: none is written). */
export function unpackLayers(layout: string, image: LayoutImage, dest: string): void {
  mkdirSync(dest, { recursive: true });
  for (const l of image.layers) sh("tar", ["-xzf", blob(layout, l.digest), "-C", dest, "--no-same-owner"]);
}

/** `go version -m FILE`: the module path and the `build` settings (key → value; flags such as -trimpath too). */
export function goVersionM(file: string): { path: string; build: Map<string, string>; text: string } {
  const text = sh("go", ["version", "-m", file]);
  const build = new Map<string, string>();
  let path = "";
  for (const line of text.split("\n")) {
    const f = line.trim().split("\t");
    if (f[0] === "path") path = f[1] ?? "";
    if (f[0] === "build" && f[1]) {
      const eq = f[1].indexOf("=", 1);
      // -ldflags="-s -w" is quoted by Go (strconv.Quote) when it has spaces.
      if (eq < 0) build.set(f[1], "");
      else build.set(f[1].slice(0, eq), f[1].slice(eq + 1).replace(/^"(.*)"$/, "$1"));
    }
  }
  return { path, build, text };
}
