/**
 * Runtime files that are present but useless, judged against the program itself: a Go program that
 * prints how many CA roots it loaded (go-x509) and one that loads Europe/Berlin (go-tz) run with
 * chroot in roots whose files are real, garbage, empty or shadowed. `check` says a need is satisfied
 * exactly when the program finds what it needs.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { after, describe, it } from "node:test";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs } from "../helpers/env.js";
import { chrootUnavailable, host, place, put, RootSet } from "../helpers/roots.js";

const HOST_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
const HOST_BERLIN = "/usr/share/zoneinfo/Europe/Berlin";

function write(root: string, inRoot: string, text: string): void {
  mkdirSync(dirname(host(root, inRoot)), { recursive: true });
  writeFileSync(host(root, inRoot), text);
}

interface Case {
  name: string;
  program: "go-x509" | "go-tz";
  build: (root: string) => void;
  env?: Record<string, string>;
}

const GARBAGE = "this is not a certificate bundle\n".repeat(20);

const CASES: Case[] = [
  {
    name: "real bundle",
    program: "go-x509",
    build: (r) => put(r, HOST_BUNDLE, "/etc/ssl/certs/ca-certificates.crt"),
  },
  {
    name: "garbage bundle",
    program: "go-x509",
    build: (r) => write(r, "/etc/ssl/certs/ca-certificates.crt", GARBAGE),
  },
  {
    // Go reads the first file that exists and stops looking at files there, even when it is empty.
    name: "empty first file shadows a real later one",
    program: "go-x509",
    build: (r) => {
      write(r, "/etc/pki/tls/certs/ca-bundle.crt", "");
      put(r, HOST_BUNDLE, "/etc/ssl/cert.pem");
    },
  },
  {
    name: "garbage first file, real bundle in the certificate directory",
    program: "go-x509",
    build: (r) => {
      write(r, "/etc/ssl/ca-bundle.pem", GARBAGE);
      put(r, HOST_BUNDLE, "/etc/pki/tls/certs/roots.pem");
    },
  },
  {
    name: "SSL_CERT_FILE names a real bundle outside the usual places",
    program: "go-x509",
    build: (r) => put(r, HOST_BUNDLE, "/certs/mine.pem"),
    env: { SSL_CERT_FILE: "/certs/mine.pem" },
  },
  {
    name: "SSL_CERT_FILE names garbage; the default directory still has a bundle",
    program: "go-x509",
    build: (r) => {
      write(r, "/certs/mine.pem", GARBAGE);
      put(r, HOST_BUNDLE, "/etc/ssl/certs/ca-certificates.crt");
    },
    env: { SSL_CERT_FILE: "/certs/mine.pem" },
  },
  {
    name: "real zone",
    program: "go-tz",
    build: (r) => put(r, HOST_BERLIN, "/usr/share/zoneinfo/Europe/Berlin"),
  },
  {
    name: "zone files that are not TZif",
    program: "go-tz",
    build: (r) => {
      write(r, "/usr/share/zoneinfo/Europe/Berlin", GARBAGE);
      write(r, "/usr/share/zoneinfo/UTC", GARBAGE);
    },
  },
];

describe("runtime files present but useless (chroot)", {
  skip: chrootUnavailable() || needs({ tools: ["chroot"], fixtures: ["go-x509", "go-tz"] }),
}, () => {
  const roots = new RootSet("zd-needs-");
  after(() => roots.cleanup());

  for (const c of CASES) {
    it(c.name, () => {
      const root = roots.emptyRoot(c.name.replace(/\W+/g, "-").slice(0, 30));
      place(root, fixture(c.program), `/app/${c.program}`);
      c.build(root);
      const kind = c.program === "go-x509" ? "ca-certificates" : "tzdata";
      const envArgs = Object.entries(c.env ?? {}).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
      const r = zerodep(["check", "--json", "--root", root, ...envArgs, host(root, `/app/${c.program}`)]);
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      const o = JSON.parse(r.stdout) as { needs: { kind: string; satisfied: boolean }[] };
      const need = o.needs.find((n) => n.kind === kind);
      assert.ok(need, `check reports a ${kind} need: ${r.stdout}`);
      const real = spawnSync("chroot", [root, `/app/${c.program}`], {
        encoding: "utf8",
        env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", ...c.env },
        timeout: 10_000,
      });
      assert.ifError(real.error);
      assert.equal(real.signal, null, `${c.name}: killed by ${real.signal}`);
      const found =
        c.program === "go-x509"
          ? Number(/roots: (\d+)/.exec(real.stdout)?.[1] ?? "0") > 0
          : real.stdout.includes("hello from zerodep (tz)");
      assert.equal(
        need.satisfied,
        found,
        `${c.name}: check says ${kind} ${need.satisfied ? "satisfied" : "unsatisfied"}; the program printed ${JSON.stringify(real.stdout + real.stderr)}`,
      );
    });
  }
});
