import { ZerodepError } from "../errors.js";
import { normalizeArchivePath, type TarEntry } from "./entry.js";
import { BLOCK, checksums, compareBytes, F, type Field, maxOctal, utf8 } from "./internal/ustar.js";

/** Content of a file entry: bytes in memory, or a function that opens a fresh stream of exactly `size` bytes. */
export type TarBody = Uint8Array | (() => AsyncIterable<Uint8Array>);

export interface TarInput {
  entry: TarEntry;
  body?: TarBody;
}

const PARENT_MODE = 0o755;

/**
 * Adds explicit parent directories (mode 0o755, uid/gid 0, the given mtime) for every entry that lacks one,
 * rejects duplicate paths (ZerodepError "DUPLICATE_ENTRY"), and sorts by path bytes (parents first).
 *
 * Also: paths (and hardlink targets) are normalised with normalizeArchivePath; an entry below a path that
 * is not a directory is ZerodepError "PARENT_NOT_DIR"; a hardlink whose target is a file of the same set
 * is re-pointed so that, within each group of linked names, the name that sorts first carries the content
 * and every other name links to it. GNU tar (and every extractor) can only create a hard link to a file
 * it has already written, and sorting by name alone would otherwise put "a/link" before "b/target".
 */
export function prepareEntries(inputs: TarInput[], opts: { mtime: number }): TarInput[] {
  const byPath = new Map<string, TarInput>();
  for (const input of inputs) {
    const path = normalizeArchivePath(input.entry.path);
    const entry: TarEntry = { ...input.entry, path };
    if (entry.type === "hardlink" && entry.linkname !== undefined) {
      entry.linkname = normalizeArchivePath(entry.linkname);
    }
    if (byPath.has(path)) {
      throw new ZerodepError("DUPLICATE_ENTRY", `duplicate archive path "${path}"`);
    }
    byPath.set(path, input.body === undefined ? { entry } : { entry, body: input.body });
  }

  // Parent directories.
  for (const path of [...byPath.keys()]) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const existing = byPath.get(parent);
      if (existing === undefined) {
        byPath.set(parent, {
          entry: { path: parent, type: "dir", mode: PARENT_MODE, uid: 0, gid: 0, mtime: opts.mtime, size: 0 },
        });
      } else if (existing.entry.type !== "dir") {
        throw new ZerodepError(
          "PARENT_NOT_DIR",
          `archive path "${path}" is below "${parent}", which is a ${existing.entry.type}, not a directory`,
        );
      }
    }
  }

  regroupHardlinks(byPath);

  const keyed = [...byPath.values()].map((input) => ({ key: utf8(input.entry.path), input }));
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  return keyed.map((k) => k.input);
}

function regroupHardlinks(byPath: Map<string, TarInput>): void {
  // Resolve every hardlink to the regular file at the end of its chain.
  const groups = new Map<string, string[]>();
  for (const input of byPath.values()) {
    if (input.entry.type !== "hardlink" || input.entry.linkname === undefined) continue;
    const seen = new Set<string>([input.entry.path]);
    let target = input.entry.linkname;
    let t = byPath.get(target);
    while (t !== undefined && t.entry.type === "hardlink" && t.entry.linkname !== undefined) {
      if (seen.has(target)) {
        throw new ZerodepError("BAD_HARDLINK", `hardlink "${input.entry.path}" is part of a cycle`);
      }
      seen.add(target);
      target = t.entry.linkname;
      t = byPath.get(target);
    }
    if (t === undefined) continue; // a target outside this set (e.g. a lower layer): left as given
    if (t.entry.type !== "file") {
      throw new ZerodepError(
        "BAD_HARDLINK",
        `hardlink "${input.entry.path}" points to "${target}", a ${t.entry.type}: only regular files can be hard-linked`,
      );
    }
    let g = groups.get(target);
    if (g === undefined) {
      g = [];
      groups.set(target, g);
    }
    g.push(input.entry.path);
  }
  for (const [filePath, links] of groups) {
    const file = byPath.get(filePath)!;
    const names = [filePath, ...links].sort((a, b) => compareBytes(utf8(a), utf8(b)));
    const primary = names[0]!;
    for (const name of names) {
      if (name === primary) {
        const entry: TarEntry = { ...file.entry, path: name };
        byPath.set(name, file.body === undefined ? { entry } : { entry, body: file.body });
      } else {
        const { linkname: _drop, ...meta } = file.entry;
        byPath.set(name, { entry: { ...meta, path: name, type: "hardlink", size: 0, linkname: primary } });
      }
    }
  }
}

