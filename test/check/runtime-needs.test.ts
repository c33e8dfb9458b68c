import assert from "node:assert/strict";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  checkRuntimeNeeds,
  detectRuntimeNeeds,
  detectRuntimeNeedsReport,
  GO_EVIDENCE_NAMES,
  goFunctionEvidence,
  type NeedKind,
  type RuntimeNeed,
} from "../../src/check/runtime-needs.js";
import { FileSource } from "../../src/io/reader.js";
import { DirRootFs, EmptyRootFs } from "../../src/resolve/root-fs.js";
import { fixture, fixturesDir, needs, run } from "../helpers/env.js";

async function detect(path: string) {
  const src = FileSource.open(path);
  try {
    return await detectRuntimeNeedsReport(src);
  } finally {
    await src.close();
  }
}

const kinds = (ns: RuntimeNeed[]) => ns.map((n) => n.kind).sort();

/** What each fixture was written to need (and nothing else). */
const EXPECTED: Record<string, NeedKind[]> = {
  "go-x509": ["ca-certificates"],
  "go-tz": ["tzdata"],
  "go-tzdata": [],
  "go-user": ["passwd"],
  "go-net": ["hosts", "nsswitch", "resolv-conf"],
  "go-static": [],
  "go-static-stripped": [],
  "go-cgo": ["hosts", "nss-modules", "nsswitch", "passwd", "resolv-conf"],
  "go-pie-external": [],
  "go-static-pie": [],
  "c-static": [],
  "musl-static": [],
  "c-hardened": [],
};

/** manifest.json `runtimeNeedsInclude` vocabulary -> our kinds. */
const MANIFEST_KINDS: Record<string, NeedKind[]> = {
  "ca-certificates": ["ca-certificates"],
  zoneinfo: ["tzdata"],
  passwd: ["passwd"],
  "resolver-files": ["hosts", "resolv-conf", "nsswitch"],
  "libc-nss": ["nss-modules"],
};

describe("detectRuntimeNeeds on the fixtures", () => {
  for (const [name, want] of Object.entries(EXPECTED)) {
    test(`${name}: ${want.join(", ") || "nothing"}`, { skip: needs({ fixtures: [name] }) }, async () => {
      const r = await detect(fixture(name));
      assert.deepEqual(kinds(r.needs), [...want].sort());
    });
  }

  test("manifest runtimeNeedsInclude is covered", {
    skip: needs({ fixtures: ["manifest.json"] }),
  }, async () => {
    const manifest = JSON.parse(readFileSync(join(fixturesDir, "manifest.json"), "utf8")) as {
      name: string;
      expect: { runtimeNeedsInclude?: string[]; embeddedTzdata?: boolean };
    }[];
    let checked = 0;
    for (const m of manifest) {
      const inc = m.expect.runtimeNeedsInclude;
      if (!inc) continue;
      // build.sh lists only what it built: a listed fixture that is absent is a broken build, not a skip.
      assert.ok(existsSync(fixture(m.name)), `${m.name} is in manifest.json but not built`);
      const got = new Set(kinds((await detect(fixture(m.name))).needs));
      for (const k of inc) {
        const ours = MANIFEST_KINDS[k];
        assert.ok(ours, `unknown manifest need ${k}`);
        for (const o of ours) assert.ok(got.has(o), `${m.name}: ${k} -> ${o} not detected (got ${[...got]})`);
        checked++;
      }
    }
    assert.ok(checked >= 5, `only ${checked} manifest needs checked`);
  });

  test("strength, paths and env of the Go needs", {
    skip: needs({ fixtures: ["go-x509", "go-tz", "go-net", "go-cgo"] }),
  }, async () => {
    const [ca] = (await detect(fixture("go-x509"))).needs;
    assert.equal(ca!.strength, "hard");
    assert.deepEqual(ca!.paths.slice(0, 2), [
      "/etc/ssl/certs/ca-certificates.crt",
      "/etc/pki/tls/certs/ca-bundle.crt",
    ]);
    assert.ok(ca!.paths.includes("/etc/ssl/cert.pem") && ca!.paths.includes("/etc/pki/tls/certs"));
    assert.deepEqual(ca!.env, ["SSL_CERT_FILE", "SSL_CERT_DIR"]);
    assert.match(ca!.fix, /--ca-certs/);
    assert.ok(ca!.evidence.includes("Go: crypto/x509.loadSystemRoots"));

    const [tz] = (await detect(fixture("go-tz"))).needs;
    assert.equal(tz!.paths[0], "/usr/share/zoneinfo/");
    assert.deepEqual(tz!.env, ["ZONEINFO"]);
    assert.match(tz!.fix, /--tzdata/);
    assert.deepEqual(tz!.evidence, ["Go: time.LoadLocation"]);

    for (const n of (await detect(fixture("go-net"))).needs) assert.equal(n.strength, "soft", n.kind);
    const cgo = (await detect(fixture("go-cgo"))).needs;
    assert.ok(cgo.find((n) => n.kind === "nss-modules")!.evidence.includes("Go: net._C2func_getaddrinfo"));
    assert.ok(cgo.find((n) => n.kind === "passwd")!.evidence.includes("Go: os/user._Cfunc_mygetpwuid_r"));
    assert.match(cgo.find((n) => n.kind === "passwd")!.fix, /nonroot/);
  });

  test("go-tzdata says why there is no tzdata need", {
    skip: needs({ fixtures: ["go-tzdata"] }),
  }, async () => {
    const r = await detect(fixture("go-tzdata"));
    assert.ok(r.notes.some((n) => /time\/tzdata embedded/.test(n)));
  });

  test("non-ELF input gives nothing", {
    skip: needs({ fixtures: ["go-windows.exe", "not-elf.txt", "empty"] }),
  }, async () => {
    for (const f of ["go-windows.exe", "not-elf.txt", "empty"]) {
      const src = FileSource.open(fixture(f));
      try {
        assert.deepEqual(await detectRuntimeNeeds(src), [], f);
      } finally {
        await src.close();
      }
    }
  });
});

