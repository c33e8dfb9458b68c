import assert from "node:assert/strict";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs, run } from "../helpers/env.js";
import { cli } from "./in-process.js";

const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, "no stack trace");

/** Fields of `check --json` (README "check --json", schemaVersion 1). */
function assertCheckRecord(o: Record<string, unknown>): void {
  assert.equal(o.schemaVersion, 1);
  for (const k of ["path", "root", "location"]) assert.equal(typeof o[k], "string", k);
  assert.equal(typeof o.runnable, "boolean");
  assert.ok(Array.isArray(o.problems) && Array.isArray(o.needs));
  for (const p of o.problems as Record<string, unknown>[]) {
    assert.match(p.code as string, /^[A-Z][A-Z0-9_]+$/);
    assert.ok(["error", "warning", "info"].includes(p.severity as string));
    assert.equal(typeof p.message, "string");
    assert.equal(typeof p.fix, "string");
  }
  for (const n of o.needs as Record<string, unknown>[]) {
    assert.equal(typeof n.kind, "string");
    assert.ok(Array.isArray(n.paths) && Array.isArray(n.evidence) && Array.isArray(n.env));
    assert.equal(typeof n.satisfied, "boolean");
    assert.ok(n.foundAt === null || typeof n.foundAt === "string");
    assert.ok(n.strength === "hard" || n.strength === "soft");
  }
  assert.equal(o.runnable, !(o.problems as { severity: string }[]).some((p) => p.severity === "error"));
}

describe("zerodep deps (CLI)", () => {
  test("agrees with readelf on NEEDED and exits 0 when everything resolves", {
    skip: needs({ tools: ["readelf"], fixtures: ["c-hardened"] }),
  }, () => {
    const f = fixture("c-hardened");
    const r = zerodep(["deps", "--json", f]);
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as {
      schemaVersion: number;
      loader: string;
      interpreter: string;
      libraries: { name: string; path: string; via: string }[];
      problems: unknown[];
    };
    assert.equal(o.schemaVersion, 1);
    assert.equal(o.loader, "glibc");
    const readelf = run("readelf", ["-dlW", f]).stdout;
    const needed = [...readelf.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]/g)].map((m) => m[1]);
    const interp = /Requesting program interpreter: (.*)\]/.exec(readelf)![1];
    assert.equal(o.interpreter, interp);
    for (const n of needed)
      assert.ok(
        o.libraries.some((l) => l.name === n),
        `${n} resolved`,
      );
    assert.equal(o.libraries[0]!.via, "interpreter");
    assert.deepEqual(o.problems, []);
  });

  test("a missing library: exit 1, tree with searched dirs, one fix line", {
    skip: needs({ fixtures: ["c-rpath"] }),
  }, () => {
    const r = zerodep(["deps", "--tree", fixture("c-rpath")]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /\n {4}libzd\.so\.1 => not found\n {8}searched: \/opt\/zd\/lib\/libzd\.so\.1 /);
    assert.match(r.stdout, /✗ MISSING_LIBRARY libzd\.so\.1 \(needed by .*c-rpath\)/);
    assert.match(r.stdout, /\n {4}fix: /);
  });

  test("a static binary loads nothing (exit 0), an unreadable FILE is exit 3, usage errors exit 2", {
    skip: needs({ fixtures: ["go-static"] }),
  }, async () => {
    const s = zerodep(["deps", fixture("go-static")]);
    assert.equal(s.code, 0);
    assert.match(s.stdout, /statically linked: loads no shared libraries/);
    const m = zerodep(["deps", "/nonexistent/zd"]);
    assert.equal(m.code, 3);
    assert.match(m.stdout, /error: \/nonexistent\/zd: no such file or directory/);
    noStack(m.stdout + m.stderr);
    for (const args of [
      ["deps"],
      ["deps", "--root", "/", "--target", "scratch", "x"],
      ["deps", "--target", "alpine", "x"],
      ["deps", "--env", "NOEQUALS", "x"],
    ]) {
      const u = await cli(args);
      assert.equal(u.code, 2, args.join(" "));
      assert.equal(u.stderr.trim().split("\n").length, 1);
    }
  });
});

