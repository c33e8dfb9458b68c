import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { cliPath, zerodep } from "../helpers/cli.js";
import { fixture, needs, repoRoot, run } from "../helpers/env.js";
import { startRegistry, type TestRegistry } from "./registry-for-tests.js";

const skip = needs({ tools: ["docker-registry", "skopeo", "openssl", "htpasswd"], fixtures: ["go-static"] });

const USER = "builder";
const PASSWORD = "pw-Zq8#not-in-logs";

describe("registry over TLS (own CA) with htpasswd Basic auth", { skip, timeout: 180_000 }, () => {
  let reg: TestRegistry;
  let work: string;
  let one: string;
  let home: string;
  /** A clean environment: credentials only from the files each test sets up. */
  const env = (extra: Record<string, string> = {}) => ({
    HOME: home,
    DOCKER_CONFIG: "",
    REGISTRY_AUTH_FILE: "",
    XDG_RUNTIME_DIR: "",
    XDG_CONFIG_HOME: "",
    ...extra,
  });
  before(async () => {
    reg = await startRegistry({ kind: "tls-basic", user: USER, password: PASSWORD });
    work = mkdtempSync(join(tmpdir(), "zerodep-tls-"));
    home = join(work, "home");
    mkdirSync(home);
    one = `oci:${join(work, "one")}:v1`;
    const p = zerodep(["pack", fixture("go-static"), "--out", one, "--ca-certs", "none", "--tzdata", "none"]);
    assert.equal(p.code, 0, p.stderr);
  });
  after(async () => {
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test("an untrusted certificate is refused with a hint, never downgraded to HTTP", () => {
    const r = zerodep(["push", one, `${reg.host}/t/one:v1`, "--retries", "0"], { env: env() });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /TLS.*--ca-file/);
  });

  test("--insecure is the explicit way past an untrusted certificate (no --ca-file); skopeo reads the push", () => {
    const auth = join(work, "insecure-auth.json");
    const basic = Buffer.from(`${USER}:${PASSWORD}`).toString("base64");
    writeFileSync(auth, JSON.stringify({ auths: { [reg.host]: { auth: basic } } }), { mode: 0o600 });
    const r = zerodep(["push", one, `${reg.host}/t/insecure:v1`, "--insecure", "--json"], {
      env: env({ REGISTRY_AUTH_FILE: auth }),
    });
    assert.equal(r.code, 0, r.stderr);
    const pushed = (JSON.parse(r.stdout) as { digest: string }).digest;
    const raw = run("skopeo", [
      "inspect",
      "--raw",
      "--tls-verify=false",
      "--creds",
      `${USER}:${PASSWORD}`,
      `docker://${reg.host}/t/insecure:v1`,
    ]).stdout;
    assert.equal(`sha256:${createHash("sha256").update(raw).digest("hex")}`, pushed);
  });

  test("login with a wrong password fails and stores nothing; the password never shows", () => {
    const r = zerodep(["login", reg.host, "-u", USER, "--password-stdin", "--ca-file", reg.caFile!], {
      env: env(),
      input: "wrong-password-xyz\n",
    });
    assert.equal(r.code, 3);
    assert.match(r.stderr, /401|UNAUTHORIZED/);
    assert.ok(!r.stderr.includes("wrong-password-xyz"));
    assert.ok(!existsSync(join(home, ".docker", "config.json")));
  });

  test("login on a terminal asks for the password with echo off; it never shows on the screen", () => {
    // A real pseudo-terminal (python3's pty): what a person typing at a keyboard gives zerodep.
    const r = run("python3", [
      join(repoRoot, "test", "helpers", "pty-run.py"),
      "Password:",
      PASSWORD,
      "60",
      "--",
      "env",
      ...Object.entries(env()).map(([k, v]) => `${k}=${v}`),
      process.execPath,
      cliPath,
      "login",
      reg.host,
      "-u",
      USER,
      "--ca-file",
      reg.caFile!,
    ]);
    const o = JSON.parse(r.stdout) as { out: string; code: number };
    assert.equal(o.code, 0, o.out);
    assert.match(o.out, /Password: /);
    assert.match(o.out, /Login succeeded: builder@/);
    assert.ok(!o.out.includes(PASSWORD), "the password was echoed");
    const cfg = JSON.parse(readFileSync(join(home, ".docker", "config.json"), "utf8")) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(cfg.auths[reg.host]!.auth, Buffer.from(`${USER}:${PASSWORD}`).toString("base64"));
    rmSync(join(home, ".docker"), { recursive: true, force: true });
    // Not a terminal and no --password-stdin: one usage line, nothing stored.
    const piped = zerodep(["login", reg.host, "-u", USER, "--ca-file", reg.caFile!], {
      env: env(),
      input: "",
    });
    assert.equal(piped.code, 2, piped.stderr);
    assert.match(piped.stderr, /--password-stdin is required when standard input is not a terminal/);
    assert.ok(!existsSync(join(home, ".docker", "config.json")));
  });

  test("login stores base64 user:password in ~/.docker/config.json (0600); push and pull then work; skopeo agrees", () => {
    const l = zerodep(
      ["login", reg.host, "-u", USER, "--password-stdin", "--ca-file", reg.caFile!, "--json"],
      {
        env: env(),
        input: `${PASSWORD}\n`,
      },
    );
    assert.equal(l.code, 0, l.stderr);
    assert.ok(!l.stdout.includes(PASSWORD) && !l.stderr.includes(PASSWORD));
    const file = join(home, ".docker", "config.json");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const cfg = JSON.parse(readFileSync(file, "utf8")) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[reg.host]!.auth, "base64").toString(), `${USER}:${PASSWORD}`);

    const p = zerodep(["push", one, `${reg.host}/t/one:v1`, "--ca-file", reg.caFile!, "--json"], {
      env: env(),
    });
    assert.equal(p.code, 0, p.stderr);
    const digest = (JSON.parse(p.stdout) as { digest: string }).digest;
    const raw = run("skopeo", [
      "inspect",
      "--raw",
      "--cert-dir",
      reg.certDir!,
      "--creds",
      `${USER}:${PASSWORD}`,
      `docker://${reg.host}/t/one:v1`,
    ]).stdout;
    assert.equal(`sha256:${createHash("sha256").update(raw).digest("hex")}`, digest);

    const out = join(work, "pulled");
    const q = zerodep(["pull", `${reg.host}/t/one:v1`, "--out", `oci:${out}:v1`, "--ca-file", reg.caFile!], {
      env: env(),
    });
    assert.equal(q.code, 0, q.stderr);
    run("skopeo", ["copy", `oci:${out}:v1`, `oci:${join(work, "verify")}:v1`]);
  });

  test("without credentials: a 401 that says to log in; the stored password is not echoed", () => {
    const r = zerodep(
      ["pull", `${reg.host}/t/one:v1`, "--out", `oci:${join(work, "anon")}`, "--ca-file", reg.caFile!],
      {
        env: env({ HOME: join(work, "nohome") }),
      },
    );
    assert.equal(r.code, 3);
    assert.match(r.stderr, /zerodep login/);
  });

  test("podman's auth.json via REGISTRY_AUTH_FILE, skopeo push → zerodep pull", () => {
    run("skopeo", [
      "copy",
      "--dest-cert-dir",
      reg.certDir!,
      "--dest-creds",
      `${USER}:${PASSWORD}`,
      one,
      `docker://${reg.host}/t/sk:v1`,
    ]);
    const auth = join(work, "auth.json");
    writeFileSync(
      auth,
      JSON.stringify({
        auths: { [reg.host]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString("base64") } },
      }),
    );
    const out = join(work, "from-skopeo");
    const r = zerodep(
      ["pull", `${reg.host}/t/sk:v1`, "--out", `oci:${out}:v1`, "--ca-file", reg.caFile!, "--json"],
      {
        env: env({ HOME: join(work, "nohome"), REGISTRY_AUTH_FILE: auth }),
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const raw = run("skopeo", [
      "inspect",
      "--raw",
      "--cert-dir",
      reg.certDir!,
      "--creds",
      `${USER}:${PASSWORD}`,
      `docker://${reg.host}/t/sk:v1`,
    ]).stdout;
    assert.equal(
      (JSON.parse(r.stdout) as { digest: string }).digest,
      `sha256:${createHash("sha256").update(raw).digest("hex")}`,
    );
  });

  test("credHelpers: a docker-credential-* helper on PATH answers for the registry", () => {
    const bin = join(work, "bin");
    mkdirSync(bin, { recursive: true });
    const helper = join(bin, "docker-credential-zdtest");
    // The helper protocol: server URL on stdin, {"Username","Secret"} on stdout.
    writeFileSync(
      helper,
      `#!/bin/sh\nread server\nif [ "$1" = get ] && [ "$server" = "${reg.host}" ]; then printf '{"ServerURL":"%s","Username":"${USER}","Secret":"${PASSWORD}"}' "$server"; else echo "credentials not found in native keychain"; exit 1; fi\n`,
    );
    chmodSync(helper, 0o755);
    const cfgDir = join(work, "dockercfg");
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(join(cfgDir, "config.json"), JSON.stringify({ credHelpers: { [reg.host]: "zdtest" } }));
    const r = zerodep(["push", one, `${reg.host}/t/helper:v1`, "--ca-file", reg.caFile!], {
      env: env({ HOME: join(work, "nohome"), DOCKER_CONFIG: cfgDir, PATH: `${bin}:${process.env.PATH}` }),
    });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes(PASSWORD) && !r.stdout.includes(PASSWORD));
  });

  test("login through credsStore: the helper stores the secret, config.json never holds it, push reads it back", () => {
    const bin = join(work, "bin-store");
    mkdirSync(bin, { recursive: true });
    const vault = join(work, "vault.json");
    const helper = join(bin, "docker-credential-zdstore");
    // A file-backed helper speaking the docker-credential protocol: store reads JSON on stdin, get
    // takes the server URL on stdin and answers with the stored JSON.
    writeFileSync(
      helper,
      `#!/bin/sh\ncase "$1" in\n  store) cat > '${vault}' ;;\n  get) read server; if [ -f '${vault}' ] && grep -q ""$server"" '${vault}'; then cat '${vault}'; else echo "credentials not found in native keychain"; exit 1; fi ;;\n  *) exit 1 ;;\nesac\n`,
    );
    chmodSync(helper, 0o755);
    const cfgDir = join(work, "dockercfg-store");
    mkdirSync(cfgDir, { recursive: true });
    writeFileSync(join(cfgDir, "config.json"), JSON.stringify({ credsStore: "zdstore", other: 1 }));
    const e = env({ HOME: join(work, "nohome"), DOCKER_CONFIG: cfgDir, PATH: `${bin}:${process.env.PATH}` });
    const l = zerodep(["login", reg.host, "-u", USER, "--password-stdin", "--ca-file", reg.caFile!], {
      env: e,
      input: `${PASSWORD}\n`,
    });
    assert.equal(l.code, 0, l.stderr);
    assert.ok(!l.stderr.includes(PASSWORD) && !l.stdout.includes(PASSWORD));
    const stored = JSON.parse(readFileSync(vault, "utf8")) as {
      ServerURL: string;
      Username: string;
      Secret: string;
    };
    assert.deepEqual(stored, { ServerURL: reg.host, Username: USER, Secret: PASSWORD });
    const cfg = readFileSync(join(cfgDir, "config.json"), "utf8");
    assert.ok(
      !cfg.includes(PASSWORD) && !cfg.includes(Buffer.from(`${USER}:${PASSWORD}`).toString("base64")),
    );
    assert.equal((JSON.parse(cfg) as { other: number }).other, 1);
    const r = zerodep(["push", one, `${reg.host}/t/store:v1`, "--ca-file", reg.caFile!], { env: e });
    assert.equal(r.code, 0, r.stderr);
  });
});
