// Third-party judges of generated manifests, and Go programs built from source for them.
//  - kube-score (github.com/zegl/kube-score), built by .ci/run into ~/.cache/zerodep-ci/kube-score-<v>/;
//    the version is read from .ci/run (pinned in one place). ZERODEP_KUBE_SCORE=/path overrides.
//  - a strict decoder: sigs.k8s.io/json UnmarshalStrict into the k8s.io/api types, as the API server's
//    strict field validation decodes (unknown, duplicate or mis-cased fields, wrong types, malformed
//    quantities are errors), built through
//    the Go module proxy on first use and then from Go's caches.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers/env.js";

export const KUBE_SCORE_VERSION = /^KUBE_SCORE_VERSION=(\S+)$/m.exec(
  readFileSync(join(repoRoot, ".ci", "run"), "utf8"),
)?.[1];

/** kube-score: $ZERODEP_KUBE_SCORE, else the CI cache, else on PATH; null when there is none. */
export function kubeScorePath(): string | null {
  const env = process.env.ZERODEP_KUBE_SCORE;
  if (env) return existsSync(env) ? env : null;
  if (KUBE_SCORE_VERSION) {
    const cached = join(homedir(), ".cache", "zerodep-ci", `kube-score-${KUBE_SCORE_VERSION}`, "kube-score");
    if (existsSync(cached)) return cached;
  }
  const r = spawnSync("sh", ["-c", "command -v kube-score"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() !== "" ? r.stdout.trim() : null;
}

/** Go without toolchain downloads; modules through the proxy configured on this machine. */
const GO_ENV = { ...process.env, GOTOOLCHAIN: "local", GOFLAGS: "-mod=mod", CGO_ENABLED: "0" };

function go(dir: string, args: string[], timeout = 600_000): void {
  const r = spawnSync("go", args, { cwd: dir, env: GO_ENV, encoding: "utf8", timeout });
  if (r.status !== 0) throw new Error(`go ${args.join(" ")} in ${dir}: ${r.error ?? ""}${r.stderr}`);
}

/** Builds a one-file Go program (no dependencies) with `go <goLine>` in its go.mod; returns the binary. */
export function buildGoProgram(dir: string, name: string, source: string, goLine: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.go"), source);
  writeFileSync(join(dir, "go.mod"), `module zerodep.invalid/${name}\n\ngo ${goLine}\n`);
  go(dir, ["build", "-trimpath", "-o", name, "."]);
  return join(dir, name);
}

/** What `go version -m` (the Go toolchain itself) says about a binary's DefaultGODEBUG. */
export function goDefaultGodebug(binary: string): string {
  const r = spawnSync("go", ["version", "-m", binary], { encoding: "utf8", env: GO_ENV });
  if (r.status !== 0) throw new Error(r.stderr);
  return /\bbuild\tDefaultGODEBUG=(\S*)/.exec(r.stdout)?.[1] ?? "";
}

/** Whether `go tool nm` lists a function in the binary (the symbol table the toolchain wrote). */
export function goHasSymbol(binary: string, fn: string): boolean {
  const r = spawnSync("go", ["tool", "nm", binary], { encoding: "utf8", env: GO_ENV, maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split("\n").some((l) => l.trim().split(/\s+/)[2] === fn);
}

/** A program that needs a writable temporary directory, and says whether it got one. */
export const TMP_WRITER = `package main

import (
	"fmt"
	"os"
)

func main() {
	f, err := os.CreateTemp("", "zd-*")
	if err != nil {
		fmt.Println("tmp write failed:", err)
		os.Exit(1)
	}
	f.Close()
	os.Remove(f.Name())
	fmt.Println("ok", f.Name())
}
`;

/** A program that writes into its user cache directory (os.UserCacheDir: $XDG_CACHE_HOME or $HOME/.cache). */
export const CACHE_WRITER = `package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	dir, err := os.UserCacheDir()
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "zd-cache"), []byte("x"), 0o600)
	}
	if err != nil {
		fmt.Println("cache write failed:", err)
		os.Exit(1)
	}
	fmt.Println("ok", filepath.Join(dir, "zd-cache"))
}
`;

/** A program that binds port 80 (below ip_unprivileged_port_start's default 1024) and says whether it could. */
export const LOW_PORT_LISTENER = `package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	l, err := net.Listen("tcp", ":80")
	if err != nil {
		fmt.Println("listen failed:", err)
		os.Exit(1)
	}
	fmt.Println("listening", l.Addr())
	l.Close()
}
`;
