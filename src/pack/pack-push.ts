import type { FileImageRef, ImageRef } from "../image/reference.js";
import type { CopyReport, TransferOptions } from "../transfer/copy.js";
import { type PackOptions, type PackResult, pack } from "./pack.js";

/**
 * `pack(opts)` with one registry destination `ref` (and `opts.out` when given): the earlier library
 * entry point for `pack --push`, kept for callers. `pack({ ..., push })` does the same and more
 * (several destinations). Both references are parsed before anything is written.
 */
export async function packAndPush(
  opts: Omit<PackOptions, "out" | "push"> & { out?: string | FileImageRef },
  ref: string | ImageRef,
  transfer: TransferOptions = {},
): Promise<{ pack: PackResult; push: CopyReport }> {
  const { onEvent, tmpDir, session, platform: _platform, ...registry } = transfer;
  const r = await pack({
    ...opts,
    push: ref as string,
    registry: { ...opts.registry, ...registry },
    ...(onEvent ? { onUpload: onEvent } : {}),
    ...(tmpDir ? { tmpDir } : {}),
    ...(session ? { session } : {}),
  });
  return { pack: r, push: r.pushed! };
}
