import {
  type EntrypointVerdict,
  judgeEntrypoint,
  passwdRows,
  type RuntimeConfig,
  runtimeConfigOf,
} from "../check/entrypoint.js";
import { readElf } from "../elf/elf-file.js";
import { ParseError, ZerodepError } from "../errors.js";
import { readPclntab } from "../go/pclntab.js";
import { type IndexedImage, indexImage } from "../image/index-image.js";
import { type ImageRef, parseImageArg } from "../image/reference.js";
import { formatPlatform, platformMatches, type ResolvedImage, resolveImages } from "../image/select.js";
import type { ImageSource } from "../image/source.js";
import { parseReference } from "../oci/distribution-reference.js";
import type { Platform } from "../oci/types.js";
import type { RegistrySession } from "../registry/client.js";
import type { RegistryOptions } from "../registry/options.js";
import type { RootFs } from "../resolve/root-fs.js";
import { openSource } from "../transfer/open.js";
import type { ImageCheckCode } from "./image-codes.js";
import type { FindingLevel, K8sDocument, K8sFinding } from "./types.js";
import { fieldPath, kindAndName, type PodAt, podOf } from "./workloads.js";

/**
 * The k8s lint checks only an image-aware tool can make (issue #16): each container's image is opened
 * (registry, or a local layout through `images`), the image for the node the pod will run on is chosen,
 * and what the kubelet and the runtime will do with the container's fields is judged against the image's
 * config, its merged file tree and the program it starts — with the same judgeEntrypoint that
 * `zerodep check IMAGE` reports.
 */

export interface ImageCheckOptions {
  /** How registries are reached (credentials, CA files, insecure). */
  registry?: RegistryOptions;
  /** Shared registry clients; one is made (and closed) when absent. */
  session?: RegistrySession;
  /**
   * A manifest's image string → a local reference ("oci:DIR:TAG", "oci-archive:FILE"): air-gapped use
   * and tests. Images not listed are read from their registry.
   */
  images?: Record<string, string>;
  /** Progress (stderr in the CLI). */
  log?: (msg: string) => void;
  /** Layers decompressing beyond this are refused (gzip bombs). */
  maxLayerBytes?: number;
}

export interface ImageCheckResult {
  findings: K8sFinding[];
  /** Containers whose image checks were skipped, and why (an image that cannot be fetched is not a finding). */
  notes: string[];
}

type Path = (string | number)[];
type Obj = Record<string, unknown>;

const ARCH_LABEL = "kubernetes.io/arch";
const OS_LABEL = "kubernetes.io/os";
/** What a pod with no architecture constraint is judged for (most clusters' nodes; say so in messages). */
const DEFAULT_ARCH = "amd64";
const DEFAULT_OS = "linux";

function obj(v: unknown): Obj | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
}
function strs(v: unknown): string[] | null {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : null;
}
function int(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) ? v : null;
}

/** One image reference of the manifests, opened once for every container that names it. */
interface OpenedImage {
  src: ImageSource;
  all: ResolvedImage[];
  /** Indexed trees, per chosen manifest digest. */
  trees: Map<string, Promise<IndexedImage>>;
}

export async function imageChecks(
  docs: K8sDocument[],
  opts: ImageCheckOptions = {},
): Promise<ImageCheckResult> {
  const findings: K8sFinding[] = [];
  const notes: string[] = [];
  const opened = new Map<string, Promise<OpenedImage>>();
  const open = (image: string): Promise<OpenedImage> => {
    let p = opened.get(image);
    if (!p) {
      p = (async () => {
        const src = await openSource(refOf(image, opts.images), {
          name: image,
          ...(opts.registry ? { registry: opts.registry } : {}),
          ...(opts.session ? { session: opts.session } : {}),
        });
        try {
          return { src, all: await resolveImages(src), trees: new Map() };
        } catch (e) {
          await src.close();
          throw e;
        }
      })();
      opened.set(image, p);
    }
    return p;
  };
  try {
    for (const doc of docs) {
      const pod = podOf(doc);
      if (!pod) continue;
      for (const group of ["initContainers", "containers"] as const) {
        const list = pod.spec[group];
        if (!Array.isArray(list)) continue;
        for (const [i, c] of list.entries()) {
          const container = obj(c);
          if (!container) continue;
          const at: Path = [...pod.specPath, group, i];
          await checkContainer(pod, container, at, { open, opts, findings, notes });
        }
      }
    }
  } finally {
    for (const p of opened.values()) {
      const o = await p.catch(() => null);
      if (!o) continue;
      for (const t of o.trees.values()) (await t.catch(() => null))?.rootFs.close();
      await o.src.close();
    }
  }
  return { findings, notes };
}

