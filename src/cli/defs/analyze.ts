import { defineCommand } from "../command.js";
import { IMAGE_READ, OUTPUT, REGISTRY } from "../flag-groups.js";
import { bool, numberValue, oneOf, parseSize, str } from "../flags.js";

export const ANALYZE_FLAGS = {
  html: str({ value: "FILE", help: "a self-contained HTML report (treemaps, layer table, findings)" }),
  json: { ...OUTPUT.json, help: 'the full result (schema: README "analyze --json")' },
  ...IMAGE_READ,
  "min-efficiency": str({
    value: "F",
    help: "exit 1 when efficiency < F (0..1; dive --ci's lowestEfficiency)",
    parse: numberValue(0, 1),
  }),
  "max-wasted-bytes": str({
    value: "N",
    help: "exit 1 when wasted bytes > N (suffixes K, M, G: 1000s; KiB, MiB, GiB)",
    parse: parseSize,
  }),
  "max-wasted-percent": str({
    value: "P",
    help: "exit 1 when wasted share > P percent",
    parse: numberValue(0, 100),
  }),
  "gate-metric": str({
    value: "zerodep|dive",
    help: "which figures the gates judge: zerodep (bytes not in the final tree as a share of all layer content) or dive (dive's efficiency, wastedBytes and wasted share of the non-base layers)",
    default: "zerodep",
    parse: oneOf("zerodep", "dive"),
  }),
  "fail-on": str({
    value: "error|warning",
    help: "exit 1 on a finding of that severity or worse",
    parse: oneOf("error", "warning"),
  }),
  top: str({
    value: "N",
    help: "largest files listed per layer and overall",
    default: "20",
    parse: numberValue(1, 10000),
  }),
  "no-audit": bool({ help: "file index and waste only (no ELF parsing, no entrypoint check)" }),
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
};

export const analyzeCommand = defineCommand({
  name: "analyze",
  summary: "what is in an image, what it wastes (dive's and honest figures), whether it runs; --html report",
  usage: ["IMAGE [--html FILE] [--json] [--platform OS/ARCH[/VARIANT]] [gates]"],
  description: `What is inside an image, what it wastes, and whether it runs — without a daemon and without extracting
it. IMAGE is oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker-archive:FILE[:REPO:TAG] (Docker 25+ and
legacy docker save), or a registry HOST/REPO[:TAG|@DIGEST] (docker://NAME for Docker Hub). One
streaming pass per layer: per-layer sizes, history command, files added, modified and removed; waste
both as dive computes it and as bytes shipped but absent from the final tree; every ELF file with its
linkage, Go binaries by package; the entrypoint checked (zerodep check) against the image's own file
tree; shells, package managers, setuid/setgid, world-writable files, the runtime user and what it
cannot read.`,
  flags: ANALYZE_FLAGS,
  positionals: { min: 1, max: 1, message: "analyze: exactly one IMAGE (see zerodep analyze --help)" },
  exit: "0 ok, 1 a gate failed, 3 bad input or I/O error, 2 usage error.",
  load: async () => (await import("../commands/analyze.js")).runAnalyze,
});
