/**
 * Makes a case real: its tree in a directory (a chroot root, or the content of an image's layer),
 * its image (umoci, or `zerodep pack`), and runs it (chroot in a fresh network namespace, or podman +
 * runc with one state directory for the whole run). Everything lives under one work directory whose
 * path is lower case (podman's oci: transport refuses upper case) and is removed at the end.
 */
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cliPath } from "../helpers/cli.js";
import { fixture } from "../helpers/env.js";
import { dir, host, link } from "../helpers/roots.js";
import type { Case, ImageConfig, Program, ScriptKind } from "./cases.js";
import { type Exec, exec } from "./exec.js";
import { mutate } from "./mutants.js";
import { buildTree, type TreeSpec, treeName } from "./trees.js";

/** The text a program of the matrix prints last when it really ran. */
export function ranMarker(p: Program): string {
  // The build.sh fixtures are hello programs ("hello from zerodep (libzd) …").
  return p.kind === "fixture" ? "hello from zerodep" : "probe end";
}

const SCRIPT_BODY = "echo probe start sh\necho probe end\n";
const SCRIPTS: Record<ScriptKind, string> = {
  sh: `#!/bin/sh\n${SCRIPT_BODY}`,
  env: `#!/usr/bin/env sh\n${SCRIPT_BODY}`,
  // The kernel takes the interpreter up to the newline, so it looks for "/bin/sh\r".
  crlf: `#!/bin/sh\r\n${SCRIPT_BODY.replace(/\n/g, "\r\n")}`,
  "missing-interp": `#!/opt/none/sh\n${SCRIPT_BODY}`,
  // execve(2) answers ENOEXEC; only execvp-style callers fall back to /bin/sh.
  "no-shebang": SCRIPT_BODY,
};

export class Workspace {
  readonly base: string;
  private n = 0;
  constructor(
    base: string,
    readonly probes: Map<string, string>,
  ) {
    this.base = base;
    mkdirSync(base, { recursive: true });
  }

