import { createRequire } from "node:module";
import { hostPlatform } from "../check/check.js";
import { judgeEntrypoint, passwdRows, runtimeConfigOf } from "../check/entrypoint.js";
import { readElf } from "../elf/elf-file.js";
import { ParseError, UsageError, ZerodepError } from "../errors.js";
import { readGoBuildInfo } from "../go/build-info.js";
import { readPclntab } from "../go/pclntab.js";
import { indexImage } from "../image/index-image.js";
import { type ImageRef, imageRefName, parseImageArg, toImageRef } from "../image/reference.js";
import { formatPlatform, resolveImage } from "../image/select.js";
import type { ByteSource } from "../io/reader.js";
import type { Platform } from "../oci/types.js";
import type { RegistrySession } from "../registry/client.js";
import type { RegistryOptions } from "../registry/options.js";
import type { RootFs } from "../resolve/root-fs.js";
import { openSource } from "../transfer/open.js";

/**
 * `zerodep k8s gen IMAGE`: one workload manifest (and a Service) that is Pod Security "restricted" by
 * construction and right for this image, because the image and its entrypoint binary are read first:
 * the numeric uid/gid come from the image's own /etc/passwd and /etc/group (the runtime's resolution,
 * judgeEntrypoint), the emptyDir mounts from the binary's run-time needs (a read-only root without /tmp
 * breaks os.CreateTemp), GOMAXPROCS only when the Go runtime in the binary will not follow the CPU
 * limit itself (its version and DefaultGODEBUG), the ports from ExposedPorts. A YAML-only generator
 * (kompose, helm create) can know none of these.
 */

export const GEN_KINDS = ["Deployment", "StatefulSet", "Job", "CronJob", "Pod"] as const;
export type GenKind = (typeof GEN_KINDS)[number];

/** Errors (thrown) and warnings (GenResult.warnings) of k8s gen (README "zerodep k8s"). */
export const K8S_GEN_CODES = [
  "K8S_USER_UNKNOWN",
  "K8S_GROUP_UNKNOWN",
  "K8S_RUNS_AS_ROOT",
  "K8S_IMAGE_NOT_PUSHED",
  "K8S_IMAGE_WILL_NOT_RUN",
  "K8S_PRIVILEGED_PORT",
  "K8S_GROUP_ROOT",
  "K8S_USER_NOT_IN_PASSWD",
  "K8S_ONE_PLATFORM_READ",
] as const;
export type K8sGenCode = (typeof K8S_GEN_CODES)[number];

export interface ResourceAmounts {
  cpu?: string;
  memory?: string;
  /** The container's writable layer, its logs and its disk-backed emptyDirs (the /tmp we mount). */
  "ephemeral-storage"?: string;
}
export interface GenResources {
  requests?: ResourceAmounts;
  limits?: ResourceAmounts;
}

export interface GenOptions {
  kind?: GenKind;
  /** metadata.name and the container's name (default: the repository's last component, else the program's name). */
  name?: string;
  namespace?: string;
  /** Ports added to the image's ExposedPorts (TCP). */
  ports?: number[];
  /** Also a Service for the ports (none when there are no ports). */
  service?: boolean;
  /** Deployment/StatefulSet replicas (default 1). */
  replicas?: number;
  /** CronJob schedule (required for CronJob). */
  schedule?: string;
  /** Which image of an index the facts are read from (default: this machine's, else the only one). */
  platform?: Platform | string;
  /**
   * Where a local image (oci:, oci-archive:, docker-archive:) will be pushed: the manifest names it
   * REPOSITORY@DIGEST. Without it, localhost/NAME@DIGEST (and a K8S_IMAGE_NOT_PUSHED warning).
   */
  repository?: string;
  /** Run as this uid instead of the image's USER (the only way to use an image whose USER is root). */
  runAsUser?: number;
  /** Requests and limits; each amount left out takes its default (DEFAULT_RESOURCES). */
  resources?: GenResources;
  registry?: RegistryOptions;
  session?: RegistrySession;
  /** Layers decompressing beyond this are refused (gzip bombs). */
  maxLayerBytes?: number;
}

