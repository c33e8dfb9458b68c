// Records what a zerodep build prints and writes over a fixed corpus of commands, so that two builds
// (before and after a refactoring) can be compared file by file: `diff -r A B`.
//
//   node scripts/corpus.mjs CLI_JS OUT_DIR
//
// CLI_JS is a built dist/src/cli/main.js (of any checkout); OUT_DIR receives one file per command with
// its exit code, stdout and stderr (temporary paths replaced by <W>), and, for every image pack writes,
// the bytes that define it: the archive's sha256, or the layout's index.json and its blob list.
// Inputs: test/fixtures/out (npm run fixtures) and examples/. Nothing here asserts anything: the
// comparison is the point (README "Design" → the redesign's corpus check).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const [cli, outDir] = process.argv.slice(2).map((p) => resolve(p));
if (!cli || !outDir) {
  console.error("usage: node scripts/corpus.mjs CLI_JS OUT_DIR");
  process.exit(2);
}
const root = resolve(new URL("..", import.meta.url).pathname);
const fx = (n) => join(root, "test/fixtures/out", n);
const work = mkdtempSync(join(tmpdir(), "zd-corpus-"));
mkdirSync(outDir, { recursive: true });

const norm = (s) => s.split(work).join("<W>").split(root).join("<R>");
const sha = (b) => createHash("sha256").update(b).digest("hex");

/** What an output destination holds, as text. */
function describeDest(dest) {
  const [kind, ...rest] = dest.split(":");
  const path = rest[0];
  if (!existsSync(path)) return `${dest}: absent\n`;
  if (kind === "oci") {
    const blobs = readdirSync(join(path, "blobs/sha256")).sort();
    return `${dest}\nindex.json ${readFileSync(join(path, "index.json"), "utf8")}\nblobs ${blobs.join(" ")}\n`;
  }
  return `${dest}: sha256 ${sha(readFileSync(path))} size ${statSync(path).size}\n`;
}

let n = 0;
function rec(name, args, opts = {}) {
  const r = spawnSync(process.execPath, [cli, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    maxBuffer: 1 << 28,
  });
  let stdout = r.stdout;
  if (opts.json) {
    try {
      const j = JSON.parse(stdout);
      // Fields a later build may add are dropped so that the comparison sees only what both print.
      for (const k of opts.drop ?? []) delete j[k];
      stdout = `${JSON.stringify(j, null, 1)}\n`;
    } catch {}
  }
  let text = `$ zerodep ${norm(args.join(" "))}\nexit ${r.status}\n--- stdout\n${norm(stdout)}--- stderr\n${norm(r.stderr)}`;
  for (const d of opts.dests ?? []) text += `--- ${norm(describeDest(d))}`;
  writeFileSync(join(outDir, `${String(n++).padStart(3, "0")}-${name}.txt`), text);
  return r;
}

