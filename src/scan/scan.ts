import { closeSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { InspectResult } from "../inspect/types.js";
import { scanFile, sniffFile } from "./scan-file.js";
import { type WalkOptions, walkFiles } from "./walk.js";

export interface ScanOptions extends WalkOptions {
  /** Formats to report (default all three). */
  formats?: ("elf" | "pe" | "macho")[];
  /**
   * Worker threads that parse binaries while the calling thread walks directories and sniffs files.
   * Default: one less than the machine's parallelism (at least 1, at most 4); 0 parses on the calling
   * thread. Results keep walk order.
   */
  workers?: number;
}

/** Files per message to a worker: large enough to amortise messaging, small enough to balance. */
const BATCH = 32;
const MAX_IN_FLIGHT_PER_WORKER = 64;

/**
 * Walks directory trees and yields one InspectResult per binary found (ELF, PE, Mach-O), recognised
 * from its first bytes. Unreadable directories and files that look like binaries but cannot be parsed
 * are yielded with `error` set. Output order is the walk order (sorted, depth-first).
 */
export function scanTrees(roots: string[], opts: ScanOptions = {}): AsyncGenerator<InspectResult> {
  return scanWith(roots, opts, "object", (r) => r);
}

/** One `scan --json` line, serialised where the file was parsed (a worker thread). */
export interface ScanLine {
  json: string;
  /** Linkage (or format, or "error") for summaries. */
  key: string;
  failed: boolean;
}

export function toScanLine(r: InspectResult): ScanLine {
  return {
    json: JSON.stringify(r),
    key: r.error ? "error" : (r.linkage ?? r.format),
    failed: r.error !== undefined,
  };
}

/**
 * scanTrees for JSON Lines output: the workers serialise, so the calling thread only walks and
 * writes (structured-cloning result objects back to it cost more than the parse itself).
 */
export function scanTreesJson(roots: string[], opts: ScanOptions = {}): AsyncGenerator<ScanLine> {
  return scanWith(roots, opts, "json", toScanLine);
}

async function* scanWith<T>(
  roots: string[],
  opts: ScanOptions,
  mode: "object" | "json",
  convert: (r: InspectResult) => T,
): AsyncGenerator<T> {
  const formats = opts.formats ?? ["elf", "pe", "macho"];
  // The calling thread walks and sniffs (the syscall-bound part, which does not scale with threads
  // here); one core fewer than the machine has parse, so the walker is never starved.
  const workers = Math.max(
    0,
    Math.floor(opts.workers ?? Math.max(1, Math.min(4, availableParallelism() - 1))),
  );
  if (workers === 0) {
    const fmts = new Set<string>(formats);
    for (const item of walkFiles(roots, opts)) {
      if (typeof item !== "string") yield convert(item);
      else {
        const r = await scanFile(item, fmts);
        if (r) yield convert(r);
      }
    }
    return;
  }
  yield* scanParallel(roots, opts, formats, workers, mode, convert);
}

type Batch<T> = { id: number; results: T[] | null; direct: T[] };

async function* scanParallel<T>(
  roots: string[],
  opts: WalkOptions,
  formats: string[],
  nworkers: number,
  mode: "object" | "json",
  convert: (r: InspectResult) => T,
): AsyncGenerator<T> {
  const url = new URL("./scan-worker.js", import.meta.url);
  const pool = Array.from({ length: nworkers }, () => new Worker(url, { workerData: { mode, formats } }));
  const wanted = new Set(formats);
  const pending = new Map<number, Batch<T>>();
  const load = new Map<Worker, number>(pool.map((w) => [w, 0]));
  const waiters: (() => void)[] = [];
  let failure: unknown = null;
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  for (const w of pool) {
    w.on("message", (m: { id: number; results: T[] }) => {
      const b = pending.get(m.id);
      if (b) b.results = m.results;
      load.set(w, load.get(w)! - 1);
      wake();
    });
    w.on("error", (err) => {
      failure = err;
      wake();
    });
  }
  const waitForChange = () => new Promise<void>((res) => waiters.push(res));
  const queue: Batch<T>[] = [];
  let nextId = 0;
  let current: string[] = [];
  let direct: T[] = [];

  // Keep a few batches queued per worker so none idles while this thread walks or writes; bound the
  // queue so a huge tree never piles up in memory.
  const dispatch = () => {
    const b: Batch<T> = { id: nextId++, results: null, direct };
    pending.set(b.id, b);
    queue.push(b);
    let target = pool[0]!;
    for (const w of pool) if (load.get(w)! < load.get(target)!) target = w;
    load.set(target, load.get(target)! + 1);
    target.postMessage({ id: b.id, files: current });
    current = [];
    direct = [];
  };
  // Emit finished batches from the front of the queue, so output keeps the walk order.
  function* drain(): Generator<T> {
    while (queue.length > 0 && queue[0]!.results !== null) {
      const b = queue.shift()!;
      pending.delete(b.id);
      yield* b.direct;
      yield* b.results!;
    }
  }

  try {
    for (const item of walkFiles(roots, opts)) {
      // This thread walks and sniffs (most files are not binaries); workers parse the binaries.
      // Results made here ride in front of the next batch, so output keeps the walk order.
      // A descriptor closed by another thread than the one that opened it makes Node warn, so the
      // worker reopens the (few) binaries by path.
      const s = typeof item === "string" ? sniffFile(item, wanted) : item;
      if (typeof s === "number") {
        closeSync(s);
        current.push(item as string);
      } else if (s !== null) {
        if (current.length > 0) dispatch();
        direct.push(convert(s));
      }
      if (current.length >= BATCH) {
        while (queue.length >= MAX_IN_FLIGHT_PER_WORKER * nworkers) {
          if (failure) throw failure;
          if (queue[0]!.results === null) await waitForChange();
          yield* drain();
        }
        dispatch();
        yield* drain();
      }
    }
    if (current.length > 0 || direct.length > 0) dispatch();
    while (queue.length > 0) {
      if (failure) throw failure;
      if (queue[0]!.results === null) await waitForChange();
      yield* drain();
    }
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
}