export interface GenWarning {
  code: K8sGenCode;
  message: string;
  fix: string;
}

/** What was read from the image, and what each decision in the manifest came from. */
export interface GenFacts {
  /** The reference as given. */
  image: string;
  /** The image field of the manifest (REPO@sha256:…). */
  pinned: string;
  /** Digest of what the reference names (an index when it is one): the pin. */
  digest: string;
  /** Manifest digest of the platform image the facts were read from. */
  manifestDigest: string;
  platform: string;
  /** The image's USER and how the image's own passwd/group resolve it. */
  user: { configured: string | null; uid: number; gid: number; name: string | null; inPasswd: boolean };
  /** The entrypoint's in-image path (after PATH lookup), or null. */
  program: string | null;
  /** Run-time needs of the program (kinds), from check. */
  needs: string[];
  /** Directories the program writes to, each given an emptyDir. */
  writablePaths: { path: string; why: string }[];
  go: {
    version: string;
    defaultGODEBUG: string | null;
    /** Whether the runtime sets GOMAXPROCS from the cgroup CPU limit by itself. */
    followsCpuLimit: boolean;
    why: string;
    /** The image's Env sets GOMEMLIMIT (then the manifest does not). */
    imageSetsMemLimit: boolean;
  } | null;
  /** Ports of the container: ExposedPorts, then opts.ports. */
  ports: { port: number; protocol: "TCP" | "UDP" | "SCTP"; from: "image" | "option" }[];
  /** Whether the check verdict says the entrypoint starts. */
  runnable: boolean;
}

export interface GenResult {
  /** The workload, then the Service when one was asked for and there are ports. */
  documents: Record<string, unknown>[];
  /** The documents as multi-document YAML (key order as built, deterministic). */
  yaml: string;
  warnings: GenWarning[];
  facts: GenFacts;
}

/**
 * Requests that let the pod be scheduled on a small node, limits that cap a runaway. Memory request =
 * limit (no overcommit: the pod is not the first OOM victim of its node). The CPU limit is there
 * because Pod Security does not ask for it but kube-score and most policies do, and because the Go
 * runtime sizes GOMAXPROCS from it. Ephemeral storage bounds what the emptyDirs can fill on the node's
 * disk (a read-only root moves the writes there); the kubelet evicts a pod beyond its limit.
 */
export const DEFAULT_RESOURCES: Required<{
  requests: Required<ResourceAmounts>;
  limits: Required<ResourceAmounts>;
}> = {
  requests: { cpu: "100m", memory: "128Mi", "ephemeral-storage": "64Mi" },
  limits: { cpu: "1", memory: "128Mi", "ephemeral-storage": "512Mi" },
};

type Yaml = typeof import("yaml");
let yamlLib: Yaml | undefined;
/** `yaml` is loaded only by the k8s commands (the one runtime dependency they add). */
function yaml(): Yaml {
  yamlLib ??= createRequire(import.meta.url)("yaml") as Yaml;
  return yamlLib;
}

/** Multi-document YAML of plain values, in the key order they were built in; never aliases, never folded lines. */
export function toYamlDocuments(docs: readonly unknown[]): string {
  const y = yaml();
  return docs.map((d) => y.stringify(d, { lineWidth: 0, aliasDuplicateObjects: false })).join("---\n");
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Kubernetes resource.Quantity (apimachinery quantity.go): a decimal number and a suffix. */
const QUANTITY = /^[+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[kMGTPE]i?|[mun]|Ki|[eE][+-]?\d+)?$/;

/** A DNS-1123 label from any text (the repository's last component, a program's file name). */
function labelFrom(text: string): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return s === "" ? "app" : s;
}

