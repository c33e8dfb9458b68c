/**
 * Pod Security Standards (baseline, restricted) as k8s.io/pod-security-admission v0.37.2 implements
 * them, check for check (policy/check_*.go), with the same ForbiddenReason and ForbiddenDetail strings
 * (pluralization, sorting, quoting) and the same order of results, so that `k8s lint` says what the API
 * server says. test/k8s/psa.test.ts compares every result with PSA's own evaluator (test/oracles/psa).
 *
 * Versions: "latest" and every "v1.N" PSA accepts. Each check keeps PSA's version history (which
 * implementation applies from which minor version, and which baseline checks a restricted one
 * overrides), so a pinned version selects exactly the checks PSA selects for it; a version newer than
 * the newest check (v1.37) is evaluated as v1.37, as PSA does.
 *
 * The pod is read as plain JSON values the way the API server's decoder would see them: a field that is
 * absent or null is unset, a boolean field counts only when it is `true`/`false`, a string field that is
 * not a string is "" (PSA never sees such a pod: the API server refuses it while decoding).
 */
import { UsageError } from "../errors.js";
import type { PodSecurityLevel, PodSecurityViolation } from "./types.js";

type Path = (string | number)[];
type Obj = Record<string, unknown>;

/** A pod as PSA sees it: its metadata (annotations) and its spec. */
export interface PodInput {
  metadata?: unknown;
  spec: unknown;
}

/** Where the pod's metadata and spec are in their document (PodAt from workloads.ts fits). */
export interface PodLocation {
  metadataPath: readonly (string | number)[];
  specPath: readonly (string | number)[];
}

/** The newest minor version any check changed in (PSA's maxVersion; "latest" evaluates as this). */
export const PSA_MAX_MINOR = 37;

function obj(v: unknown): Obj | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}
/** A Go pointer field: set unless absent or null. */
function isSet(v: unknown): boolean {
  return v !== undefined && v !== null;
}

/** Go's byte-wise string order (UTF-8 order is code point order; JS's default is UTF-16 units). */
function goCompare(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}
/** sets.NewString(...).List(): unique, sorted. */
function sortedSet(items: Iterable<string>): string[] {
  return [...new Set(items)].sort(goCompare);
}
function pluralize(singular: string, plural: string, count: number): string {
  return count === 1 ? singular : plural;
}
function joinQuote(items: string[]): string {
  return items.length === 0 ? "" : `"${items.join('", "')}"`;
}

const IS_PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;
const GO_ESCAPES: Record<number, string> = {
  7: "\\a",
  8: "\\b",
  12: "\\f",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  11: "\\v",
};
/** Go's %q of a string (strconv.Quote): printable runes kept, the rest escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    let r = ch.codePointAt(0)!;
    if (r >= 0xd800 && r <= 0xdfff) r = 0xfffd; // a lone surrogate reaches Go as U+FFFD
    const c = String.fromCodePoint(r);
    if (c === '"' || c === "\\") out += `\\${c}`;
    else if (IS_PRINT.test(c)) out += c;
    else if (GO_ESCAPES[r]) out += GO_ESCAPES[r];
    else if (r < 0x20 || r === 0x7f) out += `\\x${r.toString(16).padStart(2, "0")}`;
    else if (r < 0x10000) out += `\\u${r.toString(16).padStart(4, "0")}`;
    else out += `\\U${r.toString(16).padStart(8, "0")}`;
  }
  return `${out}"`;
}

interface Container {
  c: Obj;
  name: string;
  /** Path of the container from the pod: ["spec", "containers", 0]. */
  path: Path;
  sc: Obj | null;
}

/** The pod as the checks read it. */
interface Pod {
  annotations: Obj;
  spec: Obj;
  psc: Obj | null;
  containers: Container[];
  windows: boolean;
  /** hostUsers: false (a user-namespaced pod; some checks relax from v1.35). */
  userNamespace: boolean;
}

/** visitContainers: init containers, containers, ephemeral containers, in that order. */
function containersOf(spec: Obj): Container[] {
  const out: Container[] = [];
  for (const key of ["initContainers", "containers", "ephemeralContainers"]) {
    arr(spec[key]).forEach((v, i) => {
      const c = obj(v) ?? {};
      out.push({ c, name: str(c.name), path: ["spec", key, i], sc: obj(c.securityContext) });
    });
  }
  return out;
}

