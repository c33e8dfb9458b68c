import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { editDistance } from "../../src/cli/did-you-mean.js";
import { COMMANDS } from "../../src/cli/table.js";
import { pack } from "../../src/pack/pack.js";
import { cliPath } from "../helpers/cli.js";
import { needs, repoRoot, run } from "../helpers/env.js";
import { cli } from "./in-process.js";

const hello = join(repoRoot, "examples/hello/hello-static");
const work = mkdtempSync(join(tmpdir(), "zd-front-"));
const noStack = (s: string) => assert.doesNotMatch(s, /\n\s+at .+:\d+:\d+/, "no stack trace");

/** A usage error: exit 2, exactly one line on stderr matching `re`, nothing on stdout. */
async function usage(argv: string[], re: RegExp): Promise<string> {
  const r = await cli(argv);
  assert.equal(r.code, 2, `${argv.join(" ")}: ${r.stderr}${r.stdout}`);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, re);
  assert.doesNotMatch(r.stderr, /ERR_PARSE_ARGS|TypeError/);
  noStack(r.stderr);
  return r.stderr;
}

describe("front door: unknown words", () => {
  test("edit distance (Levenshtein) on textbook pairs", () => {
    assert.equal(editDistance("kitten", "sitting"), 3);
    assert.equal(editDistance("flaw", "lawn"), 2);
    assert.equal(editDistance("", "abc"), 3);
    assert.equal(editDistance("same", "same"), 0);
  });

  test("an unknown command names the closest one", async () => {
    await usage(["inspct", "x"], /^zerodep: unknown command 'inspct' \(did you mean inspect\?\)/);
    await usage(["pul"], /did you mean pull\?/);
    const far = await usage(["frobnicate"], /unknown command 'frobnicate'/);
    assert.doesNotMatch(far, /did you mean/);
  });

  test("an unknown option names the closest option of that command, in zerodep's words", async () => {
    await usage(
      ["inspect", "--jsn", "x"],
      /^zerodep inspect: unknown option --jsn \(did you mean --json\?\)$/m,
    );
    await usage(["pack", hello, "--ot", "oci:/x"], /unknown option --ot \(did you mean --out\?\)/);
    await usage(["analyze", "--platfrom", "linux/amd64", "oci:x"], /did you mean --platform\?/);
    // --username is login's, not inspect's: not suggested there, and refused.
    const e = await usage(["inspect", "--username", "u", "x"], /unknown option --username/);
    assert.doesNotMatch(e, /did you mean --username/);
    await usage(["scan", "-Q", "/"], /unknown option -Q/);
  });

  test("a missing value, a value on a boolean, a single-valued flag given twice: one clear line each", async () => {
    await usage(["pack", hello, "--out"], /^zerodep pack: --out needs a value$/m);
    await usage(["pack", hello, "--out", "--json"], /--out needs a value \(got option --json/);
    await usage(["inspect", "--json=yes", "x"], /--json takes no value/);
    await usage(["check", "--root", "/", "--root", "/tmp", "x"], /--root given twice \("\/" and "\/tmp"\)/);
    await usage(["diff", "--limit", "1", "--limit=2", "oci:a", "oci:b"], /--limit given twice/);
  });
});

describe("front door: values are validated before anything is written (exit 2, nothing created)", () => {
  const cases: [string, string[], RegExp][] = [
    [
      "port word",
      ["--port", "abc"],
      /--port wants PORT\[\/tcp\|udp\|sctp\] with PORT 1 to 65535 \(got "abc"\)/,
    ],
    ["port 0", ["--port", "0"], /--port wants PORT/],
    ["port 65536", ["--port", "65536/tcp"], /--port wants PORT/],
    ["port protocol", ["--port", "80/icmp"], /--port wants PORT/],
    ["stop signal", ["--stop-signal", "FOO"], /--stop-signal: "FOO" is not a signal/],
    ["stop signal 0", ["--stop-signal", "0"], /is not a signal/],
    ["empty cmd", ["--cmd="], /--cmd is empty/],
    ["bad JSON cmd", ["--cmd", '["-a",'], /--cmd: .* is not a JSON array of strings/],
    ["JSON non-strings", ["--cmd", "[1,2]"], /is not a JSON array of strings/],
    ["env without =", ["--env", "FOO"], /--env wants KEY=VALUE \(got "FOO"\)/],
    ["env empty key", ["--env", "=x"], /--env wants KEY=VALUE/],
    ["label without =", ["--label", "x"], /--label wants KEY=VALUE/],
    ["tzdata", ["--tzdata", "some"], /--tzdata: auto, all or none \(got "some"\)/],
    ["path ..", ["--path", "/app/../x"], /--path wants a file path in the image/],
    ["retries", ["--retries", "-1"], /--retries needs a value|--retries wants a whole number/],
    ["concurrency", ["--concurrency", "0"], /--concurrency wants a whole number ≥ 1 \(got "0"\)/],
    [
      "the same --out twice",
      ["--out", `oci:${join(work, "n-the-same-out-twice")}`],
      /destination .* given twice/,
    ],
  ];
  for (const [name, extra, re] of cases)
    test(name, async () => {
      const dest = join(work, `n-${name.replace(/\W+/g, "-")}`);
      await usage(["pack", hello, "--out", `oci:${dest}`, ...extra], re);
      assert.equal(existsSync(dest), false, "nothing written");
    });

  test("repeated --out/--push: every destination is parsed before anything is written; pull takes one --out", async () => {
    const a = join(work, "rep-a");
    await usage(
      ["pack", hello, "--out", `oci:${a}`, "--push", "127.0.0.1:1/a:1", "--push", "127.0.0.1:1/Bad:1"],
      /Bad|invalid|lower/i,
    );
    assert.equal(existsSync(a), false, "nothing written");
    await usage(["pull", "127.0.0.1:1/a:1", "-o", "oci:/x", "--out", "oci:/y"], /--out given twice/);
  });

  test("repeated --out writes the same image to every destination", async () => {
    const a = join(work, "rep-ok-a");
    const b = join(work, "rep-ok-b.tar");
    const r = await cli([
      "pack",
      hello,
      "--out",
      `oci:${a}:v1`,
      "--out",
      `docker-archive:${b}:app:v1`,
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { digest: string; destinations: { destination: string }[] };
    assert.deepEqual(
      j.destinations.map((d) => d.destination),
      [`oci:${a}:v1`, `docker-archive:${b}:app:v1`],
    );
    const viaA = run("skopeo", ["inspect", "--raw", `oci:${a}:v1`]).stdout;
    const viaB = run("skopeo", ["inspect", "--raw", `docker-archive:${b}`]).stdout;
    assert.equal(`sha256:${createHash("sha256").update(viaA).digest("hex")}`, j.digest);
    // docker-archive keeps the config; skopeo rebuilds a manifest naming it: the same config digest.
    const ca = (JSON.parse(viaA) as { config: { digest: string } }).config.digest;
    const cb = (JSON.parse(viaB) as { config: { digest: string } }).config.digest;
    assert.equal(cb, ca);
  });

  test("a path collision names the file it collides with (exit 2, nothing written)", async () => {
    for (const [p, other] of [
      ["/etc/passwd", "/etc/passwd"],
      ["/tmp", "/tmp"],
      ["/etc/group/x", "/etc/group"],
    ] as const) {
      const dest = join(work, `collide-${other.replace(/\W/g, "")}`);
      await usage(
        ["pack", hello, "--path", p, "--out", `oci:${dest}`],
        new RegExp(`--path ${p} collides with ${other}, which pack writes`),
      );
      assert.equal(existsSync(dest), false);
    }
  });

  test("pack({env: ['FOO']}) in the library is a UsageError, not the key FO", async () => {
    const dest = join(work, "lib-env");
    await assert.rejects(pack({ binaries: [hello], env: ["FOO"], out: `oci:${dest}` }), (e: Error) => {
      assert.equal(e.name, "UsageError");
      assert.match(e.message, /KEY=VALUE \(got "FOO"\)/);
      return true;
    });
    assert.equal(existsSync(dest), false);
  });

  test("other commands: platform, sizes, gates, jobs, root/target", async () => {
    await usage(["check", "--platform", "amd64", "x"], /--platform wants OS\/ARCH/);
    await usage(["analyze", "--max-layer-bytes", "lots", "oci:x"], /--max-layer-bytes: "lots" is not a size/);
    await usage(
      ["analyze", "--min-efficiency", "2", "oci:x"],
      /--min-efficiency: "2" is not a number between 0 and 1/,
    );
    await usage(["analyze", "--gate-metric", "x", "oci:x"], /--gate-metric: zerodep or dive \(got "x"\)/);
    await usage(["scan", "--jobs", "65", "/"], /--jobs wants a whole number from 0 to 64/);
    await usage(["deps", "--root", "/", "--target", "scratch", "x"], /--root and --target are exclusive/);
    await usage(["deps", "--target", "alpine", "x"], /--target: only "scratch" is known/);
    await usage(["diff", "oci:a"], /diff: two images, IMAGE_A IMAGE_B/);
    await usage(["analyze", "oci:a", "oci:b"], /analyze: exactly one IMAGE/);
  });
});

describe("front door: --cmd, --entrypoint, --stop-signal and --port as written into the image", () => {
  test("a JSON array is kept whole (commas inside an argument are not split); repeated flags add arguments; Docker's signal forms", {
    skip: needs({ tools: ["skopeo"] }),
  }, async () => {
    const dir = join(work, "cmd");
    const r = await cli([
      "pack",
      hello,
      "--out",
      `oci:${dir}:v1`,
      "--cmd",
      '["-addr",":1,2",""]',
      "--entrypoint",
      "/app/hello-static",
      "--entrypoint=--verbose=a,b",
      "--stop-signal",
      "sigusr1",
      "--port",
      "8080",
      "--port",
      "53/udp",
    ]);
    assert.equal(r.code, 0, r.stderr);
    // skopeo (containers/image) reads the config from the layout: an oracle that is not zerodep.
    const cfg = JSON.parse(run("skopeo", ["inspect", "--config", `oci:${dir}:v1`]).stdout) as {
      config: {
        Cmd: string[];
        Entrypoint: string[];
        StopSignal: string;
        ExposedPorts: Record<string, unknown>;
      };
    };
    assert.deepEqual(cfg.config.Cmd, ["-addr", ":1,2", ""]);
    assert.deepEqual(cfg.config.Entrypoint, ["/app/hello-static", "--verbose=a,b"]);
    assert.equal(cfg.config.StopSignal, "sigusr1");
    assert.deepEqual(Object.keys(cfg.config.ExposedPorts).sort(), ["53/udp", "8080/tcp"]);
    // The forms Docker's signal.ParseSignal accepts: name with or without SIG, any case, a number.
    for (const s of ["SIGTERM", "TERM", "15", "sigkill", "RTMIN+3"]) {
      const d = join(work, `sig-${s.replace(/\W/g, "")}`);
      const p = await cli(["pack", hello, "--out", `oci:${d}`, "--stop-signal", s]);
      assert.equal(p.code, 0, `${s}: ${p.stderr}`);
    }
  });
});

describe("front door: help is generated from the definitions", () => {
  test("each command's help lists only its own flags", async () => {
    for (const def of COMMANDS) {
      const r = await cli([def.name, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: zerodep ${def.name} `));
      const listed = [...r.stdout.matchAll(/^\s+(?:-\w, )?--([a-z-]+)/gm)].map((m) => m[1]);
      assert.deepEqual(new Set(listed), new Set([...Object.keys(def.flags), "help"]), def.name);
    }
    const inspect = (await cli(["inspect", "--help"])).stdout;
    assert.doesNotMatch(inspect, /--username|--out|--password-stdin|--chunk-size|--concurrency/);
    assert.match((await cli(["push", "--help"])).stdout, /--chunk-size BYTES/);
    assert.match((await cli(["help", "pack"])).stdout, /--stop-signal SIG/);
  });

  test("`zerodep --help` and `zerodep CMD --help` do not load any command module", () => {
    const log = join(work, "loaded.txt");
    const hooks = join(work, "hooks.mjs");
    writeFileSync(
      hooks,
      `import { appendFileSync } from "node:fs";
export async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; }`,
    );
    const boot = join(work, "boot.mjs");
    writeFileSync(
      boot,
      `import { register } from "node:module"; import { pathToFileURL } from "node:url";
register(pathToFileURL(${JSON.stringify(hooks)}).href);
await import(pathToFileURL(${JSON.stringify(cliPath)}).href);`,
    );
    for (const args of [["--help"], ["pack", "--help"], ["inspect", "--bogus"]]) {
      writeFileSync(log, "");
      const r = spawnSync(process.execPath, [boot, ...args], { encoding: "utf8", timeout: 30_000 });
      assert.ok(r.status === 0 || r.status === 2, r.stderr);
      const loaded = readFileSync(log, "utf8");
      assert.match(loaded, /src\/cli\/table\.js/, "the hook saw the CLI load");
      assert.doesNotMatch(loaded, /src\/cli\/commands\/|src\/elf\/|src\/registry\//, args.join(" "));
    }
    // A real run does load its module (the hook is not blind).
    writeFileSync(log, "");
    spawnSync(process.execPath, [boot, "inspect", hello], { encoding: "utf8", timeout: 30_000 });
    assert.match(readFileSync(log, "utf8"), /src\/cli\/commands\/inspect\.js/);
  });
});