function checkOptions(opts: GenOptions): GenKind {
  const kind = opts.kind ?? "Deployment";
  if (!(GEN_KINDS as readonly string[]).includes(kind))
    throw new UsageError("USAGE", `k8s gen: unknown kind "${kind}" (one of ${GEN_KINDS.join(", ")})`);
  for (const [what, v] of [
    ["name", opts.name],
    ["namespace", opts.namespace],
  ] as const) {
    if (v !== undefined && (v.length > 63 || !DNS_LABEL.test(v)))
      throw new UsageError(
        "USAGE",
        `k8s gen: ${what} "${v}" is not a DNS-1123 label (lower-case letters, digits and '-', at most 63)`,
      );
  }
  for (const p of opts.ports ?? [])
    if (!Number.isInteger(p) || p < 1 || p > 65535)
      throw new UsageError("USAGE", `k8s gen: port ${p} is not a port number (1-65535)`);
  if (opts.replicas !== undefined && (!Number.isInteger(opts.replicas) || opts.replicas < 0))
    throw new UsageError("USAGE", `k8s gen: replicas ${opts.replicas} is not a whole number >= 0`);
  if (
    opts.repository !== undefined &&
    !/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\.[a-z0-9-]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+$/.test(
      opts.repository,
    )
  )
    throw new UsageError(
      "USAGE",
      `k8s gen: repository "${opts.repository}" must be REGISTRY/REPO without a tag or digest (the digest is added)`,
    );
  if (kind === "CronJob" && (opts.schedule === undefined || opts.schedule.trim() === ""))
    throw new UsageError("USAGE", 'k8s gen: a CronJob needs a schedule (e.g. "0 3 * * *")');
  if (
    opts.runAsUser !== undefined &&
    (!Number.isInteger(opts.runAsUser) || opts.runAsUser < 1 || opts.runAsUser > 2 ** 31 - 1)
  )
    throw new UsageError("USAGE", `k8s gen: runAsUser ${opts.runAsUser} must be a uid from 1 to 2147483647`);
  for (const side of ["requests", "limits"] as const)
    for (const [k, v] of Object.entries(opts.resources?.[side] ?? {}))
      if (v !== undefined && !QUANTITY.test(v))
        throw new UsageError(
          "USAGE",
          `k8s gen: ${side}.${k} "${v}" is not a Kubernetes quantity (e.g. 250m, 128Mi)`,
        );
  return kind;
}

