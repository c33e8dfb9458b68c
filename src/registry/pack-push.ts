import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PackOptions, type PackResult, pack } from "../pack/pack.js";
import { type CopyReport, copy, type TransferOptions } from "./copy.js";
import { formatReference, parseReference } from "./reference.js";

/**
 * `zerodep pack … --push REF`: packs (to `opts.out` when given, else to a temporary layout that is
 * removed afterwards) and pushes the result; the push reads the image just written, so what is in the
 * registry is byte for byte what pack produced.
 */
export async function packAndPush(
  opts: Omit<PackOptions, "out"> & { out?: string },
  ref: string,
  transfer: TransferOptions = {},
): Promise<{ pack: PackResult; push: CopyReport }> {
  const dest = formatReference(parseReference(ref));
  let tmp: string | undefined;
  try {
    let out = opts.out;
    if (out === undefined) {
      tmp = await mkdtemp(join(transfer.tmpDir ?? tmpdir(), "zerodep-pack-"));
      out = `oci:${join(tmp, "layout")}`;
    }
    const packed = await pack({ ...opts, out, registry: transfer });
    const pushed = await copy(out, dest, transfer);
    return { pack: packed, push: pushed };
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}
