import { scanTrees, scanTreesJson } from "../../scan/scan.js";
import type { Invocation } from "../command.js";
import type { SCAN_FLAGS } from "../defs/scan.js";
import { formatScanLine } from "../format-inspect.js";
import { EXIT, LineBuffer } from "../io.js";
import { colorWanted, makeStyle } from "../style.js";

export async function runScan({ values, positionals, io }: Invocation<typeof SCAN_FLAGS>): Promise<number> {
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const out = new LineBuffer(io.stdout);
  let failed = false;
  const counts = new Map<string, number>();
  const walk = {
    followSymlinks: values.follow === true,
    oneFileSystem: values.xdev === true,
    formats: values["elf-only"] ? (["elf"] as ("elf" | "pe" | "macho")[]) : undefined,
    workers: values.jobs,
  };
  const count = (key: string, bad: boolean) => {
    if (bad) failed = true;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  if (values.json) {
    for await (const l of scanTreesJson(positionals, walk)) {
      count(l.key, l.failed);
      out.push(l.json + "\n");
    }
  } else {
    for await (const r of scanTrees(positionals, walk)) {
      count(r.error ? "error" : (r.linkage ?? r.format), r.error !== undefined);
      if (!values.summary) out.push(formatScanLine(r, st) + "\n");
    }
  }
  out.flush();
  if (values.summary) {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const parts = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`);
    (values.json ? io.stderr : io.stdout).write(`${total} binaries: ${parts.join(", ")}\n`);
  }
  return failed ? EXIT.BAD_INPUT : EXIT.OK;
}
