import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { UsageError, ZerodepError } from "../errors.js";
import {
  formatImageRef,
  type ImageRef,
  parseImageArg,
  parseImageRef,
  toImageRef,
} from "../image/reference.js";
import { resolveImages } from "../image/select.js";
import { makeStagingDir } from "../io/cleanup.js";
import { formatPlatform, parsePlatform, platformMatches } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import { pack } from "../pack/pack.js";
import { RegistrySession } from "../registry/client.js";
import { registryRef } from "../transfer/copy.js";
import { openSource } from "../transfer/open.js";
import type { BuildCode } from "./codes.js";
import { gitInfo } from "./git.js";
import { buildGo, hostArch, isGoProject, listGoMains } from "./go.js";
import { buildRust } from "./rust.js";
import { renderTemplate, type TemplateData } from "./template.js";
import type { BuildOptions, BuildResult, BuiltBinary, BuiltImage } from "./types.js";

export type { BuildOptions, BuildResult, BuiltBinary, BuiltImage } from "./types.js";

const OCI = "org.opencontainers.image.";

function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/** Which toolchain builds `dir`: a go.mod (here or above) means Go, a Cargo.toml here means Rust. */
export function projectLanguage(dir: string): "go" | "rust" {
  if (existsSync(join(dir, "Cargo.toml")) && !existsSync(join(dir, "go.mod"))) return "rust";
  if (isGoProject(dir)) return "go";
  throw new ZerodepError(
    "NO_PROJECT" satisfies BuildCode,
    `${dir}: no go.mod (here or above) and no Cargo.toml: not a Go module or a Cargo package`,
  );
}

/** The platforms to build: the given ones, the base's ("all"), or this machine's. */
async function platformsOf(opts: BuildOptions, session: RegistrySession): Promise<Platform[]> {
  const want = opts.platforms === "all" ? "all" : (opts.platforms ?? [`linux/${hostArch()}`]);
  let basePlatforms: Platform[] | null = null;
  if (opts.base !== undefined) {
    const ref = toImageRef(opts.base, parseImageArg);
    const src = await openSource(ref, { session, name: formatImageRef(ref) });
    try {
      basePlatforms = (await resolveImages(src)).map((r) => r.platform).filter((p) => p.os === "linux");
    } finally {
      await src.close();
    }
  }
  if (want === "all") {
    if (!basePlatforms)
      throw new UsageError("USAGE", "--platform all means the base image's platforms: give --base");
    return basePlatforms;
  }
  const out = want.map((s) => parsePlatform(s));
  for (const p of out) {
    if (p.os !== "linux")
      throw new UsageError(
        "PLATFORM_UNSUPPORTED" satisfies BuildCode,
        `${formatPlatform(p)}: build makes Linux images`,
      );
    if (basePlatforms && !basePlatforms.some((b) => platformMatches(p, b)))
      throw new ZerodepError(
        "PLATFORM_NOT_IN_BASE" satisfies BuildCode,
        `--platform ${formatPlatform(p)}: the base image has ${basePlatforms.map(formatPlatform).join(", ") || "no Linux image"}`,
      );
  }
  const seen = new Set<string>();
  for (const p of out) {
    const k = formatPlatform(p);
    if (seen.has(k)) throw new UsageError("USAGE", `--platform ${k} given twice`);
    seen.add(k);
  }
  return out;
}

