// A stand-in for ko's default base (cgr.dev/chainguard/static, unreachable here) made with the real
// tar and gzip, for comparing `zerodep build` and ko on the same base: what a static Go service needs
// from a distroless base and nothing else — /etc/passwd and /etc/group (root, nobody, nonroot 65532),
// /home/nonroot, /tmp 1777, the host's CA bundle at /etc/ssl/certs/ca-certificates.crt and its
// zoneinfo (without right/), user 65532, PATH and SSL_CERT_FILE as chainguard/static sets them. One
// layer, shared by an index entry per platform (the files are architecture-independent), so that
// multi-platform builds find every platform in the base. Deterministic: sorted names, mtime 0, gzip -n.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, chownSync, cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const PASSWD =
  "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n";
const GROUP = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n";
export const BASE_ENV = [
  "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
];

function sh(cmd: string, args: string[]): Buffer {
  const r = spawnSync(cmd, args, { maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const sha256 = (b: Buffer | string) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

function putBlob(layout: string, bytes: Buffer | string): { digest: string; size: number } {
  const digest = sha256(bytes);
  writeFileSync(join(layout, "blobs", "sha256", digest.slice(7)), bytes);
  return { digest, size: Buffer.byteLength(bytes) };
}

export interface StaticBase {
  /** The OCI layout, `oci:DIR:latest` naming the index. */
  layout: string;
  /** Compressed size of the one layer. */
  layerSize: number;
}

/** Writes the base as an OCI layout in `dir` (index "latest" with one manifest per platform). */
export function makeStaticBase(
  dir: string,
  platforms: string[] = ["linux/amd64", "linux/arm64"],
): StaticBase {
  const root = join(dir, "rootfs");
  const layout = join(dir, "layout");
  rmSync(dir, { recursive: true, force: true });
  for (const d of ["etc/ssl/certs", "usr/share", "home/nonroot", "tmp"])
    mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(layout, "blobs", "sha256"), { recursive: true });
  writeFileSync(join(root, "etc/passwd"), PASSWD);
  writeFileSync(join(root, "etc/group"), GROUP);
  chmodSync(join(root, "tmp"), 0o1777);
  if (process.getuid?.() === 0) chownSync(join(root, "home/nonroot"), 65532, 65532);
  cpSync("/etc/ssl/certs/ca-certificates.crt", join(root, "etc/ssl/certs/ca-certificates.crt"), {
    dereference: true,
  });
  cpSync("/usr/share/zoneinfo", join(root, "usr/share/zoneinfo"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  rmSync(join(root, "usr/share/zoneinfo/right"), { recursive: true, force: true });

  const tar = sh("tar", ["--sort=name", "--numeric-owner", "--mtime=@0", "-C", root, "-cf", "-", "."]);
  const gz = spawnSync("gzip", ["-n", "-6", "-c"], { input: tar, maxBuffer: 64 << 20 });
  if (gz.status !== 0) throw new Error(`gzip: ${gz.stderr}`);
  const layer = putBlob(layout, gz.stdout);
  const diffId = sha256(tar);

  const manifests = platforms.map((p) => {
    const [os, architecture, variant] = p.split("/") as [string, string, string | undefined];
    const config = putBlob(
      layout,
      JSON.stringify({
        architecture,
        os,
        ...(variant ? { variant } : {}),
        created: "1970-01-01T00:00:00Z",
        config: { User: "65532", Env: BASE_ENV, WorkingDir: "/" },
        rootfs: { type: "layers", diff_ids: [diffId] },
        history: [{ created: "1970-01-01T00:00:00Z", created_by: "zerodep test static base" }],
      }),
    );
    const manifest = putBlob(
      layout,
      JSON.stringify({
        schemaVersion: 2,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
        layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
      }),
    );
    return {
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      ...manifest,
      platform: { architecture, os, ...(variant ? { variant } : {}) },
    };
  });
  const index = putBlob(
    layout,
    JSON.stringify({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests }),
  );
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.index.v1+json",
          ...index,
          annotations: { "org.opencontainers.image.ref.name": "latest" },
        },
      ],
    }),
  );
  rmSync(root, { recursive: true, force: true });
  return { layout, layerSize: layer.size };
}

/** Pushes the base (every platform) to a plain-HTTP registry with skopeo: HOST/REPO:TAG. */
export function pushStaticBase(base: StaticBase, ref: string): void {
  sh("skopeo", [
    "copy",
    "--all",
    "--quiet",
    "--dest-tls-verify=false",
    `oci:${base.layout}:latest`,
    `docker://${ref}`,
  ]);
}
