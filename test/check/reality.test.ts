/**
 * Predictions against reality: small real roots are built (empty, musl, glibc, an old-library
 * stand-in, RPATH/RUNPATH layouts, links and loops), the fixture binaries are placed in them, our CLI
 * predicts whether each will run there (without running it), and then the binary really is run with
 * chroot(8). The test asserts that the program runs exactly when we said it would, and that when we
 * said it would not, the loader's (or kernel's) real error contains the text our problem quotes.
 *
 * Each case also asserts what the root was built to show (e.g. "runs"), so a mis-built root cannot
 * make a wrong prediction look right. Known disagreements are `todo` tests: they run, report, and name
 * the resolver rule at fault (see the final report line: checked / agreed).
 *
 * Needs root (chroot, mount -t proc), gcc-built fixtures (test/fixtures/build.sh) and musl-tools.
 *
 * TODO(check): `zerodep check FILE --root DIR --json` ({runnable, problems, …}) is being written;
 * when it is in dist, predictions use its `runnable` (detected at run time below). Until then they
 * use `deps --json`: runnable = no problem of severity "error".
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, fixturesDir, needs, skipNow, skipUnlessCI } from "../helpers/env.js";
import {
  BUSYBOX,
  canMountProc,
  chrootUnavailable,
  dir,
  host,
  link,
  MULTIARCH,
  place,
  put,
  type RealRun,
  RootSet,
  runInRoot,
} from "../helpers/roots.js";

interface Problem {
  code: string;
  severity: "error" | "warning";
  message: string;
  fix: string;
}
interface Prediction {
  runnable: boolean;
  problems: Problem[];
  by: "check" | "deps";
  raw: Record<string, unknown>;
}

const FIXTURES = [
  "go-static",
  "go-pie-internal",
  "go-cgo",
  "c-hardened",
  "c-static",
  "musl-dynamic",
  "musl-static",
  "c-rpath",
  "c-runpath-origin",
  "c-runpath-chain",
  "c-rpath-chain",
  "libzd.so.1",
  "libzd-old.so.1",
  "libzda.so.1",
  "libzdb.so.1",
  "c-glibc-new",
];
const skip =
  skipUnlessCI(chrootUnavailable()) ||
  needs({
    tools: ["chroot", "gcc", "musl-gcc", "mount"],
    fixtures: FIXTURES,
    files: ["/lib/ld-musl-x86_64.so.1"], // musl-tools
  });
const PY = "/usr/bin/python3";
const LDDTREE = "/usr/bin/lddtree";
const skipLddtree = needs({ files: [LDDTREE, PY] }); // pax-utils, python3-pyelftools
const skipBusybox = needs({ files: [BUSYBOX] }); // busybox-static
const skip32 = needs({ fixtures: ["libzd32.so.1"] });

// ---------------------------------------------------------------------------------------------
// Our prediction

let checkHelp: string | null | undefined;
/** `check --help` when the check command exists in dist, else null. */
function checkCommand(): string | null {
  if (checkHelp === undefined) {
    const r = zerodep(["check", "--help"]);
    checkHelp = r.code === 0 ? r.stdout : null;
  }
  return checkHelp;
}

