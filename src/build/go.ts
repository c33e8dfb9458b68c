import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError, ZerodepError } from "../errors.js";
import { formatPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import type { BuildCode } from "./codes.js";
import { onPath, runTool, shortenCompilerOutput } from "./exec.js";
import type { BuildOptions, BuiltBinary } from "./types.js";

/** A `main` package to build. */
export interface GoMain {
  importPath: string;
  /** The binary's name: the import path's last element (go build's own rule). */
  name: string;
  dir: string;
}

const err = (code: BuildCode, msg: string) => new ZerodepError(code, msg);

/** True when `dir` is inside a Go module (a go.mod here or in a parent, as the go command looks). */
export function isGoProject(dir: string): boolean {
  for (let d = resolve(dir); ; d = dirname(d)) {
    if (existsSync(join(d, "go.mod"))) return true;
    if (dirname(d) === d) return false;
  }
}

/** Environment for the go command: the caller's, without GOOS/GOARCH/… that build sets per platform. */
function goEnv(base: Record<string, string | undefined>, extra: Record<string, string>) {
  const env: Record<string, string | undefined> = { ...base };
  for (const k of ["GOOS", "GOARCH", "GOARM", "GOAMD64", "GOARM64", "GO386", "CGO_ENABLED"]) delete env[k];
  return { ...env, ...extra };
}

/** Parses `go list -json`'s stream of objects (one per package, each closing with "}" on its own line). */
function parseGoList(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const chunk of text.split(/\n}\n?/)) {
    if (chunk.trim() === "") continue;
    try {
      out.push(JSON.parse(`${chunk}\n}`) as Record<string, unknown>);
    } catch {
      throw err("COMPILE_FAILED", `go list printed something that is not JSON: ${chunk.slice(0, 120)}`);
    }
  }
  return out;
}

/**
 * The main packages `targets` name (directories, import paths or patterns such as ./cmd/...), as the go
 * command resolves them in `dir`. A named package that is not `main` is NOT_MAIN_PACKAGE; a pattern
 * keeps only its main packages (none is an error too).
 */
export async function listGoMains(
  dir: string,
  targets: string[],
  env: Record<string, string | undefined>,
): Promise<GoMain[]> {
  if (!isGoProject(dir))
    throw err(
      "NO_PROJECT",
      `${dir}: no go.mod here or above (run go mod init, or point build at a Go module)`,
    );
  const r = await runTool(["go", "list", "-e", "-json=ImportPath,Name,Dir,Error", "--", ...targets], {
    cwd: dir,
    env: goEnv(env, { GOOS: "linux", CGO_ENABLED: "0" }),
  });
  if (r.code !== 0 && r.stdout.trim() === "")
    throw err("COMPILE_FAILED", `${dir}: go list failed: ${shortenCompilerOutput(r.stderr)}`);
  const pkgs = parseGoList(r.stdout);
  const mains: GoMain[] = [];
  for (const p of pkgs) {
    const e = p.Error as { Err?: string } | undefined;
    if (e?.Err)
      throw err("COMPILE_FAILED", `${dir}: ${String(p.ImportPath)}: ${shortenCompilerOutput(e.Err)}`);
    const importPath = String(p.ImportPath);
    if (p.Name !== "main") {
      const named = targets.some((t) => !t.includes("..."));
      if (named && pkgs.length === targets.length)
        throw err(
          "NOT_MAIN_PACKAGE",
          `${importPath}: package ${String(p.Name)}, not main: build wants a program (a package main with func main)`,
        );
      continue;
    }
    mains.push({ importPath, name: importPath.split("/").at(-1)!, dir: String(p.Dir) });
  }
  if (mains.length === 0)
    throw err("NOT_MAIN_PACKAGE", `${targets.join(" ")}: no main package (nothing to build into a program)`);
  const names = new Map<string, string>();
  for (const m of mains) {
    const other = names.get(m.name);
    if (other)
      throw new UsageError(
        "USAGE",
        `${other} and ${m.importPath} would both be /app/${m.name}: build them separately`,
      );
    names.set(m.name, m.importPath);
  }
  return mains;
}

