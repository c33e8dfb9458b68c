/**
 * Pod Security checks against k8s.io/pod-security-admission v0.37.2 itself (issue #16 "agrees with PSA
 * message for message"): thousands of seeded random pods evaluated by PSA's own evaluator
 * (test/oracles/psa) and by src/k8s/psa.ts, at baseline and restricted, latest and pinned versions —
 * reasons and details must be identical, in order. Plus cases whose expected strings are copied from
 * PSA's own tests (policy/check_*_test.go), not from our output.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  evaluatePodSecurity,
  formatPodSecurity,
  parsePodSecurityVersion,
  podSecurityChecks,
} from "../../src/k8s/psa.js";
import type { PodSecurityLevel } from "../../src/k8s/types.js";
import { podOf } from "../../src/k8s/workloads.js";
import { loadManifests } from "../../src/k8s/yaml.js";
import { skipNow } from "../helpers/env.js";
import { psaOracle, runPsaOracle } from "../helpers/psa-oracle.js";

/** mulberry32: a small seeded PRNG, so a failure names a case that can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Obj = Record<string, unknown>;

/** A generator of pods that touch every field PSA reads, each value drawn from allowed and forbidden ones. */
function podGenerator(seed: number) {
  const r = prng(seed);
  const chance = (p: number) => r() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const some = <T>(xs: readonly T[], max = 3): T[] =>
    Array.from({ length: Math.floor(r() * (max + 1)) }, () => pick(xs));
  /** Sets obj[k] to one of the values, or leaves it absent ("unset" is the most common choice). */
  const maybe = (o: Obj, k: string, values: readonly unknown[], p = 0.5) => {
    if (chance(p)) o[k] = pick(values);
  };
  // Names and capabilities outside ASCII: PSA quotes names raw and sorts in UTF-8 byte order, where
  // U+FF21 comes before U+1D4B3 (JavaScript's UTF-16 order says the opposite).
  const NAMES = ["a", "b", "c", "app", "init", "debug", "sidecar", "web-1", "x", 'we"ird', "ünï"];
  const CAPS = [
    "NET_BIND_SERVICE",
    "net_bind_service",
    "NET_RAW",
    "SYS_ADMIN",
    "CHOWN",
    "ALL",
    "all",
    "KILL",
    "BPF",
    "\uFF21CAP",
    "\u{1D4B3}CAP",
    "ÇAP",
  ];
  const SECCOMP = ["RuntimeDefault", "Localhost", "Unconfined", "", "runtimedefault"];
  const APPARMOR = ["RuntimeDefault", "Localhost", "Unconfined", "", "custom"];
  const SELINUX_TYPES = [
    "",
    "container_t",
    "container_init_t",
    "container_kvm_t",
    "container_engine_t",
    "spc_t",
    "unconfined_t",
  ];
  const SYSCTLS = [
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_slow_start_after_idle",
    "net.ipv4.tcp_notsent_lowat",
    "kernel.msgmax",
    "net.core.somaxconn",
    "vm.swappiness",
  ];
  const seLinux = (): Obj => {
    const o: Obj = {};
    maybe(o, "type", SELINUX_TYPES, 0.6);
    maybe(o, "user", ["", "system_u", "root"], 0.2);
    maybe(o, "role", ["", "system_r"], 0.2);
    maybe(o, "level", ["s0:c123,c456"], 0.3);
    return o;
  };
  const handler = (): Obj => {
    const o: Obj = {};
    if (chance(0.5))
      o.httpGet = {
        port: 8080,
        ...(chance(0.4) ? { host: pick(["", "10.0.0.1", "example.com", "localhost"]) } : {}),
      };
    else o.tcpSocket = { port: 8080, ...(chance(0.4) ? { host: pick(["", "10.0.0.1", "127.0.0.1"]) } : {}) };
    return o;
  };
  const container = (): Obj => {
    const c: Obj = { name: pick(NAMES), image: "registry.example/app@sha256:" + "0".repeat(64) };
    if (chance(0.85)) {
      if (chance(0.05)) c.securityContext = null;
      else {
        const sc: Obj = {};
        maybe(sc, "privileged", [true, false, null], 0.25);
        maybe(sc, "allowPrivilegeEscalation", [true, false, false, null]);
        maybe(sc, "runAsNonRoot", [true, true, false, null], 0.4);
        maybe(sc, "runAsUser", [0, 1000, 65532], 0.35);
        if (chance(0.6)) {
          const caps: Obj = {};
          if (chance(0.7)) caps.drop = some(["ALL", "ALL", "all", "NET_RAW", "CHOWN"]);
          if (chance(0.5)) caps.add = some(CAPS);
          c.securityContext = sc;
          sc.capabilities = chance(0.05) ? null : caps;
        }
        if (chance(0.4)) sc.seccompProfile = chance(0.1) ? {} : { type: pick(SECCOMP) };
        if (chance(0.15)) sc.appArmorProfile = chance(0.1) ? {} : { type: pick(APPARMOR) };
        if (chance(0.15)) sc.seLinuxOptions = seLinux();
        maybe(sc, "procMount", ["Default", "Unmasked", "Default", "weird"], 0.15);
        if (chance(0.1)) sc.windowsOptions = { hostProcess: pick([true, false]) };
        maybe(sc, "readOnlyRootFilesystem", [true, false], 0.3);
        c.securityContext = sc;
      }
    }
    if (chance(0.3)) {
      c.ports = some([
        { containerPort: 8080 },
        { containerPort: 80, hostPort: 80 },
        { containerPort: 9, hostPort: 9 },
        { containerPort: 10, hostPort: 10 },
        { containerPort: 53, hostPort: 0 },
        { containerPort: 8443, hostPort: 8443 },
      ]);
    }
    for (const p of ["livenessProbe", "readinessProbe", "startupProbe"]) if (chance(0.1)) c[p] = handler();
    if (chance(0.1)) {
      const lc: Obj = {};
      if (chance(0.6)) lc.postStart = handler();
      if (chance(0.6)) lc.preStop = handler();
      c.lifecycle = lc;
    }
    return c;
  };
  return (): { metadata: Obj; spec: Obj } => {
    const spec: Obj = { containers: Array.from({ length: 1 + Math.floor(r() * 3) }, container) };
    if (chance(0.2)) spec.initContainers = Array.from({ length: 1 + Math.floor(r() * 2) }, container);
    if (chance(0.1)) spec.ephemeralContainers = [{ ...container(), targetContainerName: "a" }];
    for (const k of ["hostNetwork", "hostPID", "hostIPC"]) maybe(spec, k, [true, false], 0.12);
    maybe(spec, "hostUsers", [true, false], 0.15);
    if (chance(0.1)) spec.os = { name: pick(["windows", "linux"]) };
    if (chance(0.7)) {
      const psc: Obj = {};
      maybe(psc, "runAsNonRoot", [true, true, false, null], 0.5);
      maybe(psc, "runAsUser", [0, 1000], 0.35);
      if (chance(0.5)) psc.seccompProfile = chance(0.05) ? {} : { type: pick(SECCOMP) };
      if (chance(0.15)) psc.appArmorProfile = { type: pick(APPARMOR) };
      if (chance(0.15)) psc.seLinuxOptions = seLinux();
      if (chance(0.2)) psc.sysctls = some(SYSCTLS).map((name) => ({ name, value: "1" }));
      if (chance(0.08)) psc.windowsOptions = { hostProcess: pick([true, false]) };
      maybe(psc, "fsGroup", [1000], 0.2);
      spec.securityContext = psc;
    }
    if (chance(0.5)) {
      spec.volumes = some(
        [
          { name: "tmp", emptyDir: {} },
          { name: "host", hostPath: { path: "/var/run/docker.sock" } },
          { name: "cfg", configMap: { name: "cfg" } },
          { name: "sec", secret: { secretName: "s" } },
          { name: "nfs", nfs: { server: "n", path: "/" } },
          { name: "git", gitRepo: { repository: "r" } },
          { name: "none" },
          { name: "csi", csi: { driver: "d" } },
          { name: "img", image: { reference: "x" } },
          { name: "both", hostPath: { path: "/" }, emptyDir: {} },
          { name: "rbd", rbd: { monitors: ["m"], image: "i" } },
          { name: "pvc", persistentVolumeClaim: { claimName: "c" } },
          { name: "fc", fc: {} },
        ],
        4,
      );
    }
    const annotations: Obj = {};
    if (chance(0.25)) {
      for (const n of some(NAMES, 2)) {
        annotations[`container.apparmor.security.beta.kubernetes.io/${n}`] = pick([
          "runtime/default",
          "localhost/prof",
          "unconfined",
          "",
          'we"ird\n\tvalue',
          "ünïcode",
        ]);
      }
    }
    if (chance(0.2)) {
      if (chance(0.5))
        annotations["seccomp.security.alpha.kubernetes.io/pod"] = pick([
          "runtime/default",
          "unconfined",
          "docker/default",
          "localhost/x",
        ]);
      for (const n of some(NAMES, 2)) {
        annotations[`container.seccomp.security.alpha.kubernetes.io/${n}`] = pick([
          "runtime/default",
          "unconfined",
          "bad\u0007",
        ]);
      }
    }
    const pod = { metadata: { name: "p", annotations }, spec };
    return chance(0.4) ? harden(pod) : pod;
  };
  /**
   * Most random pods break several rules at once; a hardened one is restricted-compliant except for
   * what a few coin flips leave in, so that "allowed" and one-violation near misses are common too.
   */
  function harden(pod: { metadata: Obj; spec: Obj }) {
    const { spec } = pod;
    const keep = () => chance(0.08);
    if (!keep()) pod.metadata.annotations = {};
    for (const k of ["hostNetwork", "hostPID", "hostIPC", "hostUsers", "os"]) if (!keep()) delete spec[k];
    if (!keep() && Array.isArray(spec.volumes)) {
      const ok = ["tmp", "cfg", "sec", "csi", "img", "pvc"];
      spec.volumes = (spec.volumes as Obj[]).filter((v) => ok.includes(v.name as string));
    }
    const psc = (spec.securityContext ?? {}) as Obj;
    spec.securityContext = psc;
    for (const k of ["runAsUser", "appArmorProfile", "seLinuxOptions", "sysctls", "windowsOptions"])
      if (!keep()) delete psc[k];
    if (!keep()) psc.runAsNonRoot = true;
    if (!keep()) psc.seccompProfile = { type: pick(["RuntimeDefault", "Localhost"]) };
    for (const key of ["initContainers", "containers", "ephemeralContainers"]) {
      for (const c of (spec[key] ?? []) as Obj[]) {
        const sc = (c.securityContext ?? {}) as Obj;
        c.securityContext = sc;
        for (const k of [
          "privileged",
          "runAsNonRoot",
          "runAsUser",
          "seccompProfile",
          "appArmorProfile",
          "seLinuxOptions",
          "procMount",
          "windowsOptions",
        ]) {
          if (!keep()) delete sc[k];
        }
        if (!keep()) sc.allowPrivilegeEscalation = false;
        if (!keep())
          sc.capabilities = { drop: ["ALL"], ...(chance(0.3) ? { add: ["NET_BIND_SERVICE"] } : {}) };
        if (!keep()) for (const port of (c.ports ?? []) as Obj[]) delete port.hostPort;
        for (const p of ["livenessProbe", "readinessProbe", "startupProbe", "lifecycle"])
          if (!keep()) delete c[p];
      }
    }
    return pod;
  }
}