interface Result {
  reason: string;
  detail: string;
  paths: Path[];
}
type CheckFn = (pod: Pod) => Result | null;

interface VersionedCheck {
  min: number;
  fn: CheckFn;
  overrides?: string[];
}
interface Check {
  id: string;
  level: "baseline" | "restricted";
  versions: VersionedCheck[];
}

const SC = "securityContext";
const POD_SC: Path = ["spec", SC];

// --- baseline ---

function allowedAppArmorAnnotation(v: string): boolean {
  return v.length === 0 || v === "runtime/default" || v.startsWith("localhost/");
}
const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

const appArmorProfile: CheckFn = (pod) => {
  const badSetters: string[] = [];
  const badValues: string[] = [];
  const paths: Path[] = [];
  const allowed = (t: string) => t === "RuntimeDefault" || t === "Localhost";
  const podProfile = obj(pod.psc?.appArmorProfile);
  if (isSet(pod.psc?.appArmorProfile) && !allowed(str(podProfile?.type))) {
    badSetters.push("pod");
    badValues.push(str(podProfile?.type));
    paths.push([...POD_SC, "appArmorProfile", "type"]);
  }
  const badContainers: string[] = [];
  for (const c of pod.containers) {
    if (!isSet(c.sc?.appArmorProfile)) continue;
    const t = str(obj(c.sc!.appArmorProfile)?.type);
    if (!allowed(t)) {
      badContainers.push(c.name);
      badValues.push(t);
      paths.push([...c.path, SC, "appArmorProfile", "type"]);
    }
  }
  if (badContainers.length > 0) {
    badSetters.push(
      `${pluralize("container", "containers", badContainers.length)} ${joinQuote(badContainers)}`,
    );
  }
  const forbidden: string[] = [];
  for (const [k, v] of Object.entries(pod.annotations)) {
    if (k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !allowedAppArmorAnnotation(str(v))) {
      forbidden.push(`${k}=${goQuote(str(v))}`);
      paths.push(["metadata", "annotations", k]);
    }
  }
  const valueList = sortedSet(badValues);
  if (forbidden.length > 0) {
    valueList.push(...forbidden.sort(goCompare));
    badSetters.push(pluralize("annotation", "annotations", forbidden.length));
  }
  if (badSetters.length === 0) return null;
  return {
    reason: pluralize("forbidden AppArmor profile", "forbidden AppArmor profiles", valueList.length),
    detail: `${badSetters.join(" and ")} must not set AppArmor profile type to ${joinQuote(valueList)}`,
    paths,
  };
};

const DEFAULT_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);

const capabilitiesBaseline: CheckFn = (pod) => {
  const bad: string[] = [];
  const caps: string[] = [];
  const paths: Path[] = [];
  for (const c of pod.containers) {
    const capObj = obj(c.sc?.capabilities);
    if (!capObj) continue;
    let valid = true;
    arr(capObj.add).forEach((v, i) => {
      if (!DEFAULT_CAPABILITIES.has(str(v))) {
        valid = false;
        caps.push(str(v));
        paths.push([...c.path, SC, "capabilities", "add", i]);
      }
    });
    if (!valid) bad.push(c.name);
  }
  if (bad.length === 0) return null;
  return {
    reason: "non-default capabilities",
    detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`,
    paths,
  };
};

const hostNamespaces: CheckFn = (pod) => {
  const found: string[] = [];
  const paths: Path[] = [];
  for (const k of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (pod.spec[k] === true) {
      found.push(`${k}=true`);
      paths.push(["spec", k]);
    }
  }
  return found.length === 0 ? null : { reason: "host namespaces", detail: found.join(", "), paths };
};

const hostPathVolumes: CheckFn = (pod) => {
  const names: string[] = [];
  const paths: Path[] = [];
  arr(pod.spec.volumes).forEach((v, i) => {
    const vol = obj(v) ?? {};
    if (isSet(vol.hostPath)) {
      names.push(str(vol.name));
      paths.push(["spec", "volumes", i, "hostPath"]);
    }
  });
  if (names.length === 0) return null;
  return {
    reason: "hostPath volumes",
    detail: `${pluralize("volume", "volumes", names.length)} ${joinQuote(names)}`,
    paths,
  };
};

const hostPorts: CheckFn = (pod) => {
  const bad: string[] = [];
  const ports: string[] = [];
  const paths: Path[] = [];
  for (const c of pod.containers) {
    let valid = true;
    arr(c.c.ports).forEach((p, i) => {
      const hp = obj(p)?.hostPort;
      if (typeof hp === "number" && hp !== 0) {
        valid = false;
        ports.push(String(hp));
        paths.push([...c.path, "ports", i, "hostPort"]);
      }
    });
    if (!valid) bad.push(c.name);
  }
  if (bad.length === 0) return null;
  const set = sortedSet(ports);
  return {
    reason: "hostPort",
    detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("hostPort", "hostPorts", set.length)} ${set.join(", ")}`,
    paths,
  };
};

