import { type ElfFile, readElf } from "../elf/elf-file.js";
import type { ElfSymbol } from "../elf/symbols.js";
import { ParseError } from "../errors.js";
import { readPclntab } from "../go/pclntab.js";
import { classifyLinkage, detectLibc } from "../inspect/elf-facts.js";
import { GO_ELF_SECTIONS } from "../inspect/go-facts.js";
import type { Libc, Linkage } from "../inspect/types.js";
import type { ByteSource } from "../io/reader.js";
import { type EntryStat, type RootFs, resolvePath } from "../resolve/root-fs.js";

/**
 * Runtime files a binary looks for when it runs: the needs behind "x509: certificate signed by unknown
 * authority", "unknown time zone Europe/Berlin" or "user: unknown userid 65532" in a scratch image.
 *
 * Detection reads only what survives stripping where it can: Go function names from the pclntab
 * (`-s -w` keeps it), the dynamic symbol imports of a dynamic C/Rust program, and `.symtab` of a
 * static one when it is present. A stripped static C binary gives no evidence and yields nothing:
 * we do not guess. Every rule below cites the behaviour (Go 1.26 / glibc 2.36 / musl 1.2 sources,
 * checked against the real programs under strace) it is based on.
 */

export type NeedKind =
  | "ca-certificates"
  | "tzdata"
  | "passwd"
  | "group"
  | "nsswitch"
  | "hosts"
  | "resolv-conf"
  | "nss-modules"
  | "gconv"
  | "tmp";

export interface RuntimeNeed {
  kind: NeedKind;
  /** Evidence, e.g. "Go: crypto/x509.loadSystemRoots" or "static glibc: getaddrinfo". */
  evidence: string[];
  /** Any of these satisfies the need (files or directories inside the root), in the order the program tries them. */
  paths: string[];
  /** Environment variables that can satisfy it instead (SSL_CERT_FILE, SSL_CERT_DIR, ZONEINFO). */
  env: string[];
  /** How to satisfy it, one line. */
  fix: string;
  /** Hard = the feature fails without it; soft = the program degrades. */
  strength: "hard" | "soft";
}

export interface NeedStatus extends RuntimeNeed {
  satisfied: boolean;
  /** Canonical in-root path that satisfies the need, or null (unsatisfied, or nothing to find). */
  foundAt: string | null;
}

export interface RuntimeNeedsReport {
  needs: RuntimeNeed[];
  /**
   * Findings that remove a need instead of adding one, e.g. "Go: time/tzdata embedded (time/tzdata.init.0):
   * zoneinfo needs no files", or why nothing could be said (stripped static binary).
   */
  notes: string[];
  /** What the evidence came from. */
  source: "go-pclntab" | "dynamic-imports" | "static-symtab" | "none";
}

const KIND_ORDER: NeedKind[] = [
  "ca-certificates",
  "tzdata",
  "passwd",
  "group",
  "nsswitch",
  "hosts",
  "resolv-conf",
  "nss-modules",
  "gconv",
  "tmp",
];

// ---------------------------------------------------------------------------------------------------
// Paths, as the programs search them.

/** Go crypto/x509 root_linux.go certFiles (first one found wins) then certDirectories (all read). */
export const GO_CA_FILES = [
  "/etc/ssl/certs/ca-certificates.crt", // Debian/Ubuntu/Gentoo
  "/etc/pki/tls/certs/ca-bundle.crt", // Fedora/RHEL 6
  "/etc/ssl/ca-bundle.pem", // OpenSUSE
  "/etc/pki/tls/cacert.pem", // OpenELEC
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS/RHEL 7
  "/etc/ssl/cert.pem", // Alpine
];
export const GO_CA_DIRS = ["/etc/ssl/certs", "/etc/pki/tls/certs"];

/**
 * OpenSSL's X509_get_default_cert_file()/_dir(): OPENSSLDIR/cert.pem and OPENSSLDIR/certs, where
 * OPENSSLDIR is compiled in: /usr/lib/ssl on Debian/Ubuntu (certs -> /etc/ssl/certs), /etc/pki/tls on
 * Fedora/RHEL, /etc/ssl on Alpine and upstream's default.
 */
export const OPENSSL_CA_PATHS = [
  "/usr/lib/ssl/cert.pem",
  "/usr/lib/ssl/certs",
  "/etc/ssl/cert.pem",
  "/etc/ssl/certs",
  "/etc/pki/tls/cert.pem",
  "/etc/pki/tls/certs",
];

/**
 * Go time/zoneinfo_unix.go platformZoneSources (Go 1.26; "/etc/zoneinfo" for NixOS is recent). After
 * them LoadLocation tries the embedded time/tzdata (when linked) and $GOROOT/lib/time/zoneinfo.zip,
 * which does not exist inside an image.
 */
export const GO_ZONE_SOURCES = [
  "/usr/share/zoneinfo/",
  "/usr/share/lib/zoneinfo/",
  "/usr/lib/locale/TZ/",
  "/etc/zoneinfo",
];