const TYPEFLAG: Record<TarEntry["type"], number> = {
  file: 0x30, // '0'
  hardlink: 0x31, // '1'
  symlink: 0x32, // '2'
  dir: 0x35, // '5'
};

function checkInteger(entry: TarEntry, field: "uid" | "gid" | "mtime" | "size" | "mode"): number {
  const v = entry[field];
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new ZerodepError(
      "BAD_ENTRY",
      `tar entry "${entry.path}": ${field} must be a non-negative integer, got ${v}`,
    );
  }
  return v;
}

function isAscii(b: Uint8Array): boolean {
  for (const x of b) if (x === 0 || x > 0x7e) return false;
  return true;
}

/** What goes into a ustar string field when the real value is carried by a PAX record. */
function placeholder(b: Uint8Array, len: number): Uint8Array {
  const out = b.slice(0, len);
  for (let i = 0; i < out.length; i++) if (out[i]! === 0 || out[i]! > 0x7e) out[i] = 0x5f; // '_'
  return out;
}

/**
 * Splits a name into ustar prefix + name (split at a '/', prefix ≤ 155, name ≤ 100), or undefined.
 * Like GNU tar (create.c split_long_name) and Go's archive/tar, the split is at the last '/' that
 * leaves a prefix of at most 155 bytes, so our headers are byte-identical to theirs.
 */
function splitUstarName(b: Uint8Array): { prefix: Uint8Array; name: Uint8Array } | undefined {
  if (b.length <= F.name.len) return { prefix: new Uint8Array(0), name: b };
  for (let i = Math.min(b.length - 2, F.prefix.len); i > 0; i--) {
    if (b[i] !== 0x2f) continue;
    if (b.length - i - 1 > F.name.len) return undefined;
    return { prefix: b.subarray(0, i), name: b.subarray(i + 1) };
  }
  return undefined;
}

function putBytes(block: Uint8Array, f: Field, b: Uint8Array): void {
  block.set(b.subarray(0, f.len), f.off);
}

function putOctal(block: Uint8Array, f: Field, v: number): void {
  // len-1 zero-padded digits and a NUL, as GNU tar writes them.
  const s = v.toString(8).padStart(f.len - 1, "0");
  block.set(utf8(s), f.off);
  block[f.off + f.len - 1] = 0;
}

function finishBlock(block: Uint8Array): void {
  block.set(utf8("ustar\u0000"), F.magic.off);
  block.set(utf8("00"), F.version.off);
  putOctal(block, F.devmajor, 0);
  putOctal(block, F.devminor, 0);
  // Checksum: six octal digits, NUL, space (POSIX leaves the terminator open; this is GNU tar's form).
  const { unsigned } = checksums(block);
  block.set(utf8(unsigned.toString(8).padStart(6, "0")), F.chksum.off);
  block[F.chksum.off + 6] = 0;
  block[F.chksum.off + 7] = 0x20;
}

function paxRecord(key: string, value: string): Uint8Array {
  // "%d %s=%s\n": the length counts every byte of the record, its own digits included.
  const rest = utf8(` ${key}=${value}\n`).length;
  let len = rest + 1;
  while (String(len).length + rest !== len) len = String(len).length + rest;
  return utf8(`${len} ${key}=${value}\n`);
}

/**
 * One 512-byte ustar header, preceded by a PAX extended header ('x', name "PaxHeaders/<name>") only when
 * a field does not fit ustar (long path/linkname beyond ustar prefix+name split, uid/gid/size too large,
 * non-ASCII path). Numeric owners, empty uname/gname, devmajor/minor 0, checksum per POSIX.
 */