const hostProbesAndHostLifecycle: CheckFn = (pod) => {
  const bad = new Set<string>();
  const hosts = new Set<string>();
  const paths: Path[] = [];
  const look = (c: Container, handler: unknown, at: Path) => {
    const h = obj(handler);
    if (!h) return;
    for (const kind of ["httpGet", "tcpSocket"]) {
      const host = str(obj(h[kind])?.host);
      if (isSet(h[kind]) && host !== "") {
        bad.add(c.name);
        hosts.add(host);
        paths.push([...at, kind, "host"]);
      }
    }
  };
  for (const c of pod.containers) {
    for (const p of ["livenessProbe", "readinessProbe", "startupProbe"]) look(c, c.c[p], [...c.path, p]);
    const lc = obj(c.c.lifecycle);
    if (lc) for (const h of ["postStart", "preStop"]) look(c, lc[h], [...c.path, "lifecycle", h]);
  }
  if (bad.size === 0) return null;
  return {
    reason: "probe or lifecycle host",
    detail: `${pluralize("container", "containers", bad.size)} ${joinQuote(sortedSet(bad))} ${pluralize("uses", "use", bad.size)} ${pluralize("probe or lifecycle host", "probe or lifecycle hosts", hosts.size)} ${joinQuote(sortedSet(hosts))}`,
    paths,
  };
};

const privileged: CheckFn = (pod) => {
  const bad = pod.containers.filter((c) => c.sc?.privileged === true);
  if (bad.length === 0) return null;
  return {
    reason: "privileged",
    detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad.map((c) => c.name))} must not set securityContext.privileged=true`,
    paths: bad.map((c) => [...c.path, SC, "privileged"]),
  };
};

const procMount: CheckFn = (pod) => {
  const bad: Container[] = [];
  const types: string[] = [];
  for (const c of pod.containers) {
    if (!isSet(c.sc?.procMount)) continue;
    const t = str(c.sc!.procMount);
    if (t !== "Default") {
      bad.push(c);
      types.push(t);
    }
  }
  if (bad.length === 0) return null;
  return {
    reason: "procMount",
    detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad.map((c) => c.name))} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`,
    paths: bad.map((c) => [...c.path, SC, "procMount"]),
  };
};
const procMount135: CheckFn = (pod) => (pod.userNamespace ? null : procMount(pod));

