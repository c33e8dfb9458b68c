/**
 * The writer against GNU tar 1.34 as the anchor: it lists and extracts what we write, and for plain
 * ustar entries it writes the very same header bytes (tar --format=ustar --numeric-owner). No golden
 * bytes of our own are compared anywhere.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { ZerodepError } from "../../src/errors.js";
import type { TarEntry } from "../../src/tar/entry.js";
import { encodeHeader, prepareEntries, type TarInput, writeTar } from "../../src/tar/writer.js";
import { needs, needsRoot, run } from "../helpers/env.js";
import { collect, listWithGnuTar, MTIME, permString, TAR_ENV, tarBytes, tempDir } from "./support.js";

const gnuTar = needs({ tools: ["tar"] });

function bytes(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

const LONG_SPLIT = `${"a".repeat(60)}/${"b".repeat(50)}/${"c".repeat(60)}`; // 172 bytes: fits prefix+name
const LONG_PAX = `${"p".repeat(100)}/${"q".repeat(100)}/${"r".repeat(100)}`; // 302 bytes: needs PAX
const LONG_TARGET = "t/".repeat(80) + "end"; // 163 bytes
const BIG_UID = 0o7777777 + 1000; // does not fit the 8-byte octal field
const STREAM_SIZE = 100_003;

function file(path: string, content: Uint8Array, extra: Partial<TarEntry> = {}): TarInput {
  return {
    entry: { path, type: "file", mode: 0o644, uid: 0, gid: 0, mtime: MTIME, size: content.length, ...extra },
    body: content,
  };
}

/** Every kind of entry the brief lists, in a deliberately unsorted order, without their parents. */
function richInputs(): TarInput[] {
  const streamed = bytes(STREAM_SIZE, 7);
  return [
    file("usr/bin/app", bytes(1000, 1), { mode: 0o755 }),
    { entry: { path: "tmp", type: "dir", mode: 0o1777, uid: 0, gid: 0, mtime: MTIME, size: 0 } },
    file("usr/bin/su", bytes(10, 2), { mode: 0o4755 }),
    file("usr/bin/sg", bytes(11, 3), { mode: 0o2755, gid: 50 }),
    {
      entry: {
        path: "bin",
        type: "symlink",
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        size: 0,
        linkname: "usr/bin",
      },
    },
    {
      entry: {
        path: "usr/bin/app-link",
        type: "hardlink",
        mode: 0o755,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        size: 0,
        linkname: "usr/bin/app",
      },
    },
    file(LONG_SPLIT, bytes(5, 4)),
    file(LONG_PAX, bytes(600, 5)),
    {
      entry: {
        path: "longlink",
        type: "symlink",
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        size: 0,
        linkname: LONG_TARGET,
      },
    },
    file("home/nonroot/.profile", bytes(3, 6), { uid: 65532, gid: 65532, mode: 0o600 }),
    {
      entry: {
        path: "home/nonroot",
        type: "dir",
        mode: 0o755,
        uid: 65532,
        gid: 65532,
        mtime: MTIME,
        size: 0,
      },
    },
    file("big-uid", bytes(4, 8), { uid: BIG_UID, gid: BIG_UID + 1 }),
    file("données/café.txt", bytes(20, 9)),
    file("日本語/ファイル", bytes(21, 10)),
    file("empty", new Uint8Array(0)),
    {
      entry: {
        path: "streamed.bin",
        type: "file",
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        size: STREAM_SIZE,
      },
      body: async function* () {
        for (let i = 0; i < streamed.length; i += 3001) yield streamed.subarray(i, i + 3001);
      },
    },
  ];
}

function contentOf(input: TarInput): Buffer | undefined {
  return input.body instanceof Uint8Array ? Buffer.from(input.body) : undefined;
}

async function writeRich(t: { after: (fn: () => void) => void }) {
  const prepared = prepareEntries(richInputs(), { mtime: MTIME });
  const tar = await tarBytes(prepared);
  const dir = tempDir(t);
  const file = join(dir, "layer.tar");
  writeFileSync(file, tar);
  return { prepared, tar, dir, file };
}

