/**
 * The hostile-image corpus (issue #12): OCI layouts written byte by byte, each one attack. Used by
 * corpus.test.ts, and runnable on its own to keep a copy: `node dist/test/hostile/corpus.js OUT_DIR`.
 *
 * Tars are written here by hand (not by src/tar/writer, which refuses what these must contain: `..`
 * paths, absolute names, links out of the root, devices, lying sizes).
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export interface HostileCase {
  name: string;
  /** What the attack is, for messages. */
  what: string;
  dir: string;
  /** Paths outside the layout that the attack names: none may exist after any command. */
  forbidden: string[];
}

type Entry = {
  path: string;
  type?: "0" | "1" | "2" | "3" | "4" | "5" | "6";
  body?: Buffer;
  link?: string;
  mode?: number;
  /** Size field written in the header when it should lie about the body. */
  sizeField?: number;
};

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, "0")}\0`;
}

function header(name: string, e: Entry, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0, "utf8");
  h.write(octal(e.mode ?? 0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  h.write(octal(size, 12), 124);
  h.write(octal(0, 12), 136);
  h.write("        ", 148);
  h.write(e.type ?? "0", 156);
  if (e.link) h.write(e.link.slice(0, 100), 157);
  h.write("ustar\u000000", 257, "binary");
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7), 148);
  return h;
}

function pad(b: Buffer): Buffer {
  const r = b.length % 512;
  return r === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - r)]);
}

/** A tar with a PAX header for names over 100 bytes. */
export function tar(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = e.body ?? Buffer.alloc(0);
    if (e.path.length > 100 || (e.link?.length ?? 0) > 100) {
      const recs = [`path=${e.path}`, ...(e.link ? [`linkpath=${e.link}`] : [])].map((kv) => {
        let len = kv.length + 3;
        for (;;) {
          const line = `${len} ${kv}\n`;
          if (Buffer.byteLength(line) === len) return line;
          len = Buffer.byteLength(line);
        }
      });
      const pax = Buffer.from(recs.join(""));
      parts.push(header("PaxHeader", { path: "", type: "x" as Entry["type"] }, pax.length), pad(pax));
    }
    parts.push(header(e.path, e, e.sizeField ?? body.length), pad(body));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Writes a layout holding one image (tag v1) with these layers (gzip unless raw), and returns its dir. */
export function layout(
  dir: string,
  layers: { tar: Buffer; gzip?: boolean; sizeLie?: number; digestLie?: boolean }[],
  opts: { config?: Record<string, unknown>; entrypoint?: string[] } = {},
): string {
  mkdirSync(join(dir, "blobs", "sha256"), { recursive: true });
  const put = (b: Buffer) => {
    const hex = sha(b);
    writeFileSync(join(dir, "blobs", "sha256", hex), b);
    return { digest: `sha256:${hex}`, size: b.length };
  };
  const descs = layers.map((l) => {
    const bytes = l.gzip === false ? l.tar : gzipSync(l.tar);
    const d = put(bytes);
    return {
      mediaType:
        l.gzip === false
          ? "application/vnd.oci.image.layer.v1.tar"
          : "application/vnd.oci.image.layer.v1.tar+gzip",
      digest: l.digestLie ? `sha256:${"ab".repeat(32)}` : d.digest,
      size: l.sizeLie ?? d.size,
      diffId: `sha256:${sha(l.tar)}`,
    };
  });
  const config = {
    architecture: "amd64",
    os: "linux",
    config: { Entrypoint: opts.entrypoint ?? ["/app/x"], User: "0" },
    rootfs: { type: "layers", diff_ids: descs.map((d) => d.diffId) },
    ...opts.config,
  };
  const cfg = put(Buffer.from(JSON.stringify(config)));
  const manifest = put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...cfg },
        layers: descs.map(({ diffId: _d, ...d }) => d),
      }),
    ),
  );
  writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          annotations: { "org.opencontainers.image.ref.name": "v1" },
        },
      ],
    }),
  );
  return dir;
}

const ELF_HEAD = Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]);

/** Every case, written under `root`. `outside` is a directory the attacks aim at (must stay empty). */
export function writeCorpus(root: string, outside: string): HostileCase[] {
  const cases: HostileCase[] = [];
  const add = (name: string, what: string, build: (dir: string) => void, forbidden: string[] = []) => {
    const dir = join(root, name);
    build(dir);
    cases.push({ name, what, dir, forbidden });
  };
  const f = (path: string, body = "x", mode = 0o755): Entry => ({ path, body: Buffer.from(body), mode });
  const target = `${outside}/escaped`;
  add(
    "traversal",
    "`..` and absolute names, a hard link and a symlink out of the root",
    (d) =>
      layout(d, [
        {
          tar: tar([
            f("../../../../../../..", "", 0o755),
            f(`../../../../../../..${target}-dotdot`),
            f(`${target}-absolute`),
            { path: "app/x", type: "1", link: `../../../../..${target}-hard` },
            { path: "app/link", type: "2", link: `${target}-sym` },
            f("app/link/through"),
          ]),
        },
      ]),
    [`${target}-dotdot`, `${target}-absolute`, `${target}-hard`, `${target}-sym`],
  );
  add("symlink-loop", "an entrypoint that is a symlink loop", (d) =>
    layout(d, [
      {
        tar: tar([
          { path: "app/x", type: "2", link: "/app/y" },
          { path: "app/y", type: "2", link: "/app/x" },
        ]),
      },
    ]),
  );
  add("devices", "character and block devices and a FIFO entry, one named as the entrypoint", (d) =>
    layout(d, [
      {
        tar: tar([
          { path: "dev/null", type: "3", mode: 0o666 },
          { path: "dev/sda", type: "4", mode: 0o660 },
          { path: "app/x", type: "6", mode: 0o755 },
        ]),
      },
    ]),
  );
  add("deep-path", "a file 3,000 directories deep", (d) =>
    layout(d, [{ tar: tar([f(`${"d/".repeat(3000)}x`), f("app/x")]) }]),
  );
  add("many-entries", "200,000 empty files in one layer", (d) =>
    layout(d, [
      {
        tar: tar([
          f("app/x"),
          ...Array.from({ length: 200_000 }, (_, i) => f(`f/${i % 100}/${i}`, "", 0o644)),
        ]),
      },
    ]),
  );
  add("many-layers", "900 layers (under the cap), each one file", (d) =>
    layout(
      d,
      Array.from({ length: 900 }, (_, i) => ({ tar: tar([f(`l/${i}`)]) })),
    ),
  );
  add("too-many-layers", "1,001 layers (over the cap)", (d) =>
    layout(
      d,
      Array.from({ length: 1001 }, (_, i) => ({ tar: tar([f(`l/${i}`)]) })),
    ),
  );
  add("gzip-bomb", "a 1 MiB gzip layer that inflates to 1 GiB of zeros in one file", (d) => {
    // Built from gzip members (concatenated members are one stream): a 1 GiB Buffer here would be
    // the bomb going off in the generator.
    const z = gzipSync(Buffer.alloc(1 << 24), { level: 9 });
    const members = [gzipSync(header("app/big", { path: "", mode: 0o755 }, 1 << 30))];
    for (let i = 0; i < 64; i++) members.push(z);
    members.push(gzipSync(Buffer.alloc(1024)));
    const blob = Buffer.concat(members);
    layout(d, [{ tar: Buffer.alloc(1024) }]);
    // Replace the layer with the bomb (diff_id of the real content is not computed: a lie too).
    writeBombLayer(d, blob);
  });
  add("elf-bomb", "4 × 256 MiB files that start with the ELF magic (zeros after it)", (d) => {
    const members: Buffer[] = [];
    const z = gzipSync(Buffer.alloc(1 << 24), { level: 9 });
    for (let k = 0; k < 4; k++) {
      members.push(gzipSync(header(`bin/e${k}`, { path: "", mode: 0o755 }, 1 << 28)));
      members.push(gzipSync(ELF_HEAD));
      const rest = gzipSync(Buffer.alloc((1 << 24) - ELF_HEAD.length), { level: 9 });
      members.push(rest);
      for (let i = 1; i < 16; i++) members.push(z);
    }
    members.push(gzipSync(Buffer.alloc(1024)));
    layout(d, [{ tar: Buffer.alloc(1024) }]);
    writeBombLayer(d, Buffer.concat(members));
  });
  add("size-lie-short", "a layer descriptor smaller than its blob", (d) =>
    layout(d, [{ tar: tar([f("app/x")]), sizeLie: 10 }]),
  );
  add("size-lie-long", "a layer descriptor larger than its blob", (d) =>
    layout(d, [{ tar: tar([f("app/x")]), sizeLie: 1 << 20 }]),
  );
  add("digest-lie", "a layer descriptor naming another digest", (d) =>
    layout(d, [{ tar: tar([f("app/x")]), digestLie: true }]),
  );
  add("tar-size-lie", "a tar header claiming 1 GiB for a 1-byte body", (d) =>
    layout(d, [{ tar: tar([{ path: "app/x", body: Buffer.from("x"), sizeField: 1 << 30, mode: 0o755 }]) }]),
  );
  add("wrong-json", "config fields of the wrong JSON type", (d) =>
    layout(d, [{ tar: tar([f("app/x")]) }], {
      config: { history: "no", config: { Env: "A=1", Entrypoint: 7 } },
    }),
  );
  add("garbage-layer", "a layer that is not gzip nor tar", (d) =>
    layout(d, [{ tar: Buffer.from("this is not a tar at all".repeat(100)), gzip: false }]),
  );
  return cases;
}

/** Swaps the image's only layer blob for `blob`, rewriting manifest and index so the digests match. */
function writeBombLayer(dir: string, blob: Buffer): void {
  const idx = JSON.parse(readFileSync(join(dir, "index.json"), "utf8"));
  const mdesc = idx.manifests[0];
  const mpath = join(dir, "blobs", "sha256", mdesc.digest.slice(7));
  const m = JSON.parse(readFileSync(mpath, "utf8"));
  const hex = sha(blob);
  writeFileSync(join(dir, "blobs", "sha256", hex), blob);
  m.layers[0] = {
    mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
    digest: `sha256:${hex}`,
    size: blob.length,
  };
  rmSync(mpath);
  const mb = Buffer.from(JSON.stringify(m));
  const mhex = sha(mb);
  writeFileSync(join(dir, "blobs", "sha256", mhex), mb);
  idx.manifests[0] = { ...mdesc, digest: `sha256:${mhex}`, size: mb.length };
  writeFileSync(join(dir, "index.json"), JSON.stringify(idx));
}

if (process.argv[1]?.endsWith("corpus.js") && process.argv[2]) {
  const out = process.argv[2];
  mkdirSync(join(out, "outside"), { recursive: true });
  for (const c of writeCorpus(out, join(out, "outside"))) console.log(`${c.name}\t${c.what}`);
}