/** Go's version string → [major, minor], or null ("devel …" builds are taken as new). */
function goMinor(version: string): [number, number] | null {
  const m = /^go(\d+)\.(\d+)/.exec(version);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

/** GODEBUG text "a=1,b=0" → map; later entries win, as the runtime parses it (internal/godebug). */
function godebugMap(text: string | undefined | null): Map<string, string> {
  const m = new Map<string, string>();
  for (const kv of (text ?? "").split(",")) {
    const i = kv.indexOf("=");
    if (i > 0) m.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
  }
  return m;
}

/**
 * Whether the Go runtime sets GOMAXPROCS from the container's CPU limit by itself: Go 1.25 reads the
 * cgroup CPU bandwidth limit at start (runtime/debug: "containermaxprocs"), unless GODEBUG
 * containermaxprocs=0 — which the toolchain puts into DefaultGODEBUG when go.mod says go < 1.25, or a
 * //go:debug directive does. The image's GODEBUG (Env) overrides DefaultGODEBUG. updatemaxprocs=0 only
 * stops later updates: the value at start still follows the limit. GOMAXPROCS in the image's Env wins
 * over everything.
 */
export function goFollowsCpuLimit(
  version: string,
  defaultGODEBUG: string | null,
  env: Record<string, string>,
): { follows: boolean; why: string } {
  if (env["GOMAXPROCS"] !== undefined)
    return { follows: true, why: `the image sets GOMAXPROCS=${env["GOMAXPROCS"]}` };
  const v = goMinor(version);
  if (v !== null && (v[0] < 1 || (v[0] === 1 && v[1] < 25)))
    return { follows: false, why: `${version} predates Go 1.25, which reads the cgroup CPU limit` };
  const settings = godebugMap(defaultGODEBUG);
  for (const [k, val] of godebugMap(env["GODEBUG"])) settings.set(k, val);
  if (settings.get("containermaxprocs") === "0") {
    const fromEnv = godebugMap(env["GODEBUG"]).get("containermaxprocs") === "0";
    return {
      follows: false,
      why: fromEnv
        ? "the image's GODEBUG sets containermaxprocs=0"
        : "DefaultGODEBUG has containermaxprocs=0 (go.mod's go line is older than 1.25, or a //go:debug directive)",
    };
  }
  return { follows: true, why: `${version} sets GOMAXPROCS from the cgroup CPU limit (containermaxprocs)` };
}

interface GoFacts {
  version: string;
  defaultGODEBUG: string | null;
  usesCacheDir: boolean;
}

/** Build info and the one function we look for (os.UserCacheDir), or null for a non-Go or non-ELF program. */
async function readGoFacts(src: ByteSource): Promise<GoFacts | null> {
  try {
    const elf = await readElf(src);
    const info = await readGoBuildInfo(src, elf.layout);
    if (info === null) return null;
    let usesCacheDir = false;
    const tab = await readPclntab(src, elf.layout).catch((e) => {
      if (e instanceof ParseError) return null;
      throw e;
    });
    if (tab) {
      try {
        for await (const n of tab.funcNames())
          if (n === "os.UserCacheDir") {
            usesCacheDir = true;
            break;
          }
      } catch (e) {
        if (!(e instanceof ParseError)) throw e;
      }
    }
    return { version: info.version, defaultGODEBUG: info.settings["DefaultGODEBUG"] ?? null, usesCacheDir };
  } catch (e) {
    if (e instanceof ParseError) return null;
    throw e;
  }
}

/** The home directory runc gives the process: $HOME from the image, else the passwd row's, else "/". */
async function homeOf(fs: RootFs, uid: number, env: Record<string, string>): Promise<string> {
  if (env["HOME"]) return env["HOME"];
  for (const f of await passwdRows(fs))
    if (f.length >= 6 && f[2] === String(uid) && f[5]!.startsWith("/")) return f[5]!;
  return "/";
}

function parseExposed(exposed: unknown): GenFacts["ports"] {
  const out: GenFacts["ports"] = [];
  if (exposed === null || typeof exposed !== "object") return out;
  for (const key of Object.keys(exposed)) {
    const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/i.exec(key);
    if (!m) continue;
    const port = Number(m[1]);
    if (port < 1 || port > 65535) continue;
    out.push({ port, protocol: (m[2] ?? "tcp").toUpperCase() as "TCP" | "UDP" | "SCTP", from: "image" });
  }
  return out;
}

/** Reads the image and builds the manifest. Throws K8S_USER_UNKNOWN / K8S_GROUP_UNKNOWN / K8S_RUNS_AS_ROOT. */
export async function generateManifests(image: string | ImageRef, opts: GenOptions = {}): Promise<GenResult> {
  const kind = checkOptions(opts);
  const ref = toImageRef(image, parseImageArg);
  const spec = imageRefName(image);
  const warnings: GenWarning[] = [];
  const src = await openSource(ref, {
    name: spec,
    ...(opts.registry ? { registry: opts.registry } : {}),
    ...(opts.session ? { session: opts.session } : {}),
  });
  try {
    const top = await src.resolve();
    const chosen = await resolveImage(src, {
      top,
      ...(opts.platform !== undefined ? { platform: opts.platform } : { prefer: hostPlatform() }),
    });
    if (top.digest !== chosen.descriptor.digest) {
      warnings.push({
        code: "K8S_ONE_PLATFORM_READ",
        message: `${spec} is an index: the manifest pins the whole index (${top.digest}), the user, needs and ports were read from its ${formatPlatform(chosen.platform)} image`,
        fix: "images of one index normally agree on these; pass --platform to read another one",
      });
    }
    const a = await indexImage(
      src,
      chosen,
      opts.maxLayerBytes !== undefined ? { maxLayerBytes: opts.maxLayerBytes } : {},
    );
    try {
      const rc = runtimeConfigOf(chosen.config);
      const v = await judgeEntrypoint(a.rootFs, rc, {
        platform: formatPlatform(chosen.platform),
        name: spec,
      });
      const env = v.env;
      const userProblem = v.problems.find((p) => p.code === "USER_UNKNOWN" || p.code === "GROUP_UNKNOWN");
      if (userProblem && opts.runAsUser === undefined) {
        throw new ZerodepError(
          userProblem.code === "USER_UNKNOWN" ? "K8S_USER_UNKNOWN" : "K8S_GROUP_UNKNOWN",
          `${spec}: ${userProblem.message}; runAsUser cannot be derived`,
        );
      }
      const uid = opts.runAsUser ?? v.user.uid ?? 0;
      const gid =
        opts.runAsUser !== undefined && v.user.uid !== opts.runAsUser ? opts.runAsUser : (v.user.gid ?? 0);
      if (uid === 0) {
        throw new ZerodepError(
          "K8S_RUNS_AS_ROOT",
          `${spec}: the image runs as root (User ${JSON.stringify(rc.user ?? "")} is uid 0): Pod Security "restricted" forbids it (runAsNonRoot) and zerodep will not generate a root workload`,
        );
      }
      const inPasswd = (await passwdRows(a.rootFs)).some((r) => r[2] === String(uid));
      const c = v.programCheck;
      const needs = c?.needs ?? [];
      if (!inPasswd && needs.some((n) => n.kind === "passwd")) {
        warnings.push({
          code: "K8S_USER_NOT_IN_PASSWD",
          message: `uid ${uid} has no row in the image's /etc/passwd, and ${v.resolved} looks users up: os/user.Current fails ("user: unknown userid ${uid}")`,
          fix: `add a passwd row for ${uid} to the image (zerodep pack writes nonroot 65532), or run as a uid it lists`,
        });
      }
      if (gid === 0) {
        warnings.push({
          code: "K8S_GROUP_ROOT",
          message: `the image's user ${uid} has group 0 (root): files of group root are writable to it where their group bits allow`,
          fix: `set User to ${uid}:${uid} in the image (zerodep pack --user ${uid}:${uid})`,
        });
      }
      if (!v.runnable) {
        const first = v.problems.find((p) => p.severity === "error");
        warnings.push({
          code: "K8S_IMAGE_WILL_NOT_RUN",
          message: `the image's entrypoint will not start: ${first?.message ?? "see zerodep check"}`,
          fix: first?.fix ?? `run zerodep check ${spec}`,
        });
      }
      const writable: GenFacts["writablePaths"] = [];
      const tmp = needs.find((n) => n.kind === "tmp");
      if (tmp) {
        const dir = tmp.env.includes("TMPDIR") && env["TMPDIR"]?.startsWith("/") ? env["TMPDIR"] : "/tmp";
        writable.push({ path: dir, why: `temporary files (${tmp.evidence.join(", ")})` });
      }
      let go: GenFacts["go"] = null;
      if (v.resolved !== null) {
        const bin = a.rootFs.open(v.resolved);
        const g = await readGoFacts(bin);
        if (g) {
          const f = goFollowsCpuLimit(g.version, g.defaultGODEBUG, env);
          go = {
            version: g.version,
            defaultGODEBUG: g.defaultGODEBUG,
            followsCpuLimit: f.follows,
            why: f.why,
            imageSetsMemLimit: env["GOMEMLIMIT"] !== undefined,
          };
          if (g.usesCacheDir) {
            const home = await homeOf(a.rootFs, uid, env);
            const homeCache = env["XDG_CACHE_HOME"]?.startsWith("/")
              ? env["XDG_CACHE_HOME"]
              : `${home === "/" ? "" : home.replace(/\/+$/, "")}/.cache`;
            if (!writable.some((w) => w.path === homeCache))
              writable.push({ path: homeCache, why: "cache directory (Go: os.UserCacheDir)" });
          }
        }
      }
      const ports = parseExposed(chosen.config.config?.ExposedPorts);
      for (const p of opts.ports ?? [])
        if (!ports.some((q) => q.port === p && q.protocol === "TCP"))
          ports.push({ port: p, protocol: "TCP", from: "option" });
      ports.sort((x, y) => x.port - y.port || x.protocol.localeCompare(y.protocol));
      const pinnedRepo =
        ref.transport === "registry"
          ? `${ref.reference.registry}/${ref.reference.repository}`
          : (opts.repository ?? null);
      const facts: GenFacts = {
        image: spec,
        pinned: "",
        digest: top.digest,
        manifestDigest: chosen.descriptor.digest,
        platform: formatPlatform(chosen.platform),
        user: { configured: rc.user, uid, gid, name: v.user.name, inPasswd },
        program: v.resolved,
        needs: needs.map((n) => n.kind),
        writablePaths: writable,
        go,
        ports,
        runnable: v.runnable,
      };
      const name =
        opts.name ??
        labelFrom(
          (pinnedRepo ?? "").split("/").pop() || (v.resolved ?? v.program ?? "app").split("/").pop() || "app",
        );
      if (pinnedRepo === null) {
        warnings.push({
          code: "K8S_IMAGE_NOT_PUSHED",
          message: `${spec} is a local image: the manifest names it localhost/${name}@${top.digest}, which only a node that already has it by that digest can run`,
          fix: `push it (zerodep push ${spec} REGISTRY/REPO) and pass the repository (--repository REGISTRY/REPO), or generate from the pushed reference`,
        });
      }
      facts.pinned = `${pinnedRepo ?? `localhost/${name}`}@${top.digest}`;
      return build(kind, name, facts, opts, warnings);
    } finally {
      a.rootFs.close();
    }
  } finally {
    await src.close();
  }
}

/** A volume name for an emptyDir at `path` (DNS-1123 label, unique within the pod). */
function volumeName(path: string, used: Set<string>): string {
  const base = labelFrom(path.replace(/^\/+/, "").replace(/\//g, "-")) || "root";
  let n = base;
  for (let i = 2; used.has(n); i++) n = `${base.slice(0, 60)}-${i}`;
  used.add(n);
  return n;
}

function build(
  kind: GenKind,
  name: string,
  facts: GenFacts,
  opts: GenOptions,
  warnings: GenWarning[],
): GenResult {
  const labels = { "app.kubernetes.io/name": name };
  const requests = { ...DEFAULT_RESOURCES.requests, ...defined(opts.resources?.requests) };
  const limits = { ...DEFAULT_RESOURCES.limits, ...defined(opts.resources?.limits) };

  const privileged = facts.ports.filter((p) => p.port < 1024);
  if (privileged.length > 0) {
    const low = Math.min(...privileged.map((p) => p.port));
    warnings.push({
      code: "K8S_PRIVILEGED_PORT",
      message: `port ${low} is below 1024: uid ${facts.user.uid} may bind it through NET_BIND_SERVICE (added; podman makes it ambient, but containerd and CRI-O give an added capability to a non-root process only through file capabilities) or through the sysctl net.ipv4.ip_unprivileged_port_start, which the pod sets to ${low}`,
      fix: "listen on a port >= 1024 (e.g. 8080) and let the Service map port 80 to it",
    });
  }

  const env: Record<string, unknown>[] = [];
  if (facts.go && !facts.go.followsCpuLimit && limits.cpu)
    env.push({
      name: "GOMAXPROCS",
      valueFrom: { resourceFieldRef: { resource: "limits.cpu", divisor: "1" } },
    });
  // The Go runtime never sets a soft memory limit by itself; with it, the GC works harder near the
  // limit instead of the kernel OOM-killing the pod.
  if (facts.go && limits.memory && !facts.go.imageSetsMemLimit)
    env.push({
      name: "GOMEMLIMIT",
      valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1" } },
    });

  const used = new Set<string>();
  const mounts = facts.writablePaths.map((w) => ({ name: volumeName(w.path, used), mountPath: w.path }));

  const container: Record<string, unknown> = {
    name,
    image: facts.pinned,
  };
  if (facts.ports.length > 0)
    container["ports"] = facts.ports.map((p) => ({
      name: `${p.protocol.toLowerCase()}-${p.port}`,
      containerPort: p.port,
      protocol: p.protocol,
    }));
  if (env.length > 0) container["env"] = env;
  container["resources"] = { requests, limits };
  container["securityContext"] = {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: {
      drop: ["ALL"],
      ...(privileged.length > 0 ? { add: ["NET_BIND_SERVICE"] } : {}),
    },
  };
  if (mounts.length > 0) container["volumeMounts"] = mounts;

  const podSecurity: Record<string, unknown> = {
    runAsNonRoot: true,
    runAsUser: facts.user.uid,
    runAsGroup: facts.user.gid,
    fsGroup: facts.user.gid,
    seccompProfile: { type: "RuntimeDefault" },
  };
  if (privileged.length > 0)
    podSecurity["sysctls"] = [
      {
        name: "net.ipv4.ip_unprivileged_port_start",
        value: String(Math.min(...privileged.map((p) => p.port))),
      },
    ];
  const podSpec: Record<string, unknown> = {
    automountServiceAccountToken: false,
    securityContext: podSecurity,
  };
  if (kind === "Job" || kind === "CronJob") podSpec["restartPolicy"] = "Never";
  podSpec["containers"] = [container];
  if (mounts.length > 0) podSpec["volumes"] = mounts.map((m) => ({ name: m.name, emptyDir: {} }));

  const metadata = (extra: Record<string, unknown> = {}) => ({
    name,
    ...(opts.namespace ? { namespace: opts.namespace } : {}),
    labels: { ...labels },
    ...extra,
  });
  const template = { metadata: { labels: { ...labels } }, spec: podSpec };
  let workload: Record<string, unknown>;
  switch (kind) {
    case "Pod":
      workload = { apiVersion: "v1", kind, metadata: metadata(), spec: podSpec };
      break;
    case "Deployment":
      workload = {
        apiVersion: "apps/v1",
        kind,
        metadata: metadata(),
        spec: { replicas: opts.replicas ?? 1, selector: { matchLabels: { ...labels } }, template },
      };
      break;
    case "StatefulSet":
      workload = {
        apiVersion: "apps/v1",
        kind,
        metadata: metadata(),
        spec: {
          serviceName: name,
          replicas: opts.replicas ?? 1,
          selector: { matchLabels: { ...labels } },
          template,
        },
      };
      break;
    case "Job":
      workload = { apiVersion: "batch/v1", kind, metadata: metadata(), spec: { template } };
      break;
    case "CronJob":
      workload = {
        apiVersion: "batch/v1",
        kind,
        metadata: metadata(),
        spec: { schedule: opts.schedule, jobTemplate: { spec: { template } } },
      };
      break;
  }
  const documents: Record<string, unknown>[] = [workload];
  if (opts.service && facts.ports.length > 0 && kind !== "Job" && kind !== "CronJob") {
    documents.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: metadata(),
      spec: {
        // A StatefulSet's serviceName must be a headless Service (its pods get stable DNS names).
        ...(kind === "StatefulSet" ? { clusterIP: "None" } : {}),
        selector: { ...labels },
        ports: facts.ports.map((p) => ({
          name: `${p.protocol.toLowerCase()}-${p.port}`,
          port: p.port,
          targetPort: p.port,
          protocol: p.protocol,
        })),
      },
    });
  }
  return { documents, yaml: toYamlDocuments(documents), warnings, facts };
}

function defined(a: ResourceAmounts | undefined): ResourceAmounts {
  const out: ResourceAmounts = {};
  if (a?.cpu !== undefined) out.cpu = a.cpu;
  if (a?.memory !== undefined) out.memory = a.memory;
  if (a?.["ephemeral-storage"] !== undefined) out["ephemeral-storage"] = a["ephemeral-storage"];
  return out;
}
