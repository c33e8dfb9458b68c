// ko (github.com/google/ko), the anchor of `zerodep build`. .ci/run builds it once with `go install`
// into ~/.cache/zerodep-ci/ko-<version>/ko; the version is read from .ci/run so that it is pinned in one
// place (as test/analyze/dive-for-tests.ts does for dive). ZERODEP_KO=/path overrides the lookup.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./env.js";

export const KO_VERSION = /^KO_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, ".ci", "run"), "utf8"))?.[1];

/** The ko binary: $ZERODEP_KO, else the CI cache, else `ko` on PATH; null when there is none. */
export function koPath(): string | null {
  const env = process.env.ZERODEP_KO;
  if (env) return existsSync(env) ? env : null;
  if (KO_VERSION) {
    const cached = join(homedir(), ".cache", "zerodep-ci", `ko-${KO_VERSION}`, "ko");
    if (existsSync(cached)) return cached;
  }
  const r = spawnSync("sh", ["-c", "command -v ko"], { encoding: "utf8" });
  const onPath = r.status === 0 ? r.stdout.trim() : "";
  return onPath !== "" ? onPath : null;
}
