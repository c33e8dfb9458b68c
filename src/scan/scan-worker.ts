// Worker thread for scanTrees: opens, sniffs and inspects the files of each batch it is sent, and
// answers with result objects, or with serialised JSON lines in "json" mode.
import { parentPort, workerData } from "node:worker_threads";
import type { InspectResult } from "../inspect/types.js";
import { toScanLine } from "./scan.js";
import { scanFile } from "./scan-file.js";

const data = workerData as { mode: "object" | "json"; formats: string[] };
const formats = new Set<string>(data.formats);

// The calling thread sniffed each file: these are binaries of a wanted format (or were a moment ago).
parentPort!.on("message", async (m: { id: number; files: string[] }) => {
  const results: InspectResult[] = [];
  for (const p of m.files) {
    const r = await scanFile(p, formats);
    if (r) results.push(r);
  }
  parentPort!.postMessage({ id: m.id, results: data.mode === "json" ? results.map(toScanLine) : results });
});