/** Debian multiarch tuple for the ELF machine (glibc's NSS and gconv modules live under it). */
function multiarch(machine: number, little: boolean, cls: 32 | 64): string | null {
  switch (machine) {
    case 62:
      return "x86_64-linux-gnu";
    case 3:
      return "i386-linux-gnu";
    case 183:
      return "aarch64-linux-gnu";
    case 40:
      return "arm-linux-gnueabihf";
    case 243:
      return "riscv64-linux-gnu";
    case 22:
      return "s390x-linux-gnu";
    case 21:
      return little ? "powerpc64le-linux-gnu" : "powerpc64-linux-gnu";
    case 8:
      return cls === 64 ? (little ? "mips64el-linux-gnuabi64" : "mips64-linux-gnuabi64") : null;
    default:
      return null;
  }
}

function libDirs(ma: string | null): string[] {
  return [...(ma ? [`/lib/${ma}`, `/usr/lib/${ma}`] : []), "/lib64", "/usr/lib64", "/lib", "/usr/lib"];
}

// ---------------------------------------------------------------------------------------------------
// Go evidence (function names from the pclntab).

/**
 * Function names that decide a need. Verified with `go tool nm` on the fixtures built by Go 1.26.8:
 * a hello world (go-static) links none of them; go-x509 / go-tz / go-user / go-net / go-cgo link the
 * ones named in their rule. Names are compared after dropping an ABI suffix (".abi0").
 */
const GO = {
  // crypto/x509/root_unix.go loadSystemRoots reads certFiles / certDirectories (or SSL_CERT_FILE /
  // SSL_CERT_DIR); root.go initSystemRoots/systemRootsPool call it once. Linked whenever certificate
  // verification against the system pool is reachable (crypto/tls clients, x509.SystemCertPool).
  x509: ["crypto/x509.loadSystemRoots", "crypto/x509.initSystemRoots", "crypto/x509.systemRootsPool"],
  // root.go SetFallbackRoots: golang.org/x/crypto/x509roots/fallback's init registers an embedded
  // bundle that initSystemRoots uses when the system has no roots, so the program verifies without files.
  x509Fallback: ["crypto/x509.SetFallbackRoots"],
  x509FallbackPkg: "golang.org/x/crypto/x509roots/fallback.",
  // time.LoadLocation (exported) is only linked when something loads a zone by name. Every program
  // that prints local time links the unexported time.loadLocation (initLocal reads TZ / /etc/localtime
  // and silently falls back to UTC): go-x509 and go-net link time.loadLocation but not time.LoadLocation,
  // so the unexported one does not discriminate and is not evidence.
  tzLoad: ["time.LoadLocation"],
  // time/tzdata's init registers loadFromEmbeddedTZData (time.registerLoadFromEmbeddedTZData); also
  // what `-tags timetzdata` links.
  tzEmbeddedPkg: "time/tzdata.",
  // os/user lookup_unix.go (built for !cgo || osusergo) parses /etc/passwd and /etc/group with
  // readColonFile; findUserId/findUsername for users, findGroupId/findGroupName and listgroups_unix.go
  // listGroupsFromReader for groups.
  userPurePasswd: ["os/user.findUserId", "os/user.findUsername"],
  userPureGroup: ["os/user.findGroupId", "os/user.findGroupName", "os/user.listGroupsFromReader"],
  // os/user cgo_lookup_cgo.go: getpwuid_r & co through libc's NSS (C wrappers mygetpwuid_r, ...).
  userCgoPasswd: ["os/user._Cfunc_mygetpwuid_r", "os/user._Cfunc_mygetpwnam_r"],
  userCgoGroup: [
    "os/user._Cfunc_mygetgrgid_r",
    "os/user._Cfunc_mygetgrnam_r",
    "os/user._Cfunc_mygetgrouplist",
  ],
  // net pure-Go resolver: hook_unix.go hostsFilePath "/etc/hosts" (readHosts), dnsclient_unix.go
  // dnsReadConfig("/etc/resolv.conf") (defaults to nameservers 127.0.0.1 and ::1 when it is missing),
  // nss.go parseNSSConfFile("/etc/nsswitch.conf") (conf.go: missing => "files dns" order).
  netHosts: ["net.readHosts"],
  netResolv: ["net.dnsReadConfig"],
  netNss: ["net.(*nsswitchConfig).init", "net.parseNSSConfFile", "net.(*conf).hostLookupOrder"],
  // net cgo resolver (cgo_unix.go): getaddrinfo through libc. conf.go still prefers the Go resolver
  // unless nsswitch.conf names a source Go does not handle (myhostname, mdns, ...), resolv.conf has an
  // unknown option, or LOCALDOMAIN/RES_OPTIONS/HOSTALIASES/GODEBUG=netdns=cgo ask for it.
  netCgo: ["net._C2func_getaddrinfo", "net.cgoLookupHost", "net.cgoLookupIP", "net.cgoLookupHostIP"],
  // os.CreateTemp / os.MkdirTemp create in os.TempDir(): $TMPDIR, else "/tmp" (file_unix.go tempDir).
  tmp: ["os.CreateTemp", "os.MkdirTemp", "os.TempDir", "io/ioutil.TempFile", "io/ioutil.TempDir"],
};

const GO_EXACT = new Set<string>([
  ...GO.x509,
  ...GO.x509Fallback,
  ...GO.tzLoad,
  ...GO.userPurePasswd,
  ...GO.userPureGroup,
  ...GO.userCgoPasswd,
  ...GO.userCgoGroup,
  ...GO.netHosts,
  ...GO.netResolv,
  ...GO.netNss,
  ...GO.netCgo,
  ...GO.tmp,
]);

