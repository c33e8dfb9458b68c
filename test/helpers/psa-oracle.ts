// The Pod Security oracle: test/oracles/psa, a small Go program around k8s.io/pod-security-admission's
// own evaluator (the code the Kubernetes API server runs). Built once per content of its go.mod, go.sum
// and main.go into ~/.cache/zerodep-ci/psa-oracle-<hash>/psa-oracle (.ci/run builds it the same way
// before the tests: 60 s on 2 busy cores with the modules downloaded, 206 s from nothing, the modules
// coming through the Go module proxy).
// ZERODEP_PSA_ORACLE=/path overrides the lookup.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { hasTool, repoRoot } from "./env.js";

export const PSA_ORACLE_DIR = join(repoRoot, "test", "oracles", "psa");

/** sha256 of go.mod, go.sum and main.go, in that order (.ci/run computes the same with sha256sum). */
export function psaOracleHash(): string {
  const h = createHash("sha256");
  for (const f of ["go.mod", "go.sum", "main.go"]) h.update(readFileSync(join(PSA_ORACLE_DIR, f)));
  return h.digest("hex").slice(0, 16);
}

export function psaOracleCachedPath(): string {
  return join(homedir(), ".cache", "zerodep-ci", `psa-oracle-${psaOracleHash()}`, "psa-oracle");
}

/**
 * The oracle binary, built when absent (through the module proxy: minutes on a cold cache). Null only
 * when there is no `go` to build it with (the caller skips loudly; under CI=true it fails).
 */
export function psaOracle(): string | null {
  const env = process.env.ZERODEP_PSA_ORACLE;
  if (env) return existsSync(env) ? env : null;
  const bin = psaOracleCachedPath();
  if (existsSync(bin)) return bin;
  if (!hasTool("go")) return null;
  mkdirSync(join(bin, ".."), { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  const r = spawnSync("go", ["build", "-trimpath", "-o", tmp, "."], {
    cwd: PSA_ORACLE_DIR,
    encoding: "utf8",
    env: { ...process.env, GOFLAGS: "-mod=readonly -buildvcs=false" },
  });
  if (r.status !== 0) throw new Error(`building the PSA oracle failed: ${r.stderr}`);
  renameSync(tmp, bin); // atomic: a parallel test sees the old state or the finished binary
  return bin;
}

/**
 * The oracle's answer to one line: PSA's verdict on a pod (allowed, reasons, details); for a {yaml}
 * request kubectl's reading (json, strictError); for a {decode} request the strict decoding's unknown
 * and duplicate fields (decodeErrors). See test/oracles/psa/main.go.
 */
export interface PsaOracleResult {
  allowed: boolean;
  reasons: string[];
  details: string[];
  json?: unknown;
  strictError?: string;
  decodeErrors?: string[];
  error?: string;
}

/** A pod to evaluate, a YAML document to read as kubectl does, or a manifest to decode strictly. */
export type PsaOracleRequest =
  | { metadata: unknown; spec: unknown; level: string; version: string }
  | { yaml: string }
  | { decode: unknown };

/** Evaluates many pods in one run of the oracle (one JSON line in, one out, in order). */
export async function runPsaOracle(bin: string, reqs: PsaOracleRequest[]): Promise<PsaOracleResult[]> {
  const child = spawn(bin, [], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const done = new Promise<number | null>((res, rej) => {
    child.on("error", rej);
    child.on("close", res);
  });
  child.stdin.end(reqs.map((r) => `${JSON.stringify(r)}\n`).join(""));
  const code = await done;
  if (code !== 0) throw new Error(`psa-oracle exited ${code}: ${err}`);
  const lines = out.split("\n").filter((l) => l !== "");
  if (lines.length !== reqs.length)
    throw new Error(`psa-oracle answered ${lines.length} of ${reqs.length} lines`);
  return lines.map((l) => JSON.parse(l) as PsaOracleResult);
}
