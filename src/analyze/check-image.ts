import { type CheckResult, hostPlatform } from "../check/check.js";
import { judgeEntrypoint, runtimeConfigOf } from "../check/entrypoint.js";
import { indexImage } from "../image/index-image.js";
import { type ImageRef, imageRefName } from "../image/reference.js";
import { formatPlatform, parsePlatform, platformMatches, resolveImages } from "../image/select.js";
import type { Platform } from "../oci/types.js";
import { type OpenImageOptions, openImage } from "../transfer/open.js";

export interface CheckImageOptions {
  /** The target platform: which image of an index, and what the program must run on (default: this machine's). */
  platform?: Platform | string;
  /** Environment added over the image's Env (what `docker run -e` would add). */
  env?: Record<string, string>;
  /** Runtime-file needs become errors. */
  strict?: boolean;
  /** Layers decompressing beyond this are refused (gzip bombs). */
  maxLayerBytes?: number;
  /** How to open the reference (registry options: CA files, credentials, insecure). */
  image?: OpenImageOptions;
}

/** check's result for an image: the entrypoint judged against the image's own merged file tree. */
export interface CheckImageResult extends CheckResult {
  image: string;
  /** Manifest digest of the platform checked ("" when the index has no image for the target). */
  digest: string;
  /** Entrypoint + Cmd as the runtime would start them. */
  argv: string[];
  /** The image's own platform (the one selected from an index). */
  imagePlatform: string | null;
}

/**
 * `zerodep check IMAGE`: will this image's entrypoint run on the target (`platform`, default this
 * machine)? From an index, the target's image is judged; an index without one is a "will not run".
 * The layers are streamed once to index the final file tree (nothing extracted), then judgeEntrypoint
 * — the same decision analyze and pack's safety net report — resolves the user, finds the program
 * (Entrypoint, else Cmd, along the image's PATH as runc does) and judges it, its loader, libraries and
 * runtime files against the image's own tree and Env.
 */
export async function checkImage(
  image: string | ImageRef,
  opts: CheckImageOptions = {},
): Promise<CheckImageResult> {
  const spec = imageRefName(image);
  const targetText = opts.platform === undefined ? hostPlatform() : opts.platform;
  const target = typeof targetText === "string" ? parsePlatform(targetText) : targetText;
  const [tos = "linux", tarch = "amd64"] = formatPlatform(target).split("/");
  const src = await openImage(image, opts.image);
  try {
    const all = await resolveImages(src);
    const hit = all.find((r) => platformMatches(target, r.platform));
    // A single image is judged as it is (a foreign one then fails on its architecture, as it would
    // fail to exec); an index without the target's image gives the runtime nothing to run.
    const chosen = hit ?? (all.length === 1 ? all[0] : undefined);
    if (chosen === undefined) {
      return {
        schemaVersion: 1,
        path: spec,
        root: spec,
        location: "",
        runnable: false,
        platform: { os: null, arch: null, variant: null },
        target: { os: tos, arch: tarch },
        problems: [
          {
            code: "PLATFORM_NOT_IN_INDEX",
            severity: "error",
            message: `no ${formatPlatform(target)} image in the index (it has ${all.map((r) => formatPlatform(r.platform)).join(", ") || "none"}): podman and containerd find nothing to run ("no image found in image index for architecture ${target.architecture}")`,
            fix: `build and push a ${formatPlatform(target)} image into the index, or pass --platform for the real target`,
          },
        ],
        needs: [],
        deps: null,
        image: spec,
        digest: "",
        argv: [],
        imagePlatform: null,
      };
    }
    // The one indexing pass, with no visitor of its own: the tree and the small /etc files.
    const a = await indexImage(src, chosen, {
      ...(opts.maxLayerBytes !== undefined ? { maxLayerBytes: opts.maxLayerBytes } : {}),
    });
    let v: Awaited<ReturnType<typeof judgeEntrypoint>>;
    try {
      v = await judgeEntrypoint(a.rootFs, runtimeConfigOf(chosen.config), {
        platform: formatPlatform(target),
        env: opts.env,
        strict: opts.strict === true,
        name: spec,
      });
    } finally {
      a.rootFs.close();
    }
    const c = v.programCheck;
    return {
      schemaVersion: 1,
      path: c?.path ?? v.program ?? "",
      root: spec,
      location: v.resolved ?? v.program ?? "",
      runnable: v.runnable,
      platform: c?.platform ?? { os: null, arch: null, variant: null },
      target: { os: tos, arch: tarch },
      problems: v.problems,
      needs: c?.needs ?? [],
      deps: c?.deps ?? null,
      image: spec,
      digest: chosen.descriptor.digest,
      argv: v.argv,
      imagePlatform: formatPlatform(a.image.platform),
    };
  } finally {
    await src.close();
  }
}
