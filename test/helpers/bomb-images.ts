/**
 * Memory bombs for `analyze` and `diff` (issue #12): OCI layouts whose one gzip layer is a few MB but
 * whose tar is huge or has a huge number of entries. The layer tar is streamed through gzip and
 * straight into the layout, so building a 2 GiB layer needs no more memory than the test itself.
 * `node dist/test/helpers/bomb-images.js DIR` writes the full-size bombs used for the README figures.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { buildConfig, buildManifest } from "../../src/oci/build.js";
import { LayoutWriter } from "../../src/oci/layout.js";
import { MediaType } from "../../src/oci/media-types.js";
import { encodeHeader } from "../../src/tar/writer.js";
import { goArch } from "../oci/image-for-tests.js";

const BLOCK = 512;
const ZEROS = new Uint8Array(1 << 20);

/** An OCI layout at `dir` (tag v1) with one gzip layer per tar stream; returns the reference. */
export async function streamedImage(
  dir: string,
  tars: (() => AsyncIterable<Uint8Array>)[],
  config: { Entrypoint?: string[] } = {},
): Promise<string> {
  const w = await LayoutWriter.open(dir);
  const layers = [];
  const diffIds: `sha256:${string}`[] = [];
  for (const tar of tars) {
    const h = createHash("sha256");
    const hashed = async function* () {
      for await (const c of tar()) {
        h.update(c);
        yield c;
      }
    };
    const gz = Readable.from(hashed()).pipe(createGzip({ level: 1 }));
    const b = await w.putBlob(gz as AsyncIterable<Uint8Array>);
    layers.push({ mediaType: MediaType.ociLayerGzip, ...b });
    diffIds.push(`sha256:${h.digest("hex")}`);
  }
  const c = await w.putBlob(
    buildConfig({
      architecture: goArch,
      os: "linux",
      created: "1970-01-01T00:00:00Z",
      config,
      rootfs: { type: "layers", diff_ids: diffIds },
      history: tars.map((_, i) => ({ created_by: `bomb layer ${i}` })),
    }),
  );
  const m = await w.putBlob(
    buildManifest({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...c },
      layers,
    }),
  );
  w.setRef({ mediaType: MediaType.ociManifest, ...m }, "v1");
  await w.commit();
  return `oci:${dir}:v1`;
}

function header(path: string, size: number): Uint8Array {
  return encodeHeader({ path, type: "file", mode: 0o755, uid: 0, gid: 0, mtime: 0, size });
}

/**
 * `count` files of `size` bytes each that start with `head` (an ELF file's first bytes) and are
 * zeros after it: gzip shrinks them a thousandfold, a parser that holds each file whole does not.
 */
export async function* zeroElfTar(head: Uint8Array, count: number, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    yield header(`opt/bomb${i}`, size);
    let left = size;
    yield head.subarray(0, Math.min(size, head.byteLength));
    left -= Math.min(size, head.byteLength);
    while (left > 0) {
      const n = Math.min(left, ZEROS.byteLength);
      yield ZEROS.subarray(0, n);
      left -= n;
    }
    if (size % BLOCK) yield ZEROS.subarray(0, BLOCK - (size % BLOCK));
  }
  yield ZEROS.subarray(0, 2 * BLOCK);
}

/** `count` empty files, 1000 to a directory (no directory entries: they are implied). */
export async function* emptyFilesTar(count: number): AsyncGenerator<Uint8Array> {
  const batch: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    batch.push(header(`d${Math.floor(i / 1000)}/f${i}`, 0));
    if (batch.length === 2048) {
      yield Buffer.concat(batch);
      batch.length = 0;
    }
  }
  batch.push(ZEROS.subarray(0, 2 * BLOCK));
  yield Buffer.concat(batch);
}

/** Regular files with the given bytes. */
export async function* filesTar(files: { path: string; bytes: Uint8Array }[]): AsyncGenerator<Uint8Array> {
  for (const f of files) {
    yield header(f.path, f.bytes.byteLength);
    yield f.bytes;
    if (f.bytes.byteLength % BLOCK) yield ZEROS.subarray(0, BLOCK - (f.bytes.byteLength % BLOCK));
  }
  yield ZEROS.subarray(0, 2 * BLOCK);
}

/** The minimal valid ELF64 x86-64 static executable: header and one PT_LOAD over the header. */
export function tinyElf(): Uint8Array {
  const b = new Uint8Array(120);
  const v = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, 0x400078n, true); // e_entry
  v.setBigUint64(32, 64n, true); // e_phoff
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 1, true); // one program header
  v.setUint32(64, 1, true); // PT_LOAD
  v.setUint32(68, 5, true); // R+X
  v.setBigUint64(80, 0x400000n, true); // p_vaddr
  v.setBigUint64(88, 0x400000n, true);
  v.setBigUint64(96, 120n, true); // p_filesz
  v.setBigUint64(104, 120n, true);
  v.setBigUint64(112, 0x1000n, true);
  return b;
}

if (process.argv[1]?.endsWith("bomb-images.js") && process.argv[2]) {
  const { join } = await import("node:path");
  const out = process.argv[2];
  // 4 × 500 MiB zero-filled ELF files (a ~2 MB layer), and 1 million empty files (a ~7 MB layer).
  console.log(
    await streamedImage(join(out, "elf-zeros"), [() => zeroElfTar(tinyElf(), 4, 500 << 20)], {
      Entrypoint: ["/opt/bomb0"],
    }),
  );
  console.log(await streamedImage(join(out, "empty-files"), [() => emptyFilesTar(1_000_000)]));
  // The CPU bombs of bomb-files.ts in one layer (a 2.7 MB image), one of them the entrypoint.
  const { BOMBS } = await import("./bomb-files.js");
  const files = Object.entries(BOMBS).map(([name, make]) => ({ path: `bin/${name}`, bytes: make() }));
  console.log(
    await streamedImage(join(out, "cpu-bombs"), [() => filesTar(files)], {
      Entrypoint: ["/bin/elf-pclntab-names"],
    }),
  );
  console.log(await streamedImage(join(out, "empty-files-b"), [() => emptyFilesTar(999_999)]));
}