function seLinuxOptions(allowedTypes: Set<string>): CheckFn {
  return (pod) => {
    const badSetters: string[] = [];
    const badTypes: string[] = [];
    const paths: Path[] = [];
    let setUser = false;
    let setRole = false;
    const valid = (opts: Obj, at: Path): boolean => {
      let ok = true;
      const t = str(opts.type);
      if (!allowedTypes.has(t)) {
        ok = false;
        badTypes.push(t);
        paths.push([...at, "type"]);
      }
      if (str(opts.user).length > 0) {
        ok = false;
        setUser = true;
        paths.push([...at, "user"]);
      }
      if (str(opts.role).length > 0) {
        ok = false;
        setRole = true;
        paths.push([...at, "role"]);
      }
      return ok;
    };
    if (isSet(pod.psc?.seLinuxOptions)) {
      if (!valid(obj(pod.psc!.seLinuxOptions) ?? {}, [...POD_SC, "seLinuxOptions"])) badSetters.push("pod");
    }
    const bad: string[] = [];
    for (const c of pod.containers) {
      if (!isSet(c.sc?.seLinuxOptions)) continue;
      if (!valid(obj(c.sc!.seLinuxOptions) ?? {}, [...c.path, SC, "seLinuxOptions"])) bad.push(c.name);
    }
    if (bad.length > 0)
      badSetters.push(`${pluralize("container", "containers", bad.length)} ${joinQuote(bad)}`);
    if (badSetters.length === 0) return null;
    const data: string[] = [];
    const types = sortedSet(badTypes);
    if (types.length > 0) data.push(`${pluralize("type", "types", types.length)} ${joinQuote(types)}`);
    if (setUser) data.push("user may not be set");
    if (setRole) data.push("role may not be set");
    return {
      reason: "seLinuxOptions",
      detail: `${badSetters.join(" and ")} set forbidden securityContext.seLinuxOptions: ${data.join("; ")}`,
      paths,
    };
  };
}
const SELINUX_1_0 = new Set(["", "container_t", "container_init_t", "container_kvm_t"]);
const SELINUX_1_31 = new Set([...SELINUX_1_0, "container_engine_t"]);

const SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/";
const validSeccomp = (t: string) => t === "Localhost" || t === "RuntimeDefault";
const validSeccompAnnotation = (v: string) =>
  v === "runtime/default" || v === "docker/default" || v.startsWith("localhost/");

/** Before v1.19 seccomp was set through annotations. */
const seccompBaseline10: CheckFn = (pod) => {
  const forbidden: string[] = [];
  const paths: Path[] = [];
  const look = (key: string) => {
    if (!Object.hasOwn(pod.annotations, key)) return;
    const v = str(pod.annotations[key]);
    if (!validSeccompAnnotation(v)) {
      forbidden.push(`${key}=${goQuote(v)}`);
      paths.push(["metadata", "annotations", key]);
    }
  };
  look(SECCOMP_POD_ANNOTATION);
  for (const c of pod.containers) look(SECCOMP_CONTAINER_ANNOTATION + c.name);
  if (forbidden.length === 0) return null;
  const set = sortedSet(forbidden);
  return {
    reason: "seccompProfile",
    detail: `forbidden ${pluralize("annotation", "annotations", set.length)} ${set.join(", ")}`,
    paths,
  };
};