/** Every Go function name that any rule looks at (for tests: the differential against `go tool nm`). */
export const GO_EVIDENCE_NAMES: readonly string[] = [...GO_EXACT];

function goKey(name: string): string {
  return name.endsWith(".abi0") ? name.slice(0, -5) : name;
}

/**
 * The evidence-relevant Go function names present in an ELF Go binary (exact GO_EVIDENCE_NAMES, plus
 * "time/tzdata." / "golang.org/x/crypto/x509roots/fallback." when any function of those packages is
 * there), or null when it is not a Go ELF binary. For tests and `--verbose` output.
 */
export async function goFunctionEvidence(src: ByteSource): Promise<Set<string> | null> {
  const elf = await readElf(src);
  return goEvidence(src, elf);
}

/** The evidence-relevant Go function names present in the binary, read once from the pclntab. */
async function goEvidence(src: ByteSource, elf: ElfFile): Promise<Set<string> | null> {
  let tab: Awaited<ReturnType<typeof readPclntab>>;
  try {
    tab = await readPclntab(src, elf.layout);
  } catch (err) {
    if (err instanceof ParseError) return null;
    throw err;
  }
  if (!tab) return null;
  const found = new Set<string>();
  try {
    for await (const raw of tab.funcNames()) {
      const n = goKey(raw);
      if (GO_EXACT.has(n)) found.add(n);
      else if (n.startsWith(GO.tzEmbeddedPkg)) found.add(GO.tzEmbeddedPkg);
      else if (n.startsWith(GO.x509FallbackPkg)) found.add(GO.x509FallbackPkg);
    }
  } catch (err) {
    if (!(err instanceof ParseError)) throw err;
  }
  return found;
}

// ---------------------------------------------------------------------------------------------------
// C evidence (symbol names).

/**
 * glibc: getaddrinfo & co go through NSS "hosts" (nss/nss_database.c default when nsswitch.conf is
 * missing: "files dns"): /etc/hosts, /etc/resolv.conf (and /etc/host.conf). musl reads /etc/hosts and
 * /etc/resolv.conf directly (src/network/lookup_name.c), no NSS.
 */
const C_RESOLVER = new Set([
  "getaddrinfo",
  "getnameinfo",
  "gethostbyname",
  "gethostbyname2",
  "gethostbyname_r",
  "gethostbyname2_r",
  "gethostbyaddr",
  "gethostbyaddr_r",
]);
/** passwd/group: glibc NSS "passwd"/"group" (default "files" when nsswitch.conf is missing); musl reads the files. */
const C_PASSWD = new Set(["getpwnam", "getpwnam_r", "getpwuid", "getpwuid_r", "getpwent", "getpwent_r"]);
const C_GROUP = new Set([
  "getgrnam",
  "getgrnam_r",
  "getgrgid",
  "getgrgid_r",
  "getgrent",
  "getgrent_r",
  "getgrouplist",
  "initgroups",
]);
/** glibc iconv/gconv_conf.c: modules and gconv-modules(.cache) under GCONV_PATH / the compiled-in dir. */
const C_ICONV = new Set(["iconv_open"]);
/** OpenSSL: load the compiled-in default CA file and directory (honours SSL_CERT_FILE / SSL_CERT_DIR). */
const C_OPENSSL = new Set([
  "SSL_CTX_set_default_verify_paths",
  "X509_STORE_set_default_paths",
  "X509_STORE_set_default_paths_ex",
  "SSL_CTX_set_default_verify_file",
  "SSL_CTX_set_default_verify_dir",
]);
/**
 * Local time: glibc tzset (time/tzfile.c) loads $TZ's zone from TZDIR (default /usr/share/zoneinfo)
 * and /etc/localtime when TZ is unset; musl (src/time/__tz.c) from /usr/share/zoneinfo/,
 * /share/zoneinfo/, /etc/zoneinfo/. A zone that is missing silently becomes UTC (the reality matrix's
 * C probe with TZ=America/New_York): a soft need.
 */
const C_TZ = new Set([
  "tzset",
  "localtime",
  "localtime_r",
  "localtime64",
  "localtime64_r",
  "mktime",
  "mktime64",
]);
/** tmpfile(3): glibc __path_search with P_tmpdir "/tmp" (TMPDIR is not consulted); musl "/tmp/tmpfile_XXXXXX". */
const C_TMP = new Set(["tmpfile", "tmpfile64"]);

// ---------------------------------------------------------------------------------------------------
// Building the list.

class Needs {
  private readonly map = new Map<NeedKind, RuntimeNeed>();
  add(n: RuntimeNeed): void {
    const cur = this.map.get(n.kind);
    if (!cur) {
      this.map.set(n.kind, {
        ...n,
        evidence: [...new Set(n.evidence)],
        paths: [...new Set(n.paths)],
        env: [...new Set(n.env)],
      });
      return;
    }
    for (const e of n.evidence) if (!cur.evidence.includes(e)) cur.evidence.push(e);
    for (const p of n.paths) if (!cur.paths.includes(p)) cur.paths.push(p);
    for (const e of n.env) if (!cur.env.includes(e)) cur.env.push(e);
    if (n.strength === "hard" && cur.strength === "soft") {
      cur.strength = "hard";
      cur.fix = n.fix;
    }
  }
  list(): RuntimeNeed[] {
    return KIND_ORDER.flatMap((k) => {
      const n = this.map.get(k);
      return n ? [n] : [];
    });
  }
}

