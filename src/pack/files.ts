import { createReadStream, lstatSync, readdirSync, readlinkSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { assertRegularFile } from "../io/reader.js";
import type { TarInput } from "../tar/writer.js";

/** One file of the image: the tar input, and the host path it comes from (for check and streaming). */
export interface TreeFile {
  input: TarInput;
  hostPath?: string;
}

const enc = new TextEncoder();
const SMALL_FILE = 256 * 1024;

export function bytesFile(
  path: string,
  text: string,
  mode: number,
  mtime: number,
  uid = 0,
  gid = 0,
): TreeFile {
  const body = enc.encode(text);
  return { input: { entry: { path, type: "file", mode, uid, gid, mtime, size: body.byteLength }, body } };
}

export function dirEntry(path: string, mode: number, mtime: number, uid = 0, gid = 0): TreeFile {
  return { input: { entry: { path, type: "dir", mode, uid, gid, mtime, size: 0 } } };
}

/** A host file streamed into the layer; its size is fixed now, and a change while packing is an error. */
export function hostFile(
  hostPath: string,
  path: string,
  mode: number,
  mtime: number,
  uid = 0,
  gid = 0,
): TreeFile {
  // A FIFO or device here would block the read that streams it into the layer: refuse it now, by name.
  const size = assertRegularFile(hostPath).size;
  return {
    hostPath,
    input: {
      entry: { path, type: "file", mode, uid, gid, mtime, size },
      // Small files (zoneinfo has hundreds) in one read: a stream per file costs more than the bytes.
      body:
        size <= SMALL_FILE
          ? async function* () {
              yield await readFile(hostPath);
            }
          : () => createReadStream(hostPath, { highWaterMark: 1 << 20 }),
    },
  };
}

/**
 * A host directory tree copied under `prefix` (regular files, directories and symbolic links as
 * links; anything else skipped), with fixed owners and modes so the layer does not depend on the host.
 */
export function hostTree(
  hostDir: string,
  prefix: string,
  mtime: number,
  skip: (rel: string) => boolean = () => false,
): TreeFile[] {
  const out: TreeFile[] = [];
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (skip(r)) continue;
      const p = join(dir, name);
      const st = lstatSync(p);
      const path = `${prefix}/${r}`;
      if (st.isDirectory()) {
        out.push(dirEntry(path, 0o755, mtime));
        walk(p, r);
      } else if (st.isSymbolicLink()) {
        out.push({
          input: {
            entry: {
              path,
              type: "symlink",
              mode: 0o777,
              uid: 0,
              gid: 0,
              mtime,
              size: 0,
              linkname: readlinkSync(p),
            },
          },
        });
      } else if (st.isFile()) {
        out.push(hostFile(p, path, 0o644, mtime));
      }
    }
  };
  walk(hostDir, "");
  return out;
}

/** distroless/static's /etc/passwd and /etc/group: root, nobody, nonroot (65532). */
export const PASSWD = [
  "root:x:0:0:root:/root:/sbin/nologin",
  "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
  "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin",
  "",
].join("\n");
export const GROUP = ["root:x:0:", "nobody:x:65534:", "tty:x:5:", "staff:x:50:", "nonroot:x:65532:", ""].join(
  "\n",
);
