import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir } from "./env.js";

/** One entry of test/fixtures/out/manifest.json (written by test/fixtures/build.sh). */
export interface ManifestEntry {
  name: string;
  kind: "go" | "c" | "musl" | "other";
  description: string;
  // Facts that follow from the build flags (see the key list at the top of build.sh).
  expect: Record<string, unknown>;
}

export function loadManifest(): ManifestEntry[] {
  const p = join(fixturesDir, "manifest.json");
  if (!existsSync(p)) return [];
  return JSON.parse(readFileSync(p, "utf8")) as ManifestEntry[];
}

/**
 * Absolute paths of the ELF fixtures (manifest format "elf"), in manifest order. build.sh lists only
 * what it built, so a listed file that is absent is a broken build and throws (never a silent gap).
 */
export function fixtureElfFiles(): string[] {
  const files = loadManifest()
    .filter((e) => e.expect["format"] === "elf")
    .map((e) => join(fixturesDir, e.name));
  const absent = files.filter((p) => !existsSync(p));
  if (absent.length > 0) throw new Error(`in manifest.json but not built: ${absent.join(", ")}`);
  return files;
}

/** The system directories whose ELF files every differential test runs over. */
export const MACHINE_DIRS = ["/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec"];

function isElfFile(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return false; // unreadable: neither side can look at it
  }
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32BE(0) === 0x7f454c46;
  } finally {
    closeSync(fd);
  }
}

let machineCache: string[] | null = null;

/**
 * Every regular ELF file under MACHINE_DIRS (recursively, symlinks not followed so each file counts
 * once), sorted: the same list on every run of one machine, so failures are reproducible.
 */
export function machineElfFiles(): string[] {
  if (machineCache) return machineCache;
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(dir, n);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (st.isDirectory() && depth < 8) walk(p, depth + 1);
      else if (st.isFile() && st.size >= 52 && isElfFile(p)) out.push(p);
    }
  };
  for (const d of MACHINE_DIRS) walk(d, 0);
  machineCache = [...new Set(out)].sort();
  return machineCache;
}

/** A deterministic sample of about `n` items: every k-th of the sorted list, starting at the first. */
export function everyNth<T>(items: T[], n: number): T[] {
  if (items.length <= n) return items;
  const step = items.length / n;
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push(items[Math.floor(i * step)]!);
  return out;
}