describe("writeTar read by GNU tar", () => {
  it("lists every entry with the same type, mode, numeric owner, size, mtime and link target", {
    skip: gnuTar,
  }, async (t) => {
    const { prepared, file } = await writeRich(t);
    const { entries, stderr } = listWithGnuTar(file);
    assert.equal(stderr, "");
    assert.deepEqual(
      entries,
      prepared.map(({ entry: e }) => ({
        perms: permString(e),
        uid: e.uid,
        gid: e.gid,
        size: e.size,
        mtime: e.mtime,
        path: e.path,
        ...(e.linkname === undefined ? {} : { link: e.linkname }),
      })),
    );
  });

  it("extracts (as root, -p --same-owner) with identical modes, owners, contents and link targets", {
    skip: gnuTar || needsRoot("root (tar --same-owner)"),
  }, async (t) => {
    const { prepared, dir, file } = await writeRich(t);
    const out = join(dir, "x");
    mkdirSync(out);
    const r = run("tar", ["--numeric-owner", "--same-owner", "-xpf", file, "-C", out], { env: TAR_ENV });
    assert.equal(r.stderr, "");
    const streamed = bytes(STREAM_SIZE, 7);
    for (const input of prepared) {
      const e = input.entry;
      const p = join(out, e.path);
      const st = lstatSync(p);
      assert.equal(st.uid, e.uid, `${e.path} uid`);
      assert.equal(st.gid, e.gid, `${e.path} gid`);
      if (e.type !== "symlink") assert.equal(st.mode & 0o7777, e.mode, `${e.path} mode`);
      assert.equal(Math.floor(st.mtimeMs / 1000), e.mtime, `${e.path} mtime`);
      if (e.type === "symlink") {
        assert.ok(st.isSymbolicLink());
        assert.equal(readlinkSync(p), e.linkname);
      } else if (e.type === "hardlink") {
        assert.equal(st.ino, lstatSync(join(out, e.linkname!)).ino, `${e.path} is a hard link`);
      } else if (e.type === "dir") {
        assert.ok(st.isDirectory());
      } else {
        const want = contentOf(input) ?? Buffer.from(streamed);
        assert.ok(readFileSync(p).equals(want), `${e.path} content`);
      }
    }
  });

  it("ends with exactly two zero blocks and no record padding", { skip: gnuTar }, async (t) => {
    const { tar, file } = await writeRich(t);
    assert.equal(tar.length % 512, 0);
    assert.ok(tar.subarray(-1024).equals(Buffer.alloc(1024)));
    // GNU tar -R prints the block number of the end-of-archive marker.
    const r = run("tar", ["-tRf", file], { env: TAR_ENV });
    const m = /block (\d+): \*\* (?:Block of NULs|End of File) \*\*/.exec(r.stdout);
    assert.ok(m, r.stdout.slice(-300));
    assert.equal(tar.length - Number(m[1]) * 512, 1024);
  });

  it("gzip from node:zlib is accepted by tar -tzf", { skip: gnuTar }, async (t) => {
    const { prepared, tar, dir } = await writeRich(t);
    const gz = join(dir, "layer.tar.gz");
    writeFileSync(gz, gzipSync(tar));
    const r = run("tar", ["--quoting-style=literal", "-tzf", gz], { env: TAR_ENV });
    assert.equal(r.stderr, "");
    assert.deepEqual(
      r.stdout.trimEnd().split("\n"),
      prepared.map((i) => (i.entry.type === "dir" ? `${i.entry.path}/` : i.entry.path)),
    );
  });
});