/** Predicts, without running anything, whether the binary at `inRoot` will run in `root`. */
function predict(root: string, inRoot: string, env: Record<string, string> = {}): Prediction {
  const file = host(root, inRoot);
  const envArgs = Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const help = checkCommand();
  if (help !== null) {
    const args = ["check", file, "--root", root, "--json"];
    if (help.includes("--as")) args.push("--as", inRoot);
    if (envArgs.length > 0) {
      assert.ok(help.includes("--env"), "check has no --env: cannot predict with LD_LIBRARY_PATH");
      args.push(...envArgs);
    }
    const r = zerodep(args);
    assert.ok(r.code === 0 || r.code === 1, `check exited ${r.code}: ${r.stderr}`);
    const o = JSON.parse(r.stdout.trim().split("\n")[0]!) as Record<string, unknown>;
    assert.equal(typeof o.runnable, "boolean", `check --json has no runnable: ${r.stdout}`);
    const runnable = o.runnable as boolean;
    assert.equal(r.code, runnable ? 0 : 1, "check's exit code follows runnable");
    return { runnable, problems: (o.problems as Problem[]) ?? [], by: "check", raw: o };
  }
  const r = zerodep(["deps", file, "--root", root, "--as", inRoot, "--json", ...envArgs]);
  assert.ok(r.code === 0 || r.code === 1, `deps exited ${r.code}: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, "no stack trace");
  const o = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
  const problems = o.problems as Problem[];
  const runnable = !problems.some((p) => p.severity === "error");
  assert.equal(r.code, runnable ? 0 : 1, "deps' exit code follows its problems");
  return { runnable, problems, by: "deps", raw: o };
}

// ---------------------------------------------------------------------------------------------
// Agreement bookkeeping

const tally = { checked: 0, agreed: 0, disagreements: [] as string[] };

/** The loader's quotes use `…' (glibc) where our messages use '…'; compare without that. */
const norm = (s: string) => s.replace(/`/g, "'").toLowerCase();

/** The strings a problem message quotes ("…"), without a leading "exec: ". */
function quotes(message: string): string[] {
  return [...message.matchAll(/"([^"]+)"/g)].map((m) => m[1]!.replace(/^exec: /, ""));
}

interface Expect {
  /** What the root was built to show. */
  runs: boolean;
  /** runs: a line the program prints. fails: text the loader or kernel really prints. */
  says: string;
  /** fails: the code our first error problem must have. */
  code?: string;
}

/**
 * Predicts, runs for real, counts, and asserts: reality is what the case was built for, the
 * prediction equals reality, and a failure's real error contains our first error problem's quote.
 */
function verify(
  label: string,
  root: string,
  inRoot: string,
  expect: Expect,
  opts: { env?: Record<string, string>; argv?: string[] } = {},
): { pred: Prediction; real: RealRun } {
  const pred = predict(root, inRoot, opts.env);
  const argv = opts.argv ?? [inRoot];
  const real = runInRoot(root, argv);
  const realRuns = real.status === 0 && real.signal === null;
  tally.checked++;
  if (pred.runnable === realRuns) tally.agreed++;
  else
    tally.disagreements.push(
      `${label}: predicted ${pred.runnable ? "runs" : "fails"} (${pred.problems.map((p) => p.code).join(", ") || "no problems"}), really ${realRuns ? "runs" : `fails: ${real.stderr.trim()}`}`,
    );
  const shown = `real: exit ${real.status} ${real.signal ?? ""} stdout ${JSON.stringify(real.stdout)} stderr ${JSON.stringify(real.stderr)}; predicted (${pred.by}): ${JSON.stringify(pred.problems)}`;
  assert.equal(realRuns, expect.runs, `${label}: the root does not show what it was built for; ${shown}`);
  if (realRuns) assert.ok(real.stdout.includes(expect.says), `${label}: output; ${shown}`);
  else assert.ok(norm(real.stderr).includes(norm(expect.says)), `${label}: real error; ${shown}`);
  assert.equal(pred.runnable, realRuns, `${label}: prediction disagrees with reality; ${shown}`);
  if (!realRuns) {
    const first = pred.problems.find((p) => p.severity === "error")!;
    if (expect.code) assert.equal(first.code, expect.code, `${label}: problem code; ${shown}`);
    const qs = quotes(first.message);
    if (qs.length > 0)
      for (const q of qs)
        assert.ok(
          norm(real.stderr).includes(norm(q)),
          `${label}: our message quotes ${JSON.stringify(q)}, the loader said ${JSON.stringify(real.stderr)}`,
        );
    else
      assert.ok(
        norm(first.message).includes(norm(expect.says)),
        `${label}: our message ${JSON.stringify(first.message)} lacks ${JSON.stringify(expect.says)}`,
      );
  }
  return { pred, real };
}

// ---------------------------------------------------------------------------------------------

describe("predictions vs real runs in chroot", { skip }, () => {
  let roots: RootSet;
  let proc = false;
  before(() => {
    roots = new RootSet("zd-reality-");
    proc = canMountProc();
  });
  after(() => {
    roots?.cleanup();
    if (tally.checked > 0) {
      console.log(
        `reality: ${tally.checked} predictions checked against real runs in chroot, ${tally.agreed} agreed, ${tally.disagreements.length} disagreed`,
      );
      for (const d of tally.disagreements) console.log(`reality: DISAGREEMENT ${d}`);
    }
  });

  const GREET = "hello from zerodep";
  const ZD = "hello from zerodep (libzd)";
  const NOENT = "No such file or directory";
  const CANNOT_OPEN = "cannot open shared object file";

  /** A glibc root (Debian multiarch layout, no ld.so.cache) with `bin` placed at `at`. */
  function glibcWith(bin: string, at: string, name = bin) {
    const root = roots.glibcRoot({ name });
    place(root, fixture(bin), at);
    return root;
  }

  describe("static, empty root, interpreters", () => {
    it("go-static runs in an empty root", () => {
      const root = roots.emptyRoot();
      place(root, fixture("go-static"), "/app/go-static");
      verify("go-static/empty", root, "/app/go-static", { runs: true, says: GREET });
    });

    for (const f of ["c-static", "musl-static"]) {
      it(`${f} runs in an empty root`, () => {
        const root = roots.emptyRoot();
        place(root, fixture(f), `/app/${f}`);
        verify(`${f}/empty`, root, `/app/${f}`, { runs: true, says: GREET });
      });
    }

    for (const f of ["go-pie-internal", "go-cgo", "c-hardened"]) {
      it(`${f} fails in an empty root: no interpreter`, () => {
        const root = roots.emptyRoot();
        place(root, fixture(f), `/app/${f}`);
        const { real } = verify(`${f}/empty`, root, `/app/${f}`, {
          runs: false,
          says: NOENT,
          code: "MISSING_INTERPRETER",
        });
        assert.equal(real.status, 127, "chroot: exec failed");
      });
    }

    it("go-cgo runs in a glibc root (host layout: merged /usr, links kept)", () => {
      const root = roots.glibcRoot({ layout: "host", name: "glibc-host" });
      place(root, fixture("go-cgo"), "/app/go-cgo");
      verify("go-cgo/glibc-host", root, "/app/go-cgo", { runs: true, says: "hello from zerodep (cgo)" });
    });

    it("c-hardened runs in a glibc root (Debian layout)", () => {
      const root = glibcWith("c-hardened", "/app/c-hardened");
      verify("c-hardened/glibc", root, "/app/c-hardened", { runs: true, says: GREET });
    });

    it("c-glibc-new (GLIBC_2.36) runs on the host's glibc copied into a root", () => {
      const root = glibcWith("c-glibc-new", "/app/c-glibc-new");
      const r = verify("c-glibc-new/glibc", root, "/app/c-glibc-new", { runs: true, says: "" });
      assert.equal(r.real.status, 0);
    });

    it("musl-dynamic runs in a musl root", () => {
      const root = roots.muslRoot();
      place(root, fixture("musl-dynamic"), "/app/musl-dynamic");
      verify("musl-dynamic/musl", root, "/app/musl-dynamic", { runs: true, says: GREET });
    });

    it("musl-dynamic fails in a glibc root: no musl interpreter", () => {
      const root = glibcWith("musl-dynamic", "/app/musl-dynamic");
      verify("musl-dynamic/glibc", root, "/app/musl-dynamic", {
        runs: false,
        says: NOENT,
        code: "LIBC_MISMATCH", // check names the cause (deps says MISSING_INTERPRETER)
      });
    });

    it("c-hardened fails in a musl root: no glibc interpreter", () => {
      const root = roots.muslRoot();
      place(root, fixture("c-hardened"), "/app/c-hardened");
      verify("c-hardened/musl", root, "/app/c-hardened", {
        runs: false,
        says: NOENT,
        code: "LIBC_MISMATCH",
      });
    });

    it("an interpreter that is a link loop fails (kernel: ELOOP)", {}, () => {
      const root = roots.emptyRoot();
      place(root, fixture("c-hardened"), "/app/c-hardened");
      link(root, "/lib64/ld-linux-x86-64.so.2", "ld-linux-x86-64.so.2");
      verify("c-hardened/interp-loop", root, "/app/c-hardened", {
        runs: false,
        says: "Too many levels of symbolic links",
        code: "MISSING_INTERPRETER",
      });
    });
  });

  describe("RPATH, RUNPATH, $ORIGIN, LD_LIBRARY_PATH", () => {
    it("c-rpath runs with libzd in /opt/zd/lib (DT_RPATH)", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      put(root, fixture("libzd.so.1"), "/opt/zd/lib/libzd.so.1");
      verify("c-rpath/opt-zd", root, "/app/c-rpath", { runs: true, says: ZD });
    });

    it("c-rpath fails without libzd", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      verify("c-rpath/no-libzd", root, "/app/c-rpath", {
        runs: false,
        says: `libzd.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
    });

    it("c-runpath-origin runs with the ../lib layout (/proc mounted)", (t) => {
      if (!proc) return skipNow(t, "mount -t proc is not permitted here");
      const root = glibcWith("c-runpath-origin", "/app/bin/c-runpath-origin");
      put(root, fixture("libzd.so.1"), "/app/lib/libzd.so.1");
      roots.withProc(root, () =>
        verify("c-runpath-origin/../lib", root, "/app/bin/c-runpath-origin", { runs: true, says: ZD }),
      );
    });

    it("c-runpath-origin fails when moved away from ../lib (/proc mounted)", (t) => {
      if (!proc) return skipNow(t, "mount -t proc is not permitted here");
      const root = glibcWith("c-runpath-origin", "/srv/c-runpath-origin");
      put(root, fixture("libzd.so.1"), "/app/lib/libzd.so.1");
      roots.withProc(root, () =>
        verify("c-runpath-origin/moved", root, "/srv/c-runpath-origin", {
          runs: false,
          says: `libzd.so.1: ${CANNOT_OPEN}`,
          code: "MISSING_LIBRARY",
        }),
      );
    });

    it("c-runpath-origin in a bare chroot without /proc: the loader cannot expand the main program's $ORIGIN", {}, () => {
      const root = glibcWith("c-runpath-origin", "/app/bin/c-runpath-origin");
      put(root, fixture("libzd.so.1"), "/app/lib/libzd.so.1");
      verify("c-runpath-origin/no-proc", root, "/app/bin/c-runpath-origin", {
        runs: false,
        says: `libzd.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
    });

    it("RUNPATH is not transitive: libzda's libzdb is not found (lddtree says it is)", {
      skip: skipLddtree,
    }, () => {
      const root = glibcWith("c-runpath-chain", "/app/c-runpath-chain");
      put(root, fixture("libzda.so.1"), "/opt/chain/lib/libzda.so.1");
      put(root, fixture("libzdb.so.1"), "/opt/chain/lib/libzdb.so.1");
      const { pred } = verify("c-runpath-chain", root, "/app/c-runpath-chain", {
        runs: false,
        says: `libzdb.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
      assert.match(
        pred.problems[0]!.message,
        /^libzdb\.so\.1 \(needed by \/opt\/chain\/lib\/libzda\.so\.1\)/,
      );
      const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: "C" };
      delete env.LD_LIBRARY_PATH;
      const l = spawnSync(PY, [LDDTREE, "--root", root, "/app/c-runpath-chain"], { encoding: "utf8", env });
      assert.match(
        l.stdout,
        /^ {8}libzdb\.so\.1 => \S*\/opt\/chain\/lib\/libzdb\.so\.1$/m,
        `lddtree (wrong here) resolves libzdb through the inherited RUNPATH: ${l.stdout}${l.stderr}`,
      );
    });

    it("RPATH is inherited: the same chain with DT_RPATH runs", () => {
      const root = glibcWith("c-rpath-chain", "/app/c-rpath-chain");
      put(root, fixture("libzda.so.1"), "/opt/chain/lib/libzda.so.1");
      put(root, fixture("libzdb.so.1"), "/opt/chain/lib/libzdb.so.1");
      verify("c-rpath-chain", root, "/app/c-rpath-chain", {
        runs: true,
        says: "hello from zerodep (chain 42)",
      });
    });

    it("LD_LIBRARY_PATH: found with it, not without (env from a static busybox)", {
      skip: skipBusybox,
    }, () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      put(root, BUSYBOX, "/bin/busybox", 0o755);
      put(root, fixture("libzd.so.1"), "/usr/local/zd/libzd.so.1");
      const env = { LD_LIBRARY_PATH: "/usr/local/zd" };
      verify(
        "c-rpath/LD_LIBRARY_PATH",
        root,
        "/app/c-rpath",
        { runs: true, says: ZD },
        {
          env,
          argv: ["/bin/busybox", "env", "LD_LIBRARY_PATH=/usr/local/zd", "/app/c-rpath"],
        },
      );
      verify("c-rpath/no LD_LIBRARY_PATH", root, "/app/c-rpath", {
        runs: false,
        says: `libzd.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
    });
  });

  describe("candidates the loader skips or rejects", () => {
    it("a 32-bit libzd.so.1 earlier in the search is skipped; the 64-bit one later is used", {
      skip: skip32,
    }, () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      put(root, fixture("libzd32.so.1"), "/opt/zd/lib/libzd.so.1");
      put(root, fixture("libzd.so.1"), `${MULTIARCH}/libzd.so.1`);
      const { pred } = verify("c-rpath/skip-32-bit", root, "/app/c-rpath", { runs: true, says: ZD });
      if (pred.by === "deps") {
        const tree = pred.raw.tree as { children: { name: string; skipped?: { path: string }[] }[] };
        const zd = tree.children.find((c) => c.name === "libzd.so.1");
        assert.deepEqual(
          zd?.skipped?.map((s) => s.path),
          ["/opt/zd/lib/libzd.so.1"],
        );
      }
    });

    it("an old libzd without ZD_2.0 fails: version `ZD_2.0' not found", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      put(root, fixture("libzd-old.so.1"), "/opt/zd/lib/libzd.so.1");
      const { pred } = verify("c-rpath/old-libzd", root, "/app/c-rpath", {
        runs: false,
        says: "version `ZD_2.0' not found",
        code: "MISSING_SYMBOL_VERSION",
      });
      assert.match(pred.problems[0]!.message, /ZD_2\.0/);
      assert.ok(!pred.problems.some((p) => p.message.includes("ZD_1.0")), "ZD_1.0 is there");
    });

    it("a directory in place of the library stops the search: cannot read file data", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      dir(root, "/opt/zd/lib/libzd.so.1");
      put(root, fixture("libzd.so.1"), `${MULTIARCH}/libzd.so.1`);
      verify("c-rpath/dir-as-lib", root, "/app/c-rpath", {
        runs: false,
        says: "cannot read file data", // rtld prints "Error 21" (it has no strerror table)
        code: "INVALID_LIBRARY",
      });
    });

    it("a non-ELF file in place of the library stops the search: invalid ELF header", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      mkdirSync(host(root, "/opt/zd/lib"), { recursive: true });
      writeFileSync(host(root, "/opt/zd/lib/libzd.so.1"), `${"not a shared library\n".repeat(8)}`);
      put(root, fixture("libzd.so.1"), `${MULTIARCH}/libzd.so.1`);
      verify("c-rpath/text-as-lib", root, "/app/c-rpath", {
        runs: false,
        says: "invalid ELF header",
        code: "INVALID_LIBRARY",
      });
    });
  });

  describe("musl: the first file found is final", () => {
    let muslBin = "";
    let muslLib = "";
    before(() => {
      // usezd.c and zd.c built with musl-gcc: RUNPATH /opt/a:/opt/b (musl treats it as RPATH).
      const out = `${roots.base}/musl-build`;
      mkdirSync(out);
      const src = `${fixturesDir}/../src/c`;
      muslLib = `${out}/libzd.so.1`;
      muslBin = `${out}/usezd`;
      for (const args of [
        ["-O2", "-fPIC", "-shared", "-Wl,-soname,libzd.so.1", "-o", muslLib, `${src}/zd.c`],
        [
          "-O2",
          `-I${src}`,
          "-o",
          muslBin,
          `${src}/usezd.c`,
          `-L${out}`,
          "-l:libzd.so.1",
          "-Wl,-rpath,/opt/a:/opt/b",
        ],
      ]) {
        const r = spawnSync("musl-gcc", args, { encoding: "utf8" });
        assert.equal(r.status, 0, `musl-gcc ${args.join(" ")}: ${r.stderr}`);
      }
    });
    function muslWith(setup: (root: string) => void): string {
      const root = roots.muslRoot("musl-zd");
      place(root, muslBin, "/app/usezd");
      setup(root);
      return root;
    }

    it("found in the second rpath directory", () => {
      const root = muslWith((r) => {
        dir(r, "/opt/a");
        put(r, muslLib, "/opt/b/libzd.so.1");
      });
      verify("musl-usezd/opt-b", root, "/app/usezd", { runs: true, says: ZD });
    });

    it("not found anywhere", {}, () => {
      const root = muslWith(() => {});
      verify("musl-usezd/none", root, "/app/usezd", {
        runs: false,
        says: "Error loading shared library libzd.so.1",
        code: "MISSING_LIBRARY",
      });
    });

    it("a link loop in the first rpath directory stops musl's search", {}, () => {
      const root = muslWith((r) => {
        link(r, "/opt/a/libzd.so.1", "libzd.so.1");
        put(r, muslLib, "/opt/b/libzd.so.1");
      });
      verify("musl-usezd/loop-in-opt-a", root, "/app/usezd", {
        runs: false,
        says: "Error loading shared library libzd.so.1: Symbolic link loop",
      });
    });

    it("a directory in the first rpath directory stops musl's search", {}, () => {
      const root = muslWith((r) => {
        dir(r, "/opt/a/libzd.so.1");
        put(r, muslLib, "/opt/b/libzd.so.1");
      });
      verify("musl-usezd/dir-in-opt-a", root, "/app/usezd", {
        runs: false,
        says: "Error loading shared library libzd.so.1: Is a directory",
      });
    });
  });

  describe("links inside the root", () => {
    it("absolute links resolve inside the root (dir link and file link)", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      put(root, fixture("libzd.so.1"), "/usr/local/real/libzd.so.1.0");
      link(root, "/opt/zd/lib", "/srv/zd");
      link(root, "/srv/zd/libzd.so.1", "/usr/local/real/libzd.so.1.0");
      verify("c-rpath/absolute-links", root, "/app/c-rpath", { runs: true, says: ZD });
    });

    it("an absolute link to a host directory does not escape the root", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      assert.ok(existsSync(`${fixturesDir}/libzd.so.1`));
      link(root, "/opt/zd/lib", fixturesDir); // exists on the host, not in the root
      verify("c-rpath/absolute-escape", root, "/app/c-rpath", {
        runs: false,
        says: `libzd.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
    });

    it("a relative link with too many .. stops at the root", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      link(root, "/opt/zd/lib", `${"../".repeat(12)}${fixturesDir.slice(1)}`);
      verify("c-rpath/dotdot-escape", root, "/app/c-rpath", {
        runs: false,
        says: `libzd.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
    });

    it("a link loop as the only candidate: no crash, and it fails", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      link(root, "/opt/zd/lib/libzd.so.1", "/opt/zd/lib/loop");
      link(root, "/opt/zd/lib/loop", "libzd.so.1");
      verify("c-rpath/loop-only", root, "/app/c-rpath", {
        runs: false,
        says: `libzd.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
    });

    it("a link loop in the RPATH list ends that list only: found later in the default dirs", () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      link(root, "/opt/zd/lib/libzd.so.1", "libzd.so.1");
      put(root, fixture("libzd.so.1"), `${MULTIARCH}/libzd.so.1`);
      verify("c-rpath/loop-in-rpath", root, "/app/c-rpath", { runs: true, says: ZD });
    });

    it("a link loop earlier in the same directory list ends the search of that list (ELOOP)", {}, () => {
      const root = glibcWith("c-rpath", "/app/c-rpath");
      link(root, `${MULTIARCH}/libzd.so.1`, "libzd.so.1");
      put(root, fixture("libzd.so.1"), "/usr/lib/x86_64-linux-gnu/libzd.so.1");
      verify("c-rpath/loop-in-default-dirs", root, "/app/c-rpath", {
        runs: false,
        says: `libzd.so.1: ${CANNOT_OPEN}`,
        code: "MISSING_LIBRARY",
      });
    });
  });
});
