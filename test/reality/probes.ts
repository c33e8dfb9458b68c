/**
 * The probe programs of the reality matrix, built from test/fixtures/src/probe/ with the real
 * compilers (Go, gcc, gcc -m32, musl-gcc, rustc gnu and musl) and cached by a hash of the sources and
 * compiler versions under test/fixtures/out/reality-<hash>/, so a second run builds nothing.
 *
 * Each probe prints "probe <need> ok|fail …" lines and exits 0 (see src/probe/go/main.go).
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fixturesDir, repoRoot } from "../helpers/env.js";

const SRC = join(repoRoot, "test", "fixtures", "src", "probe");
const GO_DIR = join(SRC, "go");
const C_SRC = join(SRC, "probe.c");
const RS_SRC = join(SRC, "probe.rs");

/** Where the toolchains live on this machine kind (Go in /usr/local/go, rustup in ~/.cargo). */
function toolEnv(): NodeJS.ProcessEnv {
  const extra = ["/usr/local/go/bin", join(process.env.HOME ?? "/root", ".cargo", "bin")];
  return {
    ...process.env,
    PATH: [...extra, process.env.PATH ?? "/usr/bin:/bin"].join(":"),
    GOTOOLCHAIN: "local",
    GOFLAGS: "-buildvcs=false",
  };
}

interface Recipe {
  name: string;
  /** argv; "@OUT" is replaced by the output path. */
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
}

const GO = (name: string, env: Record<string, string>, flags: string[]): Recipe => ({
  name,
  argv: ["go", "build", "-o", "@OUT", ...flags, "."],
  cwd: GO_DIR,
  env: { GOOS: "linux", GOARCH: "amd64", CC: "gcc", ...env },
});

/** Every probe binary kind the matrix covers. */
export const RECIPES: Recipe[] = [
  GO("go-probe", { CGO_ENABLED: "0" }, []),
  GO("go-probe-sw", { CGO_ENABLED: "0" }, ["-ldflags=-s -w"]),
  GO("go-probe-pie", { CGO_ENABLED: "0" }, ["-buildmode=pie"]),
  GO("go-probe-pie-ext", { CGO_ENABLED: "1" }, ["-buildmode=pie", "-ldflags=-linkmode=external"]),
  GO("go-probe-cgo", { CGO_ENABLED: "1" }, []),
  { name: "c-probe", argv: ["gcc", "-O2", "-o", "@OUT", C_SRC] },
  { name: "c-probe-static", argv: ["gcc", "-O2", "-static", "-o", "@OUT", C_SRC] },
  { name: "c-probe-static-pie", argv: ["gcc", "-O2", "-fPIE", "-static-pie", "-o", "@OUT", C_SRC] },
  { name: "c-probe-32", argv: ["gcc", "-m32", "-O2", "-o", "@OUT", C_SRC] },
  { name: "musl-probe", argv: ["musl-gcc", "-O2", "-o", "@OUT", C_SRC] },
  { name: "musl-probe-static", argv: ["musl-gcc", "-O2", "-static", "-o", "@OUT", C_SRC] },
  { name: "rust-probe", argv: ["rustc", "-O", "-o", "@OUT", RS_SRC] },
  {
    name: "rust-probe-musl",
    argv: ["rustc", "-O", "--target", "x86_64-unknown-linux-musl", "-o", "@OUT", RS_SRC],
  },
];

export type ProbeName = (typeof RECIPES)[number]["name"];

function version(env: NodeJS.ProcessEnv, argv: string[]): string {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", env });
  return `${argv.join(" ")}: ${r.status} ${r.stdout?.trim()} ${r.error ? "missing" : ""}`;
}

function cacheKey(env: NodeJS.ProcessEnv): string {
  const h = createHash("sha256");
  for (const f of [C_SRC, RS_SRC, ...readdirSync(GO_DIR).map((n) => join(GO_DIR, n))].sort())
    h.update(`${f}\0`).update(readFileSync(f));
  h.update(JSON.stringify(RECIPES));
  for (const v of [
    ["go", "version"],
    ["gcc", "-dumpfullversion"],
    ["musl-gcc", "-print-file-name=libc.a"],
    ["rustc", "--version"],
  ])
    h.update(version(env, v));
  return h.digest("hex").slice(0, 16);
}

/** Builds (or finds in the cache) every probe; returns name → path. Throws with the compiler output. */
export function buildProbes(): Map<string, string> {
  const env = toolEnv();
  const dir = join(fixturesDir, `reality-${cacheKey(env)}`);
  const out = new Map<string, string>();
  if (!existsSync(join(dir, ".done"))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    for (const r of RECIPES) {
      const argv = r.argv.map((a) => (a === "@OUT" ? join(tmp, r.name) : a));
      const b = spawnSync(argv[0]!, argv.slice(1), {
        cwd: r.cwd ?? tmp,
        env: { ...env, ...r.env },
        encoding: "utf8",
        timeout: 300_000,
      });
      if (b.status !== 0)
        throw new Error(`building probe ${r.name} failed (${argv.join(" ")}): ${b.error ?? ""}${b.stderr}`);
    }
    writeFileSync(join(tmp, ".done"), "");
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  for (const r of RECIPES) out.set(r.name, join(dir, r.name));
  return out;
}