const FIX = {
  goCa: "pack with --ca-certs (adds /etc/ssl/certs/ca-certificates.crt), or set SSL_CERT_FILE/SSL_CERT_DIR to a bundle in the image, or embed roots with golang.org/x/crypto/x509roots/fallback",
  sslCa:
    "pack with --ca-certs (adds /etc/ssl/certs/ca-certificates.crt; OpenSSL also needs the hashed links in /etc/ssl/certs or SSL_CERT_FILE pointing at the bundle)",
  tz: 'pack with --tzdata (adds /usr/share/zoneinfo), or import _ "time/tzdata" (or build with -tags timetzdata), or set ZONEINFO to a zoneinfo directory/zip in the image',
  passwd:
    "zerodep pack writes a default /etc/passwd (root and nonroot 65532) unless you add your own; the user the container runs as must be listed",
  group: "zerodep pack writes a default /etc/group (root and nonroot 65532) unless you add your own",
  nsswitch:
    "optional: without /etc/nsswitch.conf the lookups use the built-in order (hosts: files dns; passwd/group: files); add one only to change it",
  hosts:
    "container runtimes bind-mount /etc/hosts at run time; add one to the image for other runtimes (without it, localhost goes to DNS)",
  resolv:
    "container runtimes bind-mount /etc/resolv.conf at run time; without it DNS queries go to 127.0.0.1:53 and ::1:53",
  goNssCgo:
    "the cgo resolver / getpwuid_r load libc and any NSS module /etc/nsswitch.conf names (libnss_<name>.so.2); pack with --bundle-libs, or build with CGO_ENABLED=0 or -tags netgo,osusergo",
  glibcNss:
    "glibc >= 2.34 has the files and dns NSS services built in; other services named in /etc/nsswitch.conf are dlopened as libnss_<name>.so.2 (for a static program: with the libc.so.6 of the same glibc version). Keep nsswitch.conf to files/dns, or add those modules",
  oldStaticNss:
    "this static glibc (< 2.34: no built-in NSS services) dlopens libnss_files.so.2 (and libnss_dns.so.2 for DNS) with the libc.so.6 of the same glibc version: add them, or link against glibc >= 2.34 or musl",
  gconv:
    "iconv_open beyond the built-in charsets (ASCII, UTF-8, UCS-2/4, UTF-16/32, ISO-8859-1) loads gconv modules: add the gconv directory of the same glibc (gconv-modules(.cache) and the .so files) or set GCONV_PATH",
  goTmp: "add a /tmp directory with mode 1777 to the image, or set TMPDIR to a writable directory",
  cTmp: "add a /tmp directory with mode 1777 to the image",
  cTz: "pack with --tzdata all (adds /usr/share/zoneinfo), or copy the zones you use there (or set TZDIR); without them local time is UTC",
};

/** Detects what `src` will look for at run time. Non-ELF inputs (and ELF without evidence) give []. */
export async function detectRuntimeNeeds(src: ByteSource): Promise<RuntimeNeed[]> {
  return (await detectRuntimeNeedsReport(src)).needs;
}

export async function detectRuntimeNeedsReport(src: ByteSource): Promise<RuntimeNeedsReport> {
  const notes: string[] = [];
  if (src.size < 16) return { needs: [], notes: ["not an ELF file"], source: "none" };
  const magic = await src.read(0, 4);
  if (magic[0] !== 0x7f || magic[1] !== 0x45 || magic[2] !== 0x4c || magic[3] !== 0x46) {
    // The needs are Linux image contents; PE and Mach-O programs do not run there.
    return {
      needs: [],
      notes: ["not an ELF file: runtime file needs are only detected for Linux ELF"],
      source: "none",
    };
  }
  const elf = await readElf(src);
  const linkage = classifyLinkage(elf);
  const ma = multiarch(elf.header.machine, elf.little, elf.header.class);
  const out = new Needs();

  const maybeGo =
    elf.layout.sections.length === 0 || elf.layout.sections.some((s) => GO_ELF_SECTIONS.has(s.name));
  const go = maybeGo ? await goEvidence(src, elf) : null;
  if (go) {
    // The libc only matters for cgo evidence; a static pure-Go binary never gets its (large) symbol
    // table decoded, which detectLibc would otherwise do to look for musl/glibc start-up symbols.
    const cgo = [...GO.userCgoPasswd, ...GO.userCgoGroup, ...GO.netCgo].some((n) => go.has(n));
    const libc: Libc = cgo || elf.interpreter !== null ? await detectLibc(elf, linkage, true) : "none";
    goRules(go, libc, linkage, ma, out, notes);
    // cgo code of the program itself (not the standard library's glue: net and os/user always carry
    // their C getaddrinfo/getpwuid_r wrappers once cgo is on, even when dead-code elimination removed
    // every Go caller, as in go-pie-external) can call iconv or OpenSSL.
    if (elf.interpreter !== null) {
      const imports = await dynamicImports(elf);
      cRules(imports, { libc, linkage, ma, elf, onlyNonStd: true, who: libcLabel(libc, linkage) }, out);
    }
    return { needs: out.list(), notes, source: "go-pclntab" };
  }

  const libc = await detectLibc(elf, linkage, false);
  const isStatic = linkage === "static" || linkage === "static-pie";
  let names: Set<string>;
  let source: RuntimeNeedsReport["source"];
  if (isStatic) {
    const syms = await elf.staticSymbols();
    if (syms.length === 0) {
      notes.push("static binary without a symbol table: no evidence, nothing reported");
      return { needs: [], notes, source: "none" };
    }
    names = definedFunctions(syms);
    source = "static-symtab";
  } else if (linkage === "dynamic" || linkage === "shared-library") {
    names = await dynamicImports(elf);
    source = "dynamic-imports";
    // Rust's std is linked in statically even when libc is not: its functions (std::env::temp_dir)
    // are only in .symtab, which rustc keeps by default.
    if (elf.section(".symtab")) rustRules(definedFunctions(await elf.staticSymbols()), out, notes);
  } else {
    return { needs: [], notes, source: "none" };
  }
  cRules(names, { libc, linkage, ma, elf, onlyNonStd: false, who: libcLabel(libc, linkage) }, out);
  if (isStatic) rustRules(names, out, notes);
  // A static glibc with iconv: the compiled-in gconv directory is a string in the binary.
  const gconv = out.list().find((n) => n.kind === "gconv");
  if (gconv && isStatic && libc === "glibc") {
    const dir = await embeddedGconvDir(elf);
    if (dir) gconv.paths = [dir, ...gconv.paths.filter((p) => p !== dir)];
  }
  return { needs: out.list(), notes, source };
}