/** Every version PSA knows (v1.0 … v1.37), one past it (evaluated as v1.37) and "latest". */
const VERSIONS = ["latest", ...Array.from({ length: 39 }, (_, i) => `v1.${i}`)];

test("PSA's own evaluator and ours agree on 2500 random pods, message for message", async (t) => {
  const bin = psaOracle();
  if (!bin) return skipNow(t, "MISSING: tool go (builds the PSA oracle, test/oracles/psa)");
  const next = podGenerator(16);
  const reqs: { metadata: unknown; spec: unknown; level: string; version: string }[] = [];
  const vr = prng(7);
  for (let i = 0; i < 2500; i++) {
    const pod = next();
    const pinned = VERSIONS[Math.floor(vr() * VERSIONS.length)]!;
    for (const level of ["baseline", "restricted"] as const) {
      reqs.push({ ...pod, level, version: "latest" });
      reqs.push({ ...pod, level, version: pinned });
    }
  }
  const want = await runPsaOracle(bin, reqs);
  let agree = 0;
  let forbidden = 0;
  const reasons = new Set<string>();
  const disagreements: string[] = [];
  reqs.forEach((req, i) => {
    const w = want[i]!;
    assert.equal(w.error, undefined, `oracle could not decode case ${i}: ${w.error}`);
    const got = evaluatePodSecurity(req, req.level as PodSecurityLevel, req.version);
    const same =
      JSON.stringify(got.map((v) => v.reason)) === JSON.stringify(w.reasons) &&
      JSON.stringify(got.map((v) => v.detail)) === JSON.stringify(w.details) &&
      w.allowed === (got.length === 0);
    if (same) agree++;
    else if (disagreements.length < 5) {
      disagreements.push(
        `case ${i} (${req.level}:${req.version}) ${JSON.stringify(req.spec)} ${JSON.stringify(req.metadata)}\n  PSA: ${JSON.stringify(w.details)}\n  ours: ${JSON.stringify(got.map((v) => v.detail))}`,
      );
    }
    if (!w.allowed) forbidden++;
    for (const x of w.reasons) reasons.add(x);
  });
  t.diagnostic(
    `${agree} of ${reqs.length} evaluations agree (${forbidden} forbidden; ${reasons.size} distinct reasons)`,
  );
  assert.deepEqual(disagreements, []);
  assert.equal(agree, reqs.length);
  // The corpus is not trivially "all forbidden" or "all allowed", and reaches every check's reason.
  assert.ok(forbidden > reqs.length / 4 && forbidden < (reqs.length * 3) / 4);
  assert.deepEqual([...reasons].sort(), [
    "allowPrivilegeEscalation != false",
    "forbidden AppArmor profile",
    "forbidden AppArmor profiles",
    "forbidden sysctls",
    "host namespaces",
    "hostPath volumes",
    "hostPort",
    "hostProcess",
    "non-default capabilities",
    "privileged",
    "probe or lifecycle host",
    "procMount",
    "restricted volume types",
    "runAsNonRoot != true",
    "runAsUser=0",
    "seLinuxOptions",
    "seccompProfile",
    "unrestricted capabilities",
  ]);
});