/** A manifest's image string as the kubelet reads it: always a registry name, unless mapped to a local one. */
function refOf(image: string, map: Record<string, string> | undefined): ImageRef {
  const local = map?.[image];
  if (local !== undefined) return parseImageArg(local);
  return { transport: "registry", reference: Object.freeze(parseReference(image)) };
}

interface Ctx {
  open: (image: string) => Promise<OpenedImage>;
  opts: ImageCheckOptions;
  findings: K8sFinding[];
  notes: string[];
}

async function checkContainer(pod: PodAt, c: Obj, at: Path, ctx: Ctx): Promise<void> {
  const cname = typeof c.name === "string" ? c.name : `#${String(at[at.length - 1])}`;
  const image = typeof c.image === "string" ? c.image.trim() : "";
  if (image === "") return; // PSA and the API server's validation report a missing image, not us.
  const { kind, name } = kindAndName(pod.doc);
  const add = (rule: ImageCheckCode, level: FindingLevel, path: Path, message: string, fix: string) =>
    ctx.findings.push({
      rule,
      level,
      message: `container "${cname}": ${message}`,
      fix,
      file: pod.doc.file,
      document: { index: pod.doc.index, kind, name },
      field: fieldPath(path),
      position: pod.doc.positionOf(path),
    });
  const skip = (why: string) =>
    ctx.notes.push(
      `${pod.doc.file}: ${kind || "document"} ${name || `#${pod.doc.index}`}, container "${cname}": image ${image} not checked: ${why}`,
    );

  pinnedCheck(image, [...at, "image"], add);

  let o: OpenedImage;
  try {
    ctx.opts.log?.(`k8s lint: reading ${image}`);
    o = await ctx.open(image);
  } catch (e) {
    if (!(e instanceof ZerodepError)) throw e;
    skip(e.message);
    return;
  }

  const target = platformCheck(pod, o.all, image, add);
  if (!target) return;
  const chosen = target.image;
  if (target.note) ctx.notes.push(`${pod.doc.file}: container "${cname}": ${target.note}`);

  const sc = obj(c.securityContext) ?? {};
  const psc = obj(pod.spec.securityContext) ?? {};
  const scPath: Path = [...at, "securityContext"];
  const pscPath: Path = [...pod.specPath, "securityContext"];
  const imageCfg = runtimeConfigOf(chosen.config);

  // The kubelet's verifyRunAsNonRoot, before the container is created.
  const runAsUser = int(sc.runAsUser) ?? int(psc.runAsUser);
  const runAsUserPath: Path =
    int(sc.runAsUser) !== null ? [...scPath, "runAsUser"] : [...pscPath, "runAsUser"];
  const nonRoot = typeof sc.runAsNonRoot === "boolean" ? sc.runAsNonRoot : psc.runAsNonRoot === true;
  const nonRootPath: Path =
    typeof sc.runAsNonRoot === "boolean" ? [...scPath, "runAsNonRoot"] : [...pscPath, "runAsNonRoot"];
  if (nonRoot && runAsUser === null) runAsNonRootCheck(imageCfg.user, image, nonRootPath, add);

  let tree: IndexedImage;
  try {
    let t = o.trees.get(chosen.descriptor.digest);
    if (!t) {
      t = indexImage(o.src, chosen, {
        ...(ctx.opts.maxLayerBytes !== undefined ? { maxLayerBytes: ctx.opts.maxLayerBytes } : {}),
      });
      o.trees.set(chosen.descriptor.digest, t);
    }
    tree = await t;
  } catch (e) {
    if (!(e instanceof ZerodepError)) throw e;
    skip(e.message);
    return;
  }

  const cfg = effectiveConfig(imageCfg, c, runAsUser, int(sc.runAsGroup) ?? int(psc.runAsGroup));
  let v: EntrypointVerdict;
  try {
    v = await judgeEntrypoint(tree.rootFs, cfg, {
      platform: formatPlatform(chosen.platform),
      name: image,
    });
  } catch (e) {
    if (!(e instanceof ZerodepError)) throw e;
    skip(e.message);
    return;
  }
  const command = strs(c.command);
  const hasCommand = command !== null && command.length > 0;
  const firstError = v.problems.find((p) => p.severity === "error");
  if (firstError) {
    if (
      hasCommand &&
      v.resolved === null &&
      (firstError.code === "ENTRYPOINT_MISSING" || firstError.code === "ENTRYPOINT_NOT_EXECUTABLE")
    ) {
      add(
        "COMMAND_NOT_IN_IMAGE",
        "error",
        [...at, "command", 0],
        `command ${JSON.stringify(command[0])} is not an executable of image ${image}: ${firstError.message}`,
        command[0] === "sh" || command[0] === "/bin/sh" || command[0] === "bash"
          ? "the image has no shell: run the program directly (command: [/path/to/program, args…]) instead of through sh -c"
          : `point command at a program the image has (its entrypoint is ${JSON.stringify(imageCfg.entrypoint ?? imageCfg.cmd ?? [])})`,
      );
    } else {
      add(
        "ENTRYPOINT_WILL_NOT_RUN",
        "error",
        hasCommand ? [...at, "command"] : [...at, "image"],
        `${JSON.stringify(v.argv)} in image ${image} (${formatPlatform(chosen.platform)}) will not run: ${firstError.code}: ${firstError.message}`,
        firstError.fix,
      );
    }
  }

  const needs = v.programCheck?.needs ?? [];
  const passwdNeed = needs.find((n) => n.kind === "passwd");
  if (runAsUser !== null && passwdNeed) {
    const rows = await passwdRows(tree.rootFs);
    if (!rows.some((r) => r[2] === String(runAsUser))) {
      const go = passwdNeed.evidence.some((e) => e.startsWith("Go"));
      add(
        "RUN_AS_USER_NOT_IN_PASSWD",
        "warning",
        runAsUserPath,
        `runAsUser ${runAsUser} is not in /etc/passwd of image ${image}${rows.length === 0 ? " (it has none)" : ""}, and ${v.resolved ?? "the program"} looks users up there (${passwdNeed.evidence.join(", ")})${go ? `: os/user.LookupId fails with "user: unknown userid ${runAsUser}" and user.Current with "user: Current requires cgo or $USER set in environment" (containerd adds no passwd line; podman does unless --passwd=false)` : ": getpwuid finds no entry"}`,
        `run as a user the image lists (${rows.map((r) => `${r[0]}=${r[2]}`).join(", ") || "none"}), or add a passwd line for ${runAsUser} to the image`,
      );
    }
  }

  if (sc.readOnlyRootFilesystem === true) {
    const tmp = needs.find((n) => n.kind === "tmp");
    if (tmp) {
      const dir = tmp.env.includes("TMPDIR") && v.env["TMPDIR"] ? v.env["TMPDIR"] : (tmp.paths[0] ?? "/tmp");
      if (!writableMount(c, dir)) {
        add(
          "READ_ONLY_ROOT_NEEDS_MOUNT",
          tmp.strength === "hard" ? "error" : "warning",
          [...scPath, "readOnlyRootFilesystem"],
          `readOnlyRootFilesystem is true and nothing writable is mounted at ${dir}, where ${v.resolved ?? "the program"} creates temporary files (${tmp.evidence.join(", ")}): writing there fails with "read-only file system"`,
          `mount an emptyDir there: volumes: [{name: tmp, emptyDir: {}}] and volumeMounts: [{name: tmp, mountPath: ${dir}}]`,
        );
      }
    }
  }

  const ports = Array.isArray(c.ports) && c.ports.length > 0;
  const exposed = Object.keys(obj(chosen.config.config?.ExposedPorts) ?? {});
  if (v.resolved && (ports || exposed.length > 0)) {
    const debug = await debugPackages(tree.rootFs, v.resolved);
    if (debug.length > 0) {
      add(
        "DEBUG_ENDPOINT_EXPOSED",
        "warning",
        ports ? [...at, "ports"] : [...at, "image"],
        `${v.resolved} links ${debug.join(" and ")} (${debug.map((d) => DEBUG_PATHS[d]).join(", ")} on the default HTTP mux) and the container ${ports ? "declares ports" : `exposes ${exposed.join(", ")} (image config)`}: profiles, command line and memory statistics may be served to anyone who reaches the port`,
        `drop the ${debug.map((d) => `import of ${d}`).join(" and ")} from release builds, or serve them on a separate listener bound to 127.0.0.1`,
      );
    }
  }
}

