// dive (github.com/wagoodman/dive) as the oracle for the dive-compatible figures of `analyze`.
// .ci/run builds it once with `go install` into ~/.cache/zerodep-ci/dive-<version>/dive; the version
// is read from .ci/run so that it is pinned in one place. ZERODEP_DIVE=/path overrides the lookup.
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/env.js";

export const DIVE_VERSION = /^DIVE_VERSION=(\S+)$/m.exec(
  readFileSync(join(repoRoot, ".ci", "run"), "utf8"),
)?.[1];

/** Path of the dive binary: $ZERODEP_DIVE, else the CI cache; the path is returned even when absent. */
export function divePath(): string {
  const env = process.env.ZERODEP_DIVE;
  if (env) return env;
  if (!DIVE_VERSION) throw new Error(".ci/run has no DIVE_VERSION= line");
  return join(homedir(), ".cache", "zerodep-ci", `dive-${DIVE_VERSION}`, "dive");
}

/** What dive reports for an image: its --json export plus the figures of its --ci text. */
export interface DiveReport {
  efficiencyScore: number;
  inefficientBytes: number;
  sizeBytes: number;
  layerSizes: number[];
  fileReference: { file: string; sizeBytes: number; count: number }[];
  /** The --ci "Analysis:" lines as printed (efficiency and userWastedPercent with 2 decimals, in %). */
  ci: { efficiency: string; wastedBytes: string; userWastedPercent: string };
}

interface DiveJson {
  layer: { sizeBytes: number }[];
  image: {
    sizeBytes: number;
    inefficientBytes: number;
    efficiencyScore: number;
    fileReference: { file: string; sizeBytes: number; count: number }[] | null;
  };
}

export function parseDiveCiText(text: string): DiveReport["ci"] {
  const get = (k: string) => {
    const m = new RegExp(`^\\s*${k}:\\s+(.*?)\\s*$`, "m").exec(text);
    if (!m) throw new Error(`dive --ci printed no ${k}:\n${text}`);
    return m[1]!;
  };
  return {
    efficiency: get("efficiency"),
    wastedBytes: get("wastedBytes"),
    userWastedPercent: get("userWastedPercent"),
  };
}

export function toDiveReport(json: DiveJson, ciText: string): DiveReport {
  return {
    efficiencyScore: json.image.efficiencyScore,
    inefficientBytes: json.image.inefficientBytes,
    sizeBytes: json.image.sizeBytes,
    layerSizes: json.layer.map((l) => l.sizeBytes),
    fileReference: json.image.fileReference ?? [],
    ci: parseDiveCiText(ciText),
  };
}