/** The non-standard packages (of `mains` and their dependencies) that have cgo files for `platform`. */
export async function cgoPackages(
  dir: string,
  mains: GoMain[],
  platform: Platform,
  env: Record<string, string | undefined>,
): Promise<string[]> {
  const r = await runTool(
    [
      "go",
      "list",
      "-deps",
      "-f",
      "{{if and (not .Standard) .CgoFiles}}{{.ImportPath}}{{end}}",
      "--",
      ...mains.map((m) => m.importPath),
    ],
    { cwd: dir, env: goEnv(env, { ...goArchEnv(platform), CGO_ENABLED: "1" }) },
  );
  if (r.code !== 0)
    throw err("COMPILE_FAILED", `${dir}: go list -deps failed: ${shortenCompilerOutput(r.stderr)}`);
  return r.stdout.split("\n").filter((l) => l.trim() !== "");
}

/** GOOS, GOARCH and the micro-architecture level from an OCI platform (amd64/v3 → GOAMD64=v3 …). */
export function goArchEnv(p: Platform): Record<string, string> {
  const env: Record<string, string> = { GOOS: p.os, GOARCH: p.architecture };
  const v = p.variant;
  if (p.architecture === "arm") env.GOARM = (v ?? "v7").replace(/^v/, "");
  else if (p.architecture === "amd64" && v) env.GOAMD64 = v;
  else if (p.architecture === "arm64" && v) env.GOARM64 = /^v\d+$/.test(v) ? `${v}.0` : v;
  if (p.architecture === "arm" && !/^[567]$/.test(env.GOARM!))
    throw err("PLATFORM_UNSUPPORTED", `${formatPlatform(p)}: Go builds arm v5, v6 or v7`);
  return env;
}

const GNU_TRIPLE: Record<string, string> = {
  amd64: "x86_64-linux-gnu",
  arm64: "aarch64-linux-gnu",
  arm: "arm-linux-gnueabihf",
  "386": "i686-linux-gnu",
  riscv64: "riscv64-linux-gnu",
  ppc64le: "powerpc64le-linux-gnu",
  s390x: "s390x-linux-gnu",
};

/** The architecture this process runs on, as OCI names it. */
export function hostArch(): string {
  return ({ x64: "amd64", ia32: "386" } as Record<string, string>)[process.arch] ?? process.arch;
}

/** How a platform's cgo is compiled and linked: the C compiler and the flags that make it static. */
function cgoPlan(
  p: Platform,
  mode: "static" | "bundle",
  env: Record<string, string | undefined>,
  userEnv: Record<string, string>,
): { env: Record<string, string>; ldflags: string[]; tags: string[] } {
  const host = p.architecture === hostArch();
  const plat = formatPlatform(p);
  if (mode === "bundle") {
    if (!host)
      throw err(
        "PLATFORM_UNSUPPORTED",
        `${plat}: --cgo bundle takes the libraries from this machine (${hostArch()}); use --cgo static for other platforms`,
      );
    return { env: { CC: userEnv.CC ?? "gcc" }, ldflags: [], tags: [] };
  }
  // Static: musl-gcc gives a truly static program (no NSS); glibc's -static works but warns for NSS
  // calls, so the standard library's pure-Go user and DNS code is selected too (netgo, osusergo).
  const staticFlags = ["-linkmode=external", "-extldflags=-static"];
  const tags = ["netgo", "osusergo"];
  if (userEnv.CC) return { env: { CC: userEnv.CC }, ldflags: staticFlags, tags };
  if (host && onPath("musl-gcc", env)) return { env: { CC: "musl-gcc" }, ldflags: staticFlags, tags };
  const triple = GNU_TRIPLE[p.architecture];
  if (host && onPath("gcc", env)) return { env: { CC: "gcc" }, ldflags: staticFlags, tags };
  if (triple && onPath(`${triple}-gcc`, env))
    return { env: { CC: `${triple}-gcc` }, ldflags: staticFlags, tags };
  throw err(
    "CGO_NO_TOOLCHAIN",
    `${plat}: the program needs cgo and there is no C compiler for ${p.architecture}${triple ? ` (${triple}-gcc${host ? " or musl-gcc" : ""})` : ""}: fix: install one (Debian: apt install ${host ? "musl-tools" : `gcc-${triple}`}), or --build-env CC=…`,
  );
}

