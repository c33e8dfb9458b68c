import { analyzeSource } from "../analyze/analyze.js";
import { entrypointMissingProblem, envMapOf, findProgram, noEntrypointProblem } from "../analyze/audit.js";
import { type OpenImageOptions, openImage } from "../image/open.js";
import { formatPlatform } from "../image/select.js";
import type { Platform } from "../oci/types.js";
import { type CheckResult, checkSource } from "./check.js";

export interface CheckImageOptions {
  /** Which platform of a multi-platform image (default: the only one, else an error naming them). */
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
  /** Manifest digest of the platform checked. */
  digest: string;
  /** Entrypoint + Cmd as the runtime would start them. */
  argv: string[];
}

/**
 * `zerodep check IMAGE`: will this image's entrypoint run? The layers are streamed once to index the
 * final file tree (nothing extracted); the program (Entrypoint, else Cmd, found along the image's PATH
 * like runc does) and the loader, libraries and runtime files it needs are then read back from their
 * layers and judged with the same rules as `check FILE --root DIR`, in the image's environment.
 */
export async function checkImage(spec: string, opts: CheckImageOptions = {}): Promise<CheckImageResult> {
  const src = await openImage(spec, opts.image);
  try {
    const a = await analyzeSource(src, {
      platform: opts.platform,
      noAudit: true,
      ...(opts.maxLayerBytes !== undefined ? { maxLayerBytes: opts.maxLayerBytes } : {}),
    });
    const c = a.result.config;
    const argv = [...(c.entrypoint ?? []), ...(c.cmd ?? [])];
    const env = { ...envMapOf(c.env), ...opts.env };
    const platform = formatPlatform(a.image.platform);
    const base = { image: spec, digest: a.result.digest, argv };
    const program = argv[0];
    const resolved = program === undefined ? null : findProgram(a.rootFs, program, env, c.workingDir);
    if (program === undefined || resolved === null) {
      const [os, arch] = platform.split("/");
      return {
        schemaVersion: 1,
        path: program ?? "",
        root: spec,
        location: program ?? "",
        runnable: false,
        platform: { os: null, arch: null, variant: null },
        target: { os: os ?? "linux", arch: arch ?? "unknown" },
        problems: [
          program === undefined ? noEntrypointProblem() : entrypointMissingProblem(program, env, program),
        ],
        needs: [],
        deps: null,
        ...base,
      };
    }
    const r = await checkSource(a.rootFs.open(resolved), `${spec}:${resolved}`, {
      rootFs: a.rootFs,
      location: resolved,
      env,
      platform,
      strict: opts.strict === true,
    });
    return { ...r, root: spec, ...base };
  } finally {
    await src.close();
  }
}