/** The one violation of check `id` (PSA's tests call one check function directly). */
function only(pod: { metadata?: Obj; spec: Obj }, level: PodSecurityLevel, id: string, version = "latest") {
  const v = evaluatePodSecurity(pod, level, version).filter((x) => x.check === id);
  assert.equal(v.length, 1, `${id} fails once`);
  return { reason: v[0]!.reason, detail: v[0]!.detail };
}

test("the strings of PSA's own check tests (policy/check_*_test.go)", () => {
  // check_capabilities_restricted_test.go "multiple containers"
  assert.deepEqual(
    only(
      {
        spec: {
          containers: [
            { name: "a", securityContext: { capabilities: { add: ["FOO", "BAR"] } } },
            { name: "b", securityContext: { capabilities: { add: ["BAR", "BAZ"] } } },
            {
              name: "c",
              securityContext: { capabilities: { add: ["NET_BIND_SERVICE", "CHOWN"], drop: ["ALL", "FOO"] } },
            },
          ],
        },
      },
      "restricted",
      "capabilities_restricted",
    ),
    {
      reason: "unrestricted capabilities",
      detail: `containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; containers "a", "b", "c" must not include "BAR", "BAZ", "CHOWN", "FOO" in securityContext.capabilities.add`,
    },
  );
  // check_hostPorts_test.go "multiple containers, multiple host port"
  assert.deepEqual(
    only(
      {
        spec: {
          containers: [
            { name: "a", ports: [{ hostPort: 0 }] },
            { name: "b", ports: [{ hostPort: 0 }, { hostPort: 10 }, { hostPort: 20 }] },
            { name: "c", ports: [{ hostPort: 0 }, { hostPort: 10 }, { hostPort: 30 }] },
          ],
        },
      },
      "baseline",
      "hostPorts",
    ),
    { reason: "hostPort", detail: `containers "b", "c" use hostPorts 10, 20, 30` },
  );
  // check_seLinuxOptions_test.go "invalid pod and containers"
  const sel = (o: Obj) => ({ securityContext: { seLinuxOptions: o } });
  assert.deepEqual(
    only(
      {
        spec: {
          securityContext: { seLinuxOptions: { type: "foo", user: "bar", role: "baz" } },
          containers: [
            { name: "a", ...sel({ type: "container_t" }) },
            { name: "b", ...sel({ type: "container_init_t" }) },
            { name: "c", ...sel({ type: "container_kvm_t" }) },
            { name: "d", ...sel({ type: "container_engine_t" }) },
            { name: "e", ...sel({ type: "bar" }) },
            { name: "f", ...sel({ user: "bar" }) },
            { name: "g", ...sel({ role: "baz" }) },
          ],
        },
      },
      "baseline",
      "seLinuxOptions",
    ),
    {
      reason: "seLinuxOptions",
      detail: `pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set`,
    },
  );
  // check_appArmorProfile_test.go "multiple containers" (annotations, Go-quoted values, sorted)
  const p = "container.apparmor.security.beta.kubernetes.io/";
  assert.deepEqual(
    only(
      {
        metadata: {
          annotations: {
            [p]: "bogus",
            [`${p}a`]: "",
            [`${p}b`]: "runtime/default",
            [`${p}c`]: "localhost/",
            [`${p}d`]: "localhost/foo",
            [`${p}e`]: "unconfined",
            [`${p}f`]: "unknown",
          },
        },
        spec: {},
      },
      "baseline",
      "appArmorProfile",
    ),
    {
      reason: "forbidden AppArmor profiles",
      detail: `annotations must not set AppArmor profile type to "${p}="bogus"", "${p}e="unconfined"", "${p}f="unknown""`,
    },
  );
  // check_runAsNonRoot_test.go
  assert.deepEqual(only({ spec: { containers: [{ name: "a" }] } }, "restricted", "runAsNonRoot"), {
    reason: "runAsNonRoot != true",
    detail: `pod or container "a" must set securityContext.runAsNonRoot=true`,
  });
  assert.deepEqual(
    only(
      {
        spec: {
          securityContext: { runAsNonRoot: false },
          containers: [{ name: "a", securityContext: { runAsNonRoot: true } }],
        },
      },
      "restricted",
      "runAsNonRoot",
    ),
    { reason: "runAsNonRoot != true", detail: "pod must not set securityContext.runAsNonRoot=false" },
  );
});