export interface GoBuildRequest {
  dir: string;
  mains: GoMain[];
  platforms: Platform[];
  opts: BuildOptions;
  /** Rendered -ldflags (templates already filled). */
  ldflags: string[];
  /** Where the binaries go: OUT/<os>-<arch>[-variant]/<name>. */
  outDir: string;
  /** Called once per platform that needed cgo (which package, how linked). */
  onCgo?: (platform: string, packages: string[], how: "static" | "bundle") => void;
}

/**
 * Builds every main package for every platform with the user's go command, platforms in parallel (one
 * go process each, sharing the user's GOCACHE and module cache). Defaults: CGO_ENABLED=0, -trimpath,
 * -buildvcs=auto, -ldflags "-s -w"; cgo per `opts.cgo` when a non-standard package needs it.
 */
export async function buildGo(req: GoBuildRequest): Promise<BuiltBinary[]> {
  const { dir, mains, opts } = req;
  const env = opts.processEnv ?? process.env;
  const userEnv: Record<string, string> = {};
  for (const kv of opts.buildEnv ?? []) userEnv[kv.slice(0, kv.indexOf("="))] = kv.slice(kv.indexOf("=") + 1);
  const mode = opts.cgo ?? "auto";
  // One platform failing stops the others' compilers (their output would be thrown away).
  const stop = new AbortController();
  const one = async (p: Platform): Promise<BuiltBinary[]> => {
    const plat = formatPlatform(p);
    const arch = goArchEnv(p);
    let cgo: "off" | "static" | "bundle" = "off";
    if (mode === "static" || mode === "bundle") cgo = mode;
    else {
      const needs = await cgoPackages(dir, mains, p, env);
      if (needs.length > 0) {
        if (mode === "off")
          throw err(
            "CGO_REQUIRED",
            `${needs[0]} uses cgo${needs.length > 1 ? ` (and ${needs.length - 1} more packages)` : ""}, and --cgo off builds with CGO_ENABLED=0: fix: --cgo static (or auto)`,
          );
        cgo = "static";
        req.onCgo?.(plat, needs, "static");
      }
    }
    const plan = cgo === "off" ? { env: {}, ldflags: [], tags: [] } : cgoPlan(p, cgo, env, userEnv);
    if (cgo === "bundle") req.onCgo?.(plat, await cgoPackages(dir, mains, p, env), "bundle");
    const set: Record<string, string> = {
      ...arch,
      CGO_ENABLED: cgo === "off" ? "0" : "1",
      ...plan.env,
      ...userEnv,
    };
    const ld = [...(opts.noStrip ? [] : ["-s", "-w"]), ...plan.ldflags, ...req.ldflags];
    const userFlags = opts.buildFlags ?? [];
    const userTags = userFlags.some((f) => /^--?tags(=|$)/.test(f));
    const out = join(req.outDir, plat.replace(/\//g, "-"));
    const argv = [
      "go",
      "build",
      "-o",
      `${out}/`,
      ...(opts.noTrimpath ? [] : ["-trimpath"]),
      "-buildvcs=auto",
      ...(ld.length ? [`-ldflags=${ld.join(" ")}`] : []),
      ...(plan.tags.length && !userTags ? [`-tags=${plan.tags.join(",")}`] : []),
      ...userFlags,
      "--",
      ...mains.map((m) => m.importPath),
    ];
    opts.onCommand?.(argv, set);
    const r = await runTool(argv, { cwd: dir, env: goEnv(env, set), signal: stop.signal });
    if (r.code !== 0)
      throw err(
        "COMPILE_FAILED",
        `${dir}: go build failed (${plat}): ${shortenCompilerOutput(r.stderr) || `exit ${r.code}`}`,
      );
    return mains.map((m) => ({
      name: m.name,
      language: "go" as const,
      target: m.importPath,
      platform: plat,
      file: join(out, m.name),
      command: argv,
      env: set,
      cgo,
    }));
  };
  const results = await Promise.all(
    req.platforms.map((p) =>
      one(p).catch((e: unknown) => {
        stop.abort();
        throw e;
      }),
    ),
  );
  return results.flat();
}
