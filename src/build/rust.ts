import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { clip, UsageError, ZerodepError } from "../errors.js";
import { formatPlatform } from "../oci/platform.js";
import type { Platform } from "../oci/types.js";
import type { BuildCode } from "./codes.js";
import { onPath, runTool, shortenCompilerOutput } from "./exec.js";
import type { BuildOptions, BuiltBinary } from "./types.js";

/** What `zerodep build` asks of Cargo: some (or all) binaries of one package or workspace, for some platforms. */
export interface RustBuildRequest {
  /** The Cargo package or workspace directory (has Cargo.toml). */
  dir: string;
  /** [[bin]] names; [] = every bin target of the package (a virtual workspace: of every member). */
  targets: string[];
  platforms: Platform[];
  /** noStrip, noTrimpath, buildFlags, buildEnv, processEnv, onCommand, sourceDateEpoch, cgo ("bundle": gnu). */
  opts: BuildOptions;
  signal?: AbortSignal;
}

/** Whether `dir` is a Cargo package or workspace root. */
export function isCargoProject(dir: string): boolean {
  try {
    return statSync(join(dir, "Cargo.toml")).isFile();
  } catch {
    return false;
  }
}

type Libc = "musl" | "gnu";

/**
 * OCI platform → rustup target. Only targets rustup ships a standard library for (tier 1 and 2), so that
 * `rustup target add` is a fix that works; arm without a variant is v7, as containerd normalises.
 */
const TRIPLES: Record<string, Partial<Record<Libc, string>>> = {
  amd64: { musl: "x86_64-unknown-linux-musl", gnu: "x86_64-unknown-linux-gnu" },
  arm64: { musl: "aarch64-unknown-linux-musl", gnu: "aarch64-unknown-linux-gnu" },
  "arm64/v8": { musl: "aarch64-unknown-linux-musl", gnu: "aarch64-unknown-linux-gnu" },
  arm: { musl: "armv7-unknown-linux-musleabihf", gnu: "armv7-unknown-linux-gnueabihf" },
  "arm/v7": { musl: "armv7-unknown-linux-musleabihf", gnu: "armv7-unknown-linux-gnueabihf" },
  "arm/v6": { musl: "arm-unknown-linux-musleabihf", gnu: "arm-unknown-linux-gnueabihf" },
  "386": { musl: "i686-unknown-linux-musl", gnu: "i686-unknown-linux-gnu" },
  riscv64: { musl: "riscv64gc-unknown-linux-musl", gnu: "riscv64gc-unknown-linux-gnu" },
  ppc64le: { musl: "powerpc64le-unknown-linux-musl", gnu: "powerpc64le-unknown-linux-gnu" },
  s390x: { gnu: "s390x-unknown-linux-gnu" },
};

/** The rustup target for a platform and libc; PLATFORM_UNSUPPORTED (a usage error) for anything else. */
export function rustTriple(p: Platform, libc: Libc): string {
  const key = p.variant ? `${p.architecture}/${p.variant}` : p.architecture;
  const triple = p.os === "linux" ? TRIPLES[key]?.[libc] : undefined;
  if (triple === undefined) {
    throw new UsageError(
      "PLATFORM_UNSUPPORTED" satisfies BuildCode,
      `${clip(formatPlatform(p))}: no Rust ${libc} target for this platform (supported: ${Object.keys(TRIPLES)
        .filter((k) => TRIPLES[k]![libc])
        .map((k) => `linux/${k}`)
        .join(", ")})`,
    );
  }
  return triple;
}

/** The C cross compiler Debian's gcc-<arch>-linux-gnu packages install, for gnu targets on a foreign host. */
const GNU_CC: Record<string, string> = {
  "x86_64-unknown-linux-gnu": "x86_64-linux-gnu-gcc",
  "aarch64-unknown-linux-gnu": "aarch64-linux-gnu-gcc",
  "armv7-unknown-linux-gnueabihf": "arm-linux-gnueabihf-gcc",
  "arm-unknown-linux-gnueabihf": "arm-linux-gnueabihf-gcc",
  "i686-unknown-linux-gnu": "i686-linux-gnu-gcc",
  "riscv64gc-unknown-linux-gnu": "riscv64-linux-gnu-gcc",
  "powerpc64le-unknown-linux-gnu": "powerpc64le-linux-gnu-gcc",
  "s390x-unknown-linux-gnu": "s390x-linux-gnu-gcc",
};