const nc = ["--ca-certs", "none", "--tzdata", "none"];
const packs = [
  ["hello-static", [join(root, "examples/hello/hello-static")], []],
  ["go-static", [fx("go-static")], []],
  ["go-static-none", [fx("go-static")], nc],
  ["go-tz-all", [fx("go-tz")], ["--tzdata", "all", "--ca-certs", "none"]],
  ["go-x509", [fx("go-x509")], []],
  ["go-net", [fx("go-net")], []],
  ["go-vcs", [fx("go-vcs")], nc],
  ["multi", [fx("go-static"), fx("go-arm64"), fx("go-arm")], nc],
  ["armv6", [fx("go-armv6")], nc],
  [
    "options",
    [fx("go-static")],
    [
      ...nc,
      "--user",
      "1000:1000",
      "--env",
      "A=B",
      "--env",
      "PATH=/x",
      "--label",
      "l=1",
      "--annotation",
      "a=2",
      "--port",
      "8080",
      "--port",
      "53/udp",
      "--stop-signal",
      "TERM",
      "--workdir",
      "/w",
      "--cmd",
      '["-addr",":1,2"]',
      "--path",
      "/bin/app",
    ],
  ],
  ["bundle", [fx("c-rpath")], ["--bundle-libs", ...nc]],
  ["c-dynamic-refused", [join(root, "examples/hello/hello-dynamic")], nc],
  ["c-dynamic-forced", [join(root, "examples/hello/hello-dynamic")], [...nc, "--force"]],
  ["musl-static", [fx("musl-static")], nc],
  ["rust", [fx("rust-hello")], nc],
  ["bad-user", [fx("go-static")], [...nc, "--user", "nobody"]],
  ["not-elf", [fx("not-elf.txt")], nc],
  ["truncated", [fx("elf-magic-only")], nc],
];
const layouts = [];
for (const [name, bins, extra] of packs) {
  for (const [t, dest] of [
    ["oci", `oci:${join(work, `${name}-oci`)}:v1`],
    ["oci-untagged", `oci:${join(work, `${name}-oci-untagged`)}`],
    ["ocia", `oci-archive:${join(work, `${name}.oar`)}`],
    ["ocia-tag", `oci-archive:${join(work, `${name}-t.oar`)}:v2`],
    ["docker", `docker-archive:${join(work, `${name}.dar`)}:zd/${name}:v3`],
  ]) {
    if (t === "docker" && bins.length > 1) continue;
    rec(`pack-${name}-${t}`, ["pack", ...bins, "--out", dest, ...extra, "--json"], {
      json: true,
      drop: ["destinations"],
      dests: [dest],
    });
    rec(`pack-${name}-${t}-human`, ["pack", ...bins, "--out", `${dest.replace(/(:v\d)?$/, "")}-h`, ...extra]);
    if (t === "oci") layouts.push([name, dest]);
  }
}
rec("pack-sde", ["pack", fx("go-static"), "--out", `oci:${join(work, "sde")}`, ...nc, "--json"], {
  json: true,
  drop: ["destinations"],
  env: { SOURCE_DATE_EPOCH: "1700000000" },
  dests: [`oci:${join(work, "sde")}`],
});
const base = `oci:${join(work, "go-static-oci")}:v1`;
rec(
  "pack-base",
  ["pack", fx("go-x509"), "--base", base, "--path", "/app/second", "--out", `oci:${join(work, "based")}:v1`, "--json"],
  { json: true, drop: ["destinations"], dests: [`oci:${join(work, "based")}:v1`] },
);
rec(
  "pack-base-archive",
  ["pack", fx("go-vcs"), "--base", `oci-archive:${join(work, "go-static-t.oar")}:v2`, "--path", "/app/vcs", "--out", `docker-archive:${join(work, "based.dar")}`, ...nc, "--json"],
  { json: true, drop: ["destinations"], dests: [`docker-archive:${join(work, "based.dar")}`] },
);
for (const [name, dest] of layouts) {
  rec(`analyze-${name}`, ["analyze", dest, "--json"], { json: true });
  rec(`analyze-${name}-human`, ["analyze", dest]);
  rec(`check-image-${name}`, ["check", dest, "--json"], { json: true });
  rec(`inspect-image-${name}`, ["inspect", dest, "--json"], { json: true });
}
rec("diff", ["diff", base, `oci:${join(work, "based")}:v1`, "--json"], { json: true });
rec("diff-human", ["diff", base, `oci:${join(work, "options-oci")}:v1`]);
for (const f of ["go-static", "go-cgo", "c-rpath", "musl-dynamic", "rust-hello", "c-static-pie", "go-windows.exe", "go-darwin-fat"]) {
  rec(`inspect-${f}`, ["inspect", fx(f), "--json"], { json: true });
  rec(`check-${f}`, ["check", fx(f), "--target", "scratch", "--json"], { json: true });
}
rmSync(work, { recursive: true, force: true });
console.log(`${n} records in ${outDir}`);