export function encodeHeader(entry: TarEntry): Uint8Array {
  const path = entry.path;
  if (normalizeArchivePath(path) !== path) {
    throw new ZerodepError("BAD_PATH", `tar entry "${path}": not a normalised archive path`);
  }
  const flag = TYPEFLAG[entry.type];
  if (flag === undefined)
    throw new ZerodepError("BAD_ENTRY", `tar entry "${path}": unknown type ${entry.type}`);
  const mode = checkInteger(entry, "mode") & 0o7777;
  const uid = checkInteger(entry, "uid");
  const gid = checkInteger(entry, "gid");
  const mtime = checkInteger(entry, "mtime");
  const size = checkInteger(entry, "size");
  if (entry.type !== "file" && size !== 0) {
    throw new ZerodepError("BAD_ENTRY", `tar entry "${path}": a ${entry.type} must have size 0, got ${size}`);
  }
  let linkname: string | undefined;
  if (entry.type === "symlink" || entry.type === "hardlink") {
    linkname = entry.linkname;
    if (typeof linkname !== "string" || linkname === "" || linkname.includes("\0")) {
      throw new ZerodepError(
        "BAD_ENTRY",
        `tar entry "${path}": a ${entry.type} needs a linkname without NUL`,
      );
    }
    if (entry.type === "hardlink" && normalizeArchivePath(linkname) !== linkname) {
      throw new ZerodepError(
        "BAD_PATH",
        `tar entry "${path}": hardlink target "${linkname}" is not normalised`,
      );
    }
  }

  const block = new Uint8Array(BLOCK);
  const records: [string, string][] = [];

  // GNU tar and Docker write directories with a trailing '/', so readers that ignore typeflag agree.
  const nameStr = entry.type === "dir" ? `${path}/` : path;
  const nameBytes = utf8(nameStr);
  const split = isAscii(nameBytes) ? splitUstarName(nameBytes) : undefined;
  if (split) {
    putBytes(block, F.name, split.name);
    putBytes(block, F.prefix, split.prefix);
  } else {
    records.push(["path", nameStr]);
    putBytes(block, F.name, placeholder(nameBytes, F.name.len));
  }
  if (linkname !== undefined) {
    const lb = utf8(linkname);
    if (lb.length <= F.linkname.len && isAscii(lb)) putBytes(block, F.linkname, lb);
    else {
      records.push(["linkpath", linkname]);
      putBytes(block, F.linkname, placeholder(lb, F.linkname.len));
    }
  }
  const numeric: [Field, "uid" | "gid" | "mtime" | "size", number][] = [
    [F.uid, "uid", uid],
    [F.gid, "gid", gid],
    [F.size, "size", size],
    [F.mtime, "mtime", mtime],
  ];
  for (const [f, key, v] of numeric) {
    if (v <= maxOctal(f.len)) putOctal(block, f, v);
    else {
      records.push([key, String(v)]);
      putOctal(block, f, 0);
    }
  }
  putOctal(block, F.mode, mode);
  block[F.typeflag.off] = flag;
  finishBlock(block);
  if (records.length === 0) return block;

  records.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const data = concat(records.map(([k, v]) => paxRecord(k, v)));
  const pax = new Uint8Array(BLOCK);
  const base = path.slice(path.lastIndexOf("/") + 1);
  putBytes(pax, F.name, placeholder(utf8(`PaxHeaders/${base}`), F.name.len));
  putOctal(pax, F.mode, 0o644);
  putOctal(pax, F.uid, 0);
  putOctal(pax, F.gid, 0);
  putOctal(pax, F.size, data.length);
  putOctal(pax, F.mtime, Math.min(mtime, maxOctal(F.mtime.len)));
  pax[F.typeflag.off] = 0x78; // 'x'
  finishBlock(pax);
  return concat([pax, data, new Uint8Array(padding(data.length)), block]);
}

function padding(n: number): number {
  return (BLOCK - (n % BLOCK)) % BLOCK;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Streams the archive: headers, bodies padded to 512, then exactly two zero blocks (no padding to a 10240
 * record). Throws if a body yields a different number of bytes than entry.size.
 */
export async function* writeTar(
  inputs: Iterable<TarInput> | AsyncIterable<TarInput>,
): AsyncGenerator<Uint8Array> {
  for await (const { entry, body } of inputs) {
    if (entry.type !== "file" && body !== undefined) {
      throw new ZerodepError("BAD_ENTRY", `tar entry "${entry.path}": a ${entry.type} cannot have a body`);
    }
    if (entry.type === "file" && body === undefined && entry.size !== 0) {
      throw new ZerodepError("SIZE_MISMATCH", `tar entry "${entry.path}": size ${entry.size} but no body`);
    }
    yield encodeHeader(entry);
    if (entry.type !== "file" || body === undefined) continue;
    let written = 0;
    const mismatch = (n: number) =>
      new ZerodepError(
        "SIZE_MISMATCH",
        `tar entry "${entry.path}": body yields ${n > entry.size ? "at least " : ""}${n} bytes, entry.size is ${entry.size}`,
      );
    if (body instanceof Uint8Array) {
      if (body.length !== entry.size) throw mismatch(body.length);
      if (body.length > 0) yield body;
      written = body.length;
    } else {
      for await (const chunk of body()) {
        if (written + chunk.length > entry.size) throw mismatch(written + chunk.length);
        written += chunk.length;
        if (chunk.length > 0) yield chunk;
      }
      if (written !== entry.size) throw mismatch(written);
    }
    const pad = padding(written);
    if (pad > 0) yield new Uint8Array(pad);
  }
  yield new Uint8Array(2 * BLOCK);
}
