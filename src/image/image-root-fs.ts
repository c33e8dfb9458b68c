import { IoError, ZerodepError } from "../errors.js";
import { BufferSource, type ByteSource, checkRange } from "../io/reader.js";
import { SpillWriter } from "../io/spill.js";
import type { Descriptor } from "../oci/types.js";
import type { EntryStat, RootFs } from "../resolve/root-fs.js";
import { readTar } from "../tar/reader.js";
import { CAPTURED_BYTES, getFact } from "./facts.js";
import { type FileIndex, type IndexNode, nodePath } from "./file-index.js";
import { layerTar } from "./layer-stream.js";
import type { ImageSource } from "./source.js";

/** Files larger than this are not read back from a layer for `check` (it reads headers and tables). */
const MAX_READBACK = 512 * 1024 * 1024;
/** What one extra pass over a layer may keep besides the requested file, for later opens. */
const PREFETCH_BUDGET = 256 * 1024 * 1024;

/**
 * Reads file bytes back from the layers of an analysed image. Bytes captured during the analysis pass
 * (small /etc files) are served from memory; anything else costs one more stream of its layer, during
 * which every other file of that layer a check is likely to open next (ELF files and /etc, final copies
 * only) is kept too, within a budget: checking an entrypoint costs at most one extra pass per layer.
 */
export class LayerFileLoader {
  /** Files read back: in memory up to SPILL_MEMORY_LIMIT each, larger ones in temporary files. */
  private readonly cache = new Map<string, ByteSource>();
  private readonly spills: SpillWriter[] = [];
  private readonly streamed = new Set<number>();

  constructor(
    private readonly src: ImageSource,
    private readonly layers: Descriptor[],
    private readonly index: FileIndex,
    private readonly maxLayerBytes: number,
    /** Files worth keeping from a read-back pass besides /etc and library names (e.g. known ELF files). */
    private readonly hint: (n: IndexNode) => boolean = () => false,
  ) {}

  async source(n: IndexNode): Promise<ByteSource> {
    const captured = getFact(n, CAPTURED_BYTES);
    if (captured) return new BufferSource(captured, nodePath(n));
    const key = `${n.dataLayer}\0${n.layerPath}`;
    let b = this.cache.get(key);
    if (b) return b;
    if (n.size > MAX_READBACK) {
      throw new IoError("FILE_TOO_LARGE", `${nodePath(n)}: ${n.size} bytes is over the read-back limit`);
    }
    // First time in a layer: one pass that also keeps what a check is likely to open next. A file
    // that pass did not foresee costs one more pass of its layer (correctness before speed).
    await this.prefetch(n, !this.streamed.has(n.dataLayer));
    b = this.cache.get(key);
    if (!b)
      throw new ZerodepError("LAYER_FILE_MISSING", `${nodePath(n)}: not found again in layer ${n.dataLayer}`);
    return b;
  }

  private async prefetch(want: IndexNode, ahead: boolean): Promise<void> {
    const layer = want.dataLayer;
    this.streamed.add(layer);
    const wanted = new Set<string>([want.layerPath]);
    let budget = ahead ? PREFETCH_BUDGET : 0;
    for (const n of ahead ? this.index.walk() : []) {
      if (n.kind !== "file" || n.dataLayer !== layer || n.size > MAX_READBACK) continue;
      const p = nodePath(n);
      // Files the indexing pass marked (ELF files it recognised), /etc, names the loader will ask for.
      const likely = this.hint(n) || p.startsWith("/etc/") || /(^|\/)(ld-[^/]*|[^/]*\.so(\.[^/]*)?)$/.test(p);
      if (likely && n.size <= budget) {
        wanted.add(n.layerPath);
        budget -= n.size;
      }
    }
    await readTar(
      layerTar(this.src, this.layers[layer]!, { maxUncompressedBytes: this.maxLayerBytes }),
      async (e, body) => {
        if (e.type !== "file" || !wanted.has(e.path)) return;
        const w = new SpillWriter(e.size);
        this.spills.push(w);
        for await (const c of body) w.write(c);
        // The last entry of a path in a layer is the one that counts (duplicates).
        this.cache.set(`${layer}\0${e.path}`, w.source(`${layer}:${e.path}`));
      },
    );
  }

  /** Removes the temporary files of read-back files and forgets them. Idempotent. */
  dispose(): void {
    for (const w of this.spills) w.dispose();
    this.spills.length = 0;
    this.cache.clear();
  }
}

/** A ByteSource over a file of the image, loaded on first read. */
class LazyLayerSource implements ByteSource {
  readonly size: number;
  private data: Promise<ByteSource> | null = null;
  constructor(
    private readonly loader: LayerFileLoader,
    private readonly node: IndexNode,
    readonly name: string,
  ) {
    this.size = node.size;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    this.data ??= this.loader.source(this.node);
    const b = await this.data;
    if (offset + length > b.size)
      throw new IoError("EIO", `${this.name}: layer holds ${b.size} bytes, the header said ${this.size}`);
    return b.read(offset, length);
  }
  async close(): Promise<void> {}
}

/**
 * The image's merged file tree as a RootFs, so that `check` (and deps) judge the entrypoint against
 * exactly what the container will see, without extracting anything.
 */
export class ImageRootFs implements RootFs {
  constructor(
    private readonly index: FileIndex,
    private readonly loader: LayerFileLoader,
    readonly description: string,
  ) {}

  /** Removes the temporary files of files read back (those over SPILL_MEMORY_LIMIT). Idempotent. */
  close(): void {
    this.loader.dispose();
  }

  lstat(path: string): EntryStat | null {
    const n = this.index.get(path);
    if (!n) return null;
    return { kind: n.kind, size: n.size, mode: n.mode, uid: n.uid, gid: n.gid };
  }
  readlink(path: string): string | null {
    const n = this.index.get(path);
    return n?.kind === "symlink" ? (n.linkname ?? null) : null;
  }
  readdir(path: string): string[] | null {
    const n = this.index.get(path);
    return n?.children ? [...n.children.keys()] : null;
  }
  open(path: string): ByteSource {
    const n = this.index.get(path);
    if (n?.kind !== "file") throw new IoError("ENOENT", `${this.description}:${path}: no such file`);
    const captured = getFact(n, CAPTURED_BYTES);
    if (captured) return new BufferSource(captured, `${this.description}:${path}`);
    return new LazyLayerSource(this.loader, n, `${this.description}:${path}`);
  }
}