/** What the runtime will start: the container's command/args over the image's Entrypoint/Cmd (the Kubernetes rules). */
function effectiveConfig(img: RuntimeConfig, c: Obj, uid: number | null, gid: number | null): RuntimeConfig {
  const command = strs(c.command);
  const args = strs(c.args);
  // k8s: command replaces Entrypoint and drops the image's Cmd; args alone replace Cmd.
  const entrypoint = command && command.length > 0 ? command : img.entrypoint;
  const cmd = command && command.length > 0 ? (args ?? []) : args && args.length > 0 ? args : img.cmd;
  const env = [...img.env];
  for (const e of Array.isArray(c.env) ? c.env : []) {
    const o = obj(e);
    if (o && typeof o.name === "string" && typeof o.value === "string") env.push(`${o.name}=${o.value}`);
  }
  const user = uid !== null ? (gid !== null ? `${uid}:${gid}` : `${uid}`) : img.user;
  return {
    user,
    entrypoint,
    cmd,
    env,
    workingDir: typeof c.workingDir === "string" && c.workingDir !== "" ? c.workingDir : img.workingDir,
  };
}

type Add = (rule: ImageCheckCode, level: FindingLevel, path: Path, message: string, fix: string) => void;

function pinnedCheck(image: string, path: Path, add: Add): void {
  if (image.includes("@")) return;
  const last = image.slice(image.lastIndexOf("/") + 1);
  const tag = last.includes(":") ? last.slice(last.indexOf(":") + 1) : null;
  add(
    "IMAGE_NOT_PINNED",
    "warning",
    path,
    tag === null
      ? `image ${image} names no tag and no digest: it means :latest, which moves, and the image pulled can change on every node restart`
      : tag === "latest"
        ? `image ${image} uses the :latest tag: it moves, and nodes may run different images under one name`
        : `image ${image} is named by its tag, not a digest: a tag can be moved to other content`,
    `pin the digest: ${image.replace(/:[^:/]*$/, "")}@sha256:… (zerodep k8s gen writes it; crane digest / skopeo inspect print it)`,
  );
}

