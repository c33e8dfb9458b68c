/**
 * The reality matrix as data: every case is a program (a probe, a broken copy of one, a script, a
 * fixture), a file tree, where the program sits, and how it is run for real (chroot, an image made by
 * umoci, an image made by `zerodep pack`). The product is enumerated here; nothing in this file
 * knows the expected outcome — reality decides (test/reality/matrix.test.ts).
 */
import { MUTATIONS, type Mutation } from "./mutants.js";
import { ALL_PARTS, type Part, type TreeSpec, treeName } from "./trees.js";

export type ScriptKind = "sh" | "env" | "crlf" | "missing-interp" | "no-shebang";

export type Program =
  | { kind: "probe"; name: string }
  | { kind: "mutant"; of: string; mutation: Mutation }
  | { kind: "script"; script: ScriptKind }
  /** A binary from test/fixtures/build.sh (test/fixtures/out/NAME). */
  | { kind: "fixture"; name: string };

export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  user?: string;
  workdir?: string;
}

export type Run =
  /** `chroot ROOT ARGV0` in a network namespace of its own, as root. */
  | { via: "chroot"; argv0: string }
  /** The tree as the only layer of an image (umoci new + insert + config), run by podman. */
  | { via: "umoci"; config: ImageConfig }
  /** `zerodep pack PROGRAM ARGS… [--base <tree as an umoci image>]`, run by podman. */
  | { via: "pack"; args: string[]; base?: TreeSpec }
  /**
   * `podman build` of the tree (`FROM scratch`, `COPY . /`, then `lines`), saved as an oci-archive
   * for zerodep; podman runs the built image. Slow with vfs: a handful of cases only.
   */
  | { via: "podman-build"; lines: string[] };

export interface Case {
  id: string;
  program: Program;
  tree: TreeSpec;
  /** Where the program file is put in the tree (not used by pack). */
  at: string;
  /** File mode of the program (default 0755). */
  mode?: number;
  /** Symbolic links [path, target] and directories added to the tree. */
  links?: [string, string][];
  dirs?: string[];
  /** Further copies of the program file [path, mode] (PATH candidates). */
  copies?: [string, number][];
  /** Fixture libraries [fixture name, in-tree path]. */
  libs?: [string, string][];
  run: Run;
}

export const PROBES = [
  "go-probe",
  "go-probe-sw",
  "go-probe-pie",
  "go-probe-pie-ext",
  "go-probe-cgo",
  "c-probe",
  "c-probe-static",
  "c-probe-static-pie",
  "c-probe-32",
  "musl-probe",
  "musl-probe-static",
  "rust-probe",
  "rust-probe-musl",
];

const t = (base: TreeSpec["base"], parts: Part[] = []): TreeSpec => ({ base, parts });
const all = (base: TreeSpec["base"]) => t(base, ALL_PARTS);
const allBut = (base: TreeSpec["base"], p: Part) =>
  t(
    base,
    ALL_PARTS.filter((x) => x !== p),
  );

/** Which base runs each probe when every runtime file is there (for the need-isolation cases). */
const HOME_BASE: Record<string, TreeSpec["base"]> = {
  "go-probe": "empty",
  "go-probe-sw": "empty",
  "c-probe-static": "empty",
  "c-probe-static-pie": "empty",
  "musl-probe-static": "empty",
  "rust-probe-musl": "empty",
  "go-probe-pie": "glibc",
  "go-probe-pie-ext": "glibc",
  "go-probe-cgo": "glibc",
  "c-probe": "glibc",
  "rust-probe": "glibc",
  "musl-probe": "musl",
  "c-probe-32": "i386",
};

function programName(p: Program): string {
  switch (p.kind) {
    case "probe":
    case "fixture":
      return p.name;
    case "mutant":
      return `${p.of}~${p.mutation}`;
    case "script":
      return `script-${p.script}`;
  }
}

