/**
 * `zerodep logout` forgets what login stored, as podman logout does on the same file (podman is the
 * oracle for the file's resulting entries), and through a credsStore helper's `erase`.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { needs, run } from "../helpers/env.js";

const work = mkdtempSync(join(tmpdir(), "zd-logout-"));
after(() => rmSync(work, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString("base64");
const AUTH = {
  auths: {
    "127.0.0.1:5000": { auth: b64("alice:secret") },
    "registry.example:443": { auth: b64("bob:hunter2") },
  },
  other: "kept",
};

test("logout removes the registry's entry and keeps the rest, as podman logout does", {
  skip: needs({ tools: ["podman"] }),
}, () => {
  const ours = join(work, "ours.json");
  const theirs = join(work, "theirs.json");
  for (const f of [ours, theirs]) writeFileSync(f, JSON.stringify(AUTH), { mode: 0o600 });
  const env = { ...process.env, REGISTRY_AUTH_FILE: ours };
  const r = zerodep(["logout", "127.0.0.1:5000"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `Removed login credentials for 127.0.0.1:5000 (from ${ours})\n`);
  run("podman", ["logout", "--authfile", theirs, "127.0.0.1:5000"]);
  const o = JSON.parse(readFileSync(ours, "utf8")) as typeof AUTH;
  const t = JSON.parse(readFileSync(theirs, "utf8")) as typeof AUTH;
  assert.deepEqual(Object.keys(o.auths).sort(), Object.keys(t.auths).sort());
  assert.equal(o.other, "kept");
  assert.equal(statSync(ours).mode & 0o777, 0o600);
  assert.ok(!readFileSync(ours, "utf8").includes(b64("alice:secret")), "the secret is gone");

  const again = zerodep(["logout", "--json", "127.0.0.1:5000"], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(JSON.parse(again.stdout), {
    schemaVersion: 1,
    registry: "127.0.0.1:5000",
    removedFrom: null,
  });
  assert.equal(zerodep(["logout", "not a host"], { env }).code, 2);
});

test("logout through a credsStore helper calls its erase with the server", () => {
  const bin = join(work, "bin");
  mkdirSync(bin, { recursive: true });
  const log = join(work, "helper.log");
  const helper = join(bin, "docker-credential-zdlogout");
  writeFileSync(helper, `#!/bin/sh\nprintf '%s ' "$1" >> ${log}\ncat >> ${log}\n`);
  chmodSync(helper, 0o755);
  const cfg = join(work, "docker");
  mkdirSync(cfg, { recursive: true });
  writeFileSync(join(cfg, "config.json"), JSON.stringify({ credsStore: "zdlogout" }), { mode: 0o600 });
  const env = { PATH: `${bin}:${process.env.PATH}`, DOCKER_CONFIG: cfg, HOME: work, REGISTRY_AUTH_FILE: "" };
  const r = zerodep(["logout", "127.0.0.1:5000"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(readFileSync(log, "utf8").trim(), "erase 127.0.0.1:5000");
  assert.match(
    r.stdout,
    /Removed login credentials for 127\.0\.0\.1:5000 \(from docker-credential-zdlogout\)/,
  );
});
