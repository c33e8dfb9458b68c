import { ZerodepError } from "../errors.js";
import { type RootFs, resolvePath } from "../resolve/root-fs.js";
import { GO_CA_DIRS, GO_CA_FILES, type NeedStatus } from "./runtime-needs.js";

/**
 * Runtime files that are there but useless: a CA bundle with no certificate in it, a zoneinfo tree
 * whose files are not TZif. checkRuntimeNeeds looks at names and sizes only; this reads the few files
 * that decide, and turns such a need back into "unsatisfied" with the reason in `notes`.
 */

/** How much of one file is read to find a certificate or a TZif header. */
const READ_LIMIT = 4 * 1024 * 1024;
/** Files of a certificate directory looked into (Go reads them all; the first with a certificate decides). */
const MAX_DIR_FILES = 256;
const PEM_CERT = "-----BEGIN CERTIFICATE-----";
const PEM_TRUSTED = "-----BEGIN TRUSTED CERTIFICATE-----";

export interface ConfirmedNeed extends NeedStatus {
  /** Why a need whose files exist is still unsatisfied. */
  uselessAt?: string;
}

export async function confirmNeedContents(
  fs: RootFs,
  needs: NeedStatus[],
  env: Record<string, string>,
): Promise<ConfirmedNeed[]> {
  const out: ConfirmedNeed[] = [];
  for (const n of needs) {
    if (!n.satisfied || n.foundAt === null) {
      out.push(n);
      continue;
    }
    if (n.kind === "ca-certificates") {
      const goLike = n.evidence.some((e) => e.startsWith("Go:"));
      const hit = goLike ? await goSystemRoots(fs, env) : await certsAt(fs, n.foundAt, false);
      out.push(
        hit.ok
          ? { ...n, foundAt: hit.path }
          : { ...n, satisfied: false, uselessAt: `${hit.path ?? n.foundAt} holds no PEM certificate` },
      );
    } else if (n.kind === "tzdata") {
      const ok = await tzifAt(fs, n.foundAt);
      out.push(ok ? n : { ...n, satisfied: false, uselessAt: `${n.foundAt} holds no TZif zone file` });
    } else out.push(n);
  }
  return out;
}

async function head(fs: RootFs, path: string, limit = READ_LIMIT): Promise<Uint8Array | null> {
  try {
    const src = fs.open(path);
    return await src.read(0, Math.min(src.size, limit));
  } catch (e) {
    if (e instanceof ZerodepError) return null;
    throw e;
  }
}

/**
 * Whether the bytes hold one whole PEM certificate: a BEGIN/END block whose base64 decodes to a DER
 * SEQUENCE (what x509.ParseCertificate and PEM_read_X509 start from). A header alone loads nothing.
 */
function hasCert(b: Uint8Array, trustedToo: boolean): boolean {
  const t = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("latin1");
  for (const label of trustedToo ? [PEM_CERT, PEM_TRUSTED] : [PEM_CERT]) {
    const end = label.replace("BEGIN", "END");
    let from = 0;
    for (let i = t.indexOf(label, from); i >= 0; i = t.indexOf(label, from)) {
      const j = t.indexOf(end, i + label.length);
      if (j < 0) break;
      const body = t.slice(i + label.length, j).replace(/\s+/g, "");
      const der = /^[A-Za-z0-9+/]+={0,2}$/.test(body) ? Buffer.from(body.slice(0, 64), "base64") : null;
      if (der && der.length >= 2 && der[0] === 0x30 && body.length > 200) return true;
      from = j + end.length;
    }
  }
  return false;
}

type Hit = { ok: true; path: string } | { ok: false; path: string | null };

/**
 * Go's crypto/x509 loadSystemRoots on Linux: the FIRST existing file of $SSL_CERT_FILE or the built-in
 * list is read and the search of files stops there, certificates or not; then every file of every
 * directory ($SSL_CERT_DIR, colon-separated, or the built-in two) is read. Roots exist iff any of that
 * holds a CERTIFICATE block.
 */
async function goSystemRoots(fs: RootFs, env: Record<string, string>): Promise<Hit> {
  const files = env["SSL_CERT_FILE"] ? [env["SSL_CERT_FILE"]] : GO_CA_FILES;
  let first: string | null = null;
  for (const f of files) {
    const r = resolvePath(fs, f);
    if (!r.ok || r.stat.kind !== "file") continue;
    first = r.path;
    const b = await head(fs, r.path);
    if (b && hasCert(b, false)) return { ok: true, path: r.path };
    break;
  }
  const dirs = env["SSL_CERT_DIR"] ? env["SSL_CERT_DIR"].split(":") : GO_CA_DIRS;
  for (const d of dirs) {
    const hit = await certsAt(fs, d, false);
    if (hit.ok) return hit;
  }
  return { ok: false, path: first };
}

/** A file with a certificate, or a directory with a file that has one (links followed inside the root). */
async function certsAt(fs: RootFs, path: string, trustedToo = true): Promise<Hit> {
  const r = resolvePath(fs, path);
  if (!r.ok) return { ok: false, path: null };
  if (r.stat.kind === "file") {
    const b = await head(fs, r.path);
    return b && hasCert(b, trustedToo) ? { ok: true, path: r.path } : { ok: false, path: r.path };
  }
  if (r.stat.kind !== "dir") return { ok: false, path: null };
  for (const name of (fs.readdir(r.path) ?? []).slice(0, MAX_DIR_FILES)) {
    const f = resolvePath(fs, `${r.path}/${name}`);
    if (!f.ok || f.stat.kind !== "file" || f.stat.size === 0) continue;
    const b = await head(fs, f.path);
    if (b && hasCert(b, trustedToo)) return { ok: true, path: r.path };
  }
  return { ok: false, path: r.path };
}

/** A zone file (or Go's zoneinfo.zip) that parses: TZif magic, or a zip's local header. */
async function tzifAt(fs: RootFs, path: string): Promise<boolean> {
  const r = resolvePath(fs, path);
  if (!r.ok) return false;
  const magic = (b: Uint8Array | null) =>
    b !== null &&
    ((b[0] === 0x54 && b[1] === 0x5a && b[2] === 0x69 && b[3] === 0x66) || // "TZif"
      (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04)); // zip
  if (r.stat.kind === "file") return magic(await head(fs, r.path, 4));
  if (r.stat.kind !== "dir") return false;
  for (const z of ["UTC", "Etc/UTC"]) {
    const f = resolvePath(fs, `${r.path}/${z}`);
    if (f.ok && f.stat.kind === "file") return magic(await head(fs, f.path, 4));
  }
  // Any zone-looking file one or two levels down (as zoneDir chose it).
  const isZone = (n: string) => !n.includes(".") && n !== "leapseconds";
  for (const n of (fs.readdir(r.path) ?? []).slice(0, MAX_DIR_FILES)) {
    if (!isZone(n)) continue;
    const f = resolvePath(fs, `${r.path}/${n}`);
    if (!f.ok) continue;
    if (f.stat.kind === "file") return magic(await head(fs, f.path, 4));
    if (f.stat.kind === "dir") {
      for (const m of (fs.readdir(f.path) ?? []).slice(0, MAX_DIR_FILES)) {
        const g = resolvePath(fs, `${f.path}/${m}`);
        if (g.ok && g.stat.kind === "file" && isZone(m)) return magic(await head(fs, g.path, 4));
      }
    }
  }
  return false;
}