describe("encodeHeader", () => {
  it("writes the same ustar header bytes as GNU tar --format=ustar --numeric-owner", {
    skip: gnuTar || needsRoot("root (chown)"),
  }, (t) => {
    const dir = tempDir(t);
    const src = join(dir, "src");
    mkdirSync(join(src, "a".repeat(60), "b".repeat(50)), { recursive: true });
    mkdirSync(join(src, "d"));
    chmodSync(join(src, "d"), 0o1777);
    writeFileSync(join(src, LONG_SPLIT), "x");
    chmodSync(join(src, LONG_SPLIT), 0o4755);
    writeFileSync(join(src, "owned"), "hello");
    chownSync(join(src, "owned"), 65532, 65532);
    chmodSync(join(src, "owned"), 0o640);
    symlinkSync("../target", join(src, "d", "sl"));
    linkSync(join(src, "owned"), join(src, "hl")); // ustar links hold 100 bytes: GNU refuses longer ones
    for (const p of ["d", LONG_SPLIT, "owned", "hl"]) utimesSync(join(src, p), MTIME, MTIME);
    lutimesSync(join(src, "d", "sl"), MTIME, MTIME);
    const out = join(dir, "gnu.tar");
    run(
      "tar",
      [
        "--format=ustar",
        "--numeric-owner",
        "--no-recursion",
        "-C",
        src,
        "-cf",
        out,
        "d",
        "d/sl",
        LONG_SPLIT,
        "owned",
        "hl",
      ],
      { env: TAR_ENV },
    );
    const gnu = readFileSync(out);
    const base = { uid: 0, gid: 0, mtime: MTIME, size: 0 };
    const ours: [number, TarEntry][] = [
      [0, { ...base, path: "d", type: "dir", mode: 0o1777 }],
      [512, { ...base, path: "d/sl", type: "symlink", mode: 0o777, linkname: "../target" }],
      [1024, { ...base, path: LONG_SPLIT, type: "file", mode: 0o4755, size: 1 }],
      [2048, { ...base, path: "owned", type: "file", mode: 0o640, uid: 65532, gid: 65532, size: 5 }],
      [
        3072,
        { ...base, path: "hl", type: "hardlink", mode: 0o640, uid: 65532, gid: 65532, linkname: "owned" },
      ],
    ];
    for (const [off, e] of ours) {
      assert.deepEqual(Buffer.from(encodeHeader(e)), gnu.subarray(off, off + 512), e.path);
    }
  });

  it("adds a PAX header only for what ustar cannot hold", () => {
    const base: TarEntry = {
      path: "f",
      type: "file",
      mode: 0o644,
      uid: 65532,
      gid: 65532,
      mtime: MTIME,
      size: 1,
    };
    const cases: [Partial<TarEntry>, string | undefined][] = [
      [{}, undefined],
      [{ path: LONG_SPLIT }, undefined],
      [{ uid: 0o7777777 }, undefined],
      [{ path: LONG_PAX }, "path"],
      [{ path: "café" }, "path"],
      [{ uid: BIG_UID }, "uid"],
      [{ gid: BIG_UID }, "gid"],
      [{ size: 0o77777777777 + 1 }, "size"],
      [{ type: "symlink", size: 0, linkname: LONG_TARGET }, "linkpath"],
      [{ type: "symlink", size: 0, linkname: "ø" }, "linkpath"],
    ];
    for (const [patch, key] of cases) {
      const h = Buffer.from(encodeHeader({ ...base, ...patch }));
      if (key === undefined) {
        assert.equal(h.length, 512, JSON.stringify(patch));
      } else {
        assert.equal(String.fromCharCode(h[156]!), "x", JSON.stringify(patch));
        assert.ok(h.subarray(0, 100).toString("latin1").startsWith("PaxHeaders/"));
        const size = Number.parseInt(h.subarray(124, 135).toString("latin1"), 8);
        const records = h.subarray(512, 512 + size).toString("utf8");
        assert.deepEqual(
          records
            .trimEnd()
            .split("\n")
            .map((r) => r.split(" ")[1]!.split("=")[0]),
          [key],
          JSON.stringify(patch),
        );
        assert.equal(h.length, 512 + Math.ceil(size / 512) * 512 + 512);
      }
    }
  });

  it("rejects unnormalised paths, negative or fractional numbers, and sizes on non-files", () => {
    const base: TarEntry = { path: "f", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: MTIME, size: 0 };
    const bad: Partial<TarEntry>[] = [
      { path: "/f" },
      { path: "a/../f" },
      { path: "d/" },
      { uid: -1 },
      { mtime: 1.5 },
      { type: "dir", size: 3 },
      { type: "symlink" },
      { type: "hardlink", linkname: "/abs" },
    ];
    for (const patch of bad) {
      assert.throws(() => encodeHeader({ ...base, ...patch }), ZerodepError, JSON.stringify(patch));
    }
  });
});