test("versions: PSA's check sets per version, and its version syntax", () => {
  // policy/registry.go: baseline IDs sorted, then restricted IDs sorted; overridden baseline checks dropped.
  assert.deepEqual(podSecurityChecks("restricted", "latest"), [
    "appArmorProfile",
    "hostNamespaces",
    "hostPorts",
    "hostProbesAndHostLifecycle",
    "privileged",
    "seLinuxOptions",
    "sysctls",
    "windowsHostProcess",
    "allowPrivilegeEscalation",
    "capabilities_restricted",
    "procMount_restricted",
    "restrictedVolumes",
    "runAsNonRoot",
    "runAsUser",
    "seccompProfile_restricted",
  ]);
  assert.ok(!podSecurityChecks("baseline", "v1.33").includes("hostProbesAndHostLifecycle"));
  assert.ok(podSecurityChecks("restricted", "v1.21").includes("capabilities_baseline"));
  assert.deepEqual(podSecurityChecks("privileged"), []);
  assert.equal(parsePodSecurityVersion("v1.99"), parsePodSecurityVersion("latest"));
  for (const bad of ["1.25", "v2.0", "v1.025", "latest ", ""])
    assert.throws(() => parsePodSecurityVersion(bad), /must be "latest" or "v1.x"/);
});