/** Enumerates every case. Ids are unique and stable (they name the case in reports). */
export function enumerateCases(): Case[] {
  const cases: Case[] = [];
  const add = (label: string, c: Omit<Case, "id">) => {
    cases.push({ ...c, id: `${c.run.via}/${programName(c.program)}/${label}` });
  };

  // A. every probe in every kind of root, by chroot.
  const rootTrees = [
    t("empty"),
    all("empty"),
    t("glibc"),
    all("glibc"),
    all("glibc-host"),
    t("musl"),
    all("musl"),
    all("i386"),
    all("glibc-i386-libc"),
  ];
  for (const name of PROBES)
    for (const tree of rootTrees)
      add(treeName(tree), {
        program: { kind: "probe", name },
        tree,
        at: `/app/${name}`,
        run: { via: "chroot", argv0: `/app/${name}` },
      });

  // A'. the i386 probe where the only libc.so.6 for its loader is an x86-64 one.
  for (const via of ["chroot", "umoci"] as const) {
    const tree = all("i386-amd64-libc");
    add(treeName(tree), {
      program: { kind: "probe", name: "c-probe-32" },
      tree,
      at: "/app/c-probe-32",
      run:
        via === "chroot"
          ? { via, argv0: "/app/c-probe-32" }
          : { via, config: { entrypoint: ["/app/c-probe-32"] } },
    });
  }

  // B. each runtime file missing alone, in the root where the probe otherwise runs.
  for (const name of PROBES)
    for (const p of ALL_PARTS) {
      const tree = allBut(HOME_BASE[name]!, p);
      add(treeName(tree), {
        program: { kind: "probe", name },
        tree,
        at: `/app/${name}`,
        run: { via: "chroot", argv0: `/app/${name}` },
      });
    }

  // C. truncated and corrupted copies, in a root where the intact binary runs. PT_INTERP exists only
  // in dynamically linked ones, PT_DYNAMIC also in static-pie ones (readelf -l of the probes).
  const hasInterp = new Set(["go-probe-cgo", "c-probe", "musl-probe"]);
  const hasDynamic = new Set([...hasInterp, "rust-probe-musl"]);
  for (const of of [
    "go-probe",
    "go-probe-sw",
    "go-probe-cgo",
    "c-probe",
    "c-probe-static",
    "musl-probe",
    "musl-probe-static",
    "rust-probe-musl",
  ])
    for (const mutation of MUTATIONS) {
      if (mutation === "interp-outside" && !hasInterp.has(of)) continue;
      if (mutation === "dynamic-outside" && !hasDynamic.has(of)) continue;
      const tree = all(HOME_BASE[of] === "musl" ? "musl" : "glibc");
      const c = { program: { kind: "mutant", of, mutation } as Program, tree, at: "/app/prog" };
      add(treeName(tree), { ...c, run: { via: "umoci", config: { entrypoint: ["/app/prog"] } } });
      // chroot(1) calls execvp, which answers ENOEXEC by running the file with /bin/sh: its message
      // for a non-ELF or foreign-machine file is about /bin/sh, not the kernel's. runc calls execve.
      if (mutation !== "bad-magic" && mutation !== "bad-machine")
        add(treeName(tree), { ...c, run: { via: "chroot", argv0: "/app/prog" } });
    }

  // D. not executable (mode 0644), by chroot and in an image.
  for (const name of ["go-probe", "c-probe", "musl-probe-static", "rust-probe"]) {
    const tree = all("glibc");
    add(`${treeName(tree)}/mode-0644`, {
      program: { kind: "probe", name },
      tree,
      at: `/app/${name}`,
      mode: 0o644,
      run: { via: "chroot", argv0: `/app/${name}` },
    });
    add(`${treeName(tree)}/mode-0644`, {
      program: { kind: "probe", name },
      tree,
      at: `/app/${name}`,
      mode: 0o644,
      run: { via: "umoci", config: { entrypoint: [`/app/${name}`] } },
    });
  }

  // E. scripts, with and without a shell in the tree.
  const scripts: ScriptKind[] = ["sh", "env", "crlf", "missing-interp", "no-shebang"];
  for (const script of scripts)
    for (const tree of [all("busybox"), all("empty")]) {
      if (script !== "no-shebang")
        add(treeName(tree), {
          program: { kind: "script", script },
          tree,
          at: "/app/run.sh",
          run: { via: "chroot", argv0: "/app/run.sh" },
        });
      add(treeName(tree), {
        program: { kind: "script", script },
        tree,
        at: "/app/run.sh",
        run: { via: "umoci", config: { entrypoint: ["/app/run.sh"] } },
      });
    }

  // F. entrypoint forms: links, directories, PATH, working directory.
  const gp: Program = { kind: "probe", name: "go-probe" };
  const base = all("empty");
  const forms: { label: string; c: Partial<Case>; config: ImageConfig; chroot?: string }[] = [
    { label: "entry-dir", c: {}, config: { entrypoint: ["/app"] }, chroot: "/app" },
    {
      label: "link-rel",
      c: { links: [["/app/run", "go-probe"]] },
      config: { entrypoint: ["/app/run"] },
      chroot: "/app/run",
    },
    {
      // No chroot twin for absolute links: check FILE takes a host path, which the host would follow.
      label: "link-abs",
      c: { links: [["/app/run", "/app/go-probe"]] },
      config: { entrypoint: ["/app/run"] },
    },
    {
      label: "link-up",
      c: { links: [["/bin/run", "../app/go-probe"]] },
      config: { entrypoint: ["/bin/run"] },
      chroot: "/bin/run",
    },
    {
      label: "link-dangling",
      c: { links: [["/app/run", "/app/nothing"]] },
      config: { entrypoint: ["/app/run"] },
      chroot: "/app/run",
    },
    {
      label: "link-loop",
      c: {
        links: [
          ["/app/a", "b"],
          ["/app/b", "a"],
        ],
      },
      config: { entrypoint: ["/app/a"] },
      chroot: "/app/a",
    },
    {
      label: "link-to-dir",
      c: { links: [["/app/run", "/tmp"]] },
      config: { entrypoint: ["/app/run"] },
    },
    { label: "absent", c: {}, config: { entrypoint: ["/app/absent"] }, chroot: "/app/absent" },
    { label: "bare-path-app", c: {}, config: { entrypoint: ["go-probe"], env: ["PATH=/usr/bin:/app"] } },
    { label: "bare-no-env-path-app", c: {}, config: { entrypoint: ["go-probe"] } },
    {
      label: "bare-no-env-usr-local-bin",
      c: { at: "/usr/local/bin/go-probe" },
      config: { entrypoint: ["go-probe"] },
    },
    { label: "bare-path-missing", c: {}, config: { entrypoint: ["go-probe"], env: ["PATH=/usr/bin:/bin"] } },
    {
      label: "bare-path-nonexec-first",
      c: { copies: [["/opt/a/go-probe", 0o644]] },
      config: { entrypoint: ["go-probe"], env: ["PATH=/opt/a:/app"] },
    },
    {
      label: "bare-path-only-nonexec",
      c: { copies: [["/opt/a/go-probe", 0o644]], at: "/srv/go-probe" },
      config: { entrypoint: ["go-probe"], env: ["PATH=/opt/a"] },
    },
    {
      label: "bare-path-dir-first",
      c: { dirs: ["/opt/d/go-probe"] },
      config: { entrypoint: ["go-probe"], env: ["PATH=/opt/d:/app"] },
    },
    { label: "relative-workdir", c: {}, config: { entrypoint: ["./go-probe"], workdir: "/app" } },
    { label: "relative-no-workdir", c: {}, config: { entrypoint: ["./go-probe"] } },
    { label: "relative-sub-workdir", c: {}, config: { entrypoint: ["app/go-probe"], workdir: "/" } },
    { label: "cmd-only", c: {}, config: { cmd: ["/app/go-probe"] } },
    { label: "nothing", c: {}, config: {} },
  ];
  for (const f of forms) {
    const c = { program: gp, tree: base, at: "/app/go-probe", ...f.c };
    add(`${treeName(base)}/${f.label}`, { ...c, run: { via: "umoci", config: f.config } });
    if (f.chroot) add(`${treeName(base)}/${f.label}`, { ...c, run: { via: "chroot", argv0: f.chroot } });
  }

  // G. images packed by zerodep with each relevant option.
  const packOpts: { label: string; args: string[]; base?: TreeSpec }[] = [
    { label: "default", args: [] },
    { label: "no-ca-no-tz", args: ["--ca-certs", "none", "--tzdata", "none"] },
    { label: "user-0", args: ["--user", "0"] },
    { label: "user-1234", args: ["--user", "1234"] },
    { label: "user-nonroot", args: ["--user", "nonroot"] },
    { label: "user-appuser", args: ["--user", "appuser"] },
    { label: "bundle-libs", args: ["--bundle-libs"] },
    { label: "base-busybox-glibc", args: [], base: all("busybox-glibc") },
  ];
  for (const name of PROBES.filter((p) => p !== "c-probe-32"))
    for (const o of packOpts)
      add(o.label, {
        program: { kind: "probe", name },
        tree: t("empty"),
        at: `/app/${name}`,
        run: { via: "pack", args: o.args, ...(o.base ? { base: o.base } : {}) },
      });

  // H. the library stand-ins of test/fixtures/build.sh: libzd new, old (no ZD_2.0), i386.
  for (const [label, lib] of [
    ["libzd-new", "libzd.so.1"],
    ["libzd-old", "libzd-old.so.1"],
    ["libzd-i386", "libzd32.so.1"],
  ] as const)
    for (const via of ["chroot", "umoci"] as const) {
      const tree = all("glibc");
      add(`${treeName(tree)}/${label}`, {
        program: { kind: "fixture", name: "c-rpath" },
        tree,
        at: "/app/c-rpath",
        libs: [[lib, "/opt/zd/lib/libzd.so.1"]],
        run:
          via === "chroot"
            ? { via, argv0: "/app/c-rpath" }
            : { via, config: { entrypoint: ["/app/c-rpath"] } },
      });
    }

  // I. images made by umoci from the same roots as A, for the probes that run there and some that do not.
  for (const name of PROBES.filter((p) => p !== "c-probe-32"))
    for (const tree of [all("empty"), all("glibc"), all("musl")])
      add(treeName(tree), {
        program: { kind: "probe", name },
        tree,
        at: `/app/${name}`,
        run: { via: "umoci", config: { entrypoint: [`/app/${name}`], user: "65532:65532" } },
      });

  // J. a few images built by podman itself from FROM scratch Containerfiles.
  const built: { name: string; tree: TreeSpec; label: string; lines: string[] }[] = [
    { name: "go-probe", tree: all("empty"), label: "entrypoint", lines: ['ENTRYPOINT ["/app/go-probe"]'] },
    { name: "c-probe", tree: all("empty"), label: "entrypoint", lines: ['ENTRYPOINT ["/app/c-probe"]'] },
    {
      name: "c-probe",
      tree: all("glibc"),
      label: "user-1234",
      lines: ['ENTRYPOINT ["/app/c-probe"]', "USER 1234"],
    },
    {
      name: "go-probe",
      tree: all("empty"),
      label: "user-appuser",
      lines: ['ENTRYPOINT ["/app/go-probe"]', "USER appuser"],
    },
  ];
  for (const b of built)
    add(`${treeName(b.tree)}/${b.label}`, {
      program: { kind: "probe", name: b.name },
      tree: b.tree,
      at: `/app/${b.name}`,
      run: { via: "podman-build", lines: b.lines },
    });

  const seen = new Set<string>();
  for (const c of cases) {
    if (seen.has(c.id)) throw new Error(`duplicate case id ${c.id}`);
    seen.add(c.id);
  }
  return cases;
}
