/**
 * readTar against GNU tar 1.34: it must see the entries `tar -tvf` lists, in archives GNU tar wrote
 * (--format=pax, --format=gnu, long names, links, special modes) and in ours; and it must fail fast and
 * bounded, with a ParseError, on hostile streams.
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ParseError, ZerodepError } from "../../src/errors.js";
import { readTar } from "../../src/tar/reader.js";
import { prepareEntries, type TarInput } from "../../src/tar/writer.js";
import { inCI, needs, run } from "../helpers/env.js";
import {
  chunked,
  collect,
  isRoot,
  listWithGnuTar,
  MTIME,
  pad512,
  paxData,
  permString,
  rawHeader,
  readAll,
  TAR_ENV,
  tarBytes,
  tempDir,
} from "./support.js";

const gnuTar = needs({ tools: ["tar"] });

function isParseError(code: string, ...mentions: string[]) {
  return (e: unknown) => {
    assert.ok(e instanceof ParseError, `expected ParseError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `"${e.message}" should mention ${m}`);
    return true;
  };
}

function ourInputs(): TarInput[] {
  const f = (path: string, content: string, extra = {}): TarInput => ({
    entry: {
      path,
      type: "file",
      mode: 0o644,
      uid: 0,
      gid: 0,
      mtime: MTIME,
      size: Buffer.byteLength(content),
      ...extra,
    },
    body: Buffer.from(content),
  });
  return [
    f("etc/passwd", "root:x:0:0::/root:/sbin/nologin\n"),
    f("usr/bin/su", "x".repeat(700), { mode: 0o4755 }),
    f(`${"d".repeat(120)}/${"e".repeat(120)}/${"f".repeat(120)}`, "long"),
    f("café/naïve", "utf8", { uid: 65532, gid: 65532 }),
    f("huge-owner", "", { uid: 0o7777777 + 5, gid: 3_000_000 }),
    { entry: { path: "tmp", type: "dir", mode: 0o1777, uid: 0, gid: 0, mtime: MTIME, size: 0 } },
    {
      entry: {
        path: "lnk",
        type: "symlink",
        mode: 0o777,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        size: 0,
        linkname: "/".repeat(3) + "x".repeat(200),
      },
    },
    {
      entry: {
        path: "zz/hard",
        type: "hardlink",
        mode: 0o644,
        uid: 0,
        gid: 0,
        mtime: MTIME,
        size: 0,
        linkname: "etc/passwd",
      },
    },
  ];
}

describe("readTar round trips", () => {
  it("reads back our own archives: same entries, contents, no warnings, endOffset = length", async () => {
    const prepared = prepareEntries(ourInputs(), { mtime: MTIME });
    const tar = await tarBytes(prepared);
    for (const size of [1, 512, 4096, tar.length]) {
      const r = await readAll(chunked(tar, size));
      assert.equal(r.count, prepared.length);
      assert.equal(r.endOffset, tar.length);
      assert.deepEqual(
        r.entries.map(({ path, type, mode, uid, gid, mtime, size, linkname, warnings, content }) => ({
          path,
          type,
          mode,
          uid,
          gid,
          mtime,
          size,
          ...(linkname === undefined ? {} : { linkname }),
          warnings,
          content,
        })),
        prepared.map((i) => ({
          ...i.entry,
          warnings: [],
          content: Buffer.from((i.body as Uint8Array | undefined) ?? []),
        })),
      );
    }
  });

  it("entry offsets point at each entry's first header", async () => {
    const prepared = prepareEntries(ourInputs(), { mtime: MTIME });
    const tar = await tarBytes(prepared);
    const r = await readAll(chunked(tar, 100));
    for (const e of r.entries) {
      assert.equal(e.offset % 512, 0);
      const flag = String.fromCharCode(tar[e.offset + 156]!);
      assert.ok("x0125".includes(flag), `${e.path}: typeflag ${flag}`);
    }
  });

  for (const format of ["pax", "gnu", "ustar"] as const) {
    it(`reads GNU tar --format=${format} archives as tar -tvf lists them`, { skip: gnuTar }, async (t) => {
      const dir = tempDir(t);
      const src = join(dir, "src");
      const long =
        format === "ustar" ? `${"l".repeat(90)}/${"m".repeat(90)}` : `${"l".repeat(150)}/${"m".repeat(150)}`;
      mkdirSync(join(src, long), { recursive: true });
      mkdirSync(join(src, "sticky"));
      chmodSync(join(src, "sticky"), 0o1777);
      writeFileSync(join(src, long, "file"), "deep content\n");
      writeFileSync(join(src, "setuid"), Buffer.alloc(1500, 7));
      chmodSync(join(src, "setuid"), 0o4755);
      writeFileSync(join(src, "empty"), "");
      if (format !== "ustar") writeFileSync(join(src, "ünïcödé"), "u");
      symlinkSync(format === "ustar" ? "target" : "t/".repeat(90), join(src, "sym"));
      linkSync(join(src, "setuid"), join(src, "hard"));
      // Distinct owners only as root; under CI=true chown is attempted anyway (it fails without root).
      if (isRoot() || inCI) chownSync(join(src, "empty"), 65532, 65533);
      mkfifoSafe(join(src, "fifo"));
      const file = join(dir, `${format}.tar`);
      run("tar", [`--format=${format}`, "--sort=name", "-C", src, "-cf", file, "."], { env: TAR_ENV });
      const listed = listWithGnuTar(file).entries.filter((e) => !e.perms.startsWith("p"));
      const r = await readAll(chunked(readFileSync(file), 3000));
      assert.deepEqual(
        r.entries.map((e) => ({
          perms: permString(e),
          uid: e.uid,
          gid: e.gid,
          size: e.size,
          mtime: e.mtime,
          path: e.path === "." ? "." : `./${e.path}`,
          ...(e.linkname === undefined
            ? {}
            : { link: e.type === "hardlink" ? `./${e.linkname}` : e.linkname }),
        })),
        listed.map((e) => ({ ...e, path: e.path === "" ? "." : e.path })),
      );
      for (const e of r.entries) {
        assert.deepEqual(e.warnings, [], e.path);
        if (e.type === "file" && e.size > 0)
          assert.ok(e.content.equals(readFileSync(join(src, e.path))), e.path);
      }
    });
  }
});

function mkfifoSafe(p: string): void {
  // node:fs has no mkfifo; the coreutils tool is part of every Debian base.
  run("mkfifo", [p]);
}

describe("readTar on hostile input", () => {
  async function twoFiles(): Promise<Buffer> {
    return tarBytes(
      prepareEntries(
        [
          {
            entry: { path: "a", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 1000 },
            body: new Uint8Array(1000),
          },
          {
            entry: { path: "b", type: "file", mode: 0o644, uid: 0, gid: 0, mtime: 0, size: 3 },
            body: new Uint8Array(3),
          },
        ],
        { mtime: 0 },
      ),
    );
  }

  it("TRUNCATED inside a header names the previous entry and the offset", async () => {
    const tar = await twoFiles();
    // a: header 0, body 512..1536 (1000 + pad); b's header at 1536.
    await assert.rejects(
      readAll(chunked(tar.subarray(0, 1536 + 100))),
      isParseError("TRUNCATED", '"a"', "1536"),
    );
  });

  it("TRUNCATED inside a body names the entry, whether the consumer reads the body or not", async () => {
    const tar = (await twoFiles()).subarray(0, 512 + 400);
    await assert.rejects(readAll(chunked(tar)), isParseError("TRUNCATED", '"a"', "0x390"));
    await assert.rejects(
      readTar(chunked(tar), () => {}),
      isParseError("TRUNCATED", '"a"'),
    );
    // Truncated in the padding after the last body.
    const tar2 = (await twoFiles()).subarray(0, 1536 + 512 + 3);
    await assert.rejects(
      readTar(chunked(tar2), () => {}),
      isParseError("TRUNCATED", '"b"'),
    );
  });

  it("BAD_CHECKSUM on a corrupted header", async () => {
    const tar = await twoFiles();
    tar[1536 + 10] = 0x41;
    await assert.rejects(
      readTar(chunked(tar), () => {}),
      isParseError("BAD_CHECKSUM", "1536"),
    );
    await assert.rejects(
      readTar(
        chunked(Buffer.concat([rawHeader({ name: "x", badChecksum: true }), Buffer.alloc(1024)])),
        () => {},
      ),
      isParseError("BAD_CHECKSUM", '"x"'),
    );
  });

  it("huge PAX size: the header's own size field, a record beyond 2^53, and a plausible but absent size", async () => {
    const bigX = rawHeader({ name: "PaxHeaders/f", typeflag: "x", size: 0o77777777777 });
    await assert.rejects(
      readTar(chunked(Buffer.concat([bigX, Buffer.alloc(4096)])), () => {}),
      isParseError("HEADER_TOO_LARGE"),
    );

    for (const [value, code] of [
      ["99999999999999999999999999", "BAD_SIZE"],
      ["1000000000000000", "TRUNCATED"],
    ] as const) {
      const data = paxData([["size", value]]);
      const tar = Buffer.concat([
        rawHeader({ name: "PaxHeaders/f", typeflag: "x", size: data.length }),
        pad512(data),
        rawHeader({ name: "f", size: 1 }),
        pad512(Buffer.from("z")),
        Buffer.alloc(1024),
      ]);
      await assert.rejects(
        readTar(chunked(tar), () => {}),
        isParseError(code, '"f"'),
      );
    }
  });

  it("malformed PAX records are a warning, not a crash", async () => {
    const data = Buffer.concat([paxData([["uid", "12x"]]), Buffer.from("99 path=short\n")]);
    const tar = Buffer.concat([
      rawHeader({ name: "PaxHeaders/f", typeflag: "x", size: data.length }),
      pad512(data),
      rawHeader({ name: "f", size: 0 }),
      Buffer.alloc(1024),
    ]);
    const r = await readAll(chunked(tar));
    assert.equal(r.entries.length, 1);
    assert.equal(r.entries[0]!.uid, 0);
    assert.equal(r.entries[0]!.path, "f");
    assert.equal(r.entries[0]!.warnings.length, 2);
    assert.ok(
      r.entries[0]!.warnings.every(
        (w) => w.code === "TAR_PAX_MALFORMED" && w.message.startsWith("PAX record malformed"),
      ),
    );
  });

  it("'../../etc/passwd' and absolute names from GNU tar -P: kept with a warning, clamped inside", {
    skip: gnuTar,
  }, async (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, "etc"));
    mkdirSync(join(dir, "a", "b"), { recursive: true });
    writeFileSync(join(dir, "etc", "passwd"), "evil\n");
    writeFileSync(join(dir, "abs"), "abs\n");
    const file = join(dir, "evil.tar");
    // -P keeps both names as given; run inside a/b so that the relative one resolves.
    run("sh", [
      "-c",
      `cd "${join(dir, "a", "b")}" && tar -P -cf "${file}" ../../etc/passwd "${join(dir, "abs")}"`,
    ]);
    const raw = listWithGnuTar(file, ["-P"]).entries.map((e) => e.path);
    assert.deepEqual(raw, ["../../etc/passwd", join(dir, "abs")]);
    const r = await readAll(chunked(readFileSync(file)));
    assert.deepEqual(
      r.entries.map((e) => [e.rawPath, e.path, e.warnings.map((w) => w.message)]),
      [
        ["../../etc/passwd", "etc/passwd", ["'..' component"]],
        [join(dir, "abs"), join(dir, "abs").slice(1), ["absolute path"]],
      ],
    );
  });

  it("clamps '..' anywhere in names and hardlink targets; never yields a path that escapes", async () => {
    const tar = Buffer.concat([
      rawHeader({ name: "a/../../../x" }),
      rawHeader({ name: "..", typeflag: "5" }),
      rawHeader({ name: "h", typeflag: "1", linkname: "/../../etc/shadow" }),
      Buffer.alloc(1024),
    ]);
    const r = await readAll(chunked(tar));
    assert.deepEqual(
      r.entries.map((e) => [e.path, e.linkname, e.warnings.map((w) => w.message)]),
      [
        ["x", undefined, ["'..' component"]],
        [".", undefined, ["'..' component"]],
        ["h", "etc/shadow", ["hardlink target: absolute path", "hardlink target: '..' component"]],
      ],
    );
  });

  it("a 10 MB GNU 'L' long name is HEADER_TOO_LARGE without reading it", async () => {
    const size = 10 * 1024 * 1024;
    let pulled = 0;
    async function* stream() {
      const h = rawHeader({ name: "././@LongLink", typeflag: "L", size });
      pulled += h.length;
      yield h;
      for (let i = 0; i < size / 65536; i++) {
        pulled += 65536;
        yield new Uint8Array(65536).fill(0x61);
      }
    }
    await assert.rejects(
      readTar(stream(), () => {}),
      isParseError("HEADER_TOO_LARGE"),
    );
    assert.ok(pulled <= 512, `pulled ${pulled} bytes`);
  });

  it("random garbage is a ParseError, never a hang", async () => {
    let x = 12345;
    for (let round = 0; round < 50; round++) {
      const g = new Uint8Array(64 * 1024);
      for (let i = 0; i < g.length; i++) {
        x = (x * 1103515245 + 12345) >>> 0;
        g[i] = x >>> 24;
      }
      await assert.rejects(
        readTar(chunked(g, 1000), () => {}),
        (e: unknown) => e instanceof ParseError,
      );
    }
  });

  it("bit flips of a valid archive end in a result or a ZerodepError, never anything else", async () => {
    const tar = await tarBytes(prepareEntries(ourInputs(), { mtime: MTIME }));
    let x = 99;
    for (let round = 0; round < 300; round++) {
      const m = Buffer.from(tar);
      for (let k = 0; k < 4; k++) {
        x = (x * 1103515245 + 12345) >>> 0;
        const pos = x % m.length;
        x = (x * 1103515245 + 12345) >>> 0;
        m[pos] = x >>> 24;
      }
      try {
        await readTar(chunked(m, 777), async (_e, body) => {
          await collect(body);
        });
      } catch (e) {
        assert.ok(e instanceof ZerodepError, String(e));
      }
    }
  });

  it("empty stream, missing end blocks and a lone zero block end cleanly like GNU tar", async () => {
    assert.deepEqual(await readTar(chunked(new Uint8Array(0)), () => {}), { entries: 0, endOffset: 0 });
    const one = Buffer.concat([rawHeader({ name: "f", size: 1 }), pad512(Buffer.from("1"))]);
    assert.deepEqual(await readTar(chunked(one), () => {}), { entries: 1, endOffset: 1024 });
    const lone = Buffer.concat([one, Buffer.alloc(512), rawHeader({ name: "after" }), Buffer.alloc(1024)]);
    assert.deepEqual(await readTar(chunked(lone), () => {}), { entries: 1, endOffset: 1536 });
  });

  it("frames data like GNU tar: no data after hardlinks and dirs, symlink data skipped, devices skipped", async () => {
    const hidden = rawHeader({ name: "hidden" });
    const tar = Buffer.concat([
      rawHeader({ name: "d", typeflag: "5", size: 512 }),
      hidden,
      rawHeader({ name: "h", typeflag: "1", size: 512, linkname: "d" }),
      hidden,
      rawHeader({ name: "s", typeflag: "2", size: 512, linkname: "t" }),
      hidden,
      rawHeader({ name: "c", typeflag: "3", size: 512 }),
      hidden,
      rawHeader({ name: "after" }),
      Buffer.alloc(1024),
    ]);
    const r = await readAll(chunked(tar));
    assert.deepEqual(
      r.entries.map((e) => [e.path, e.type, e.size]),
      [
        ["d", "dir", 0],
        ["hidden", "file", 0],
        ["h", "hardlink", 0],
        ["hidden", "file", 0],
        ["s", "symlink", 0],
        ["after", "file", 0],
      ],
    );
    assert.deepEqual(
      r.entries[4]!.warnings.map((w) => [w.code, w.message]),
      [["TAR_SYMLINK_DATA", "symlink carries 512 bytes of data (skipped)"]],
    );
  });

  it("the body can be partly read or ignored; it is drained either way", async () => {
    const tar = await twoFiles();
    const seen: string[] = [];
    await readTar(chunked(tar, 100), async (e, body) => {
      seen.push(e.path);
      for await (const c of body) {
        assert.ok(c.length > 0);
        break;
      }
    });
    assert.deepEqual(seen, ["a", "b"]);
    let kept: AsyncIterable<Uint8Array> | undefined;
    await readTar(chunked(tar), (e, body) => {
      if (e.path === "a") kept = body;
    });
    await assert.rejects(
      collect(kept!),
      (e: unknown) => e instanceof ZerodepError && e.code === "BODY_EXPIRED",
    );
  });
});
