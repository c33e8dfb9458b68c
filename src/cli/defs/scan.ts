import { defineCommand } from "../command.js";
import { OUTPUT } from "../flag-groups.js";
import { bool, intValue, str } from "../flags.js";

export const SCAN_FLAGS = {
  json: { ...OUTPUT.json, help: "JSON Lines, one inspect object per binary found" },
  follow: bool({ short: "L", help: "follow symbolic links (default: not followed; loops are detected)" }),
  xdev: bool({ help: "stay on each root's file system" }),
  "elf-only": bool({ help: "report ELF files only" }),
  summary: bool({ help: "print only the totals per linkage (to stderr with --json)" }),
  jobs: str({
    short: "j",
    value: "N",
    help: "parser threads (default: CPUs - 1, 1 to 4; 0 = parse on the main thread)",
    parse: intValue(0, 64),
  }),
  "no-color": OUTPUT["no-color"],
};

export const scanCommand = defineCommand({
  name: "scan",
  summary: "find and inspect every binary under directories (scanelf -R)",
  usage: ["DIR... [--json] [--follow] [--xdev] [--elf-only] [--summary]"],
  description: `Walks directory trees and reports every ELF, PE and Mach-O file (recognised by its first bytes)
with the same facts as inspect, one line each (the scanelf -R use case).`,
  flags: SCAN_FLAGS,
  positionals: { min: 1, message: "scan: no DIR given (see zerodep scan --help)" },
  exit: "0 all binaries read, 3 some directory or binary could not be read or parsed, 2 usage error.",
  load: async () => (await import("../commands/scan.js")).runScan,
});