/** `go tool nm` text symbols, ABI suffix dropped. */
function goNm(path: string): Set<string> {
  const out = new Set<string>();
  for (const line of run("go", ["tool", "nm", path]).stdout.split("\n")) {
    const m = /^\s*[0-9a-f]*\s+[Tt]\s+(\S+)$/.exec(line);
    if (m) out.add(m[1]!.replace(/\.abi0$/, ""));
  }
  return out;
}

describe("differential: Go evidence vs go tool nm (the anchor)", () => {
  const GO_FIXTURES = [
    "go-x509",
    "go-tz",
    "go-tzdata",
    "go-user",
    "go-net",
    "go-static",
    "go-cgo",
    "go-pie-external",
  ];
  test("every evidence name we see is what go tool nm lists, and vice versa", {
    skip: needs({ tools: ["go"], fixtures: GO_FIXTURES }),
  }, async () => {
    for (const f of GO_FIXTURES) {
      const nm = goNm(fixture(f));
      const src = FileSource.open(fixture(f));
      let ours: Set<string> | null;
      try {
        ours = await goFunctionEvidence(src);
      } finally {
        await src.close();
      }
      assert.ok(ours, `${f}: not seen as Go`);
      const exact = [...ours].filter((n) => !n.endsWith("."));
      const anchor = GO_EVIDENCE_NAMES.filter((n) => nm.has(n));
      assert.deepEqual(exact.sort(), [...anchor].sort(), f);
      // Package markers: any function of the package.
      assert.equal(
        ours.has("time/tzdata."),
        [...nm].some((n) => n.startsWith("time/tzdata.")),
        `${f}: time/tzdata`,
      );
      // Every evidence string of every need names a function go tool nm lists.
      for (const need of (await detect(fixture(f))).needs)
        for (const e of need.evidence) {
          const m = /^Go: (.+)$/.exec(e);
          if (m) assert.ok(nm.has(m[1]!), `${f}: ${need.kind} evidence ${m[1]} not in go tool nm`);
        }
    }
  });

  test("the discriminating symbols: hello links none, time.loadLocation alone is not evidence", {
    skip: needs({ tools: ["go"], fixtures: ["go-static", "go-x509", "go-tz", "go-tzdata"] }),
  }, () => {
    const hello = goNm(fixture("go-static"));
    assert.deepEqual(
      GO_EVIDENCE_NAMES.filter((n) => hello.has(n)),
      [],
    );
    const x509 = goNm(fixture("go-x509"));
    // initLocal -> loadLocation is linked by programs that never load a named zone.
    assert.ok(x509.has("time.loadLocation") && !x509.has("time.LoadLocation"));
    assert.ok(goNm(fixture("go-tz")).has("time.LoadLocation"));
    const tzdata = goNm(fixture("go-tzdata"));
    assert.ok(tzdata.has("time.LoadLocation") && tzdata.has("time/tzdata.loadFromEmbeddedTZData"));
  });

  test("stripped binary gives the same evidence as go tool nm on the unstripped one", {
    skip: needs({ tools: ["go"], fixtures: ["go-static", "go-static-stripped"] }),
  }, async () => {
    const src = FileSource.open(fixture("go-static-stripped"));
    try {
      const ours = await goFunctionEvidence(src);
      assert.ok(ours, "stripped binary not seen as Go");
      const nm = goNm(fixture("go-static"));
      assert.deepEqual([...ours].sort(), GO_EVIDENCE_NAMES.filter((n) => nm.has(n)).sort());
    } finally {
      await src.close();
    }
  });
});

