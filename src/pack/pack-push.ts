import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type FileImageRef, type ImageRef, imageRefName } from "../image/reference.js";
import { removeOnInterrupt } from "../io/cleanup.js";
import { type CopyReport, copy, registryRef, type TransferOptions } from "../transfer/copy.js";
import { type PackOptions, type PackResult, pack, parsePackOut } from "./pack.js";

/**
 * `zerodep pack … --push REF`: packs (to `opts.out` when given, else to a temporary layout that is
 * removed afterwards) and pushes the result; the push reads the image just written, so what is in the
 * registry is byte for byte what pack produced. Both references are parsed before anything is written.
 */
export async function packAndPush(
  opts: Omit<PackOptions, "out"> & { out?: string | FileImageRef },
  ref: string | ImageRef,
  transfer: TransferOptions = {},
): Promise<{ pack: PackResult; push: CopyReport }> {
  const dest = registryRef(ref, "--push");
  const given =
    opts.out === undefined ? undefined : typeof opts.out === "string" ? parsePackOut(opts.out) : opts.out;
  let tmp: string | undefined;
  let release = () => {};
  try {
    let out: FileImageRef;
    let outName: string;
    if (given === undefined) {
      tmp = await mkdtemp(join(transfer.tmpDir ?? tmpdir(), "zerodep-pack-"));
      release = removeOnInterrupt(tmp);
      out = { transport: "oci", dir: join(tmp, "layout"), tag: undefined };
      outName = `oci:${out.dir}`;
    } else {
      out = given;
      outName = imageRefName(opts.out!);
    }
    const packed = await pack({ ...opts, out, registry: transfer });
    const pushed = await copy(out, dest, transfer);
    return { pack: { ...packed, out: outName }, push: { ...pushed, source: outName } };
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
    release();
  }
}
