import { UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { OUTPUT, REGISTRY } from "../flag-groups.js";
import { bool, nonEmpty, oneOf, str } from "../flags.js";

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