function libcLabel(libc: Libc, linkage: Linkage): string {
  const stat = linkage === "static" || linkage === "static-pie";
  const name = libc === "glibc" || libc === "musl" ? libc : "libc";
  return stat ? `static ${name}` : name;
}

async function dynamicImports(elf: ElfFile): Promise<Set<string>> {
  const out = new Set<string>();
  for (const s of await elf.dynamicSymbols()) if (s.shndx === 0 && s.name) out.add(s.name);
  return out;
}

function definedFunctions(syms: ElfSymbol[]): Set<string> {
  const out = new Set<string>();
  // STT_FUNC (2) / STT_GNU_IFUNC (10), or NOTYPE: static archives define what was linked.
  for (const s of syms)
    if (s.shndx !== 0 && s.name && (s.type === 2 || s.type === 10 || s.type === 0)) out.add(s.name);
  return out;
}

function goRules(
  go: Set<string>,
  libc: Libc,
  linkage: Linkage,
  ma: string | null,
  out: Needs,
  notes: string[],
): void {
  const has = (list: string[]) => list.filter((n) => go.has(n));
  const ev = (list: string[]) => list.map((n) => `Go: ${n}`);

  const x509 = has(GO.x509);
  const fallback = [
    ...has(GO.x509Fallback),
    ...(go.has(GO.x509FallbackPkg) ? [GO.x509FallbackPkg + "*"] : []),
  ];
  if (x509.length > 0 && fallback.length > 0) {
    notes.push(
      `Go: CA roots embedded (${fallback.join(", ")}): crypto/x509 uses them when the system has none, no CA files needed`,
    );
  } else if (x509.length > 0) {
    out.add({
      kind: "ca-certificates",
      evidence: ev(x509),
      paths: [...GO_CA_FILES, ...GO_CA_DIRS],
      env: ["SSL_CERT_FILE", "SSL_CERT_DIR"],
      fix: FIX.goCa,
      strength: "hard",
    });
  }

  const tz = has(GO.tzLoad);
  if (go.has(GO.tzEmbeddedPkg)) {
    if (tz.length > 0)
      notes.push("Go: time/tzdata embedded (time/tzdata.*): time.LoadLocation needs no zoneinfo files");
  } else if (tz.length > 0) {
    out.add({
      kind: "tzdata",
      evidence: ev(tz),
      paths: GO_ZONE_SOURCES,
      env: ["ZONEINFO"],
      fix: FIX.tz,
      strength: "hard",
    });
  }

  const cgoUser = [...has(GO.userCgoPasswd), ...has(GO.userCgoGroup)];
  const purePasswd = has(GO.userPurePasswd);
  const pureGroup = has(GO.userPureGroup);
  const cgoPasswd = has(GO.userCgoPasswd);
  const cgoGroup = has(GO.userCgoGroup);
  if (purePasswd.length > 0 || cgoPasswd.length > 0) {
    out.add({
      kind: "passwd",
      evidence: ev([...purePasswd, ...cgoPasswd]),
      paths: ["/etc/passwd"],
      env: [],
      fix: `${FIX.passwd} (user.Current falls back to $USER and $HOME when both are set)`,
      strength: "hard",
    });
  }
  if (pureGroup.length > 0 || cgoGroup.length > 0) {
    out.add({
      kind: "group",
      evidence: ev([...pureGroup, ...cgoGroup]),
      paths: ["/etc/group"],
      env: [],
      fix: FIX.group,
      strength: "hard",
    });
  }

  const hosts = has(GO.netHosts);
  const resolv = has(GO.netResolv);
  const nss = has(GO.netNss);
  const cgoNet = has(GO.netCgo);
  if (hosts.length > 0)
    out.add({
      kind: "hosts",
      evidence: ev(hosts),
      paths: ["/etc/hosts"],
      env: [],
      fix: FIX.hosts,
      strength: "soft",
    });
  if (resolv.length > 0)
    out.add({
      kind: "resolv-conf",
      evidence: ev(resolv),
      paths: ["/etc/resolv.conf"],
      env: [],
      fix: FIX.resolv,
      strength: "soft",
    });
  if (nss.length > 0 || cgoUser.length > 0 || cgoNet.length > 0)
    out.add({
      kind: "nsswitch",
      evidence: ev([...nss, ...cgoUser, ...cgoNet]),
      paths: ["/etc/nsswitch.conf"],
      env: [],
      fix: FIX.nsswitch,
      strength: "soft",
    });
  if (cgoUser.length > 0 || cgoNet.length > 0) {
    // glibc >= 2.34 serves files and dns itself (nss/nss_module.c module_load), also when linked
    // statically; anything else named in nsswitch.conf is dlopened. Soft: with no nsswitch.conf the Go
    // resolver is used (conf.go) and libc's defaults need no module.
    const stat = linkage === "static" || linkage === "static-pie";
    out.add({
      kind: "nss-modules",
      evidence: [
        ...ev([...cgoNet, ...cgoUser]),
        ...(libc === "glibc" ? [`${stat ? "static glibc" : "glibc"}: NSS through libc (cgo)`] : []),
      ],
      paths: libDirs(ma),
      env: [],
      fix: FIX.goNssCgo,
      strength: "soft",
    });
  }

  const tmp = has(GO.tmp);
  if (tmp.length > 0)
    out.add({
      kind: "tmp",
      evidence: ev(tmp),
      paths: ["/tmp"],
      env: ["TMPDIR"],
      fix: FIX.goTmp,
      strength: "hard",
    });
}