test("the API server's lines: enforce error for a Pod, warning for a workload", () => {
  const pod = {
    metadata: { name: "web" },
    spec: { hostNetwork: true, containers: [{ name: "app", securityContext: { privileged: true } }] },
  };
  const v = evaluatePodSecurity(pod, "baseline");
  // The format of admission/admission.go (fmt "violates PodSecurity %q: %s") inside apierrors.NewForbidden.
  assert.equal(
    formatPodSecurity(v, "baseline", "latest", { kind: "Pod", name: "web" }),
    `pods "web" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), privileged (container "app" must not set securityContext.privileged=true)`,
  );
  assert.equal(
    formatPodSecurity(v, "baseline", "v1.30", { kind: "Deployment", name: "web" }),
    `would violate PodSecurity "baseline:v1.30": host namespaces (hostNetwork=true), privileged (container "app" must not set securityContext.privileged=true)`,
  );
  // Paths point at the offending fields, from the document when the pod's place in it is given.
  const at = evaluatePodSecurity(pod, "baseline", "latest", {
    metadataPath: ["spec", "template", "metadata"],
    specPath: ["spec", "template", "spec"],
  });
  assert.deepEqual(at[1]!.paths, [
    ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"],
  ]);
});

test("violations point at the offending fields of a Deployment read from YAML", () => {
  const text = [
    "apiVersion: apps/v1", // 1
    "kind: Deployment", // 2
    "metadata:", // 3
    "  name: web", // 4
    "spec:", // 5
    "  template:", // 6
    "    metadata:", // 7
    "      annotations:", // 8
    "        container.apparmor.security.beta.kubernetes.io/app: unconfined", // 9
    "    spec:", // 10
    "      containers:", // 11
    "        - name: app", // 12
    "          image: registry.example/app@sha256:0000000000000000000000000000000000000000000000000000000000000000", // 13
    "          securityContext:", // 14
    "            privileged: true", // 15
  ].join("\n");
  const [doc] = loadManifests(text, "web.yaml");
  const pod = podOf(doc!)!;
  const v = evaluatePodSecurity(pod, "baseline", "latest", pod);
  assert.deepEqual(
    v.map((x) => [x.check, x.paths.map((p) => doc!.positionOf(p))]),
    [
      ["appArmorProfile", [{ line: 9, column: 9 }]],
      ["privileged", [{ line: 15, column: 13 }]],
    ],
  );
  assert.equal(
    formatPodSecurity(v, "baseline", "latest", pod),
    `would violate PodSecurity "baseline:latest": forbidden AppArmor profile (annotation must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/app="unconfined""), privileged (container "app" must not set securityContext.privileged=true)`,
  );
});

test("hostile pod values (wrong types everywhere) never throw", () => {
  const r = prng(99);
  const junk = [null, 0, 1, -1, "", "x", true, false, [], {}, [null], [1, "a"], { name: 5 }, { type: 3 }];
  const keys = [
    "containers",
    "initContainers",
    "ephemeralContainers",
    "securityContext",
    "volumes",
    "os",
    "hostUsers",
    "hostNetwork",
    "capabilities",
    "ports",
    "sysctls",
    "seccompProfile",
    "annotations",
    "lifecycle",
    "livenessProbe",
  ];
  const build = (depth: number): unknown => {
    if (depth > 3 || r() < 0.3) return junk[Math.floor(r() * junk.length)];
    if (r() < 0.3) return Array.from({ length: Math.floor(r() * 3) }, () => build(depth + 1));
    const o: Record<string, unknown> = {};
    for (const k of keys) if (r() < 0.3) o[k] = build(depth + 1);
    return o;
  };
  for (let i = 0; i < 3000; i++) {
    for (const level of ["baseline", "restricted"] as const) {
      const v = evaluatePodSecurity({ metadata: build(0), spec: build(0) }, level);
      assert.ok(Array.isArray(v));
    }
  }
});
