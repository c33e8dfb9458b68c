import { rmSync } from "node:fs";

/**
 * Staging paths that an interrupted run must not leave behind (`.NAME.zerodep-tmp-*` directories and
 * files beside an output). Writers register a path when they create it and release it when they have
 * renamed it into place or removed it; the CLI's SIGINT/SIGTERM handler removes whatever is still
 * registered before it exits (130/143). A SIGKILL cannot be caught: the next writer of the same output
 * removes stale staging paths it finds (the layout and archive writers do).
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