interface CContext {
  libc: Libc;
  linkage: Linkage;
  ma: string | null;
  elf: ElfFile;
  /** Go binaries: skip the resolver/user functions that the standard library's cgo glue always imports. */
  onlyNonStd: boolean;
  who: string;
}

function cRules(names: Set<string>, c: CContext, out: Needs): void {
  const pick = (set: Set<string>) => [...set].filter((n) => names.has(n));
  const ev = (list: string[]) => list.map((n) => `${c.who}: ${n}`);
  const glibc = c.libc === "glibc";
  const stat = c.linkage === "static" || c.linkage === "static-pie";

  if (!c.onlyNonStd) {
    const resolver = pick(C_RESOLVER);
    const passwd = pick(C_PASSWD);
    const group = pick(C_GROUP);
    if (resolver.length > 0) {
      out.add({
        kind: "hosts",
        evidence: ev(resolver),
        paths: ["/etc/hosts"],
        env: [],
        fix: FIX.hosts,
        strength: "soft",
      });
      out.add({
        kind: "resolv-conf",
        evidence: ev(resolver),
        paths: ["/etc/resolv.conf"],
        env: [],
        fix: FIX.resolv,
        strength: "soft",
      });
    }
    if (passwd.length > 0)
      out.add({
        kind: "passwd",
        evidence: ev(passwd),
        paths: ["/etc/passwd"],
        env: [],
        fix: FIX.passwd,
        strength: "hard",
      });
    if (group.length > 0)
      out.add({
        kind: "group",
        evidence: ev(group),
        paths: ["/etc/group"],
        env: [],
        fix: FIX.group,
        strength: "hard",
      });
    const nssUsers = [...resolver, ...passwd, ...group];
    // musl has no NSS (no nsswitch.conf, no modules); glibc does, dynamic or static.
    if (glibc && nssUsers.length > 0) {
      out.add({
        kind: "nsswitch",
        evidence: ev(nssUsers),
        paths: ["/etc/nsswitch.conf"],
        env: [],
        fix: FIX.nsswitch,
        strength: "soft",
      });
      // Static glibc >= 2.34 links the built-in services (_nss_files_* / _nss_dns_* in .symtab); verified
      // with a gcc -static program on glibc 2.36 in an empty chroot: getpwuid read /etc/passwd and
      // getaddrinfo read /etc/hosts, no dlopen. Without those symbols (glibc < 2.34) the static program
      // dlopens libnss_files.so.2 / libnss_dns.so.2 and fails without them.
      const builtin =
        !stat || [...names].some((n) => n.startsWith("_nss_files_") || n.startsWith("_nss_dns_"));
      const dirs = libDirs(c.ma);
      if (stat && !builtin) {
        const mods = ["libnss_files.so.2", ...(resolver.length > 0 ? ["libnss_dns.so.2"] : [])];
        out.add({
          kind: "nss-modules",
          evidence: [...ev(nssUsers), `${c.who}: no built-in NSS services (_nss_files_*): glibc < 2.34`],
          paths: dirs.flatMap((d) => mods.map((m) => `${d}/${m}`)),
          env: [],
          fix: FIX.oldStaticNss,
          strength: "hard",
        });
      } else {
        out.add({
          kind: "nss-modules",
          evidence: ev(nssUsers),
          paths: dirs,
          env: [],
          fix: FIX.glibcNss,
          strength: "soft",
        });
      }
    }
  }

  const iconv = pick(C_ICONV);
  // musl's iconv is built in (src/locale/iconv.c): no files. glibc (and an unknown libc) loads modules.
  if (iconv.length > 0 && c.libc !== "musl") {
    const dirs = [...(c.ma ? [`/usr/lib/${c.ma}/gconv`] : []), "/usr/lib64/gconv", "/usr/lib/gconv"];
    out.add({
      kind: "gconv",
      evidence: ev(iconv),
      paths: dirs,
      env: ["GCONV_PATH"],
      fix: FIX.gconv,
      strength: "hard",
    });
  }
  const ssl = pick(C_OPENSSL);
  if (ssl.length > 0)
    out.add({
      kind: "ca-certificates",
      evidence: ev(ssl),
      paths: OPENSSL_CA_PATHS,
      env: ["SSL_CERT_FILE", "SSL_CERT_DIR"],
      fix: FIX.sslCa,
      strength: "hard",
    });
  const tmp = pick(C_TMP);
  if (tmp.length > 0)
    out.add({ kind: "tmp", evidence: ev(tmp), paths: ["/tmp"], env: [], fix: FIX.cTmp, strength: "hard" });
  const tz = pick(C_TZ);
  if (tz.length > 0) {
    const dirs =
      c.libc === "musl"
        ? ["/usr/share/zoneinfo/", "/share/zoneinfo/", "/etc/zoneinfo/"]
        : ["/usr/share/zoneinfo/"];
    out.add({
      kind: "tzdata",
      evidence: ev(tz),
      paths: dirs,
      env: c.libc === "musl" ? [] : ["TZDIR"],
      fix: FIX.cTz,
      strength: "soft",
    });
  }
}