/** One [[bin]] of a workspace member, from `cargo metadata`. */
interface CargoBin {
  name: string;
  pkg: string;
  manifest: string;
}

interface CargoMetadata {
  bins: CargoBin[];
  /** Manifests of the workspace members (a virtual workspace root is not among them). */
  packageManifests: Set<string>;
  workspaceRoot: string;
  targetDir: string;
}

/** `cargo metadata` output can be large for big workspaces, but not this large. */
const MAX_METADATA = 4 << 20;

/**
 * Builds each requested [[bin]] for each platform with cargo (or `cargo auditable` when it is installed,
 * so the dependency list stays in the binary's .dep-v0 section): a static musl binary by default, a
 * dynamic gnu one with `cgo: "bundle"` (its libraries are bundled by pack). One cargo run per platform.
 * The flags make the binary a function of the source and the toolchain only: the project directory,
 * CARGO_HOME and the target directory are remapped, symbols are stripped.
 */
export async function buildRust(req: RustBuildRequest): Promise<BuiltBinary[]> {
  const dir = resolve(req.dir);
  if (!isCargoProject(dir)) {
    throw new ZerodepError(
      "NO_PROJECT" satisfies BuildCode,
      `${dir}: no Cargo.toml (not a Cargo package or workspace)`,
    );
  }
  const { opts } = req;
  const libc: Libc = opts.cgo === "bundle" ? "gnu" : "musl";
  const plats = req.platforms.map((p) => ({ platform: formatPlatform(p), triple: rustTriple(p, libc) }));
  const env = toolEnv(opts);
  const run = (argv: string[]) =>
    runTool(argv, { cwd: dir, env, ...(req.signal ? { signal: req.signal } : {}) });

  const meta = await readMetadata(dir, run);
  const bins = selectBins(dir, meta, req.targets);

  const sysroot = await rustSysroot(dir, run);
  for (const { platform, triple } of plats) {
    if (!existsSync(join(sysroot.sysroot, "lib", "rustlib", triple, "lib"))) {
      throw new ZerodepError(
        "RUST_TARGET_MISSING" satisfies BuildCode,
        `${dir}: the Rust target ${triple} (for ${platform}) is not installed in ${sysroot.sysroot}: fix: rustup target add ${triple}`,
      );
    }
  }

  const auditable = (await run(["cargo", "auditable", "--version"])).code === 0;
  const locked = existsSync(join(meta.workspaceRoot, "Cargo.lock"));
  const built: BuiltBinary[] = [];
  for (const { platform, triple } of plats) {
    const setEnv: Record<string, string> = {};
    for (const e of opts.buildEnv ?? []) {
      const [k, v] = splitEnv(e);
      setEnv[k] = v;
    }
    setEnv.CARGO_ENCODED_RUSTFLAGS = rustflags(opts, env, meta, dir).join("\x1f");
    if (opts.sourceDateEpoch !== undefined) setEnv.SOURCE_DATE_EPOCH = String(opts.sourceDateEpoch);
    const linkerVar = `CARGO_TARGET_${triple.toUpperCase().replace(/-/g, "_")}_LINKER`;
    if (triple.split("-")[0] !== sysroot.host.split("-")[0] && !env[linkerVar] && !setEnv[linkerVar]) {
      setEnv[linkerVar] = crossLinker(dir, triple, platform, libc, env);
    }
    const argv = [
      "cargo",
      ...(auditable ? ["auditable"] : []),
      "build",
      "--release",
      ...(locked ? ["--locked"] : []),
      "--target",
      triple,
      ...[...new Set(bins.map((b) => b.pkg))].flatMap((p) => ["-p", p]),
      ...bins.flatMap((b) => ["--bin", b.name]),
      ...(opts.buildFlags ?? []),
    ];
    opts.onCommand?.(argv, setEnv);
    const r = await runTool(argv, {
      cwd: dir,
      env: { ...env, ...setEnv },
      ...(req.signal ? { signal: req.signal } : {}),
    });
    if (r.code !== 0) {
      throw new ZerodepError(
        "COMPILE_FAILED" satisfies BuildCode,
        `${dir}: cargo build failed for ${triple}: ${compilerErrors(r.stderr)}`,
      );
    }
    for (const b of bins) {
      const file = join(meta.targetDir, triple, "release", b.name);
      if (!existsSync(file)) {
        throw new ZerodepError(
          "COMPILE_FAILED" satisfies BuildCode,
          `${dir}: cargo build succeeded but wrote no ${file} (a custom profile or target directory?)`,
        );
      }
      built.push({
        name: b.name,
        language: "rust",
        target: b.name,
        platform,
        file,
        command: argv,
        env: setEnv,
        cgo: libc === "musl" ? "off" : "bundle",
      });
    }
  }
  return built;
}