  fresh(prefix: string): string {
    const d = join(this.base, `${prefix}${this.n++}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** A host file holding the program's bytes (mutants and scripts are written once, on demand). */
  programFile(p: Program): string {
    switch (p.kind) {
      case "probe":
        return this.probes.get(p.name)!;
      case "fixture":
        return fixture(p.name);
      case "mutant": {
        const f = join(this.base, "programs", `${p.of}~${p.mutation}`);
        mkdirSync(dirname(f), { recursive: true });
        const b = mutate(this.probes.get(p.of)!, p.mutation);
        if (!b) throw new Error(`mutation ${p.mutation} does not apply to ${p.of}`);
        writeFileSync(f, b);
        return f;
      }
      case "script": {
        const f = join(this.base, "programs", `script-${p.script}`);
        mkdirSync(dirname(f), { recursive: true });
        writeFileSync(f, SCRIPTS[p.script]);
        return f;
      }
    }
  }

  /** The case's tree in a new directory: base, runtime files, the program, links, copies, libraries. */
  tree(c: Case): string {
    const root = this.fresh("root");
    buildTree(root, c.tree);
    const prog = this.programFile(c.program);
    putFile(root, prog, c.at, c.mode ?? 0o755);
    for (const [p, mode] of c.copies ?? []) putFile(root, prog, p, mode);
    for (const d of c.dirs ?? []) dir(root, d);
    for (const [p, target] of c.links ?? []) link(root, p, target);
    for (const [name, p] of c.libs ?? []) putFile(root, fixture(name), p, 0o644);
    return root;
  }
}

function putFile(root: string, from: string, inRoot: string, mode: number): void {
  mkdirSync(dirname(host(root, inRoot)), { recursive: true });
  copyFileSync(from, host(root, inRoot));
  chmodSync(host(root, inRoot), mode);
}

// ---------------------------------------------------------------------------------------------------
// Images

async function must(argv: string[]): Promise<Exec> {
  const r = await exec(argv, { timeoutMs: 120_000 });
  if (r.status !== 0) throw new Error(`${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r;
}

/**
 * An image whose only layer is `root`, with `config`. Made with umoci unpack + cp -a + repack (modes,
 * links and directories kept): umoci 0.4.7's `insert` writes a layer tar that ends in the middle of
 * its last file's padding, without the two zero blocks (GNU tar: "Unexpected EOF in archive").
 */
export async function umociImage(
  layout: string,
  tag: string,
  root: string,
  config: ImageConfig,
): Promise<string> {
  const ref = `${layout}:${tag}`;
  const bundle = `${layout}-bundle-${tag}`;
  if (!existsSync(layout)) await must(["umoci", "init", "--layout", layout]);
  await must(["umoci", "new", "--image", ref]);
  await must(["umoci", "unpack", "--image", ref, bundle]);
  await must(["cp", "-a", `${root}/.`, `${bundle}/rootfs/`]);
  await must(["umoci", "repack", "--image", ref, bundle]);
  rmSync(bundle, { recursive: true, force: true });
  const args: string[] = [];
  for (const e of config.entrypoint ?? []) args.push("--config.entrypoint", e);
  for (const e of config.cmd ?? []) args.push("--config.cmd", e);
  for (const e of config.env ?? []) args.push("--config.env", e);
  if (config.user) args.push("--config.user", config.user);
  if (config.workdir) args.push("--config.workingdir", config.workdir);
  if (args.length > 0) await must(["umoci", "config", "--image", ref, ...args]);
  return `oci:${ref}`;
}

export interface Packed {
  image: string;
  /** Exit status of pack without --force: 0 written, 1 refused by the safety net. */
  safetyNet: number | null;
  safetyOutput: string;
}

/** `zerodep pack` without --force (the safety net's verdict), then with --force when it refused. */
export async function packImage(
  ws: Workspace,
  layout: string,
  tag: string,
  c: Case,
  baseImage: string | null,
): Promise<Packed> {
  const prog = ws.programFile(c.program);
  const out = `oci:${layout}:${tag}`;
  const args = [
    process.execPath,
    cliPath,
    "pack",
    prog,
    "--out",
    out,
    "--path",
    c.at,
    ...(c.run.via === "pack" ? c.run.args : []),
  ];
  if (baseImage) args.push("--base", baseImage);
  const first = await exec(args, { timeoutMs: 120_000 });
  if (first.status !== 0 && first.status !== 1)
    throw new Error(`${args.join(" ")} exited ${first.status}: ${first.stderr}`);
  if (first.status === 1) await must([...args, "--force"]);
  return { image: out, safetyNet: first.status, safetyOutput: first.stderr + first.stdout };
}

export function baseTag(t: TreeSpec): string {
  return `base-${treeName(t).replace(/[^a-z0-9]+/g, "-")}`;
}

// ---------------------------------------------------------------------------------------------------
// Reality

const PODMAN_GLOBAL = (state: string) => [
  "--root",
  join(state, "root"),
  "--runroot",
  join(state, "runroot"),
  "--storage-driver",
  "vfs",
  "--runtime",
  "runc",
  "--cgroup-manager",
  "cgroupfs",
  "--events-backend",
  "file",
  "--tmpdir",
  join(state, "tmp"),
];

/** podman run --rm of an oci: image, no network, bounded (the image is copied into vfs storage first). */
export async function podmanRun(state: string, image: string): Promise<Exec> {
  for (const d of ["root", "runroot", "tmp"]) mkdirSync(join(state, d), { recursive: true });
  const limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];
  // --no-hosts: podman would bind-mount its own /etc/hosts over the image's, and the image's file is
  // what check judges (the probe's "hosts" line looks up a name only the image's file has).
  const flags = ["--rm", "--network", "none", "--no-hosts", ...limits];
  return exec(["podman", ...PODMAN_GLOBAL(state), "run", ...flags, image], {
    timeoutMs: 90_000,
  });
}

/**
 * `podman build` of `context` (FROM scratch, COPY . /, `lines`) tagged `name`, saved to an oci-archive
 * that zerodep reads; returns the archive reference. podman runs the image by `name`.
 */
export async function podmanBuild(
  state: string,
  context: string,
  lines: string[],
  name: string,
): Promise<string> {
  for (const d of ["root", "runroot", "tmp"]) mkdirSync(join(state, d), { recursive: true });
  const file = `${context}.containerfile`;
  writeFileSync(file, ["FROM scratch", "COPY . /", ...lines, ""].join("\n"));
  const g = PODMAN_GLOBAL(state);
  await must(["podman", ...g, "build", "--network", "none", "-t", name, "-f", file, context]);
  const archive = `${context}.oci.tar`;
  await must(["podman", ...g, "save", "--format", "oci-archive", "-o", archive, name]);
  return `oci-archive:${archive}`;
}

/** Removes the images podman copied into its storage (vfs keeps a full copy of each). */
export async function podmanCleanup(state: string): Promise<void> {
  await exec(["podman", ...PODMAN_GLOBAL(state), "rmi", "--all", "--force"], { timeoutMs: 120_000 });
}

/** chroot(8) into `root` as root, in a network namespace of its own (as podman's --network none). */
export function chrootRun(root: string, argv0: string): Promise<Exec> {
  return exec(["unshare", "--net", "chroot", root, argv0], {
    env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
    timeoutMs: 20_000,
  });
}