/** A destination with its tag: registry refs without a tag get each tag, file refs the first. */
function withTags(dest: string | ImageRef, tags: string[], sub: string | null): string[] {
  const ref = typeof dest === "string" ? toImageRef(dest, parseImageRef) : dest;
  switch (ref.transport) {
    case "registry": {
      const r = ref.reference;
      const repo = `${r.registry}/${r.repository}${sub ? `/${sub}` : ""}`;
      if (r.digest)
        throw new UsageError("USAGE", `--push ${formatImageRef(ref)}: a digest cannot be pushed to`);
      // A reference string names a tag when its last path element has one; a parsed reference keeps its own.
      const named =
        typeof dest !== "string" ||
        /:[\w][\w.-]*$/.test(
          dest
            .replace(/^docker:\/\//, "")
            .split("/")
            .at(-1)!,
        );
      if (named || tags.length === 0) return [`${repo}:${r.tag ?? "latest"}`];
      return tags.map((t) => `${repo}:${t}`);
    }
    case "oci":
    case "oci-archive": {
      const path = ref.transport === "oci" ? ref.dir : ref.file;
      const tag = ref.tag ?? tags[0];
      const full = sub ? (tag ? `${sub}-${tag}` : sub) : tag;
      return [`${ref.transport}:${path}${full ? `:${full}` : ""}`];
    }
    case "docker-archive":
      if (sub)
        throw new UsageError("USAGE", "--split writes one image per program: docker-archive holds one");
      return [formatImageRef(ref)];
  }
}

/**
 * `zerodep build`: Go or Rust source to a minimal image in one call. The user's own toolchain builds
 * each program for each platform (Go: CGO_ENABLED=0, -trimpath, -buildvcs=auto, -ldflags "-s -w", cgo
 * linked statically when a package needs it; Rust: the musl target), then pack's builder makes the
 * image (split layers: runtime files first, the programs last), judges it with the safety net, and
 * writes it to every destination. The version, the created time and the revision come from one place
 * (git, SOURCE_DATE_EPOCH, --version) and are the same in the -X values, labels and annotations.
 */
export async function build(opts: BuildOptions): Promise<BuildResult> {
  const env = opts.processEnv ?? process.env;
  const dir = resolve(opts.dir ?? process.cwd());
  const targets = opts.targets?.length ? opts.targets : ["."];
  for (const kv of [...(opts.buildEnv ?? []), ...(opts.env ?? [])])
    if (kv.indexOf("=") <= 0) throw new UsageError("USAGE", `environment wants KEY=VALUE (got "${kv}")`);
  const language = projectLanguage(dir);

  const warnings: BuildResult["warnings"] = [];
  // go list runs while git is asked and the base is read (its answer is awaited where it is needed).
  const mainsP = language === "go" ? listGoMains(dir, targets, env) : null;
  mainsP?.catch(() => {});
  const git = await gitInfo(dir, env);
  if (!git)
    warnings.push({
      code: "NO_VCS",
      message: `${dir} is not in a git work tree: the build info says (devel), the image has no revision`,
      fix: "build from a git checkout (git init && git commit), or pass --version",
    });
  else if (git.dirty)
    warnings.push({
      code: "VCS_DIRTY",
      message: `uncommitted changes in ${dir}: the image cannot be rebuilt from commit ${git.shortCommit}`,
      fix: "commit (or stash) the changes before a release build",
    });
  const version = opts.version ?? git?.tag ?? null;
  const epoch = opts.sourceDateEpoch ?? git?.commitTime ?? 0;
  const created = isoTime(epoch);
  const data: TemplateData = { version, git, date: created, env };
  const ldflags = (opts.ldflags ?? []).map((l) => renderTemplate(l, data, "--ldflags"));
  const tags = (opts.tags ?? []).map((t) => renderTemplate(t, data, "--tag"));
  for (const t of tags)
    if (!/^[\w][\w.-]{0,127}$/.test(t)) throw new UsageError("USAGE", `--tag "${t}" is not a valid tag`);

  // Destinations: validated before anything is compiled. None given: ZERODEP_REPO (like KO_DOCKER_REPO).
  const outs = opts.out === undefined ? [] : Array.isArray(opts.out) ? opts.out : [opts.out];
  const pushes = opts.push === undefined ? [] : Array.isArray(opts.push) ? opts.push : [opts.push];
  const defaultRepo = outs.length + pushes.length === 0 ? env.ZERODEP_REPO : undefined;
  if (outs.length + pushes.length === 0 && !defaultRepo)
    throw new UsageError(
      "USAGE",
      "build: no destination: give --out oci:DIR[:TAG], --push REGISTRY/REPO, or set ZERODEP_REPO",
    );
  for (const o of outs)
    if (typeof o === "string" && toImageRef(o, parseImageRef).transport === "registry")
      throw new UsageError(
        "USAGE",
        `--out: expected oci:DIR[:TAG], oci-archive: or docker-archive:, got "${o}"`,
      );
  for (const p of pushes) registryRef(p, "--push"); // validated now; tags are applied below

  const session = opts.session ?? new RegistrySession(opts.registry);
  const { path: staging, release } = await makeStagingDir(opts.tmpDir ?? tmpdir(), "zerodep-build-");
  try {
    const platforms = await platformsOf(opts, session);
    let binaries: BuiltBinary[];
    if (language === "go") {
      const mains = await mainsP!;
      binaries = await buildGo({
        dir,
        mains,
        platforms,
        opts,
        ldflags,
        outDir: opts.binDir ? resolve(opts.binDir) : staging,
        onCgo: (plat, pkgs, how) =>
          warnings.push({
            code: "CGO_USED",
            message: `${plat}: ${pkgs.slice(0, 3).join(", ")}${pkgs.length > 3 ? ` (+${pkgs.length - 3})` : ""} use${pkgs.length === 1 ? "s" : ""} cgo: linked ${how === "static" ? "statically" : "dynamically, its libraries bundled"}`,
            fix:
              how === "static"
                ? "nothing to do (--cgo off refuses cgo instead)"
                : "--cgo static links without bundling",
          }),
      });
    } else {
      binaries = await buildRust({ dir, targets: opts.targets ?? [], platforms, opts });
    }

    // Programs in the order built (the first target first): one image with all, or one each (split).
    const names = [...new Set(binaries.map((b) => b.name))];
    const groups = opts.split ? names.map((n) => [n]) : [names];
    const labels: Record<string, string> = { [`${OCI}created`]: created };
    if (version) labels[`${OCI}version`] = version;
    if (git) labels[`${OCI}revision`] = git.commit;
    const images: BuiltImage[] = [];
    for (const group of groups) {
      const sub = opts.split ? group[0]! : null;
      const perPlatform = platforms.map((p) =>
        group.map((n) => binaries.find((b) => b.name === n && b.platform === formatPlatform(p))!.file),
      );
      const repoFor = defaultRepo ? [`${defaultRepo.replace(/\/+$/, "")}/${group[0]}`] : [];
      const out = outs.flatMap((o) => withTags(o, tags, sub));
      const push = [
        ...pushes.flatMap((p) => withTags(p, tags, sub)),
        ...repoFor.flatMap((p) => withTags(p, tags, null)),
      ];
      const r = await pack({
        ...opts,
        binaries: perPlatform.map((f) => f[0]!),
        extraBinaries: perPlatform.map((f) => f.slice(1)),
        layers: "split",
        out,
        push,
        session,
        sourceDateEpoch: epoch,
        cmd: opts.args ?? opts.cmd,
        bundleLibs: opts.bundleLibs ?? binaries.some((b) => b.cgo === "bundle"),
        createdBy: `zerodep build ${group.join(" ")}`,
        labels: { ...labels, ...opts.labels },
        annotations: { ...labels, ...opts.annotations },
      });
      images.push({
        programs: group,
        digest: r.digest,
        mediaType: r.mediaType,
        images: r.images,
        destinations: r.destinations,
      });
    }
    return {
      schemaVersion: 1,
      version,
      created,
      git: git ? { commit: git.commit, tag: git.tag, dirty: git.dirty } : null,
      binaries,
      images,
      warnings,
    };
  } finally {
    await rm(staging, { recursive: true, force: true });
    release();
    if (!opts.session) session.close();
  }
}