/** Small programs built here: what the fixtures do not cover (temp files, fallback roots, C libcs). */
describe("built programs", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zerodep-needs-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const goProgram = (name: string, body: string) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, "go.mod"), `module example.com/${name}\n\ngo 1.22\n`);
    writeFileSync(join(d, "main.go"), body);
    const out = join(dir, `${name}.bin`);
    // -s -w: the evidence must survive stripping (pclntab).
    run("sh", ["-c", `cd '${d}' && CGO_ENABLED=0 GOFLAGS=-mod=mod go build -ldflags='-s -w' -o '${out}' .`]);
    return out;
  };

  test("Go os.CreateTemp -> tmp (hard, TMPDIR), stripped", { skip: needs({ tools: ["go"] }) }, async () => {
    const bin = goProgram(
      "tmp",
      'package main\n\nimport (\n\t"fmt"\n\t"os"\n)\n\nfunc main() {\n\tf, err := os.CreateTemp("", "x")\n\tfmt.Println(f, err)\n}\n',
    );
    const r = await detect(bin);
    assert.deepEqual(kinds(r.needs), ["tmp"]);
    assert.deepEqual(r.needs[0]!.evidence, ["Go: os.CreateTemp"]);
    assert.deepEqual(r.needs[0]!.env, ["TMPDIR"]);
  });

  test("Go x509.SetFallbackRoots -> no CA need, said in notes", {
    skip: needs({ tools: ["go"] }),
  }, async () => {
    const bin = goProgram(
      "fallback",
      'package main\n\nimport (\n\t"crypto/x509"\n\t"fmt"\n)\n\nfunc init() { x509.SetFallbackRoots(x509.NewCertPool()) }\n\nfunc main() {\n\tp, err := x509.SystemCertPool()\n\tfmt.Println(p != nil, err)\n}\n',
    );
    const r = await detect(bin);
    assert.deepEqual(r.needs, []);
    assert.ok(
      r.notes.some((n) => /SetFallbackRoots/.test(n)),
      r.notes.join("; "),
    );
  });

  const C_SRC = `#include <stdio.h>
#include <pwd.h>
#include <grp.h>
#include <netdb.h>
#include <iconv.h>
int main(int argc, char **argv) {
  struct passwd *p = getpwuid(0); struct group *g = getgrgid(0); struct addrinfo *r;
  int e = getaddrinfo(argc > 1 ? argv[1] : "localhost", 0, 0, &r);
  iconv_t c = iconv_open("UTF-16", "ISO-8859-15");
  FILE *t = tmpfile();
  printf("%p %p %d %p %p\\n", (void *)p, (void *)g, e, (void *)c, (void *)t);
  return 0;
}
`;
  const cProgram = (cc: string, name: string, flags: string[]) => {
    const srcPath = join(dir, "needs.c");
    writeFileSync(srcPath, C_SRC);
    const out = join(dir, name);
    run(cc, ["-O2", ...flags, "-o", out, srcPath]);
    return out;
  };

  test("static glibc 2.34+: built-in files/dns, soft nss-modules, gconv from the binary", {
    skip: needs({ tools: ["gcc"] }),
  }, async () => {
    const r = await detect(cProgram("gcc", "c-static-needs", ["-static"]));
    assert.equal(r.source, "static-symtab");
    assert.deepEqual(kinds(r.needs), [
      "gconv",
      "group",
      "hosts",
      "nss-modules",
      "nsswitch",
      "passwd",
      "resolv-conf",
      "tmp",
    ]);
    const by = (k: NeedKind) => r.needs.find((n) => n.kind === k)!;
    assert.equal(by("nss-modules").strength, "soft");
    assert.equal(by("passwd").strength, "hard");
    assert.ok(by("hosts").evidence.includes("static glibc: getaddrinfo"));
    assert.match(by("gconv").paths[0]!, /\/gconv$/);
    assert.ok(by("gconv").evidence.includes("static glibc: iconv_open"));
  });

  test("dynamic glibc: the same needs from the imports", { skip: needs({ tools: ["gcc"] }) }, async () => {
    const r = await detect(cProgram("gcc", "c-dyn-needs", []));
    assert.equal(r.source, "dynamic-imports");
    assert.deepEqual(kinds(r.needs), [
      "gconv",
      "group",
      "hosts",
      "nss-modules",
      "nsswitch",
      "passwd",
      "resolv-conf",
      "tmp",
    ]);
    assert.ok(r.needs.find((n) => n.kind === "hosts")!.evidence.includes("glibc: getaddrinfo"));
  });

  test("static musl: files only, no NSS, iconv built in", {
    skip: needs({ tools: ["musl-gcc"] }),
  }, async () => {
    const r = await detect(cProgram("musl-gcc", "musl-static-needs", ["-static"]));
    assert.deepEqual(kinds(r.needs), ["group", "hosts", "passwd", "resolv-conf", "tmp"]);
  });

  test("stripped static: nothing, rather than a guess", { skip: needs({ tools: ["gcc"] }) }, async () => {
    const r = await detect(cProgram("gcc", "c-static-stripped-needs", ["-static", "-s"]));
    assert.deepEqual(r.needs, []);
    assert.ok(r.notes.some((n) => /without a symbol table/.test(n)));
  });
});