/** Shared by seccompProfile_baseline (v1.19) and seccompProfile_restricted (`required`). */
function seccomp(pod: Pod, required: boolean): Result | null {
  const badSetters: string[] = [];
  const badValues: string[] = [];
  const paths: Path[] = [];
  let podSet = false;
  if (isSet(pod.psc?.seccompProfile)) {
    const t = str(obj(pod.psc!.seccompProfile)?.type);
    if (!validSeccomp(t)) {
      badSetters.push("pod");
      badValues.push(t);
      paths.push([...POD_SC, "seccompProfile", "type"]);
    } else podSet = true;
  }
  const explicit: string[] = [];
  const implicit: Container[] = [];
  for (const c of pod.containers) {
    if (isSet(c.sc?.seccompProfile)) {
      const t = str(obj(c.sc!.seccompProfile)?.type);
      if (!validSeccomp(t)) {
        explicit.push(c.name);
        badValues.push(t);
        paths.push([...c.path, SC, "seccompProfile", "type"]);
      }
    } else if (!podSet) implicit.push(c);
  }
  if (explicit.length > 0)
    badSetters.push(`${pluralize("container", "containers", explicit.length)} ${joinQuote(explicit)}`);
  if (badSetters.length > 0) {
    return {
      reason: "seccompProfile",
      detail: `${badSetters.join(" and ")} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(badValues))}`,
      paths,
    };
  }
  if (required && implicit.length > 0) {
    return {
      reason: "seccompProfile",
      detail: `pod or ${pluralize("container", "containers", implicit.length)} ${joinQuote(implicit.map((c) => c.name))} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
      paths: [
        [...POD_SC, "seccompProfile", "type"],
        ...implicit.map((c) => [...c.path, SC, "seccompProfile", "type"]),
      ],
    };
  }
  return null;
}

const SYSCTLS_1_0 = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, "net.ipv4.ip_local_reserved_ports"];
const SYSCTLS_1_29 = [
  ...SYSCTLS_1_27,
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, "net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"];
const SYSCTLS_1_37 = [...SYSCTLS_1_32, "net.ipv4.tcp_slow_start_after_idle", "net.ipv4.tcp_notsent_lowat"];

function sysctls(allowedList: string[]): CheckFn {
  const allowed = new Set(allowedList);
  return (pod) => {
    const bad: string[] = [];
    const paths: Path[] = [];
    if (pod.psc) {
      arr(pod.psc.sysctls).forEach((s, i) => {
        const name = str(obj(s)?.name);
        if (!allowed.has(name)) {
          bad.push(name);
          paths.push([...POD_SC, "sysctls", i, "name"]);
        }
      });
    }
    return bad.length === 0 ? null : { reason: "forbidden sysctls", detail: bad.join(", "), paths };
  };
}

const windowsHostProcess: CheckFn = (pod) => {
  const bad = pod.containers.filter((c) => obj(c.sc?.windowsOptions)?.hostProcess === true);
  const setters: string[] = [];
  const paths: Path[] = [];
  if (obj(pod.psc?.windowsOptions)?.hostProcess === true) {
    setters.push("pod");
    paths.push([...POD_SC, "windowsOptions", "hostProcess"]);
  }
  if (bad.length > 0) {
    setters.push(`${pluralize("container", "containers", bad.length)} ${joinQuote(bad.map((c) => c.name))}`);
    for (const c of bad) paths.push([...c.path, SC, "windowsOptions", "hostProcess"]);
  }
  if (setters.length === 0) return null;
  return {
    reason: "hostProcess",
    detail: `${setters.join(" and ")} must not set securityContext.windowsOptions.hostProcess=true`,
    paths,
  };
};

// --- restricted ---

const allowPrivilegeEscalation18: CheckFn = (pod) => {
  const bad = pod.containers.filter((c) => c.sc?.allowPrivilegeEscalation !== false);
  if (bad.length === 0) return null;
  return {
    reason: "allowPrivilegeEscalation != false",
    detail: `${pluralize("container", "containers", bad.length)} ${joinQuote(bad.map((c) => c.name))} must set securityContext.allowPrivilegeEscalation=false`,
    paths: bad.map((c) => [...c.path, SC, "allowPrivilegeEscalation"]),
  };
};
/** From v1.25 some restricted checks do not apply to Windows pods (spec.os.name: windows). */
const notOnWindows =
  (fn: CheckFn): CheckFn =>
  (pod) =>
    pod.windows ? null : fn(pod);

const capabilitiesRestricted122: CheckFn = (pod) => {
  const missingDrop: Container[] = [];
  const adding: string[] = [];
  const forbidden: string[] = [];
  const paths: Path[] = [];
  for (const c of pod.containers) {
    if (!isSet(c.sc) || !isSet(c.sc!.capabilities)) {
      missingDrop.push(c);
      paths.push([...c.path, SC, "capabilities", "drop"]);
      continue;
    }
    const caps = obj(c.sc!.capabilities) ?? {};
    if (!arr(caps.drop).some((d) => d === "ALL")) {
      missingDrop.push(c);
      paths.push([...c.path, SC, "capabilities", "drop"]);
    }
    let addedForbidden = false;
    arr(caps.add).forEach((a, i) => {
      if (a !== "NET_BIND_SERVICE") {
        addedForbidden = true;
        forbidden.push(str(a));
        paths.push([...c.path, SC, "capabilities", "add", i]);
      }
    });
    if (addedForbidden) adding.push(c.name);
  }
  const details: string[] = [];
  if (missingDrop.length > 0) {
    details.push(
      `${pluralize("container", "containers", missingDrop.length)} ${joinQuote(missingDrop.map((c) => c.name))} must set securityContext.capabilities.drop=["ALL"]`,
    );
  }
  if (adding.length > 0) {
    details.push(
      `${pluralize("container", "containers", adding.length)} ${joinQuote(adding)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`,
    );
  }
  return details.length === 0
    ? null
    : { reason: "unrestricted capabilities", detail: details.join("; "), paths };
};

const restrictedVolumes: CheckFn = (pod) => {
  const ALLOWED = [
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "image",
    "persistentVolumeClaim",
    "projected",
    "secret",
  ];
  // PSA's switch order: the first source set names the type.
  const RESTRICTED = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
  ];
  const bad: string[] = [];
  const types: string[] = [];
  const paths: Path[] = [];
  arr(pod.spec.volumes).forEach((v, i) => {
    const vol = obj(v) ?? {};
    if (ALLOWED.some((k) => isSet(vol[k]))) return;
    bad.push(str(vol.name));
    const t = RESTRICTED.find((k) => isSet(vol[k]));
    types.push(t ?? "unknown");
    paths.push(t ? ["spec", "volumes", i, t] : ["spec", "volumes", i]);
  });
  if (bad.length === 0) return null;
  const set = sortedSet(types);
  return {
    reason: "restricted volume types",
    detail: `${pluralize("volume", "volumes", bad.length)} ${joinQuote(bad)} ${pluralize("uses", "use", bad.length)} ${pluralize("restricted volume type", "restricted volume types", set.length)} ${joinQuote(set)}`,
    paths,
  };
};

const runAsNonRoot10: CheckFn = (pod) => {
  const badSetters: string[] = [];
  const paths: Path[] = [];
  let podNonRoot = false;
  if (isSet(pod.psc?.runAsNonRoot)) {
    if (pod.psc!.runAsNonRoot !== true) {
      badSetters.push("pod");
      paths.push([...POD_SC, "runAsNonRoot"]);
    } else podNonRoot = true;
  }
  const explicit: string[] = [];
  const implicit: Container[] = [];
  for (const c of pod.containers) {
    if (isSet(c.sc?.runAsNonRoot)) {
      if (c.sc!.runAsNonRoot !== true) {
        explicit.push(c.name);
        paths.push([...c.path, SC, "runAsNonRoot"]);
      }
    } else if (!podNonRoot) implicit.push(c);
  }
  if (explicit.length > 0)
    badSetters.push(`${pluralize("container", "containers", explicit.length)} ${joinQuote(explicit)}`);
  if (badSetters.length > 0) {
    return {
      reason: "runAsNonRoot != true",
      detail: `${badSetters.join(" and ")} must not set securityContext.runAsNonRoot=false`,
      paths,
    };
  }
  if (implicit.length > 0) {
    return {
      reason: "runAsNonRoot != true",
      detail: `pod or ${pluralize("container", "containers", implicit.length)} ${joinQuote(implicit.map((c) => c.name))} must set securityContext.runAsNonRoot=true`,
      paths: [[...POD_SC, "runAsNonRoot"], ...implicit.map((c) => [...c.path, SC, "runAsNonRoot"])],
    };
  }
  return null;
};

const runAsUser123: CheckFn = (pod) => {
  const badSetters: string[] = [];
  const paths: Path[] = [];
  if (pod.psc?.runAsUser === 0) {
    badSetters.push("pod");
    paths.push([...POD_SC, "runAsUser"]);
  }
  const bad = pod.containers.filter((c) => c.sc?.runAsUser === 0);
  if (bad.length > 0) {
    badSetters.push(
      `${pluralize("container", "containers", bad.length)} ${joinQuote(bad.map((c) => c.name))}`,
    );
    for (const c of bad) paths.push([...c.path, SC, "runAsUser"]);
  }
  if (badSetters.length === 0) return null;
  return { reason: "runAsUser=0", detail: `${badSetters.join(" and ")} must not set runAsUser=0`, paths };
};

/** From v1.35 some checks accept anything in a user-namespaced pod (hostUsers: false). */
const relaxedForUserNamespace =
  (fn: CheckFn): CheckFn =>
  (pod) =>
    pod.userNamespace ? null : fn(pod);

/** PSA's DefaultChecks with their version history (policy/check_*.go, v0.37.2). */
const CHECKS: Check[] = [
  { id: "appArmorProfile", level: "baseline", versions: [{ min: 0, fn: appArmorProfile }] },
  { id: "capabilities_baseline", level: "baseline", versions: [{ min: 0, fn: capabilitiesBaseline }] },
  { id: "hostNamespaces", level: "baseline", versions: [{ min: 0, fn: hostNamespaces }] },
  { id: "hostPathVolumes", level: "baseline", versions: [{ min: 0, fn: hostPathVolumes }] },
  { id: "hostPorts", level: "baseline", versions: [{ min: 0, fn: hostPorts }] },
  {
    id: "hostProbesAndHostLifecycle",
    level: "baseline",
    versions: [{ min: 34, fn: hostProbesAndHostLifecycle }],
  },
  { id: "privileged", level: "baseline", versions: [{ min: 0, fn: privileged }] },
  {
    id: "procMount",
    level: "baseline",
    versions: [
      { min: 0, fn: procMount },
      { min: 35, fn: procMount135 },
    ],
  },
  {
    id: "seLinuxOptions",
    level: "baseline",
    versions: [
      { min: 0, fn: seLinuxOptions(SELINUX_1_0) },
      { min: 31, fn: seLinuxOptions(SELINUX_1_31) },
    ],
  },
  {
    id: "seccompProfile_baseline",
    level: "baseline",
    versions: [
      { min: 0, fn: seccompBaseline10 },
      { min: 19, fn: (pod) => seccomp(pod, false) },
    ],
  },
  {
    id: "sysctls",
    level: "baseline",
    versions: [
      { min: 0, fn: sysctls(SYSCTLS_1_0) },
      { min: 27, fn: sysctls(SYSCTLS_1_27) },
      { min: 29, fn: sysctls(SYSCTLS_1_29) },
      { min: 32, fn: sysctls(SYSCTLS_1_32) },
      { min: 37, fn: sysctls(SYSCTLS_1_37) },
    ],
  },
  { id: "windowsHostProcess", level: "baseline", versions: [{ min: 0, fn: windowsHostProcess }] },
  {
    id: "allowPrivilegeEscalation",
    level: "restricted",
    versions: [
      { min: 8, fn: allowPrivilegeEscalation18 },
      { min: 25, fn: notOnWindows(allowPrivilegeEscalation18) },
    ],
  },
  {
    id: "capabilities_restricted",
    level: "restricted",
    versions: [
      { min: 22, fn: capabilitiesRestricted122, overrides: ["capabilities_baseline"] },
      { min: 25, fn: notOnWindows(capabilitiesRestricted122), overrides: ["capabilities_baseline"] },
    ],
  },
  {
    id: "procMount_restricted",
    level: "restricted",
    versions: [{ min: 35, fn: procMount, overrides: ["procMount"] }],
  },
  {
    id: "restrictedVolumes",
    level: "restricted",
    versions: [{ min: 0, fn: restrictedVolumes, overrides: ["hostPathVolumes"] }],
  },
  {
    id: "runAsNonRoot",
    level: "restricted",
    versions: [
      { min: 0, fn: runAsNonRoot10 },
      { min: 35, fn: relaxedForUserNamespace(runAsNonRoot10) },
    ],
  },
  {
    id: "runAsUser",
    level: "restricted",
    versions: [
      { min: 23, fn: runAsUser123 },
      { min: 35, fn: relaxedForUserNamespace(runAsUser123) },
    ],
  },
  {
    id: "seccompProfile_restricted",
    level: "restricted",
    versions: [
      { min: 19, fn: (pod) => seccomp(pod, true), overrides: ["seccompProfile_baseline"] },
      { min: 25, fn: notOnWindows((pod) => seccomp(pod, true)), overrides: ["seccompProfile_baseline"] },
    ],
  },
];

/** PSA's order: baseline check IDs sorted, then restricted ones sorted (policy/registry.go populate). */
const ORDERED: Check[] = [
  ...CHECKS.filter((c) => c.level === "baseline").sort((a, b) => goCompare(a.id, b.id)),
  ...CHECKS.filter((c) => c.level === "restricted").sort((a, b) => goCompare(a.id, b.id)),
];

/** The implementation of a check in force at minor version `v`, if the check exists then. */
function versionAt(check: Check, v: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const vc of check.versions) if (vc.min <= v) found = vc;
  return found;
}

/** The check IDs PSA evaluates for a level and version, in its order (for docs and tests). */
export function podSecurityChecks(level: PodSecurityLevel, version = "latest"): string[] {
  return selected(level, parsePodSecurityVersion(version)).map(([c]) => c.id);
}

function selected(level: PodSecurityLevel, v: number): [Check, VersionedCheck][] {
  if (level === "privileged") return [];
  const out: [Check, VersionedCheck][] = [];
  const overridden = new Set<string>();
  if (level === "restricted") {
    for (const c of CHECKS)
      if (c.level === "restricted") for (const o of versionAt(c, v)?.overrides ?? []) overridden.add(o);
  }
  for (const c of ORDERED) {
    if (c.level === "restricted" && level !== "restricted") continue;
    if (overridden.has(c.id)) continue;
    const vc = versionAt(c, v);
    if (vc) out.push([c, vc]);
  }
  return out;
}

/**
 * The minor version a Pod Security version names ("latest" → the newest PSA knows; "v1.N" → N, capped
 * at PSA_MAX_MINOR as PSA does). Anything else is a UsageError PSA_VERSION, in PSA's words.
 */
export function parsePodSecurityVersion(version: string): number {
  if (version === "latest") return PSA_MAX_MINOR;
  const m = /^v1\.(0|[1-9][0-9]*)$/.exec(version);
  if (!m || m[1]!.length > 6) {
    throw new UsageError(
      "PSA_VERSION",
      `Pod Security version ${JSON.stringify(version.slice(0, 40))}: must be "latest" or "v1.x"`,
    );
  }
  return Math.min(Number(m[1]), PSA_MAX_MINOR);
}

/**
 * Evaluates a pod (metadata and spec as plain values) against a Pod Security level and version:
 * the failed checks, in PSA's order, with PSA's ForbiddenReason and ForbiddenDetail. Paths are from
 * the pod (["spec", "containers", 0, "securityContext", "runAsNonRoot"], ["metadata", "annotations",
 * KEY]), or from the document when `at` says where the pod's metadata and spec are in it.
 */
export function evaluatePodSecurity(
  pod: PodInput,
  level: PodSecurityLevel,
  version = "latest",
  at?: PodLocation,
): PodSecurityViolation[] {
  const v = parsePodSecurityVersion(version);
  const spec = obj(pod.spec) ?? {};
  const psc = obj(spec.securityContext);
  const view: Pod = {
    annotations: obj(obj(pod.metadata)?.annotations) ?? {},
    spec,
    psc,
    containers: containersOf(spec),
    windows: str(obj(spec.os)?.name) === "windows",
    userNamespace: spec.hostUsers === false,
  };
  const out: PodSecurityViolation[] = [];
  for (const [check, vc] of selected(level, v)) {
    const r = vc.fn(view);
    if (!r) continue;
    const paths = at ? r.paths.map((p) => relocate(p, at)) : r.paths;
    out.push({
      check: check.id,
      reason: r.reason === "" ? "unknown forbidden reason" : r.reason,
      detail: r.detail,
      paths,
    });
  }
  return out;
}

function relocate(p: Path, at: PodLocation): Path {
  const base = p[0] === "metadata" ? at.metadataPath : at.specPath;
  return [...base, ...p.slice(1)];
}

/** AggregateCheckResult.ForbiddenDetail(): "R1 (D1), R2 (D2)". */
export function aggregatePodSecurity(violations: readonly PodSecurityViolation[]): string {
  return violations.map((x) => (x.detail === "" ? x.reason : `${x.reason} (${x.detail})`)).join(", ");
}

/**
 * The API server's line for these violations: for a Pod the enforce error
 * (`pods "NAME" is forbidden: violates PodSecurity "restricted:latest": …`), for a workload the
 * warning PSA attaches to it (`would violate PodSecurity "restricted:latest": …`; kubectl prints it
 * after "Warning: "). Empty when there are none.
 */
export function formatPodSecurity(
  violations: readonly PodSecurityViolation[],
  level: PodSecurityLevel,
  version: string,
  owner: { kind: string; name: string },
): string {
  if (violations.length === 0) return "";
  const lv = `"${level}:${version}"`;
  const detail = aggregatePodSecurity(violations);
  if (owner.kind !== "Pod") return `would violate PodSecurity ${lv}: ${detail}`;
  const who = owner.name === "" ? "pods" : `pods ${goQuote(owner.name)}`;
  return `${who} is forbidden: violates PodSecurity ${lv}: ${detail}`;
}