/**
 * The kubelet's verifyRunAsNonRoot (pkg/kubelet/kuberuntime/security_context_others.go) for a pod with
 * runAsNonRoot and no runAsUser: the image user comes from the runtime's ImageStatus, which containerd
 * and CRI-O fill with getUserFromImage (the part of config.User before ':', a uid when it parses as an
 * integer, else a username); no user at all is treated as root (kubeGenericRuntimeManager.getImageUser).
 * The quoted texts are the kubelet's format strings, without their "(pod: …, container: …)" suffix.
 */
const MAX_UID = 2n ** 31n - 1n;

function runAsNonRootCheck(user: string | null, image: string, path: Path, add: Add): void {
  const u = user === null ? "" : (user.split(":")[0] ?? "");
  // strconv.ParseInt(u, 10, 64): an optional sign and digits, within int64 (else it is a username).
  const big = /^[+-]?\d+$/.test(u) ? BigInt(u) : null;
  const uid = big !== null && big >= -(2n ** 63n) && big < 2n ** 63n ? big : null;
  if (uid !== null && uid !== 0n && (uid < 0n || uid > MAX_UID)) {
    // validation.IsValidUserID: 0..math.MaxInt32, its message from InclusiveRangeError.
    add(
      "IMAGE_USER_ID_INVALID",
      "error",
      path,
      `the kubelet refuses to start it (CreateContainerConfigError): "container has runAsNonRoot and image has an invalid user id (${uid}). (Must be 1-(${MAX_UID})): must be between 0 and ${MAX_UID}, inclusive" — image ${image} has USER ${user}`,
      "set securityContext.runAsUser to a uid between 1 and 2147483647, or rebuild the image with one",
    );
  } else if (u !== "" && uid === null) {
    add(
      "IMAGE_USER_NOT_NUMERIC",
      "error",
      path,
      `the kubelet refuses to start it (CreateContainerConfigError): "container has runAsNonRoot and image has non-numeric user (${u}), cannot verify user is non-root" — image ${image} has USER ${user}`,
      "set securityContext.runAsUser (and runAsGroup) to the user's numeric id from the image's /etc/passwd, or rebuild the image with a numeric USER (65532:65532)",
    );
  } else if (uid === 0n || u === "") {
    add(
      "IMAGE_USER_ROOT",
      "error",
      path,
      `the kubelet refuses to start it (CreateContainerConfigError): "container has runAsNonRoot and image will run as root" — image ${image} has ${u === "" ? "no USER" : `USER ${user}`}`,
      "set securityContext.runAsUser to a non-zero uid, or rebuild the image with a numeric non-root USER (65532:65532)",
    );
  }
}