describe("checkRuntimeNeeds", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zerodep-roots-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const need = (
    kind: NeedKind,
    paths: string[],
    env: string[] = [],
    strength: "hard" | "soft" = "hard",
  ): RuntimeNeed => ({
    kind,
    evidence: ["test"],
    paths,
    env,
    fix: "",
    strength,
  });
  const CA = need(
    "ca-certificates",
    ["/etc/ssl/certs/ca-certificates.crt", "/etc/ssl/cert.pem", "/etc/ssl/certs"],
    ["SSL_CERT_FILE", "SSL_CERT_DIR"],
  );
  const TZ = need("tzdata", ["/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/"], ["ZONEINFO"]);
  const PASSWD = need("passwd", ["/etc/passwd"]);
  const TMP = need("tmp", ["/tmp"], ["TMPDIR"]);
  const NSS = need("nss-modules", ["/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu"], [], "soft");
  const ALL = [CA, TZ, PASSWD, TMP, NSS];

  const root = (name: string, files: Record<string, string>) => {
    const r = join(dir, name);
    mkdirSync(r, { recursive: true });
    for (const [p, content] of Object.entries(files)) {
      mkdirSync(dirname(join(r, p)), { recursive: true });
      writeFileSync(join(r, p), content);
    }
    return r;
  };
  const status = (fs: Parameters<typeof checkRuntimeNeeds>[0], env?: Record<string, string>) =>
    Object.fromEntries(checkRuntimeNeeds(fs, ALL, env).map((s) => [s.kind, [s.satisfied, s.foundAt]]));

  test("scratch: nothing but the soft NSS need (no nsswitch.conf: built-in files/dns)", () => {
    const s = status(new EmptyRootFs());
    assert.deepEqual(s, {
      "ca-certificates": [false, null],
      tzdata: [false, null],
      passwd: [false, null],
      tmp: [false, null],
      "nss-modules": [true, null],
    });
  });

  test("empty directory root behaves like scratch; env paths must exist in the root", () => {
    const r = root("empty", {});
    assert.deepEqual(status(new DirRootFs(r)), status(new EmptyRootFs()));
    const s = status(new DirRootFs(r), { SSL_CERT_FILE: "/nope.pem", ZONEINFO: "/nope" });
    assert.equal(s["ca-certificates"]![0], false);
    assert.equal(s["tzdata"]![0], false);
  });

  test("CA bundle, passwd, zoneinfo copied from the host", {
    skip: needs({ files: ["/usr/share/zoneinfo/Europe/Berlin"] }),
  }, () => {
    const r = root("full", {
      "etc/ssl/certs/ca-certificates.crt": "-----BEGIN CERTIFICATE-----\n",
      "etc/passwd":
        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n",
    });
    const berlin = "/usr/share/zoneinfo/Europe/Berlin";
    mkdirSync(join(r, "usr/share/zoneinfo/Europe"), { recursive: true });
    copyFileSync(berlin, join(r, "usr/share/zoneinfo/Europe/Berlin"));
    const s = status(new DirRootFs(r));
    assert.deepEqual(s["ca-certificates"], [true, "/etc/ssl/certs/ca-certificates.crt"]);
    assert.deepEqual(s["passwd"], [true, "/etc/passwd"]);
    assert.deepEqual(s["tzdata"], [true, "/usr/share/zoneinfo"]);
  });

  test("a certs directory of links counts (Debian's /etc/ssl/certs), links resolved inside the root", () => {
    const r = root("links", { "usr/share/ca-certificates/mozilla/A.crt": "pem" });
    mkdirSync(join(r, "etc/ssl/certs"), { recursive: true });
    symlinkSync("/usr/share/ca-certificates/mozilla/A.crt", join(r, "etc/ssl/certs/A.pem"));
    assert.deepEqual(status(new DirRootFs(r))["ca-certificates"], [true, "/etc/ssl/certs"]);
    // A dangling / escaping link does not.
    const bad = root("badlinks", {});
    mkdirSync(join(bad, "etc/ssl/certs"), { recursive: true });
    symlinkSync("../../../../../../../etc/hostname-nope", join(bad, "etc/ssl/certs/x.pem"));
    assert.deepEqual(status(new DirRootFs(bad))["ca-certificates"], [false, null]);
  });

  test("zoneinfo without zone files, tables only, does not count", () => {
    const r = root("tztables", { "usr/share/zoneinfo/zone.tab": "x", "usr/share/zoneinfo/tzdata.zi": "x" });
    assert.deepEqual(status(new DirRootFs(r))["tzdata"], [false, null]);
    const u = root("tzutc", { "usr/share/zoneinfo/Etc/UTC": "TZif2" });
    assert.deepEqual(status(new DirRootFs(u))["tzdata"], [true, "/usr/share/zoneinfo"]);
  });

  test("env satisfies: SSL_CERT_FILE, SSL_CERT_DIR list, ZONEINFO zip", () => {
    const r = root("env", { "certs/my.pem": "pem", "tz/zoneinfo.zip": "PK" });
    const s = status(new DirRootFs(r), { SSL_CERT_FILE: "/certs/my.pem", ZONEINFO: "/tz/zoneinfo.zip" });
    assert.deepEqual(s["ca-certificates"], [true, "/certs/my.pem"]);
    assert.deepEqual(s["tzdata"], [true, "/tz/zoneinfo.zip"]);
    assert.deepEqual(status(new DirRootFs(r), { SSL_CERT_DIR: "/nope:/certs" })["ca-certificates"], [
      true,
      "/certs",
    ]);
  });

  test("/tmp: 1777 yes, 0755 no, TMPDIR elsewhere yes", () => {
    const good = root("tmp1777", {});
    mkdirSync(join(good, "tmp"));
    chmodSync(join(good, "tmp"), 0o1777);
    assert.deepEqual(status(new DirRootFs(good))["tmp"], [true, "/tmp"]);
    const bad = root("tmp0755", {});
    mkdirSync(join(bad, "tmp"));
    chmodSync(join(bad, "tmp"), 0o755);
    assert.deepEqual(status(new DirRootFs(bad))["tmp"], [false, null]);
    mkdirSync(join(bad, "scratch-tmp"));
    assert.deepEqual(status(new DirRootFs(bad), { TMPDIR: "/scratch-tmp" })["tmp"], [true, "/scratch-tmp"]);
  });

  test("nss-modules: with an nsswitch.conf a libnss module must be there", () => {
    const r = root("nss", { "etc/nsswitch.conf": "hosts: files myhostname dns\n" });
    assert.deepEqual(status(new DirRootFs(r))["nss-modules"], [false, null]);
    root("nss", { "usr/lib/x86_64-linux-gnu/libnss_myhostname.so.2": "\x7fELF" });
    assert.deepEqual(status(new DirRootFs(r))["nss-modules"], [true, "/usr/lib/x86_64-linux-gnu"]);
  });

  test("end to end: go-x509 in scratch vs a root with the bundle", {
    skip: needs({ fixtures: ["go-x509"] }),
  }, async () => {
    const ns = (await detect(fixture("go-x509"))).needs;
    assert.deepEqual(
      checkRuntimeNeeds(new EmptyRootFs(), ns).map((s) => s.satisfied),
      [false],
    );
    const r = root("e2e", { "etc/ssl/cert.pem": "pem" });
    const [s] = checkRuntimeNeeds(new DirRootFs(r), ns);
    assert.equal(s!.satisfied, true);
    assert.equal(s!.foundAt, "/etc/ssl/cert.pem");
  });
});