/** The toolchains' environment: the caller's (default process.env) plus the user's --build-env. */
function toolEnv(opts: BuildOptions): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...(opts.processEnv ?? process.env) };
  for (const e of opts.buildEnv ?? []) {
    const [k, v] = splitEnv(e);
    env[k] = v;
  }
  return env;
}

function splitEnv(e: string): [string, string] {
  const i = e.indexOf("=");
  if (i <= 0)
    throw new UsageError("PROJECT_FILE" satisfies BuildCode, `build env "${clip(e)}": expected KEY=VALUE`);
  return [e.slice(0, i), e.slice(i + 1)];
}

/**
 * The rustc flags for every crate of the target (cargo applies CARGO_ENCODED_RUSTFLAGS to target crates
 * only when --target is given, so build scripts and proc macros are unaffected). Ours first, then the
 * user's RUSTFLAGS / CARGO_ENCODED_RUSTFLAGS, so the user can override any of them. Like any RUSTFLAGS,
 * this replaces `build.rustflags` / `target.<triple>.rustflags` of .cargo/config.toml (cargo reads only
 * one source of rustflags).
 */
function rustflags(
  opts: BuildOptions,
  env: Record<string, string | undefined>,
  meta: CargoMetadata,
  dir: string,
): string[] {
  const flags: string[] = [];
  if (!opts.noTrimpath) {
    const home = env.CARGO_HOME
      ? resolve(dir, env.CARGO_HOME)
      : env.HOME
        ? join(env.HOME, ".cargo")
        : undefined;
    const remaps: [string, string][] = [[meta.workspaceRoot, "/build"]];
    if (home) remaps.push([home, "/cargo"]);
    // build scripts' OUT_DIR lives here, and include!(concat!(env!("OUT_DIR"), …)) puts it in panic messages
    remaps.push([meta.targetDir, "/target"]);
    // rustc applies the last matching --remap-path-prefix: the most specific (longest) prefix goes last
    remaps.sort((a, b) => a[0].length - b[0].length);
    for (const [from, to] of remaps) flags.push(`--remap-path-prefix=${from}=${to}`);
  }
  if (!opts.noStrip) flags.push("-C", "strip=symbols");
  if (env.CARGO_ENCODED_RUSTFLAGS) flags.push(...env.CARGO_ENCODED_RUSTFLAGS.split("\x1f"));
  else if (env.RUSTFLAGS?.trim()) flags.push(...env.RUSTFLAGS.trim().split(/\s+/));
  return flags;
}

/**
 * The linker for a foreign architecture: musl targets link with the rust-lld that rustup ships and
 * musl's self-contained crt and libc (no cross gcc needed); gnu targets need the target's gcc and glibc.
 */
function crossLinker(
  dir: string,
  triple: string,
  platform: string,
  libc: Libc,
  env: Record<string, string | undefined>,
): string {
  if (libc === "musl") return "rust-lld";
  const cc = GNU_CC[triple];
  if (cc && onPath(cc, env)) return cc;
  throw new ZerodepError(
    "CGO_NO_TOOLCHAIN" satisfies BuildCode,
    `${dir}: a gnu build for ${platform} needs a C cross compiler for ${triple} (${cc ?? "none known"} not on PATH): fix: install ${cc ? `gcc-${cc.replace(/-gcc$/, "")}` : "one"}, or build static musl binaries without --cgo bundle`,
  );
}

