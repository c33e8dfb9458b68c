import { rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ParseError } from "../errors.js";
import { makeStagingDir } from "../io/cleanup.js";
import { writeDockerArchive, writeOciArchive } from "../oci/archive.js";
import { LayoutWriter } from "../oci/layout.js";
import type { Descriptor } from "../oci/types.js";
import { type DockerArchiveRef, formatImageRef, type OciArchiveRef } from "./reference.js";
import type { BlobAction, ImageSink } from "./sink.js";

/** `oci:DIR[:TAG]`: blobs streamed into a LayoutWriter (atomic: nothing changes in DIR until commit). */
export class LayoutImageSink implements ImageSink {
  readonly name: string;
  private constructor(
    private readonly writer: LayoutWriter,
    private readonly tag: string | undefined,
    name: string,
  ) {
    this.name = name;
  }

  static async open(dir: string, tag: string | undefined, name = `oci:${dir}${tag ? `:${tag}` : ""}`) {
    return new LayoutImageSink(await LayoutWriter.open(dir), tag, name);
  }

  async putBlob(
    desc: Descriptor,
    open: () => AsyncIterable<Uint8Array>,
    opts: {
      onProgress?: (n: number) => void;
      openUnverified?: () => AsyncIterable<Uint8Array>;
      file?: string;
    },
  ): Promise<BlobAction> {
    if (opts.file) {
      await this.writer.putFile(opts.file, desc.digest, desc.size);
      opts.onProgress?.(desc.size);
      return "written";
    }
    let n = 0;
    // The layout writer hashes what it writes and refuses a digest mismatch itself: take the bytes
    // unhashed when the source offers them, so each byte is hashed once.
    const read = opts.openUnverified ?? open;
    const counted = async function* () {
      for await (const c of read()) {
        n += c.byteLength;
        opts.onProgress?.(n);
        yield c;
      }
    };
    const got = await this.writer.putBlob(counted(), desc.digest);
    if (got.size !== desc.size) {
      throw new ParseError(
        "DIGEST_MISMATCH",
        `blob ${desc.digest}: ${got.size} bytes, the descriptor says ${desc.size}`,
      );
    }
    return "written";
  }

  async putManifest(desc: Descriptor, bytes: Uint8Array): Promise<void> {
    await this.writer.putBlob(bytes, desc.digest);
  }

  async commit(top: Descriptor): Promise<void> {
    this.writer.setRef(top, this.tag);
    await this.writer.commit();
  }

  abort(): Promise<void> {
    return this.writer.abort();
  }
}

export interface ArchiveSinkOptions {
  /** Timestamp of every tar entry (default 0: deterministic). */
  mtime?: number;
  /** The ref name given to the image inside the archive when the reference names no tag (pack: "latest"). */
  defaultTag?: string;
}

/**
 * `oci-archive:FILE[:TAG]` / `docker-archive:FILE[:REPO:TAG]`: the image is gathered in a temporary
 * layout beside FILE, then written as one tar by the archive writers (atomic rename) and the layout removed.
 */
export class ArchiveImageSink implements ImageSink {
  readonly name: string;
  private constructor(
    private readonly inner: LayoutImageSink,
    private readonly tmp: string,
    /** Unregisters `tmp` from the interrupt cleanup (makeStagingDir registered it). */
    private readonly release: () => void,
    private readonly ref: OciArchiveRef | DockerArchiveRef,
    name: string,
    private readonly opts: ArchiveSinkOptions,
  ) {
    this.name = name;
  }

  static async open(
    ref: OciArchiveRef | DockerArchiveRef,
    name = formatImageRef(ref),
    opts: ArchiveSinkOptions = {},
  ): Promise<ArchiveImageSink> {
    const file = resolve(ref.file);
    const { path: tmp, release } = await makeStagingDir(dirname(file), `.${basename(file)}.zerodep-tmp-`);
    const tag = (ref.transport === "oci-archive" ? ref.tag : undefined) ?? opts.defaultTag;
    try {
      const inner = await LayoutImageSink.open(join(tmp, "layout"), tag);
      return new ArchiveImageSink(inner, tmp, release, ref, name, opts);
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      release();
      throw e;
    }
  }

  putBlob(...args: Parameters<ImageSink["putBlob"]>): Promise<BlobAction> {
    return this.inner.putBlob(...args);
  }
  putManifest(desc: Descriptor, bytes: Uint8Array): Promise<void> {
    return this.inner.putManifest(desc, bytes);
  }
  async commit(top: Descriptor): Promise<void> {
    try {
      await this.inner.commit(top);
      const dir = join(this.tmp, "layout");
      const mtime = this.opts.mtime ?? 0;
      const tag = (this.ref.transport === "oci-archive" ? this.ref.tag : undefined) ?? this.opts.defaultTag;
      if (this.ref.transport === "oci-archive") {
        await writeOciArchive(dir, this.ref.file, { ...(tag ? { tag } : {}), mtime });
      } else {
        await writeDockerArchive(dir, this.ref.file, {
          ...(tag ? { tag } : {}),
          ...(this.ref.repoTag ? { repoTag: this.ref.repoTag } : {}),
          mtime,
        });
      }
    } finally {
      await rm(this.tmp, { recursive: true, force: true });
      this.release();
    }
  }
  async abort(): Promise<void> {
    await this.inner.abort();
    await rm(this.tmp, { recursive: true, force: true });
    this.release();
  }
}
