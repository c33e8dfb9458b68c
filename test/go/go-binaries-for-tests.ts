import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturesDir, run } from "../helpers/env.js";
import { makeFatMacho } from "../macho/fat-for-tests.js";

/**
 * Go binaries for the differential tests, built here with the real toolchain (offline: no module
 * downloads, the only dependency is a local `replace`), so the Go tests do not depend on which
 * fixtures test/fixtures/build.sh has produced. Built once per test process.
 */
const PROGRAMS: Array<{ name: string; env?: Record<string, string>; args: string[]; dir?: string }> = [
  { name: "go-static", env: { CGO_ENABLED: "0" }, args: [] },
  { name: "go-stripped", env: { CGO_ENABLED: "0" }, args: ["-ldflags=-s -w"] },
  { name: "go-trimpath", env: { CGO_ENABLED: "0" }, args: ["-trimpath"] },
  // Quotes and spaces in -ldflags and -gcflags exercise Go's strconv.Quote rules for build lines.
  {
    name: "go-ldflags-x",
    env: { CGO_ENABLED: "0" },
    args: ['-ldflags=-X "main.v=a b\\t`q`" -s', "-gcflags=all=-N -l"],
  },
  { name: "go-tags", env: { CGO_ENABLED: "0" }, args: ["-tags=a,b", "-buildvcs=false"] },
  { name: "go-pie", env: { CGO_ENABLED: "0" }, args: ["-buildmode=pie"] },
  { name: "go-386", env: { CGO_ENABLED: "0", GOARCH: "386" }, args: [] },
  { name: "go-arm", env: { CGO_ENABLED: "0", GOARCH: "arm", GOARM: "6" }, args: [] },
  { name: "go-mips", env: { CGO_ENABLED: "0", GOARCH: "mips" }, args: [] },
  { name: "go-s390x", env: { CGO_ENABLED: "0", GOARCH: "s390x" }, args: [] },
  { name: "go-windows.exe", env: { CGO_ENABLED: "0", GOOS: "windows" }, args: [] },
  { name: "go-windows-386.exe", env: { CGO_ENABLED: "0", GOOS: "windows", GOARCH: "386" }, args: [] },
  {
    name: "go-windows-arm64-stripped.exe",
    env: { CGO_ENABLED: "0", GOOS: "windows", GOARCH: "arm64" },
    args: ["-ldflags=-s -w"],
  },
  { name: "go-darwin-amd64", env: { CGO_ENABLED: "0", GOOS: "darwin", GOARCH: "amd64" }, args: [] },
  { name: "go-darwin-arm64", env: { CGO_ENABLED: "0", GOOS: "darwin", GOARCH: "arm64" }, args: [] },
];

let built: string | null = null;

/** Directory holding the binaries above plus go-darwin-fat (amd64 + arm64 slices). */
export function buildGoTestBinaries(): string {
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), "zerodep-go-"));
  const src = join(dir, "src");
  mkdirSync(join(src, "dep"), { recursive: true });
  writeFileSync(join(src, "dep", "go.mod"), "module example.com/dep\n\ngo 1.21\n");
  writeFileSync(join(src, "dep", "dep.go"), 'package dep\n\nfunc Hello() string { return "hi" }\n');
  writeFileSync(
    join(src, "go.mod"),
    "module example.com/hello\n\ngo 1.21\n\nrequire example.com/dep v1.2.3\n\nreplace example.com/dep v1.2.3 => ./dep\n",
  );
  writeFileSync(
    join(src, "main.go"),
    'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/dep"\n)\n\nvar v = "dev"\n\nfunc main() { fmt.Println(dep.Hello(), v) }\n',
  );
  const out = join(dir, "out");
  mkdirSync(out);
  for (const p of PROGRAMS) {
    const env = { ...process.env, GOTOOLCHAIN: "local", GOPROXY: "off", GOFLAGS: "-mod=mod", ...p.env };
    run(
      "sh",
      ["-c", `cd "$1" && shift && exec go build "$@"`, "sh", src, ...p.args, "-o", join(out, p.name), "."],
      {
        env,
      },
    );
  }
  writeFileSync(
    join(out, "go-darwin-fat"),
    makeFatMacho([readFileSync(join(out, "go-darwin-amd64")), readFileSync(join(out, "go-darwin-arm64"))]),
  );
  built = out;
  return out;
}

/** Regular files directly inside `dir` (none when it does not exist). */
export function filesIn(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile());
}

/**
 * Every file the differential tests look at: our own builds, all of test/fixtures/out (Go and not), the
 * Go toolchain's own binaries, and a few non-Go system files.
 */
export function differentialCorpus(): string[] {
  const goroot = run("go", ["env", "GOROOT"]).stdout.trim();
  const goos = run("go", ["env", "GOHOSTOS"]).stdout.trim();
  const goarch = run("go", ["env", "GOHOSTARCH"]).stdout.trim();
  return [
    ...filesIn(buildGoTestBinaries()),
    ...filesIn(fixturesDir),
    ...filesIn(join(goroot, "bin")),
    ...filesIn(join(goroot, "pkg", "tool", `${goos}_${goarch}`)),
    ...["/bin/ls", "/bin/sh", "/etc/passwd"].filter((p) => existsSync(p)),
  ];
}
