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

const DECODER = `// Strict decode of Kubernetes manifests into the k8s.io/api types.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

func main() {
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		panic(err)
	}
	bad := false
	for i, doc := range bytes.Split(data, []byte("\\n---\\n")) {
		var tm struct {
			APIVersion string \`json:"apiVersion"\`
			Kind       string \`json:"kind"\`
		}
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			fmt.Printf("%d: %v\\n", i, err)
			bad = true
			continue
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 Pod":
			obj = &corev1.Pod{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "apps/v1 StatefulSet":
			obj = &appsv1.StatefulSet{}
		case "batch/v1 Job":
			obj = &batchv1.Job{}
		case "batch/v1 CronJob":
			obj = &batchv1.CronJob{}
		default:
			fmt.Printf("%d: unknown %s %s\\n", i, tm.APIVersion, tm.Kind)
			bad = true
			continue
		}
		// The API server's own strict decoding: case-sensitive field names, unknown and duplicate fields
		// reported (encoding/json alone matches field names case-insensitively).
		j, err := yaml.YAMLToJSONStrict(doc)
		if err != nil {
			fmt.Printf("%d: %s: %v\\n", i, tm.Kind, err)
			bad = true
			continue
		}
		strict, err := kjson.UnmarshalStrict(j, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err == nil && len(strict) > 0 {
			err = fmt.Errorf("%v", strict)
		}
		if err != nil {
			fmt.Printf("%d: %s: %v\\n", i, tm.Kind, err)
			bad = true
			continue
		}
		fmt.Printf("%d: %s ok\\n", i, tm.Kind)
	}
	if bad {
		os.Exit(1)
	}
}
`;

/** Builds the strict decoder in `dir` (k8s.io/api v0.32.3, the version kube-score v1.20.0 uses). */
export function buildStrictDecoder(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.go"), DECODER);
  writeFileSync(
    join(dir, "go.mod"),
    "module zerodep.invalid/k8sdecode\n\ngo 1.23\n\nrequire (\n\tk8s.io/api v0.32.3\n\tsigs.k8s.io/json v0.0.0-20241010143419-9aa6b5e7a4b3\n\tsigs.k8s.io/yaml v1.4.0\n)\n",
  );
  go(dir, ["mod", "tidy"]);
  go(dir, ["build", "-o", "decode", "."]);
  return join(dir, "decode");
}

/** Runs the strict decoder on multi-document YAML. */
export function strictDecode(decoder: string, yaml: string): { code: number | null; out: string } {
  const r = spawnSync(decoder, [], { input: yaml, encoding: "utf8", timeout: 30_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
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

const PSA_JUDGE = `// Pod Security Admission's own evaluator (k8s.io/pod-security-admission/policy) on each workload.
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	"sigs.k8s.io/yaml"
)

func main() {
	data, _ := io.ReadAll(os.Stdin)
	ev, err := policy.NewEvaluator(policy.DefaultChecks())
	if err != nil {
		panic(err)
	}
	lv := api.LevelVersion{Level: api.LevelRestricted, Version: api.LatestVersion()}
	bad := false
	for i, doc := range bytes.Split(data, []byte("\\n---\\n")) {
		var tm struct{ Kind string \`json:"kind"\` }
		yaml.Unmarshal(doc, &tm)
		var meta *metav1.ObjectMeta
		var spec *corev1.PodSpec
		switch tm.Kind {
		case "Pod":
			var o corev1.Pod
			yaml.Unmarshal(doc, &o)
			meta, spec = &o.ObjectMeta, &o.Spec
		case "Deployment":
			var o appsv1.Deployment
			yaml.Unmarshal(doc, &o)
			meta, spec = &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
		case "StatefulSet":
			var o appsv1.StatefulSet
			yaml.Unmarshal(doc, &o)
			meta, spec = &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
		case "Job":
			var o batchv1.Job
			yaml.Unmarshal(doc, &o)
			meta, spec = &o.Spec.Template.ObjectMeta, &o.Spec.Template.Spec
		case "CronJob":
			var o batchv1.CronJob
			yaml.Unmarshal(doc, &o)
			meta, spec = &o.Spec.JobTemplate.Spec.Template.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec
		default:
			continue
		}
		res := policy.AggregateCheckResults(ev.EvaluatePod(lv, meta, spec))
		if res.Allowed {
			fmt.Printf("%d: %s restricted: allowed\\n", i, tm.Kind)
		} else {
			bad = true
			fmt.Printf("%d: %s restricted: %s\\n", i, tm.Kind, res.ForbiddenDetail())
		}
	}
	if bad {
		os.Exit(1)
	}
}
`;

/**
 * Builds a judge that runs k8s.io/pod-security-admission v0.32.3 (the evaluator the API server's
 * admission plugin uses) at restricted/latest on every workload document of its stdin.
 */
export function buildPsaJudge(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "main.go"), PSA_JUDGE);
  writeFileSync(
    join(dir, "go.mod"),
    "module zerodep.invalid/psa\n\ngo 1.23\n\nrequire (\n\tk8s.io/api v0.32.3\n\tk8s.io/apimachinery v0.32.3\n\tk8s.io/pod-security-admission v0.32.3\n\tsigs.k8s.io/yaml v1.4.0\n)\n",
  );
  go(dir, ["mod", "tidy"]);
  go(dir, ["build", "-o", "psa", "."]);
  return join(dir, "psa");
}

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
