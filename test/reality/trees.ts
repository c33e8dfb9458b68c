/**
 * File trees of the matrix: the same tree is used as a chroot root and (through `umoci insert`) as an
 * image's only layer, so one description gives both kinds of case. A tree is a base (what libc and
 * loader it has) plus runtime-file parts (CA bundle, zoneinfo, passwd, group, hosts, /tmp).
 */
import { chmodSync, copyFileSync, mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { BUSYBOX, dir, host, installGlibc, installMusl, link, MULTIARCH, put } from "../helpers/roots.js";

export type Base =
  | "empty"
  | "glibc"
  | "glibc-host"
  | "musl"
  | "i386"
  | "glibc-i386-libc"
  | "i386-amd64-libc"
  | "busybox"
  | "busybox-glibc";
export type Part = "ca" | "tz" | "passwd" | "group" | "hosts" | "tmp";
export const ALL_PARTS: Part[] = ["ca", "tz", "passwd", "group", "hosts", "tmp"];

export interface TreeSpec {
  base: Base;
  parts: Part[];
}

/** Short stable name: "glibc+ca,tz,…", "glibc+all", "empty". */
export function treeName(t: TreeSpec): string {
  if (t.parts.length === 0) return t.base;
  const all = ALL_PARTS.every((p) => t.parts.includes(p));
  if (all) return `${t.base}+all`;
  const missing = ALL_PARTS.filter((p) => !t.parts.includes(p));
  if (missing.length === 1) return `${t.base}+all-${missing[0]}`;
  return `${t.base}+${t.parts.join(",")}`;
}

/** Host libraries the glibc probes need (rustc's std links libgcc_s for unwinding). */
const GLIBC_LIBS = ["libc.so.6", "libgcc_s.so.1"];
/** Debian's libc6-i386 keeps the i386 libc in /lib32 (the i386 loader's first built-in directory). */
const I386_LIBC = "/lib32/libc.so.6";
const I386_LOADER = "/lib/ld-linux.so.2";

export const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
  "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin",
  "",
].join("\n");
export const GROUP = ["root:x:0:", "nobody:x:65534:", "nonroot:x:65532:", ""].join("\n");
export const HOSTS = "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 zd-probe.test\n";

function write(root: string, inRoot: string, text: string, mode = 0o644): void {
  mkdirSync(dirname(host(root, inRoot)), { recursive: true });
  writeFileSync(host(root, inRoot), text);
  chmodSync(host(root, inRoot), mode);
}

function copyIn(root: string, hostFile: string, inRoot: string): void {
  mkdirSync(dirname(host(root, inRoot)), { recursive: true });
  copyFileSync(hostFile, host(root, inRoot));
}

/** Fills `root` (an existing empty directory) as `t` says. */
export function buildTree(root: string, t: TreeSpec): void {
  switch (t.base) {
    case "empty":
      break;
    case "glibc":
      installGlibc(root, { libs: GLIBC_LIBS });
      break;
    case "glibc-host":
      installGlibc(root, { libs: GLIBC_LIBS, layout: "host" });
      break;
    case "musl":
      installMusl(root);
      break;
    case "i386":
      put(root, realpathSync(I386_LOADER), I386_LOADER);
      put(root, realpathSync(I386_LIBC), I386_LIBC);
      break;
    case "i386-amd64-libc":
      // The reverse: the i386 loader whose only libc.so.6 (in /lib32) is the x86-64 one.
      put(root, realpathSync(I386_LOADER), I386_LOADER);
      put(root, realpathSync(`${MULTIARCH}/libc.so.6`), I386_LIBC);
      break;
    case "glibc-i386-libc":
      // An x86-64 loader whose only libc.so.6 candidate is the i386 one: the loader skips it.
      installGlibc(root, { libs: [] });
      put(root, realpathSync(I386_LIBC), `${MULTIARCH}/libc.so.6`);
      break;
    case "busybox":
    case "busybox-glibc":
      if (t.base === "busybox-glibc") installGlibc(root, { libs: GLIBC_LIBS });
      put(root, realpathSync(BUSYBOX), "/bin/busybox", 0o755);
      link(root, "/bin/sh", "busybox");
      link(root, "/usr/bin/env", "/bin/busybox");
      break;
  }
  for (const p of t.parts) {
    switch (p) {
      case "ca":
        copyIn(root, "/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/certs/ca-certificates.crt");
        break;
      case "tz":
        for (const z of ["America/New_York", "UTC"])
          copyIn(root, realpathSync(`/usr/share/zoneinfo/${z}`), `/usr/share/zoneinfo/${z}`);
        break;
      case "passwd":
        write(root, "/etc/passwd", PASSWD);
        break;
      case "group":
        write(root, "/etc/group", GROUP);
        break;
      case "hosts":
        write(root, "/etc/hosts", HOSTS);
        break;
      case "tmp":
        dir(root, "/tmp");
        chmodSync(host(root, "/tmp"), 0o1777);
        break;
    }
  }
}