/**
 * Rust (static symbols, mangled): rustls-native-certs finds the system bundle through openssl-probe's
 * candidate list (which includes the Debian, Fedora and Alpine locations); webpki-roots embeds Mozilla's
 * roots (no files).
 */
function rustRules(names: Set<string>, out: Needs, notes: string[]): void {
  let probe: string | null = null;
  let webpki = false;
  let tempDir: string | null = null;
  for (const n of names) {
    // std::env::temp_dir: $TMPDIR, else "/tmp" (library/std/src/sys/pal/unix/os.rs), legacy or v0 mangling.
    if (tempDir === null && n.includes("3std3env8temp_dir")) tempDir = n;
    if (probe === null && (n.includes("rustls_native_certs") || n.includes("openssl_probe")))
      probe = n.includes("rustls_native_certs") ? "rustls_native_certs" : "openssl_probe";
    if (n.includes("webpki_roots")) webpki = true;
  }
  if (tempDir)
    out.add({
      kind: "tmp",
      evidence: ["Rust: std::env::temp_dir"],
      paths: ["/tmp"],
      env: ["TMPDIR"],
      fix: FIX.goTmp,
      strength: "hard",
    });
  if (probe) {
    out.add({
      kind: "ca-certificates",
      evidence: [`Rust: ${probe}`],
      paths: [...GO_CA_FILES, ...OPENSSL_CA_PATHS.filter((p) => !GO_CA_FILES.includes(p))],
      env: ["SSL_CERT_FILE", "SSL_CERT_DIR"],
      fix: FIX.goCa.replace(
        ", or embed roots with golang.org/x/crypto/x509roots/fallback",
        ", or use webpki-roots",
      ),
      strength: "hard",
    });
  } else if (webpki) {
    notes.push("Rust: webpki_roots embedded: CA roots need no files");
  }
}