/**
 * Which images of the reference the pod may run, from its nodeSelector and required node affinity
 * (kubernetes.io/arch, kubernetes.io/os): every value the scheduler may pick must be in the index. The
 * image judged further is the first allowed one present; without a constraint, linux/amd64 (or the only
 * image of a single-manifest reference).
 */
function platformCheck(
  pod: PodAt,
  all: ResolvedImage[],
  image: string,
  add: Add,
): { image: ResolvedImage; note?: string } | null {
  const archs = allowed(pod, ARCH_LABEL);
  const oses = allowed(pod, OS_LABEL);
  const have = all.map((r) => formatPlatform(r.platform)).join(", ") || "none";
  const present = (os: string, arch: string) =>
    all.find((r) => platformMatches({ os, architecture: arch } as Platform, r.platform));
  const missing: string[] = [];
  for (const os of oses?.values ?? [DEFAULT_OS])
    for (const arch of archs?.values ?? [DEFAULT_ARCH])
      if ((oses || archs) && !present(os, arch)) missing.push(`${os}/${arch}`);
  if (missing.length > 0) {
    const path = archs?.path ?? oses!.path;
    add(
      "PLATFORM_NOT_IN_IMAGE",
      "error",
      path,
      `the pod may be scheduled on ${missing.join(", ")} nodes, but image ${image} has ${have}: the runtime finds no image for that platform to pull (containerd: "no match for platform in manifest", podman: "no image found in image index for architecture")`,
      `build and push ${missing.join(", ")} into the image index, or constrain ${ARCH_LABEL}/${OS_LABEL} to what it has (${have})`,
    );
  }
  for (const os of oses?.values ?? [DEFAULT_OS])
    for (const arch of archs?.values ?? [DEFAULT_ARCH]) {
      const hit = present(os, arch);
      if (hit) return { image: hit };
    }
  if (oses || archs) return null; // nothing the pod may run: the finding above says so
  if (all.length === 1)
    return {
      image: all[0]!,
      ...(formatPlatform(all[0]!.platform) !== `${DEFAULT_OS}/${DEFAULT_ARCH}`
        ? {
            note: `image ${image} is ${formatPlatform(all[0]!.platform)} only and the pod names no ${ARCH_LABEL}: judged as that platform`,
          }
        : {}),
    };
  const first = all[0];
  if (!first) return null;
  return {
    image: first,
    note: `image ${image} has no ${DEFAULT_OS}/${DEFAULT_ARCH} and the pod names no ${ARCH_LABEL}: judged as ${formatPlatform(first.platform)}`,
  };
}

