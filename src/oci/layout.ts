import { createReadStream } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { chmod, copyFile, link, lstat, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { clip, IoError, ParseError, ZerodepError } from "../errors.js";
import { makeStagingDir } from "../io/cleanup.js";
import { openRegularFile } from "../io/reader.js";
import { errnoOf, naming, syncDir, writeAll, writeChunks } from "../io/write.js";
import { buildIndex } from "./build.js";
import { canonicalJson } from "./canonical-json.js";
import { checkDescriptor, parseIndex } from "./descriptor.js";
import { type Digest, DigestingStream, isDigest } from "./digest.js";
import { MediaType } from "./media-types.js";
import type { Descriptor, Index } from "./types.js";
import { MAX_JSON_BYTES, readJsonBlob, verifyBlob } from "./verify.js";

/*
 * OCI image layout on disk (image-spec image-layout.md):
 *   DIR/oci-layout   {"imageLayoutVersion":"1.0.0"}
 *   DIR/index.json   an image index; a tag is the org.opencontainers.image.ref.name annotation
 *   DIR/blobs/sha256/<hex>
 * This is the one file of src/oci that touches the file system; everything it parses goes through the
 * pure functions in descriptor.ts.
 */

export const REF_NAME = "org.opencontainers.image.ref.name";

const OCI_LAYOUT = "oci-layout";
const INDEX_JSON = "index.json";
const LAYOUT_VERSION = "1.0.0";
/** JSON documents (index.json, manifests, configs) larger than this are refused: none real comes close. */
const TMP_INFIX = ".zerodep-tmp-";

// image-spec annotations.md: ref ::= component ("/" component)*; component ::= alphanum (separator alphanum)*;
// alphanum ::= [A-Za-z0-9]+; separator ::= [-._:@+] | "--".
const REF_NAME_RE =
  /^[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:\/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*$/;

/** An error opening `path`: ours (NOT_REGULAR_FILE) kept, an OS error named after the file it concerns. */
function readFailed(path: string, e: unknown): ZerodepError {
  if (e instanceof ZerodepError) return e;
  return new IoError("READ_FAILED", `${path}: ${(e as Error).message}`, { cause: e });
}

function blobPath(dir: string, digest: Digest): string {
  return join(dir, "blobs", "sha256", digest.slice("sha256:".length));
}

/** Reads a small file completely, refusing anything over `max` bytes before reading it. */
async function readBounded(path: string, max: number, missing: () => never): Promise<Uint8Array> {
  let fh: FileHandle;
  try {
    fh = await openRegularFile(path);
  } catch (e) {
    if (errnoOf(e) === "ENOENT") missing();
    throw readFailed(path, e);
  }
  try {
    const st = await fh.stat();
    if (st.size > max)
      throw new ParseError("FILE_TOO_LARGE", `${path}: ${st.size} bytes, over the ${max}-byte limit`);
    return await fh.readFile();
  } finally {
    await fh.close();
  }
}

/** Validates DIR/oci-layout and parses DIR/index.json. ParseError names the file at fault. */
async function readLayoutIndex(dir: string): Promise<Index> {
  const layoutFile = join(dir, OCI_LAYOUT);
  const layoutBytes = await readBounded(layoutFile, 4096, () => {
    throw new ParseError("OCI_LAYOUT_MISSING", `${layoutFile}: missing: ${dir} is not an OCI image layout`);
  });
  let version: unknown;
  try {
    version = (JSON.parse(new TextDecoder().decode(layoutBytes)) as { imageLayoutVersion?: unknown })
      ?.imageLayoutVersion;
  } catch (e) {
    throw new ParseError("OCI_LAYOUT_INVALID", `${layoutFile}: not valid JSON`, undefined, { cause: e });
  }
  if (version !== LAYOUT_VERSION) {
    throw new ParseError(
      "OCI_LAYOUT_VERSION",
      `${layoutFile}: imageLayoutVersion ${JSON.stringify(version)} is not supported (expected "${LAYOUT_VERSION}")`,
    );
  }
  const indexFile = join(dir, INDEX_JSON);
  const indexBytes = await readBounded(indexFile, MAX_JSON_BYTES, () => {
    throw new ParseError("INDEX_MISSING", `${indexFile}: missing`);
  });
  return parseIndex(indexBytes, indexFile);
}

/**
 * DIR/blobs and DIR/blobs/sha256 must be real directories: blobs are renamed into them, and a symbolic
 * link there (to a directory outside the layout) would have us write wherever it points. IoError
 * LAYOUT_UNSAFE naming the link; nothing is written.
 */
async function assertBlobDirsSafe(dir: string): Promise<void> {
  for (const p of [join(dir, "blobs"), join(dir, "blobs", "sha256")]) {
    let st: import("node:fs").Stats;
    try {
      st = await lstat(p);
    } catch (e) {
      if (errnoOf(e) === "ENOENT") return;
      throw readFailed(p, e);
    }
    if (st.isSymbolicLink())
      throw new IoError("LAYOUT_UNSAFE", `${p}: is a symbolic link; refusing to write blobs through it`);
    if (!st.isDirectory()) throw new IoError("LAYOUT_UNSAFE", `${p}: not a directory`);
  }
}

/** True when `dir` holds something (must then be a layout), false when it is absent or an empty directory. */
async function targetHasContent(dir: string): Promise<boolean> {
  try {
    const st = await stat(dir);
    if (!st.isDirectory()) throw new IoError("LAYOUT_NOT_DIR", `${dir}: exists and is not a directory`);
  } catch (e) {
    if (errnoOf(e) === "ENOENT") return false;
    throw e;
  }
  return (await readdir(dir)).length > 0;
}

async function writeFileSynced(path: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(path, "wx", 0o644);
  try {
    await writeAll(fh, bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Hashes a file completely (used to verify a cross-device copy). */
async function hashFile(path: string): Promise<{ digest: Digest; size: number }> {
  const ds = new DigestingStream();
  const fh = await openRegularFile(path);
  for await (const chunk of fh.createReadStream({ highWaterMark: 1 << 20 })) ds.update(chunk as Uint8Array);
  return { digest: ds.digest, size: ds.size };
}

interface RefOp {
  desc: Descriptor;
  refName: string | undefined;
}

/** Applies setRef operations to a list of top-level descriptors: a ref name is replaced in place, never duplicated. */
function applyRefs(current: Descriptor[], ops: RefOp[]): Descriptor[] {
  let out = [...current];
  for (const { desc, refName } of ops) {
    const name = refName ?? desc.annotations?.[REF_NAME];
    const entry: Descriptor = { ...desc };
    if (name !== undefined) entry.annotations = { ...desc.annotations, [REF_NAME]: name };
    const same = (d: Descriptor) =>
      name !== undefined
        ? d.annotations?.[REF_NAME] === name
        : d.digest === entry.digest && d.annotations?.[REF_NAME] === undefined;
    const at = out.findIndex(same);
    if (at < 0) {
      out.push(entry);
    } else {
      out = out.filter((d, i) => i === at || !same(d));
      out[at] = entry;
    }
  }
  return out;
}

/**
 * A layout being written. Everything goes to a temporary directory next to the target (same file system);
 * commit() renames it into place atomically: for a new DIR the whole directory is renamed; for an existing
 * layout, new blobs are copied/linked in first (verified), then index.json is replaced by rename (never a half-written
 * index). abort() removes the temporary state. An interrupted run leaves the old layout intact.
 *
 * The index written is computed at commit time from the index.json on disk then, so an image another
 * writer committed in between is kept (the ref names set here win). A killed process leaves its
 * `.<name>.zerodep-tmp-*` directory beside the layout; it is never referenced and safe to delete.
 */
export class LayoutWriter {
  readonly dir: string;
  readonly #tmp: string;
  readonly #existing: boolean;
  readonly #ops: RefOp[] = [];
  /** Blobs written to the temporary directory: hex -> size. */
  readonly #newBlobs = new Map<string, number>();
  #state: "open" | "committing" | "done" = "open";
  #seq = 0;
  /** Unregisters the staging directory from the interrupt cleanup (src/io/cleanup.ts). */
  readonly #release: () => void;

  private constructor(dir: string, tmp: string, existing: boolean, release: () => void) {
    this.dir = dir;
    this.#tmp = tmp;
    this.#existing = existing;
    this.#release = release;
  }

  /** Validates an existing layout (oci-layout version 1.0.0, index.json parse) or prepares a new one; ParseError on a corrupt existing layout. */
  static async open(dir: string): Promise<LayoutWriter> {
    const abs = resolve(dir);
    const existing = await targetHasContent(abs);
    if (existing) {
      await readLayoutIndex(abs);
      await assertBlobDirsSafe(abs);
    }
    const parent = dirname(abs);
    await mkdir(parent, { recursive: true });
    const { path: tmp, release } = await makeStagingDir(parent, `.${basename(abs)}${TMP_INFIX}`);
    await mkdir(join(tmp, "blobs", "sha256"), { recursive: true });
    return new LayoutWriter(abs, tmp, existing, release);
  }

  #assertOpen(): void {
    if (this.#state !== "open")
      throw new ZerodepError("WRITER_CLOSED", `layout writer for ${this.dir} is closed`);
  }

  /** Stream a blob in; returns its descriptor fields. If expected digest is given, a mismatch throws ParseError("DIGEST_MISMATCH") and nothing is kept. Existing identical blobs are not rewritten. */
  async putBlob(
    chunks: AsyncIterable<Uint8Array> | Uint8Array,
    expected?: Digest,
  ): Promise<{ digest: Digest; size: number }> {
    this.#assertOpen();
    if (expected !== undefined && !isDigest(expected)) {
      throw new ZerodepError(
        "DIGEST_INVALID",
        `${this.dir}: expected digest ${JSON.stringify(expected)} is not sha256:<64 hex>`,
      );
    }
    const incoming = join(this.#tmp, "blobs", `.incoming-${this.#seq++}`);
    const ds = new DigestingStream();
    const fh = await open(incoming, "wx", 0o644);
    try {
      try {
        await writeChunks(fh, chunks instanceof Uint8Array ? [chunks] : chunks, (c) => ds.update(c));
        await fh.sync();
      } catch (e) {
        throw naming(e, this.dir, "writing a blob");
      } finally {
        await fh.close();
      }
      const { digest, size } = ds;
      if (expected !== undefined && digest !== expected) {
        throw new ParseError(
          "DIGEST_MISMATCH",
          `blob digest mismatch: expected ${expected}, got ${digest} (${size} bytes)`,
        );
      }
      const hex = digest.slice("sha256:".length);
      if (this.#newBlobs.has(hex) || (await this.#existingBlobIntact(digest, size))) {
        await rm(incoming, { force: true });
      } else {
        await rename(incoming, join(this.#tmp, "blobs", "sha256", hex));
        this.#newBlobs.set(hex, size);
      }
      return { digest, size };
    } catch (e) {
      await rm(incoming, { force: true });
      throw e;
    }
  }

  /**
   * A blob that is already a file, written and hashed by the caller (pack's staged layer): hard-linked
   * into the staging area when it is on the same file system — no copy, no second hash — and fsynced
   * like a streamed blob; otherwise streamed and verified by putBlob.
   */
  async putFile(file: string, digest: Digest, size: number): Promise<{ digest: Digest; size: number }> {
    this.#assertOpen();
    const hex = digest.slice("sha256:".length);
    if (this.#newBlobs.has(hex) || (await this.#existingBlobIntact(digest, size))) return { digest, size };
    if ((await stat(file)).size !== size)
      throw new ParseError("DIGEST_MISMATCH", `${file}: not the ${size} bytes of blob ${digest}`);
    const dest = join(this.#tmp, "blobs", "sha256", hex);
    try {
      await link(file, dest);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (
        code === "EXDEV" ||
        code === "EPERM" ||
        code === "EMLINK" ||
        code === "ENOTSUP" ||
        code === "EEXIST"
      )
        return this.putBlob(
          createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
          digest,
        );
      throw naming(e, this.dir, "linking a blob");
    }
    const fh = await open(dest, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    this.#newBlobs.set(hex, size);
    return { digest, size };
  }

  /**
   * True when DIR already holds this blob with the right content. A blob of the right size is hashed
   * before it is trusted: a corrupt copy (a bad disk, a killed writer of another tool) is replaced by the
   * bytes just received instead of being kept under a success message.
   */
  async #existingBlobIntact(digest: Digest, size: number): Promise<boolean> {
    if ((await this.#existingBlobSize(digest)) !== size) return false;
    try {
      const got = await hashFile(blobPath(this.dir, digest));
      return got.digest === digest && got.size === size;
    } catch {
      return false;
    }
  }

  async #existingBlobSize(digest: Digest): Promise<number | undefined> {
    if (!this.#existing) return undefined;
    try {
      const st = await stat(blobPath(this.dir, digest));
      return st.isFile() ? st.size : undefined;
    } catch {
      return undefined;
    }
  }

  async putJson(value: unknown): Promise<{ digest: Digest; size: number; bytes: Uint8Array }> {
    const bytes = canonicalJson(value);
    const { digest, size } = await this.putBlob(bytes);
    return { digest, size, bytes };
  }

  /** Adds (or replaces: same ref name) a top-level index.json entry; other images in the layout are kept. */
  setRef(desc: Descriptor, refName?: string): void {
    this.#assertOpen();
    const problem = checkDescriptor(desc, "descriptor");
    if (problem) throw new ZerodepError("DESCRIPTOR_INVALID", problem);
    if (refName !== undefined && !REF_NAME_RE.test(refName)) {
      throw new ZerodepError(
        "REF_NAME_INVALID",
        `ref name ${JSON.stringify(refName)} does not follow the image-spec grammar (alphanumerics joined by - . _ : @ + -- or /)`,
      );
    }
    this.#ops.push({ desc: structuredClone(desc), refName });
  }

  async commit(): Promise<void> {
    this.#assertOpen();
    this.#state = "committing";
    try {
      if (this.#existing) await this.#commitIntoExisting();
      else await this.#commitNew();
    } catch (e) {
      await rm(this.#tmp, { recursive: true, force: true });
      this.#state = "done";
      throw e;
    } finally {
      this.#release();
    }
    this.#state = "done";
  }

  async #assertBlobsPresent(manifests: Descriptor[]): Promise<void> {
    for (const d of manifests) {
      const hex = d.digest.slice("sha256:".length);
      if (this.#newBlobs.has(hex)) continue;
      if (this.#existing && (await this.#existingBlobSize(d.digest)) !== undefined) continue;
      throw new ParseError(
        "BLOB_MISSING",
        `index entry ${d.digest} (${d.mediaType}) has no blob in ${this.dir}`,
      );
    }
  }

  #indexBytes(manifests: Descriptor[], base?: Index): Uint8Array {
    return buildIndex({
      ...base,
      schemaVersion: 2,
      mediaType: base?.mediaType ?? MediaType.ociIndex,
      manifests,
    });
  }

  async #commitNew(): Promise<void> {
    const manifests = applyRefs([], this.#ops);
    await this.#assertBlobsPresent(manifests);
    await syncDir(join(this.#tmp, "blobs", "sha256"));
    await writeFileSynced(join(this.#tmp, OCI_LAYOUT), canonicalJson({ imageLayoutVersion: LAYOUT_VERSION }));
    await writeFileSynced(join(this.#tmp, INDEX_JSON), this.#indexBytes(manifests));
    await chmod(this.#tmp, 0o755); // mkdtemp made it 0700
    try {
      // rename(2) replaces an empty directory and fails on a non-empty one: the layout appears whole or not at all.
      await rename(this.#tmp, this.dir);
    } catch (e) {
      if (errnoOf(e) === "ENOTEMPTY" || errnoOf(e) === "EEXIST") {
        throw new IoError("LAYOUT_EXISTS", `${this.dir}: was created by someone else while we wrote`, {
          cause: e,
        });
      }
      throw e;
    }
    await syncDir(dirname(this.dir));
  }

  async #commitIntoExisting(): Promise<void> {
    // Re-read now: another writer may have committed since open().
    const current = await readLayoutIndex(this.dir);
    const manifests = applyRefs(current.manifests, this.#ops);
    await this.#assertBlobsPresent(manifests);
    const blobDir = join(this.dir, "blobs", "sha256");
    await mkdir(blobDir, { recursive: true });
    // Checked again right before the renames: a link swapped in since open() is refused too.
    await assertBlobDirsSafe(this.dir);
    for (const [hex, size] of this.#newBlobs) {
      await this.#moveBlobIn(hex, size, blobDir);
    }
    await syncDir(blobDir);
    // Only now, with every blob in place, does the new index.json replace the old one in one rename.
    const bytes = this.#indexBytes(manifests, current);
    const staged = join(this.#tmp, INDEX_JSON);
    await writeFileSynced(staged, bytes);
    try {
      await rename(staged, join(this.dir, INDEX_JSON));
    } catch (e) {
      if (errnoOf(e) !== "EXDEV") throw e;
      // DIR is a mount point: stage the index inside it instead.
      const local = join(this.dir, `.${INDEX_JSON}${TMP_INFIX}${process.pid}`);
      await rm(local, { force: true });
      await writeFileSynced(local, bytes);
      await rename(local, join(this.dir, INDEX_JSON));
    }
    await syncDir(this.dir);
    await rm(this.#tmp, { recursive: true, force: true });
  }

  /** Renames a staged blob in (same file system), or copies and re-verifies it when DIR is on another device. */
  async #moveBlobIn(hex: string, size: number, blobDir: string): Promise<void> {
    const from = join(this.#tmp, "blobs", "sha256", hex);
    const to = join(blobDir, hex);
    try {
      await rename(from, to);
      return;
    } catch (e) {
      if (errnoOf(e) !== "EXDEV") throw e;
    }
    const part = join(blobDir, `.${hex}${TMP_INFIX}${process.pid}`);
    await copyFile(from, part);
    const got = await hashFile(part);
    if (got.digest !== `sha256:${hex}` || got.size !== size) {
      await rm(part, { force: true });
      throw new ParseError(
        "DIGEST_MISMATCH",
        `copy of blob sha256:${hex} into ${blobDir} came out as ${got.digest}`,
      );
    }
    await rename(part, to);
  }

  async abort(): Promise<void> {
    if (this.#state === "done") return;
    this.#state = "done";
    await rm(this.#tmp, { recursive: true, force: true });
    this.#release();
  }
}

/** Reading a layout (for --base and tests). Blob reads verify size and digest while streaming (ParseError DIGEST_MISMATCH / BLOB_MISSING naming the digest). */
/** Finds the top-level descriptor of an index.json for a tag (ref.name annotation), or the only one when tag is undefined and there is exactly one. ZerodepError REF_NOT_FOUND / AMBIGUOUS_REF listing what exists; `where` names the layout or archive in messages. */
export function resolveRefIn(index: Index, tag: string | undefined, where: string): Descriptor {
  const all = index.manifests;
  const shown = tag === undefined ? "" : JSON.stringify(clip(tag));
  // Names come from index.json: clipped, and at most 20 listed, so a hostile index cannot flood the line.
  const listing = () =>
    all.length === 0
      ? "the layout holds no images"
      : `it holds: ${all
          .slice(0, 20)
          .map((d) => clip(d.annotations?.[REF_NAME] ?? `(untagged ${d.digest})`))
          .join(", ")}${all.length > 20 ? `, … (${all.length} in all)` : ""}`;
  if (tag === undefined) {
    if (all.length === 1) return all[0]!;
    if (all.length === 0) throw new ZerodepError("REF_NOT_FOUND", `${where}: ${listing()}`);
    throw new ZerodepError("AMBIGUOUS_REF", `${where}: name a tag, ${listing()}`);
  }
  const hits = all.filter((d) => d.annotations?.[REF_NAME] === tag);
  if (hits.length === 1) return hits[0]!;
  if (hits.length === 0)
    throw new ZerodepError("REF_NOT_FOUND", `${clip(where, 400)}: no image tagged ${shown}; ${listing()}`);
  throw new ZerodepError(
    "AMBIGUOUS_REF",
    `${clip(where, 400)}: ${hits.length} entries tagged ${shown}: ${hits
      .slice(0, 20)
      .map((d) => d.digest)
      .join(", ")}`,
  );
}

export class LayoutReader {
  readonly dir: string;
  readonly index: Index;

  private constructor(dir: string, index: Index) {
    this.dir = dir;
    this.index = index;
  }

  static async open(dir: string): Promise<LayoutReader> {
    const abs = resolve(dir);
    try {
      const st = await stat(abs);
      if (!st.isDirectory()) throw new IoError("LAYOUT_NOT_DIR", `${abs}: not a directory`);
    } catch (e) {
      if (errnoOf(e) === "ENOENT")
        throw new IoError("LAYOUT_NOT_FOUND", `${abs}: no such layout directory`, { cause: e });
      throw e;
    }
    return new LayoutReader(abs, await readLayoutIndex(abs));
  }

  /** Finds the top-level descriptor for a tag (ref.name annotation), or the only one when tag is undefined and there is exactly one. ZerodepError REF_NOT_FOUND / AMBIGUOUS_REF listing what exists. */
  resolveRef(tag?: string): Descriptor {
    return resolveRefIn(this.index, tag, this.dir);
  }

  readJson<T>(desc: Descriptor): Promise<T> {
    return readJsonBlob<T>(this.#verified(desc), desc, this.dir);
  }

  /** The blob, verified against its descriptor (documents are schema-checked where they are parsed: parseImageJson). */
  blob(desc: Descriptor): AsyncIterable<Uint8Array> {
    return this.#verified(desc);
  }

  #verified(desc: Descriptor): AsyncIterable<Uint8Array> {
    const problem = checkDescriptor(desc, "descriptor");
    if (problem) throw new ParseError("DESCRIPTOR_INVALID", `${this.dir}: ${problem}`);
    return this.#stream(desc);
  }

  async *#stream(desc: Descriptor): AsyncIterable<Uint8Array> {
    const path = blobPath(this.dir, desc.digest);
    let fh: FileHandle;
    try {
      fh = await openRegularFile(path);
    } catch (e) {
      if (errnoOf(e) === "ENOENT") {
        throw new ParseError(
          "BLOB_MISSING",
          `blob ${desc.digest} is missing from ${this.dir} (${path})`,
          undefined,
          {
            cause: e,
          },
        );
      }
      throw readFailed(path, e);
    }
    // The stream closes the handle when it ends or is destroyed (also when the consumer stops early).
    yield* verifyBlob(
      fh.createReadStream({ highWaterMark: 1 << 20 }) as AsyncIterable<Uint8Array>,
      desc,
      this.dir,
    );
  }
}
