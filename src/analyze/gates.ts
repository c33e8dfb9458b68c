import type { AnalyzeResult } from "./types.js";

export interface GateOptions {
  /** Lowest acceptable efficiency, 0..1. */
  minEfficiency?: number;
  maxWastedBytes?: number;
  /** Highest acceptable wasted share, in percent (0..100). */
  maxWastedPercent?: number;
  /**
   * Which figures the gates judge: "zerodep" (ours: bytes not in the final tree, as a share of all
   * content) or "dive" (dive's efficiency, wastedBytes and wasted user percent, as `dive --ci` does).
   */
  metric?: "zerodep" | "dive";
}

export interface GateResult {
  gate: "min-efficiency" | "max-wasted-bytes" | "max-wasted-percent";
  metric: "zerodep" | "dive";
  limit: number;
  value: number | null;
  pass: boolean;
}

/** Judges the CI gates; a gate not given is not judged. */
export function evaluateGates(r: AnalyzeResult, g: GateOptions): GateResult[] {
  const metric = g.metric ?? "zerodep";
  const w = r.waste;
  const eff = metric === "dive" ? w.dive.efficiency : w.efficiency;
  const bytes = metric === "dive" ? w.dive.wastedBytes : w.wastedBytes;
  const pct =
    metric === "dive"
      ? w.dive.wastedUserPercent === null
        ? null
        : w.dive.wastedUserPercent * 100
      : w.wastedPercent * 100;
  const out: GateResult[] = [];
  if (g.minEfficiency !== undefined)
    out.push({
      gate: "min-efficiency",
      metric,
      limit: g.minEfficiency,
      value: eff,
      pass: eff >= g.minEfficiency,
    });
  if (g.maxWastedBytes !== undefined)
    out.push({
      gate: "max-wasted-bytes",
      metric,
      limit: g.maxWastedBytes,
      value: bytes,
      pass: bytes <= g.maxWastedBytes,
    });
  if (g.maxWastedPercent !== undefined)
    out.push({
      gate: "max-wasted-percent",
      metric,
      limit: g.maxWastedPercent,
      value: pct,
      // dive with no user layers has no percentage: nothing to judge.
      pass: pct === null || pct <= g.maxWastedPercent,
    });
  return out;
}