describe("prepareEntries", () => {
  it("adds parents (0755, root, given mtime), sorts by path bytes, keeps explicit directories", () => {
    const out = prepareEntries(
      [
        file("a/b/c", bytes(1, 1)),
        file("a-b", bytes(1, 1)),
        { entry: { path: "a/b", type: "dir", mode: 0o700, uid: 5, gid: 6, mtime: 1, size: 0 } },
        file("/z/./y/", bytes(1, 1)),
      ],
      { mtime: 42 },
    );
    assert.deepEqual(
      out.map((i) => i.entry.path),
      ["a", "a-b", "a/b", "a/b/c", "z", "z/y"], // '-' (0x2d) sorts before '/' (0x2f)
    );
    assert.deepEqual(out[0]!.entry, {
      path: "a",
      type: "dir",
      mode: 0o755,
      uid: 0,
      gid: 0,
      mtime: 42,
      size: 0,
    });
    assert.equal(out[2]!.entry.mode, 0o700);
    // UTF-8 byte order, not UTF-16 code unit order: U+FF5E (EF BD 9E) sorts before U+1F600 (F0 9F 98 80).
    const emoji = prepareEntries([file("\u{1F600}", bytes(1, 1)), file("\uFF5E", bytes(1, 1))], { mtime: 0 });
    assert.deepEqual(
      emoji.map((i) => i.entry.path),
      ["\uFF5E", "\u{1F600}"],
    );
  });

  it("rejects duplicate paths, also after normalisation", () => {
    for (const pair of [
      ["a", "a"],
      ["a", "./a"],
      ["/x/y", "x//y/"],
    ]) {
      assert.throws(
        () =>
          prepareEntries(
            pair.map((p) => file(p, bytes(1, 1))),
            { mtime: 0 },
          ),
        (e: unknown) => e instanceof ZerodepError && e.code === "DUPLICATE_ENTRY",
      );
    }
  });

  it("rejects entries below a file or symlink, and '..' paths", () => {
    assert.throws(
      () => prepareEntries([file("a", bytes(1, 1)), file("a/b", bytes(1, 1))], { mtime: 0 }),
      (e: unknown) => e instanceof ZerodepError && e.code === "PARENT_NOT_DIR",
    );
    assert.throws(
      () => prepareEntries([file("../a", bytes(1, 1))], { mtime: 0 }),
      (e: unknown) => e instanceof ZerodepError && e.code === "BAD_PATH",
    );
  });

  it("puts the content on the first name of a hard-link group so extraction never links forward", {
    skip: gnuTar,
  }, async (t) => {
    const data = bytes(300, 3);
    const out = prepareEntries(
      [
        file("z/target", data, { mode: 0o750 }),
        {
          entry: {
            path: "a/link",
            type: "hardlink",
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: MTIME,
            size: 0,
            linkname: "z/target",
          },
        },
        {
          entry: {
            path: "m/link2",
            type: "hardlink",
            mode: 0o644,
            uid: 0,
            gid: 0,
            mtime: MTIME,
            size: 0,
            linkname: "a/link",
          },
        },
      ],
      { mtime: MTIME },
    );
    const byPath = new Map(out.map((i) => [i.entry.path, i]));
    assert.equal(byPath.get("a/link")!.entry.type, "file");
    assert.equal(byPath.get("a/link")!.entry.mode, 0o750);
    assert.equal(byPath.get("a/link")!.body, data);
    assert.equal(byPath.get("m/link2")!.entry.linkname, "a/link");
    assert.equal(byPath.get("z/target")!.entry.linkname, "a/link");
    const dir = tempDir(t);
    writeFileSync(join(dir, "l.tar"), await tarBytes(out));
    mkdirSync(join(dir, "x"));
    run("tar", ["-xf", join(dir, "l.tar"), "-C", join(dir, "x")]);
    const ino = lstatSync(join(dir, "x", "z/target")).ino;
    assert.equal(lstatSync(join(dir, "x", "a/link")).ino, ino);
    assert.equal(lstatSync(join(dir, "x", "m/link2")).ino, ino);
    assert.ok(readFileSync(join(dir, "x", "m/link2")).equals(Buffer.from(data)));
  });
});

describe("determinism", () => {
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

  it("same inputs give identical bytes; any input order gives identical bytes after prepareEntries", async () => {
    const first = await tarBytes(prepareEntries(richInputs(), { mtime: MTIME }));
    const again = await tarBytes(prepareEntries(richInputs(), { mtime: MTIME }));
    assert.equal(sha(again), sha(first));
    let seed = 1;
    for (let round = 0; round < 5; round++) {
      const shuffled = richInputs();
      for (let i = shuffled.length - 1; i > 0; i--) {
        seed = (seed * 16807) % 2147483647;
        const j = seed % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      assert.equal(sha(await tarBytes(prepareEntries(shuffled, { mtime: MTIME }))), sha(first));
    }
  });
});

describe("writeTar body checks", () => {
  const entry: TarEntry = { path: "f", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 10 };

  it("throws SIZE_MISMATCH when a body is shorter or longer than entry.size", async () => {
    const bodies = [
      new Uint8Array(9),
      new Uint8Array(11),
      async function* () {
        yield new Uint8Array(4);
        yield new Uint8Array(5);
      },
      async function* () {
        yield new Uint8Array(6);
        yield new Uint8Array(6);
      },
      undefined,
    ];
    for (const body of bodies) {
      await assert.rejects(
        collect(writeTar([{ entry, ...(body === undefined ? {} : { body }) }])),
        (e: unknown) => e instanceof ZerodepError && e.code === "SIZE_MISMATCH",
      );
    }
  });

  it("accepts an async iterable of inputs and pads each body to 512", async () => {
    async function* inputs() {
      yield { entry, body: new Uint8Array(10).fill(1) };
      yield { entry: { ...entry, path: "g", size: 512 }, body: new Uint8Array(512).fill(2) };
    }
    const tar = await collect(writeTar(inputs()));
    assert.equal(tar.length, 512 + 512 + 512 + 512 + 1024);
    assert.equal(tar[512 + 9], 1);
    assert.equal(tar[512 + 10], 0);
    assert.equal(tar[1536], 2);
  });
});