async function rustSysroot(
  dir: string,
  run: (argv: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
): Promise<{ sysroot: string; host: string }> {
  // run in the project directory: a rust-toolchain.toml there selects the toolchain cargo will use
  const s = await run(["rustc", "--print", "sysroot"]);
  const v = await run(["rustc", "-vV"]);
  const sysroot = s.stdout.trim();
  const host = /^host: (\S+)$/m.exec(v.stdout)?.[1];
  if (s.code !== 0 || !isAbsolute(sysroot) || host === undefined) {
    throw new ZerodepError(
      "TOOLCHAIN_MISSING" satisfies BuildCode,
      `${dir}: rustc does not work here: ${shortenCompilerOutput(s.stderr + v.stderr) || "no sysroot printed"}: fix: rustup default stable`,
    );
  }
  return { sysroot, host };
}

/** `cargo metadata --no-deps`: the workspace members' bin targets, the workspace root and the target dir. */
async function readMetadata(
  dir: string,
  run: (argv: string[]) => Promise<{ code: number | null; stdout: string; stderr: string }>,
): Promise<CargoMetadata> {
  const r = await run(["cargo", "metadata", "--format-version", "1", "--no-deps"]);
  if (r.code !== 0) {
    throw new ZerodepError(
      "NO_PROJECT" satisfies BuildCode,
      `${dir}: cargo metadata failed: ${compilerErrors(r.stderr)}`,
    );
  }
  const bad = (why: string) =>
    new ZerodepError(
      "NO_PROJECT" satisfies BuildCode,
      `${dir}: cargo metadata printed unexpected output: ${why}`,
    );
  if (r.stdout.length > MAX_METADATA) throw bad(`more than ${MAX_METADATA} bytes`);
  let doc: unknown;
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw bad("not JSON");
  }
  if (!isObject(doc)) throw bad("not a JSON object");
  const { packages, workspace_root, target_directory } = doc;
  if (
    !Array.isArray(packages) ||
    typeof workspace_root !== "string" ||
    typeof target_directory !== "string"
  ) {
    throw bad("no packages, workspace_root or target_directory");
  }
  const members = new Set(Array.isArray(doc.workspace_members) ? doc.workspace_members : []);
  const bins: CargoBin[] = [];
  const packageManifests = new Set<string>();
  for (const p of packages) {
    if (!isObject(p) || typeof p.name !== "string" || typeof p.manifest_path !== "string") continue;
    if (members.size > 0 && !members.has(p.id)) continue;
    packageManifests.add(p.manifest_path);
    for (const t of Array.isArray(p.targets) ? p.targets : []) {
      if (!isObject(t) || typeof t.name !== "string" || !Array.isArray(t.kind) || !t.kind.includes("bin"))
        continue;
      bins.push({ name: t.name, pkg: p.name, manifest: p.manifest_path });
    }
  }
  return { bins, packageManifests, workspaceRoot: workspace_root, targetDir: target_directory };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Which bins to build. None named: the package's own bins when `dir` is a package (cargo builds only the
 * root package there too), every member's when it is a virtual workspace. Named: looked up among all
 * members, so `server` finds the bin in whichever member has it.
 */
function selectBins(dir: string, meta: CargoMetadata, targets: string[]): CargoBin[] {
  const manifest = join(dir, "Cargo.toml");
  const pool = meta.packageManifests.has(manifest)
    ? meta.bins.filter((b) => b.manifest === manifest)
    : meta.bins;
  if (targets.length === 0) {
    if (pool.length === 0) {
      throw new ZerodepError(
        "NO_BINARY_TARGET" satisfies BuildCode,
        `${dir}: no binary target (a [[bin]] or src/main.rs) in this ${meta.packageManifests.has(manifest) ? "package" : "workspace"}`,
      );
    }
    return pool;
  }
  const out: CargoBin[] = [];
  for (const t of targets) {
    const hits = meta.bins.filter((b) => b.name === t);
    if (hits.length === 0) {
      const known = [...new Set(meta.bins.map((b) => b.name))];
      throw new ZerodepError(
        "NO_BINARY_TARGET" satisfies BuildCode,
        `${dir}: no binary target "${clip(t)}" (known: ${known.length > 0 ? clip(known.join(", "), 400) : "none"})`,
      );
    }
    const hit = hits.find((b) => b.manifest === manifest) ?? hits[0]!;
    if (!out.some((b) => b.name === hit.name)) out.push(hit);
  }
  return out;
}

/**
 * cargo's stderr cut to its errors, one line: each `error…:` headline with the place its `-->` line
 * names (warnings and source excerpts dropped), then shortened like every compiler's output.
 */
function compilerErrors(stderr: string): string {
  const lines = stderr.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!.trimEnd();
    if (!/^error(\[E\d+\])?:/.test(l)) continue;
    const at = /^\s*--> (.+)$/.exec(lines[i + 1] ?? "")?.[1];
    out.push(at ? `${l} (${at.trim()})` : l);
  }
  return shortenCompilerOutput(out.length > 0 ? out.join("\n") : stderr);
}
