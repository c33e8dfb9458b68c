import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";

/**
 * Staging paths that an interrupted run must not leave behind (`.NAME.zerodep-tmp-*` directories and
 * files beside an output). Writers register a path when they create it and release it when they have
 * renamed it into place or removed it; the CLI's SIGINT/SIGTERM handler removes whatever is still
 * registered before it exits (130/143). A SIGKILL cannot be caught: every staging name carries its
 * owner's pid (`stagingPath`), and the next writer of the same output removes the staging paths of
 * owners that are no longer running (`sweepStale`) before it makes its own.
 */
const pending = new Set<string>();

/** Registers `path` for removal on interrupt; the returned function unregisters it. */
export function removeOnInterrupt(path: string): () => void {
  pending.add(path);
  return () => {
    pending.delete(path);
  };
}

/** Removes every registered path now (synchronously: called from a signal handler just before exit). */
export function removeInterrupted(): string[] {
  const removed: string[] = [];
  for (const p of pending) {
    try {
      rmSync(p, { recursive: true, force: true });
      removed.push(p);
    } catch {
      // Best effort: the process is exiting; a leftover is reported by nothing and harmless.
    }
  }
  pending.clear();
  return removed;
}

/** `${prefix}${pid}-${random}`: a staging name that says which process owns it. */
export function stagingPath(dir: string, prefix: string): string {
  return join(dir, `${prefix}${process.pid}-${randomBytes(6).toString("hex")}`);
}

/** Whether a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes `${prefix}PID-*` entries in `dir` whose PID is not a running process: what a run killed with
 * SIGKILL (or a crash of the machine) left behind. Staging of a live run — ours or a concurrent one —
 * is never touched. Best effort: an unreadable `dir` is not an error here (the writer reports it).
 */
export async function sweepStale(dir: string, prefix: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)-/.exec(name.slice(prefix.length));
    if (!m || Number(m[1]) === process.pid || alive(Number(m[1]))) continue;
    await rm(join(dir, name), { recursive: true, force: true }).catch(() => {});
    removed.push(name);
  }
  return removed;
}

/** Makes a staging directory `${prefix}PID-*` in `dir` after sweeping dead owners' ones; registered for interrupts. */
export async function makeStagingDir(
  dir: string,
  prefix: string,
): Promise<{ path: string; release: () => void }> {
  await sweepStale(dir, prefix);
  const path = stagingPath(dir, prefix);
  await mkdir(path, { mode: 0o700 });
  return { path, release: removeOnInterrupt(path) };
}