/**
 * The values of a node label the pod can be scheduled with, or null when unconstrained. nodeSelector
 * pins one value; required node affinity ORs its terms, so it constrains only when every term has an
 * `In` expression for the label (the union of their values). Both apply (AND): the intersection.
 */
function allowed(pod: PodAt, label: string): { values: string[]; path: Path } | null {
  let out: { values: string[]; path: Path } | null = null;
  const sel = obj(pod.spec.nodeSelector);
  if (sel && typeof sel[label] === "string")
    out = { values: [sel[label] as string], path: [...pod.specPath, "nodeSelector", label] };
  const reqPath: Path = [
    ...pod.specPath,
    "affinity",
    "nodeAffinity",
    "requiredDuringSchedulingIgnoredDuringExecution",
    "nodeSelectorTerms",
  ];
  const terms = obj(
    obj(obj(pod.spec.affinity)?.nodeAffinity)?.requiredDuringSchedulingIgnoredDuringExecution,
  )?.nodeSelectorTerms;
  if (Array.isArray(terms) && terms.length > 0) {
    const union = new Set<string>();
    let every = true;
    for (const t of terms) {
      const exprs = obj(t)?.matchExpressions;
      const e = Array.isArray(exprs)
        ? exprs.map(obj).find((x) => x?.key === label && x.operator === "In" && Array.isArray(x.values))
        : undefined;
      if (!e) {
        every = false;
        break;
      }
      for (const v of strs(e.values) ?? []) union.add(v);
    }
    if (every) {
      const values = out ? out.values.filter((v) => union.has(v)) : [...union];
      out = { values: out && values.length === 0 ? out.values : values, path: out?.path ?? reqPath };
    }
  }
  return out;
}

/** A volumeMount (not readOnly) at `dir` or above it. */
function writableMount(c: Obj, dir: string): boolean {
  const norm = (p: string) => p.replace(/\/+$/, "") || "/";
  const d = norm(dir);
  for (const m of Array.isArray(c.volumeMounts) ? c.volumeMounts : []) {
    const o = obj(m);
    if (!o || typeof o.mountPath !== "string" || o.readOnly === true) continue;
    const mp = norm(o.mountPath);
    if (d === mp || d.startsWith(mp === "/" ? "/" : `${mp}/`)) return true;
  }
  return false;
}

/** Where the packages register their handlers on http.DefaultServeMux (their init functions). */
const DEBUG_PATHS: Record<string, string> = {
  "net/http/pprof": "/debug/pprof/",
  expvar: "/debug/vars",
};

/**
 * The debug packages linked into a Go program, from its function names (the pclntab survives `-s -w`):
 * importing net/http/pprof or expvar links their init, which registers the handlers above.
 */
async function debugPackages(fs: RootFs, path: string): Promise<string[]> {
  try {
    const src = fs.open(path);
    const elf = await readElf(src);
    const tab = await readPclntab(src, elf.layout);
    if (!tab) return [];
    const found = new Set<string>();
    for await (const n of tab.funcNames()) {
      for (const pkg of Object.keys(DEBUG_PATHS)) if (n.startsWith(`${pkg}.`)) found.add(pkg);
      if (found.size === 2) break;
    }
    return [...found].sort();
  } catch (e) {
    if (e instanceof ParseError || e instanceof ZerodepError) return [];
    throw e;
  }
}
