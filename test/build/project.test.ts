import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  findProjectFile,
  loadProject,
  mergeProject,
  parseProject,
  projectBuilds,
} from "../../src/build/project.js";
import { ZerodepError } from "../../src/errors.js";
import { repoRoot } from "../helpers/env.js";
import { inChild } from "../helpers/in-child.js";

const work = join(tmpdir(), `zd-project-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
after(() => rmSync(work, { recursive: true, force: true }));

// A project directory with what the files below point at.
const proj = join(work, "proj");
mkdirSync(join(proj, "static"), { recursive: true });
mkdirSync(join(proj, "svc"), { recursive: true });
writeFileSync(join(proj, "ca.pem"), "not checked here\n");
writeFileSync(join(proj, "plain-file"), "");
const F = join(proj, "zerodep.yaml");

/** Parses `lines` (joined by "\n") as proj/zerodep.yaml. */
function parse(lines: string[]) {
  return parseProject(lines.join("\n"), F);
}

/** The one-line PROJECT_FILE message parsing `lines` gives. */
function errorOf(lines: string[]): string {
  try {
    parse(lines);
  } catch (e) {
    assert.ok(e instanceof ZerodepError, `not a ZerodepError: ${e}`);
    assert.equal(e.code, "PROJECT_FILE");
    assert.doesNotMatch(e.message, /\n/, "one line");
    return e.message;
  }
  assert.fail("parsed without an error");
}

const projectJs = join(repoRoot, "dist", "src", "build", "project.js");

/**
 * loadProject on `file` in a child process (so that a crash or a hang cannot take the test runner with
 * it), with a 60 s watchdog (a hang detector: the quadratic duplicate check took 98 s; a loaded CI machine took 10 s for the linear one); returns its error message, its exit status and its peak RSS (the child's own
 * rusage maxRSS, in MiB).
 */
function loadInChild(file: string) {
  return inChild(projectJs, `await m.loadProject(${JSON.stringify(file)});`, 60_000);
}

// The schema of the README, every key used once.
const FULL = [
  "version: 1", //                                   1
  "build:", //                                       2
  "  builds:", //                                    3
  "    - dir: svc", //                               4
  "      main: ./cmd/server", //                     5
  "      env: [GOEXPERIMENT=loopvar]", //            6
  "      flags: [-tags=netgo]", //                   7
  '      ldflags: ["-X main.version={{.Version}}"]', // 8
  "      platforms: [linux/amd64, linux/arm64]", //  9
  "    - dir: svc", //                               10
  "      main: ./cmd/worker", //                     11
  "      env: [GOEXPERIMENT=loopvar]", //            12
  "      flags: [-tags=netgo]", //                   13
  '      ldflags: ["-X main.version={{.Version}}"]', // 14
  "      platforms: [linux/amd64, linux/arm64]", //  15
  "  cgo: off", //                                   16
  "  base: oci:base:latest", //                      17
  '  tags: [latest, "{{.Version}}"]', //             18
  "  push: registry.example/app", //                 19
  "  out: [oci:out, oci-archive:app.tar]", //        20
  "  image:", //                                     21
  "    env: [TZ=UTC, LANG=C.UTF-8]", //              22
  '    args: [-addr, ":8080"]', //                   23
  "    entrypoint: [/app/server]", //                24
  '    user: "65532:65532"', //                      25
  "    workdir: /", //                               26
  '    ports: [8080, "9090/udp"]', //                27
  "    labels: {team: core, tier: 1}", //            28
  "    annotations:", //                             29
  "      org.opencontainers.image.url: https://example.invalid/app", // 30
  "    add:", //                                     31
  "      - {src: static, dst: /srv/static}", //      32
  '      - "ca.pem:/etc/app/ca.pem"', //             33
  "    ca-certs: ca.pem", //                         34
  "    tzdata: none", //                             35
  "    stop-signal: SIGINT", //                      36
];

const FULL_OPTIONS = {
  targets: ["./cmd/server", "./cmd/worker"],
  dir: join(proj, "svc"),
  buildEnv: ["GOEXPERIMENT=loopvar"],
  buildFlags: ["-tags=netgo"],
  ldflags: ["-X main.version={{.Version}}"],
  platforms: ["linux/amd64", "linux/arm64"],
  // YAML 1.2: `off` is the string off, not the boolean false of YAML 1.1.
  cgo: "off",
  base: "oci:base:latest",
  tags: ["latest", "{{.Version}}"],
  push: ["registry.example/app"],
  out: ["oci:out", "oci-archive:app.tar"],
  env: ["TZ=UTC", "LANG=C.UTF-8"],
  args: ["-addr", ":8080"],
  entrypoint: ["/app/server"],
  user: "65532:65532",
  workdir: "/",
  ports: ["8080", "9090/udp"],
  labels: { team: "core", tier: "1" },
  annotations: { "org.opencontainers.image.url": "https://example.invalid/app" },
  add: [
    { src: join(proj, "static"), dst: "/srv/static" },
    { src: join(proj, "ca.pem"), dst: "/etc/app/ca.pem" },
  ],
  caCerts: join(proj, "ca.pem"),
  tzdata: "none",
  stopSignal: "SIGINT",
};

describe("zerodep.yaml: valid files", () => {
  test("every key of the schema maps to exactly these BuildOptions", async () => {
    writeFileSync(F, FULL.join("\n"));
    const project = await loadProject(F);
    assert.deepEqual(mergeProject(project, {}), FULL_OPTIONS);
  });

  test("the `zerodep:` section of a shared file gives the same options; other tools' keys are not read", () => {
    const shared = [
      "other-tool: {anything: [1, 2], 3: x}", // a number key: someone else's problem
      "zerodep:",
      ...FULL.slice(2).map((l) => (l.startsWith("  ") ? l : `  ${l}`)),
      "  version: 1",
      "build: not ours either",
    ];
    assert.deepEqual(mergeProject(parse(shared), {}), FULL_OPTIONS);
  });

  test("an empty file, a comment-only file and null values are an empty project", () => {
    for (const lines of [
      [""],
      ["# nothing yet"],
      ["build:", "  tags:", "  image:"],
      ["build:"],
      ["x: 1", "zerodep:"],
    ]) {
      assert.deepEqual(mergeProject(parse(lines), {}), { dir: proj });
    }
  });

  test("flags win key by key: a list replaces, env and labels merge by key, other flags pass through", () => {
    const project = parse(FULL);
    const onCommand = () => {};
    const merged = mergeProject(project, {
      targets: ["./cmd/other"],
      tags: ["v2"],
      push: "registry.example/other",
      env: ["LANG=en_US.UTF-8", "DEBUG=1"],
      buildEnv: ["CGO_CFLAGS=-O2"],
      labels: { tier: "2", owner: "me" },
      ldflags: [],
      split: true,
      onCommand,
    });
    assert.deepEqual(merged.targets, ["./cmd/other"]);
    assert.deepEqual(merged.tags, ["v2"]);
    assert.equal(merged.push, "registry.example/other");
    assert.deepEqual(merged.env, ["TZ=UTC", "LANG=en_US.UTF-8", "DEBUG=1"]);
    assert.deepEqual(merged.buildEnv, ["GOEXPERIMENT=loopvar", "CGO_CFLAGS=-O2"]);
    assert.deepEqual(merged.labels, { team: "core", tier: "2", owner: "me" });
    assert.deepEqual(merged.ldflags, [], "an empty list given is a list given");
    assert.equal(merged.split, true);
    assert.equal(merged.onCommand, onCommand);
    assert.equal(merged.base, "oci:base:latest", "what the flags leave alone comes from the file");
  });

  test("builds that differ are an error naming the entry, unless a flag sets what differs; projectBuilds keeps each", () => {
    const lines = [
      "build:", //                                  1
      "  builds:", //                               2
      "    - main: ./cmd/a", //                     3
      "      ldflags: [-X main.a=1]", //            4
      "    - main: ./cmd/b", //                     5
      "      ldflags: [-X main.b=1]", //            6
    ];
    const project = parse(lines);
    assert.throws(
      () => mergeProject(project, {}),
      (e: ZerodepError) =>
        e.code === "PROJECT_FILE" &&
        e.message.startsWith(`${F}:5:7: per-build settings differ: builds[1] has ldflags`),
    );
    assert.deepEqual(mergeProject(project, { ldflags: ["-s"] }).targets, ["./cmd/a", "./cmd/b"]);
    assert.deepEqual(
      projectBuilds(project).map((b) => [b.dir, b.targets, b.ldflags, b.at]),
      [
        [proj, ["./cmd/a"], ["-X main.a=1"], `${F}:3:7`],
        [proj, ["./cmd/b"], ["-X main.b=1"], `${F}:5:7`],
      ],
    );
  });

  test("findProjectFile: zerodep.yaml before zerodep.yml, in the directory itself only", () => {
    const d = join(work, "find");
    mkdirSync(join(d, "sub"), { recursive: true });
    assert.equal(findProjectFile(d), null);
    writeFileSync(join(d, "zerodep.yml"), "");
    assert.equal(findProjectFile(d), join(d, "zerodep.yml"));
    writeFileSync(join(d, "zerodep.yaml"), "");
    assert.equal(findProjectFile(d), join(d, "zerodep.yaml"));
    assert.equal(findProjectFile(join(d, "sub")), null, "parents are not searched");
  });
});

describe("zerodep.yaml: errors name FILE:LINE:COLUMN", () => {
  test("an unknown key, with the known ones", () => {
    // line 4 is "    entry-point: [x]": the key starts at column 5
    assert.equal(
      errorOf(["version: 1", "build:", "  image:", "    entry-point: [x]"]),
      `${F}:4:5: unknown key "entry-point" in build.image (known: env, args, entrypoint, user, workdir, ports, labels, annotations, add, ca-certs, tzdata, stop-signal)`,
    );
    assert.match(
      errorOf(["builds: []"]),
      new RegExp(`^${F}:1:1: unknown key "builds" in the file \\(known: version, build\\)$`),
    );
    assert.match(
      errorOf(["build:", "  builds:", "    - {main: x, dri: .}"]),
      /:3:17: unknown key "dri" in build\.builds\[0\]/,
    );
  });

  test("a string where a list is wanted, and a list where a string is wanted", () => {
    assert.match(
      errorOf(["build:", "  tags: latest"]),
      new RegExp(`^${F}:2:9: build\\.tags: expected a list .*got the string "latest"$`),
    );
    assert.match(errorOf(["build:", "  base: [a, b]"]), /:2:9: build\.base: expected a string, got a list$/);
    // An unquoted template is a flow map in YAML: the message says to quote it.
    assert.match(
      errorOf(["build:", "  tags:", "    - {{.Version}}"]),
      /:3:7: build\.tags\[0\]: expected a string, got a map \(quote templates/,
    );
  });

  test("a number (or a list) as a key", () => {
    assert.match(
      errorOf(["build:", "  image:", "    labels:", "      42: x"]),
      /:4:7: build\.image\.labels: a key must be a string, got the number 42$/,
    );
    assert.match(errorOf(["build:", "  [a]: x"]), /:2:3: build: a key must be a string, got a list$/);
  });

  test("env entries that are not KEY=VALUE, in the image and in a build", () => {
    assert.match(
      errorOf(["build:", "  image:", "    env: [TZ=UTC, TZ]"]),
      /:3:19: build\.image\.env: "TZ" is not KEY=VALUE$/,
    );
    assert.match(
      errorOf(["build:", "  builds:", "    - env:", "        - =x"]),
      /:4:11: build\.builds\[0\]\.env: "=x" is not KEY=VALUE$/,
    );
  });

  test("cgo, tzdata and version outside their sets", () => {
    assert.match(
      errorOf(["build:", "  cgo: maybe"]),
      /:2:8: build\.cgo: "maybe" is not one of auto, off, static, bundle$/,
    );
    // YAML 1.1 would read `no` as false; YAML 1.2 reads the string "no", which is still not a mode.
    assert.match(
      errorOf(["build:", "  image: {tzdata: no}"]),
      /:2:19: build\.image\.tzdata: "no" is not one of auto, all, none$/,
    );
    assert.match(errorOf(["version: 2"]), /:1:10: version must be 1 .*got the number 2$/);
    assert.match(errorOf(["zerodep:", '  version: "1"']), /:2:12: version must be 1 .*got the string "1"$/);
  });

  test("platforms and ports of the wrong shape", () => {
    assert.match(
      errorOf(["build:", "  builds:", "    - platforms: [linux/amd64, amd64]"]),
      /:3:32: .*platforms: "amd64" is not OS\/ARCH/,
    );
    assert.match(
      errorOf(["build:", "  builds:", "    - platforms: every"]),
      /:3:18: .*platforms: expected a list of OS\/ARCH\[\/VARIANT\] or "all", got the string "every"$/,
    );
    assert.match(
      errorOf(["build:", "  image:", "    ports: [80, 70000]"]),
      /:3:17: build\.image\.ports: "70000" is not PORT/,
    );
  });

  test("duplicate keys, in block and flow maps, name both places", () => {
    assert.equal(
      errorOf(["build:", "  base: a", "  tags: [x]", "  base: b"]),
      `${F}:4:3: duplicate key "base" in build (first at ${F}:2:3)`,
    );
    assert.match(
      errorOf(["build:", "  image:", "    labels: {a: 1, b: 2, a: 3}"]),
      /:3:26: duplicate key "a" in build\.image\.labels \(first at .*:3:14\)$/,
    );
    // In a shared file the other top-level keys are not read, but a second zerodep section is ours.
    assert.equal(
      errorOf(["zerodep: {base: a}", "other: 1", "zerodep: {base: b}"]),
      `${F}:3:1: duplicate key "zerodep" (first at ${F}:1:1)`,
    );
    // A build entry that is empty (a bare "-") is not a build of ".".
    assert.match(
      errorOf(["build:", "  builds:", "    -", "    - main: x"]),
      /:3:6: build\.builds\[0\]: expected a map .*got null$/,
    );
  });

  test("paths are relative to the file and must exist", () => {
    assert.match(
      errorOf(["build:", "  builds:", "    - dir: nowhere"]),
      new RegExp(`:3:12: build\\.builds\\[0\\]\\.dir: ${proj}/nowhere: no such file or directory$`),
    );
    assert.match(
      errorOf(["build:", "  builds:", "    - dir: plain-file"]),
      /:3:12: build\.builds\[0\]\.dir: .*\/plain-file is not a directory$/,
    );
    assert.match(
      errorOf(["build:", "  image:", "    add: [{src: gone, dst: /x}]"]),
      /:3:17: build\.image\.add\[0\]\.src: .*\/gone: no such file or directory$/,
    );
    assert.match(
      errorOf(["build:", "  image:", "    add: [{src: static, dst: srv}]"]),
      /:3:30: build\.image\.add\[0\]\.dst: "srv" is not an absolute path/,
    );
    assert.match(
      errorOf(["build:", "  image:", "    ca-certs: static"]),
      /:3:15: build\.image\.ca-certs: .*\/static is not a regular file$/,
    );
  });

  test("not YAML, and more than one document", () => {
    assert.match(errorOf(["build:", "  tags: [a, b"]), /^.*zerodep\.yaml:2:\d+: not valid YAML: /);
    assert.equal(
      errorOf(["build: {}", "---", "build: {}"]),
      `${F}:2:1: more than one YAML document (---): a project file has one`,
    );
  });

  test("a control character is refused with its place; a key's escapes are not echoed raw", () => {
    assert.equal(
      errorOf(["build:", "  base: a\u0000b"]),
      `${F}:2:10: control character U+0000: YAML allows only printable characters (escape it in a "quoted string")`,
    );
    const msg = errorOf(["build:", '  "\\e[2J": 1']);
    assert.doesNotMatch(msg, /\u001b/);
    assert.match(msg, /:2:3: unknown key "\\u001b\[2J" in build/);
  });
});

describe("zerodep.yaml: hostile files, bounded", () => {
  const hostile = join(work, "hostile");
  mkdirSync(hostile, { recursive: true });
  const write = (name: string, data: string | Uint8Array) => {
    const p = join(hostile, name);
    writeFileSync(p, data);
    return p;
  };

  test("billion laughs: ten levels of nine aliases each is refused in a child under 10 s and 200 MiB", () => {
    const lines = ["x:", "  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `  a${i}: &a${i} [${Array(9)
          .fill(`*a${i - 1}`)
          .join(", ")}]`,
      );
    lines.push("zerodep:", "  tags: *a9", "  image:", "    labels: *a9");
    // tags: *a9 is a list of lists: refused at its first element, an alias to a8's list ("  a8: &a8 [",
    // line 10, column 11), after following two aliases rather than 9^10.
    const r = loadInChild(write("laughs.yaml", lines.join("\n")));
    assert.equal(r.signal, null, "finished within the watchdog");
    assert.equal(r.status, 0, r.message);
    assert.match(
      r.message,
      /^PROJECT_FILE .*laughs\.yaml:10:11: zerodep\.tags\[0\]: expected a string, got a list$/,
    );
    assert.ok(r.mib < 200, `peak RSS ${r.mib.toFixed(0)} MiB`);
  });

  test("aliases are followed at most 100 times", () => {
    const tags = Array(101).fill("*a").join(", ");
    // "build:" (line 1), "  base: &a x" (2), "  tags: [" + 100 × "*a, " puts the 101st alias at column 10 + 400.
    assert.match(
      errorOf(["build:", "  base: &a x", `  tags: [${tags}]`]),
      /:3:410: more than 100 aliases \(\*name\) followed: refusing an alias bomb$/,
    );
    assert.deepEqual(
      parse(["build:", "  base: &a x", `  tags: [${Array(100).fill("*a").join(", ")}]`]).tags?.length,
      100,
    );
  });

  test("deep nesting (flow, compact block, indentation) is refused before the recursive composer runs", () => {
    const half = 1 << 19;
    const cases: [string, string, RegExp][] = [
      ["flow.yaml", "[".repeat(half) + "]".repeat(half), /flow\.yaml:1:65: nested more than 64 levels deep$/],
      ["compact.yaml", "- ".repeat(half), /compact\.yaml:1:129: nested more than 64 levels deep$/],
      [
        "indent.yaml",
        Array.from({ length: 1400 }, (_, i) => `${" ".repeat(i)}a:`).join("\n"),
        // the 65th map (line 65, indented 64) is one level too many
        /indent\.yaml:65:65: nested more than 64 levels deep$/,
      ],
    ];
    for (const [name, text, want] of cases) {
      const r = loadInChild(write(name, text));
      assert.equal(r.signal, null, `${name}: finished within the watchdog`);
      assert.equal(r.status, 0, `${name}: ${r.message}`);
      assert.match(r.message, want);
      assert.ok(r.mib < 200, `${name}: peak RSS ${r.mib.toFixed(0)} MiB`);
    }
  });

  test("a 1 MiB flow map with a duplicate key at its end is refused within the watchdog (the library's check is quadratic)", () => {
    let body = "zerodep:\n  image:\n    labels: {";
    let i = 0;
    while (body.length < (1 << 20) - 64) body += `k${i++}: v,`;
    const r = loadInChild(write("wide.yaml", `${body}k7: again}`));
    assert.equal(r.signal, null, "finished within the watchdog");
    assert.match(
      r.message,
      /^PROJECT_FILE .*wide\.yaml:3:\d+: duplicate key "k7" in zerodep\.image\.labels \(first at .*:3:\d+\)$/,
    );
  });

  test("a 10 MB file is refused before it is read; a file of exactly 1 MiB is read", async () => {
    const big = write("big.yaml", Buffer.alloc(10_000_000, "#"));
    await assert.rejects(loadProject(big), {
      code: "PROJECT_FILE",
      message: `${big}: 10000000 bytes; a project file may have at most 1048576 (1 MiB)`,
    });
    const limit = write("limit.yaml", Buffer.alloc(1 << 20, "#"));
    assert.deepEqual((await loadProject(limit)).builds, []);
  });

  test("a file that is not UTF-8 names the line and column of the first bad byte", async () => {
    // "build:\n" (7 bytes), then "  base: caf" and a Latin-1 é: line 2, byte column 12.
    const p = write("latin1.yaml", Buffer.from("build:\n  base: caf\xe9\n", "latin1"));
    await assert.rejects(loadProject(p), {
      code: "PROJECT_FILE",
      message: `${p}:2:12: not UTF-8 (byte 0xe9 at offset 18); save the file as UTF-8`,
    });
  });

  test("a FIFO, a directory and a missing file are one PROJECT_FILE line each, without blocking", async () => {
    const fifo = join(hostile, "fifo.yaml");
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
    await assert.rejects(loadProject(fifo), {
      code: "PROJECT_FILE",
      message: `${fifo}: not a regular file (a FIFO)`,
    });
    await assert.rejects(loadProject(hostile), {
      code: "PROJECT_FILE",
      message: `${hostile}: not a regular file (a directory)`,
    });
    const gone = join(hostile, "gone.yaml");
    await assert.rejects(loadProject(gone), {
      code: "PROJECT_FILE",
      message: `${gone}: no such file or directory`,
    });
  });

  test("the YAML library is loaded only when a project file is parsed", () => {
    const script = `
      import { createRequire } from "node:module";
      const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes("/node_modules/yaml/"));
      const { parseProject } = await import(${JSON.stringify(projectJs)});
      const before = loaded();
      parseProject("build: {}", "x.yaml");
      process.stdout.write(JSON.stringify([before, loaded()]));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [false, true]);
  });
});
