// Worker thread for scanTrees: opens, sniffs and inspects the files of each batch it is sent.
import { parentPort, workerData } from "node:worker_threads";
import type { InspectResult } from "../inspect/types.js";
import { scanFile } from "./scan-file.js";

const formats = new Set<string>((workerData as { formats: string[] }).formats);

parentPort!.on("message", async (m: { id: number; paths: string[] }) => {
  const results: (InspectResult | null)[] = [];
  for (const p of m.paths) results.push(await scanFile(p, formats));
  parentPort!.postMessage({ id: m.id, results: results.filter((r) => r !== null) });
});