describe("zerodep check (CLI)", () => {
  test("the scratch verdicts of the classic failures, with schema-valid JSON", {
    skip: needs({
      fixtures: [
        "go-static",
        "go-pie-internal",
        "go-x509",
        "go-tz",
        "go-cgo",
        "musl-static",
        "go-windows.exe",
      ],
    }),
  }, () => {
    const expect: Record<string, { runnable: boolean; codes: string[] }> = {
      "go-static": { runnable: true, codes: [] },
      "musl-static": { runnable: true, codes: [] },
      "go-pie-internal": { runnable: false, codes: ["MISSING_INTERPRETER"] },
      "go-x509": { runnable: true, codes: ["MISSING_CA_CERTIFICATES"] },
      "go-tz": { runnable: true, codes: ["MISSING_TZDATA"] },
      // One cause, one problem: the missing loader, not also each library it would have loaded.
      "go-cgo": { runnable: false, codes: ["MISSING_INTERPRETER", "MISSING_PASSWD"] },
      "go-windows.exe": { runnable: false, codes: ["WRONG_OS"] },
    };
    const names = Object.keys(expect);
    const r = zerodep([
      "check",
      "--target",
      "scratch",
      "--platform",
      "linux/amd64",
      "--json",
      ...names.map(fixture),
    ]);
    assert.equal(r.code, 1);
    const recs = r.stdout
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(recs.length, names.length);
    recs.forEach((o, i) => {
      assertCheckRecord(o);
      const e = expect[names[i]!]!;
      assert.equal(o.runnable, e.runnable, names[i]);
      const codes = (o.problems as { code: string; severity: string }[])
        .filter((p) => p.severity !== "info")
        .map((p) => p.code);
      assert.deepEqual(codes, e.codes, names[i]);
    });
  });

  test("--strict turns runtime-file warnings into a failed verdict; exit codes 0 and 1", {
    skip: needs({ fixtures: ["go-x509"] }),
  }, () => {
    assert.equal(
      zerodep(["check", "--target", "scratch", "--platform", "linux/amd64", fixture("go-x509")]).code,
      0,
    );
    const s = zerodep([
      "check",
      "--target",
      "scratch",
      "--platform",
      "linux/amd64",
      "--strict",
      fixture("go-x509"),
    ]);
    assert.equal(s.code, 1);
    assert.match(s.stdout, /will NOT run — 1 error\(s\)/);
    assert.match(s.stdout, /✗ MISSING_CA_CERTIFICATES Go: crypto\/x509\.loadSystemRoots/);
    assert.match(s.stdout, /fix: pack with --ca-certs/);
  });

  test("a root that provides the CA bundle satisfies the need; SSL_CERT_FILE in --env too", {
    skip: needs({ fixtures: ["go-x509"] }),
  }, () => {
    const root = mkdtempSync(join(tmpdir(), "zd-check-"));
    mkdirSync(join(root, "etc/ssl/certs"), { recursive: true });
    copyFileSync("/etc/ssl/certs/ca-certificates.crt", join(root, "etc/ssl/certs/ca-certificates.crt"));
    const r = zerodep(["check", "--json", "--root", root, "--platform", "linux/amd64", fixture("go-x509")]);
    const o = JSON.parse(r.stdout) as {
      needs: { kind: string; satisfied: boolean; foundAt: string }[];
      location: string;
    };
    assert.equal(o.location, "/app/go-x509");
    const ca = o.needs.find((n) => n.kind === "ca-certificates")!;
    assert.deepEqual([ca.satisfied, ca.foundAt], [true, "/etc/ssl/certs/ca-certificates.crt"]);
    const empty = mkdtempSync(join(tmpdir(), "zd-check-"));
    mkdirSync(join(empty, "certs"));
    copyFileSync("/etc/ssl/certs/ca-certificates.crt", join(empty, "certs/bundle.pem"));
    const e = zerodep([
      "check",
      "--json",
      "--root",
      empty,
      "--platform",
      "linux/amd64",
      "--env",
      "SSL_CERT_FILE=/certs/bundle.pem",
      fixture("go-x509"),
    ]);
    const eo = JSON.parse(e.stdout) as { needs: { kind: string; satisfied: boolean }[] };
    assert.equal(eo.needs.find((n) => n.kind === "ca-certificates")!.satisfied, true);
    // A file there that holds no certificate is no bundle (test/check/need-contents runs the program).
    writeFileSync(join(empty, "certs/bundle.pem"), "-----BEGIN CERTIFICATE-----\n");
    const g = JSON.parse(
      zerodep([
        "check",
        "--json",
        "--root",
        empty,
        "--env",
        "SSL_CERT_FILE=/certs/bundle.pem",
        fixture("go-x509"),
      ]).stdout,
    ) as { needs: { kind: string; satisfied: boolean }[] };
    assert.equal(g.needs.find((n) => n.kind === "ca-certificates")!.satisfied, false);
  });

  test("wrong architecture for the target platform; a file without x bits inside the root", {
    skip: needs({ fixtures: ["go-arm64", "go-static"] }),
  }, () => {
    const a = JSON.parse(
      zerodep(["check", "--json", "--target", "scratch", "--platform", "linux/amd64", fixture("go-arm64")])
        .stdout,
    ) as { runnable: boolean; problems: { code: string }[] };
    assert.equal(a.runnable, false);
    assert.equal(a.problems[0]!.code, "WRONG_ARCH");
    assert.equal(
      JSON.parse(
        zerodep(["check", "--json", "--target", "scratch", "--platform", "linux/arm64", fixture("go-arm64")])
          .stdout,
      ).runnable,
      true,
    );
    const root = mkdtempSync(join(tmpdir(), "zd-check-"));
    copyFileSync(fixture("go-static"), join(root, "app"));
    chmodSync(join(root, "app"), 0o644);
    const m = JSON.parse(
      zerodep(["check", "--json", "--root", root, "--platform", "linux/amd64", join(root, "app")]).stdout,
    ) as { runnable: boolean; problems: { code: string }[]; location: string };
    assert.equal(m.location, "/app");
    assert.deepEqual(
      m.problems.map((p) => p.code),
      ["NOT_EXECUTABLE"],
    );
  });

  test("a #! script needs its interpreter in the root", { skip: needs({ fixtures: ["script.sh"] }) }, () => {
    const r = JSON.parse(
      zerodep(["check", "--json", "--target", "scratch", fixture("script.sh")]).stdout,
    ) as { problems: { code: string }[] };
    assert.deepEqual(
      r.problems.map((p) => p.code),
      ["MISSING_SCRIPT_INTERPRETER"],
    );
    assert.equal(JSON.parse(zerodep(["check", "--json", fixture("script.sh")]).stdout).runnable, true);
  });

  test("a --root that does not exist, or is a file, is an input error (exit 3, one line), not an empty root", {
    skip: needs({ fixtures: ["go-static"] }),
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "zd-noroot-"));
    writeFileSync(join(dir, "file"), "x");
    for (const [root, says] of [
      [join(dir, "absent"), "no such directory"],
      [join(dir, "file"), "not a directory"],
    ] as const) {
      for (const cmd of ["check", "deps"]) {
        const r = zerodep([cmd, "--root", root, fixture("go-static")]);
        assert.equal(r.code, 3, `${cmd} --root ${root}: ${r.stdout}${r.stderr}`);
        assert.equal(r.stdout, "");
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.ok(r.stderr.includes(root) && r.stderr.includes(says), r.stderr);
        noStack(r.stderr);
      }
    }
  });

  test("a cut-short binary is corrupt input (exit 3 with the offset), never a verdict; readelf sees the segment past the end", {
    skip: needs({ tools: ["readelf"], fixtures: ["go-static-stripped"] }),
  }, () => {
    const dir = mkdtempSync(join(tmpdir(), "zd-cut-"));
    const whole = readFileSync(fixture("go-static-stripped"));
    for (const size of [3000, whole.length >> 1]) {
      const f = join(dir, `cut-${size}`);
      writeFileSync(f, whole.subarray(0, size), { mode: 0o755 });
      // The oracle: a PT_LOAD whose file range ends past the file's size.
      const loads = run("readelf", ["-lW", f], { allowFail: true })
        .stdout.split("\n")
        .filter((l) => /^\s+LOAD\s/.test(l))
        .map((l) => l.trim().split(/\s+/))
        .map((c) => Number.parseInt(c[1]!, 16) + Number.parseInt(c[4]!, 16));
      assert.ok(loads.length > 0 && loads.some((end) => end > size), `readelf: a segment ends past ${size}`);
      for (const args of [["--target", "scratch"], []]) {
        const r = zerodep(["check", ...args, f]);
        assert.equal(r.code, 3, `check ${f}: ${r.stdout}${r.stderr}`);
        assert.match(
          r.stdout + r.stderr,
          /truncated or corrupt: loadable segment .* extends past end of file .*at offset 0x[0-9a-f]+/,
        );
        assert.doesNotMatch(r.stdout, /will run/);
        noStack(r.stderr);
      }
    }
  });
});
