import { hostPlatform } from "../check/check.js";
import { envMapOf, findProgram, runtimeConfigOf } from "../check/entrypoint.js";
import { ZerodepError } from "../errors.js";
import { indexImage } from "../image/index-image.js";
import { type ImageRef, imageRefName } from "../image/reference.js";
import { resolveImage } from "../image/select.js";
import { inspectSource } from "../inspect/inspect.js";
import type { InspectResult } from "../inspect/types.js";
import type { Platform } from "../oci/types.js";
import { resolvePath } from "../resolve/root-fs.js";
import { type OpenImageOptions, openImage } from "../transfer/open.js";

export interface InspectImageOptions {
  platform?: Platform | string;
  /** In-image paths to inspect; default the entrypoint's program. */
  paths?: string[];
  /** How to open the reference (registry options: CA files, credentials, insecure). */
  image?: OpenImageOptions;
}

/**
 * `zerodep inspect IMAGE`: the same facts as `inspect FILE` for files inside an image — by default the
 * program its entrypoint starts — read from the layers without extracting anything. Each result's
 * `path` is "IMAGE:/in/image/path". A path that is absent gives a result with `error` (like a missing
 * file), not an exception.
 */
export async function inspectImage(
  image: string | ImageRef,
  opts: InspectImageOptions = {},
): Promise<InspectResult[]> {
  const spec = imageRefName(image);
  const src = await openImage(image, opts.image);
  try {
    const img = await resolveImage(src, { platform: opts.platform, prefer: hostPlatform() });
    const a = await indexImage(src, img);
    try {
      return await inspectPaths(a, img, spec, opts.paths);
    } finally {
      a.rootFs.close();
    }
  } finally {
    await src.close();
  }
}

/** inspect of `wanted` (default: the entrypoint's program) in an indexed image's tree. */
async function inspectPaths(
  a: Awaited<ReturnType<typeof indexImage>>,
  img: Awaited<ReturnType<typeof resolveImage>>,
  spec: string,
  wanted: string[] | undefined,
): Promise<InspectResult[]> {
  const c = runtimeConfigOf(img.config);
  let paths = wanted;
  if (!paths || paths.length === 0) {
    const program = [...(c.entrypoint ?? []), ...(c.cmd ?? [])][0];
    if (program === undefined)
      throw new ZerodepError("NO_ENTRYPOINT", `${spec}: no Entrypoint or Cmd; name a file with --path`);
    const found = findProgram(a.rootFs, program, envMapOf(c.env), c.workingDir);
    paths = [found ?? program];
  }
  const out: InspectResult[] = [];
  for (const p of paths) {
    const r = resolvePath(a.rootFs, p.startsWith("/") ? p : `/${p}`);
    if (!r.ok || r.stat.kind !== "file") {
      const res = await inspectSource(
        { name: `${spec}:${p}`, size: 0, read: async () => new Uint8Array(0), close: async () => {} },
        `${spec}:${p}`,
      );
      res.error = `${spec}:${p}: no such file in the image`;
      res.errorCode = "ENOENT";
      out.push(res);
      continue;
    }
    out.push(await inspectSource(a.rootFs.open(r.path), `${spec}:${r.path}`));
  }
  return out;
}
