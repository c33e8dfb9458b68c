// A real registry (Debian's docker-registry, distribution 2.8) on 127.0.0.1 for the tests, in three
// set-ups: plain HTTP; TLS with a CA made here by openssl plus htpasswd Basic auth; and Bearer tokens
// from the small issuer in token-issuer-for-tests.ts. Each instance gets a free port and a temp dir,
// and is stopped by stop() (tests call it in `after`).
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

export interface TestRegistry {
  /** host:port */
  host: string;
  port: number;
  dir: string;
  /** PEM CA that signed the TLS certificate (tls set-up). */
  caFile?: string;
  /** Directory with ca.crt, for skopeo --cert-dir. */
  certDir?: string;
  user?: string;
  password?: string;
  stop(): Promise<void>;
  log(): string;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

function sh(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

/** A self-signed EC P-256 certificate valid two days: NAME.key and NAME.crt in `dir`. */
export function selfSignedEcCert(dir: string, name: string, subject: string): void {
  const curve = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  const out = ["-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "2", "-subj", subject];
  sh("openssl", ["req", "-x509", ...curve, ...out], dir);
}

/** A CA and a server certificate for 127.0.0.1/localhost signed by it (EC P-256, two days). */
export function makeTlsMaterial(dir: string): {
  caFile: string;
  certFile: string;
  keyFile: string;
  certDir: string;
} {
  selfSignedEcCert(dir, "ca", "/CN=zerodep test CA");
  sh(
    "openssl",
    [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "srv.key",
      "-out",
      "srv.csr",
      "-subj",
      "/CN=127.0.0.1",
    ],
    dir,
  );
  writeFileSync(
    join(dir, "ext.cnf"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  sh(
    "openssl",
    [
      "x509",
      "-req",
      "-in",
      "srv.csr",
      "-CA",
      "ca.crt",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "srv.crt",
      "-days",
      "2",
      "-extfile",
      "ext.cnf",
    ],
    dir,
  );
  const certDir = join(dir, "certs.d");
  sh("mkdir", ["-p", certDir], dir);
  sh("cp", ["ca.crt", join(certDir, "ca.crt")], dir);
  return {
    caFile: join(dir, "ca.crt"),
    certFile: join(dir, "srv.crt"),
    keyFile: join(dir, "srv.key"),
    certDir,
  };
}

async function waitReady(port: number, child: ChildProcess, logs: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited ${child.exitCode}: ${logs()}`);
    // A TCP accept means the listener is up; HTTP and TLS answers are what the tests check.
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1", () => {
        c.destroy();
        resolve(true);
      });
      c.on("error", () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`docker-registry did not come up on ${port}: ${logs()}`);
}

export async function startRegistry(
  mode:
    | { kind: "plain" }
    | { kind: "tls-basic"; user: string; password: string }
    | { kind: "token"; realm: string; service: string; issuer: string; rootCertFile: string },
): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "zerodep-reg-"));
  const port = await freePort();
  const lines = [
    "version: 0.1",
    "log:",
    "  level: info",
    "  accesslog:",
    "    disabled: false",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "store")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    "  secret: zerodep-test-secret",
  ];
  const out: TestRegistry = {
    host: `127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {},
    log: () => "",
  };
  if (mode.kind === "tls-basic") {
    const t = makeTlsMaterial(dir);
    lines.push("  tls:", `    certificate: ${t.certFile}`, `    key: ${t.keyFile}`);
    sh("htpasswd", ["-Bbc", join(dir, "htpasswd"), mode.user, mode.password], dir);
    lines.push("auth:", "  htpasswd:", "    realm: zerodep-test", `    path: ${join(dir, "htpasswd")}`);
    out.caFile = t.caFile;
    out.certDir = t.certDir;
    out.user = mode.user;
    out.password = mode.password;
  }
  if (mode.kind === "token") {
    lines.push(
      "auth:",
      "  token:",
      `    realm: ${mode.realm}`,
      `    service: ${mode.service}`,
      `    issuer: ${mode.issuer}`,
      `    rootcertbundle: ${mode.rootCertFile}`,
    );
  }
  writeFileSync(join(dir, "config.yml"), lines.join("\n") + "\n");
  const child = spawn("docker-registry", ["serve", join(dir, "config.yml")], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  const keep = (b: Buffer) => {
    log += b.toString("utf8");
    if (log.length > 4 << 20) log = log.slice(-(2 << 20));
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  out.log = () => log;
  out.stop = async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      await Promise.race([new Promise((r) => child.once("exit", r)), sleep(3000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    spawnSync("rm", ["-rf", dir]);
  };
  try {
    await waitReady(port, child, () => log);
  } catch (e) {
    await out.stop();
    throw e;
  }
  return out;
}