/** The compiled-in GCONV_PATH default of a static glibc, e.g. "/usr/lib/x86_64-linux-gnu/gconv". */
async function embeddedGconvDir(elf: ElfFile): Promise<string | null> {
  const sec = elf.section(".rodata");
  if (!sec || sec.size === 0 || sec.size > 64 << 20) return null;
  const b = Buffer.from(await elf.sectionBytes(sec));
  const needle = Buffer.from("/gconv\0", "latin1");
  for (let at = b.indexOf(needle); at >= 0; at = b.indexOf(needle, at + 1)) {
    let start = at;
    while (start > 0 && b[start - 1] !== 0 && at - start < 256) start--;
    const s = b.toString("latin1", start, at + needle.length - 1);
    if (/^\/[\w./+-]*\/gconv$/.test(s)) return s;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Checking a root.

/** Bound on directory entries looked at per directory. */
const MAX_ENTRIES = 4096;

function stat(fs: RootFs, path: string): { path: string; stat: EntryStat } | null {
  const r = resolvePath(fs, path);
  return r.ok ? { path: r.path, stat: r.stat } : null;
}

/** A regular file (after links), optionally non-empty. */
function regularFile(fs: RootFs, path: string, nonEmpty = false): string | null {
  const r = stat(fs, path);
  return r && r.stat.kind === "file" && (!nonEmpty || r.stat.size > 0) ? r.path : null;
}

/** A directory holding at least one regular file (entries followed through links), optionally filtered. */
function dirWithFile(
  fs: RootFs,
  path: string,
  accept: (name: string) => boolean = () => true,
): string | null {
  const d = stat(fs, path);
  if (d?.stat.kind !== "dir") return null;
  const names = fs.readdir(d.path) ?? [];
  for (const name of names.slice(0, MAX_ENTRIES)) {
    if (!accept(name)) continue;
    const f = stat(fs, `${d.path}/${name}`);
    if (f && f.stat.kind === "file" && f.stat.size > 0) return d.path;
  }
  return null;
}

/** A zoneinfo tree: UTC / Etc/UTC, else any zone-looking file one or two levels down. */
function zoneDir(fs: RootFs, path: string): string | null {
  const d = stat(fs, path);
  if (d?.stat.kind !== "dir") return null;
  for (const z of ["UTC", "Etc/UTC"]) if (regularFile(fs, `${d.path}/${z}`, true)) return d.path;
  // zone.tab, tzdata.zi, leap-seconds.list, iso3166.tab are tables, not zones.
  const isZone = (n: string) => !n.includes(".") && n !== "leapseconds";
  const top = (fs.readdir(d.path) ?? []).slice(0, MAX_ENTRIES);
  for (const n of top) if (isZone(n) && regularFile(fs, `${d.path}/${n}`, true)) return d.path;
  for (const n of top) if (isZone(n) && dirWithFile(fs, `${d.path}/${n}`, isZone)) return d.path;
  return null;
}

function gconvDir(fs: RootFs, path: string): string | null {
  const d = stat(fs, path);
  if (d?.stat.kind !== "dir") return null;
  const found = ["gconv-modules.cache", "gconv-modules"].some((f) => regularFile(fs, `${d.path}/${f}`, true));
  return found ? d.path : null;
}

/** One candidate path for a need: the canonical path that satisfies it, or null. */
function satisfiesPath(fs: RootFs, kind: NeedKind, path: string): string | null {
  switch (kind) {
    case "ca-certificates": {
      const r = stat(fs, path);
      if (!r) return null;
      if (r.stat.kind === "file") return r.stat.size > 0 ? r.path : null;
      return r.stat.kind === "dir" ? dirWithFile(fs, path) : null;
    }
    case "tzdata": {
      const r = stat(fs, path);
      if (!r) return null;
      // ZONEINFO may name a zip file (Go's zoneinfo.zip).
      if (r.stat.kind === "file") return r.stat.size > 0 ? r.path : null;
      return zoneDir(fs, path);
    }
    case "passwd":
    case "group":
      return regularFile(fs, path, true);
    case "nsswitch":
    case "hosts":
    case "resolv-conf":
      return regularFile(fs, path);
    case "gconv":
      return gconvDir(fs, path);
    case "tmp": {
      const r = stat(fs, path);
      // Sticky and world-writable: what every program that creates temporary files as any uid expects.
      return r && r.stat.kind === "dir" && (r.stat.mode & 0o1777) === 0o1777 ? r.path : null;
    }
    case "nss-modules": {
      if (/\/libnss_[^/]+\.so\.\d+$/.test(path)) return regularFile(fs, path);
      return dirWithFile(fs, path, (n) => /^libnss_.+\.so\.\d+$/.test(n));
    }
  }
}

/** Values of the environment variables a need accepts, as in-root paths to try. */
function envPaths(need: RuntimeNeed, env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of need.env) {
    const v = env[name];
    if (!v) continue;
    // SSL_CERT_DIR and GCONV_PATH are colon-separated lists (Go root_unix.go splits on ":").
    const parts = name === "SSL_CERT_DIR" || name === "GCONV_PATH" ? v.split(":") : [v];
    for (const p of parts) if (p.startsWith("/")) out.push(p);
  }
  return out;
}

/**
 * Which needs the root satisfies. Only metadata is read (lstat, readdir, links resolved inside the
 * root), never file contents. `env` is the container's environment (never process.env).
 *
 * nss-modules: without /etc/nsswitch.conf glibc uses only its built-in files/dns services, so the need
 * is met with nothing to find (foundAt null); with one, we cannot see which services it names without
 * reading it, so a libnss_*.so.2 module in the library directories counts.
 */
export function checkRuntimeNeeds(
  fs: RootFs,
  needs: RuntimeNeed[],
  env: Record<string, string> = {},
): NeedStatus[] {
  return needs.map((need) => {
    for (const p of envPaths(need, env)) {
      const hit = satisfiesPath(fs, need.kind, p);
      if (hit) return { ...need, satisfied: true, foundAt: hit };
    }
    if (need.kind === "tmp" && env["TMPDIR"] && need.env.includes("TMPDIR")) {
      // TMPDIR only has to be a directory (its permissions are the user's business).
      const r = stat(fs, env["TMPDIR"]);
      if (r && r.stat.kind === "dir") return { ...need, satisfied: true, foundAt: r.path };
    }
    for (const p of need.paths) {
      const hit = satisfiesPath(fs, need.kind, p);
      if (hit) return { ...need, satisfied: true, foundAt: hit };
    }
    if (need.kind === "nss-modules" && need.strength === "soft" && !regularFile(fs, "/etc/nsswitch.conf")) {
      return { ...need, satisfied: true, foundAt: null };
    }
    return { ...need, satisfied: false, foundAt: null };
  });
}
