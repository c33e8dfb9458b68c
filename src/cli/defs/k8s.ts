import { UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { OUTPUT, REGISTRY } from "../flag-groups.js";
import { bool, intValue, nonEmpty, oneOf, platformValue, str } from "../flags.js";

/** "IMAGE=LOCALREF": a manifest's image string read from a local layout or archive instead. */
function imageMapValue(raw: string, flag: string): [string, string] {
  const i = raw.lastIndexOf("=");
  if (i <= 0 || i === raw.length - 1) {
    throw new UsageError(
      "USAGE",
      `${flag} wants IMAGE=REF, e.g. registry.example/app:1=oci:out:latest (got "${raw}")`,
    );
  }
  return [raw.slice(0, i), raw.slice(i + 1)];
}

export const K8S_LINT_FLAGS = {
  level: str({
    value: "baseline|restricted",
    help: "Pod Security level to enforce",
    default: "restricted",
    parse: oneOf("baseline", "restricted"),
  }),
  "psa-version": str({
    value: "latest|v1.N",
    help: "Pod Security version, as in the pod-security.kubernetes.io/enforce-version label",
    default: "latest",
    parse: nonEmpty,
  }),
  "no-images": bool({
    help: "YAML only: skip the checks that read each image (Pod Security is still checked)",
  }),
  image: str({
    multiple: true,
    value: "IMAGE=REF",
    help: "read the manifest's IMAGE from REF (oci:DIR:TAG, oci-archive:FILE …) instead of its registry",
    parse: imageMapValue,
  }),
  "fail-on": str({
    value: "error|warning|note|none",
    help: "exit 1 when a finding is at least this severe",
    default: "error",
    parse: oneOf("error", "warning", "note", "none"),
  }),
  sarif: str({
    value: "FILE",
    help: "also write SARIF 2.1.0 to FILE (- for stdout, instead of the text)",
    parse: nonEmpty,
  }),
  json: { ...OUTPUT.json, help: 'findings as JSON (schema: README "k8s lint --json")' },
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
};

export const k8sLintCommand = defineCommand({
  name: "k8s lint",
  summary: "Pod Security (the API server's words) plus checks that read the images (kube-score, PSA)",
  usage: ["FILE...|- [--level baseline|restricted] [--no-images] [--json | --sarif FILE] [--fail-on LEVEL]"],
  description: `Lints Kubernetes manifests (YAML or JSON, multi-document, Helm output on stdin with -): every workload's
pod against the Pod Security Standards as k8s.io/pod-security-admission words them, and, reading each
referenced image, what only an image-aware tool can see: a non-numeric image USER under runAsNonRoot,
a runAsUser the image's passwd lacks, a command the image does not have (sh on scratch), an
architecture the image lacks, a read-only root without the mount the program writes to, an
entrypoint that will not run, debug endpoints on an exposed port, tags instead of digests. An image
that cannot be read skips its checks with a note.`,
  flags: K8S_LINT_FLAGS,
  positionals: { min: 1, message: "k8s lint: no FILE given (- reads stdin)" },
  exit: "0 nothing at --fail-on or above, 1 findings, 3 bad input (invalid YAML, unreadable file), 2 usage error.",
  load: async () => (await import("../commands/k8s.js")).runK8sLint,
});

export const K8S_GEN_FLAGS = {
  kind: str({
    value: "KIND",
    help: "Deployment, StatefulSet, Job, CronJob or Pod",
    default: "Deployment",
    parse: oneOf("Deployment", "StatefulSet", "Job", "CronJob", "Pod"),
  }),
  name: str({
    value: "N",
    help: "workload and container name (default: the repository's last component)",
    parse: nonEmpty,
  }),
  namespace: str({ value: "NS", help: "metadata.namespace", parse: nonEmpty }),
  port: str({
    multiple: true,
    value: "PORT",
    help: "container port besides the image's ExposedPorts (repeatable)",
    parse: intValue(1, 65535),
  }),
  service: bool({ help: "also a Service for the ports" }),
  replicas: str({
    value: "N",
    help: "Deployment/StatefulSet replicas",
    default: "1",
    parse: intValue(0, 10000),
  }),
  schedule: str({ value: "CRON", help: "CronJob schedule, e.g. '0 3 * * *'", parse: nonEmpty }),
  platform: str({
    value: "OS/ARCH",
    help: "the index's image the facts are read from",
    parse: platformValue,
  }),
  repository: str({
    value: "REPO",
    help: "where a local image (oci:, archive) will be pushed: the manifest names REPO@DIGEST",
    parse: nonEmpty,
  }),
  "run-as-user": str({
    value: "UID",
    help: "run as this uid instead of the image's USER",
    parse: intValue(1, 2147483647),
  }),
  cpu: str({ value: "Q", help: "CPU limit (request: a tenth), e.g. 500m", parse: nonEmpty }),
  memory: str({ value: "Q", help: "memory request and limit, e.g. 128Mi", parse: nonEmpty }),
  out: str({
    short: "o",
    value: "FILE",
    help: "write the YAML to FILE (atomically) instead of stdout",
    parse: nonEmpty,
  }),
  json: { ...OUTPUT.json, help: "the documents, warnings and facts as JSON" },
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
};

export const k8sGenCommand = defineCommand({
  name: "k8s gen",
  summary: "a hardened, Pod Security restricted manifest derived from the image (numeric user, mounts, caps)",
  usage: ["IMAGE [--kind Deployment|StatefulSet|Job|CronJob|Pod] [--port P]... [--service] [-o FILE]"],
  description: `A manifest that Pod Security "restricted" admits and that runs: the image pinned by digest, runAsUser/
runAsGroup/fsGroup resolved from the image's own /etc/passwd and /etc/group, runAsNonRoot, no privilege
escalation, capabilities dropped (NET_BIND_SERVICE only for a port below 1024), seccomp RuntimeDefault,
a read-only root with an emptyDir exactly where the program writes (/tmp, its cache directory), no
service-account token, resources, and GOMAXPROCS/GOMEMLIMIT from the limits when the Go runtime in the
binary will not follow them itself.`,
  flags: K8S_GEN_FLAGS,
  positionals: {
    min: 1,
    max: 1,
    message: "k8s gen: one IMAGE (oci:DIR[:TAG], an archive or a registry reference)",
  },
  check: (values) => {
    if (values.kind === "CronJob" && !values.schedule)
      throw new UsageError("USAGE", "k8s gen --kind CronJob needs --schedule CRON");
  },
  exit: "0 written, 3 the image cannot be read or has no usable user (K8S_USER_UNKNOWN, K8S_RUNS_AS_ROOT), 2 usage error.",
  load: async () => (await import("../commands/k8s.js")).runK8sGen,
});

export const K8S_POLICY_FLAGS = {
  engine: str({
    value: "kyverno|gatekeeper",
    help: "policy engine",
    default: "kyverno",
    parse: oneOf("kyverno", "gatekeeper"),
  }),
  name: str({ value: "N", help: "policy name", default: "zerodep-restricted", parse: nonEmpty }),
  action: str({
    value: "Audit|Enforce",
    help: "Kyverno: report or reject",
    default: "Audit",
    parse: oneOf("Audit", "Enforce"),
  }),
  "exclude-namespace": str({
    multiple: true,
    value: "NS",
    help: "namespaces left alone (default kube-system)",
    parse: nonEmpty,
  }),
  "psa-version": str({
    value: "latest|v1.N",
    help: "Pod Security version of the podSecurity rule",
    default: "latest",
    parse: nonEmpty,
  }),
  out: str({
    short: "o",
    value: "FILE",
    help: "write the YAML to FILE (atomically) instead of stdout",
    parse: nonEmpty,
  }),
  explain: bool({
    help: "print what the policy can and cannot check without the image, instead of the YAML",
  }),
};

export const k8sPolicyCommand = defineCommand({
  name: "k8s policy",
  summary: "the same rules for admission: a Kyverno ClusterPolicy or Gatekeeper constraints",
  usage: ["[--engine kyverno|gatekeeper] [--action Audit|Enforce] [-o FILE] [--explain]"],
  description: `The rules k8s gen follows, as an admission policy for clusters that enforce them. A policy sees the
manifest, never the image: --explain says what it therefore cannot check (k8s lint can).`,
  flags: K8S_POLICY_FLAGS,
  positionals: { min: 0, max: 0, message: "k8s policy takes no arguments" },
  exit: "0 written, 2 usage error, 3 I/O error.",
  load: async () => (await import("../commands/k8s.js")).runK8sPolicy,
});
