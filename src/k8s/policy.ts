import { UsageError } from "../errors.js";
import { toYamlDocuments } from "./gen.js";

/**
 * `zerodep k8s policy`: the rules `k8s gen` follows, as a Kyverno ClusterPolicy for clusters that
 * enforce them at admission. The Pod Security "restricted" part is Kyverno's own `podSecurity` rule
 * (it runs the k8s.io/pod-security-admission checks, so it says what the API server would); the rules
 * PSA does not have are plain Kyverno patterns. Written for Kyverno >= 1.8 (podSecurity rules); rules
 * match Pods and Kyverno's autogen extends them to Deployments, StatefulSets, Jobs, CronJobs ….
 */

export interface PolicyOptions {
  /** metadata.name (default "zerodep-restricted"). */
  name?: string;
  /** Audit reports, Enforce rejects (default Audit: roll out, read the reports, then enforce). */
  action?: "Audit" | "Enforce";
  /** Namespaces the policy leaves alone (default kube-system). */
  excludeNamespaces?: string[];
  /** Pod Security Standards version the podSecurity rule evaluates (default "latest"). */
  podSecurityVersion?: string;
}

export interface PolicyResult {
  document: Record<string, unknown>;
  yaml: string;
  /** README-ready: what the policy checks, and what it cannot check without the image. */
  explanation: string;
}

/** Every rule name of the policy, in order (the README and tests name them). */
export const POLICY_RULES = [
  "pod-security-restricted",
  "require-numeric-run-as-user",
  "require-read-only-root-filesystem",
  "require-image-digest",
  "require-resource-limits",
  "disallow-service-account-token",
] as const;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A Kyverno pattern over every container list of a pod: `containers` must match `each`; init and
 * ephemeral containers must too when present (the =() "equality anchor": if the field exists).
 */
function allContainers(each: Record<string, unknown>): Record<string, unknown> {
  return {
    "=(ephemeralContainers)": [each],
    "=(initContainers)": [each],
    containers: [each],
  };
}

export function kyvernoPolicy(opts: PolicyOptions = {}): PolicyResult {
  const name = opts.name ?? "zerodep-restricted";
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name))
    throw new UsageError("USAGE", `k8s policy: name "${name}" is not a DNS-1123 subdomain`);
  const action = opts.action ?? "Audit";
  if (action !== "Audit" && action !== "Enforce")
    throw new UsageError("USAGE", `k8s policy: action "${action}" must be Audit or Enforce`);
  const exclude = opts.excludeNamespaces ?? ["kube-system"];
  const match = { any: [{ resources: { kinds: ["Pod"] } }] };
  const excludeBlock =
    exclude.length > 0 ? { exclude: { any: [{ resources: { namespaces: exclude } }] } } : {};
  const rule = (ruleName: string, validate: Record<string, unknown>) => ({
    name: ruleName,
    match,
    ...excludeBlock,
    validate,
  });
  const rules = [
    rule("pod-security-restricted", {
      message: "the pod must meet the Pod Security Standards restricted level",
      podSecurity: { level: "restricted", version: opts.podSecurityVersion ?? "latest" },
    }),
    // runAsNonRoot alone is checked by the kubelet against the image's USER, and a non-numeric USER
    // ("nonroot") cannot be checked at all: "container has runAsNonRoot and image has non-numeric user
    // (nonroot), cannot verify user is non-root". A numeric runAsUser makes the check decidable.
    rule("require-numeric-run-as-user", {
      message:
        "set a numeric runAsUser > 0 (pod or every container): with runAsNonRoot and an image whose USER is a name, the kubelet refuses to start the container",
      anyPattern: [
        {
          spec: {
            securityContext: { runAsUser: ">0" },
            ...allContainers({ "=(securityContext)": { "=(runAsUser)": ">0" } }),
          },
        },
        { spec: allContainers({ securityContext: { runAsUser: ">0" } }) },
      ],
    }),
    rule("require-read-only-root-filesystem", {
      message:
        "containers must set securityContext.readOnlyRootFilesystem: true (mount an emptyDir where the program writes)",
      pattern: { spec: allContainers({ securityContext: { readOnlyRootFilesystem: true } }) },
    }),
    rule("require-image-digest", {
      message: "images must be pinned by digest (REPO@sha256:…)",
      pattern: { spec: allContainers({ image: "*@sha256:*" }) },
    }),
    rule("require-resource-limits", {
      message: "containers must set resources.limits.memory and resources.limits.cpu",
      pattern: { spec: { containers: [{ resources: { limits: { memory: "?*", cpu: "?*" } } }] } },
    }),
    rule("disallow-service-account-token", {
      message:
        "set automountServiceAccountToken: false unless the program talks to the Kubernetes API (a stolen token is the first step of most cluster escalations)",
      pattern: { spec: { automountServiceAccountToken: false } },
    }),
  ];
  const document = {
    apiVersion: "kyverno.io/v1",
    kind: "ClusterPolicy",
    metadata: {
      name,
      annotations: {
        "policies.kyverno.io/title": "zerodep restricted workloads",
        "policies.kyverno.io/category": "Pod Security Standards (Restricted)",
        "policies.kyverno.io/subject": "Pod",
        "policies.kyverno.io/description":
          "The rules zerodep k8s gen follows: Pod Security restricted, a numeric non-root runAsUser, a read-only root filesystem, images by digest, resource limits, no service account token.",
      },
    },
    spec: { validationFailureAction: action, background: true, rules },
  };
  return { document, yaml: toYamlDocuments([document]), explanation: POLICY_EXPLANATION };
}

/** What an admission policy can and cannot check, for the README and `k8s policy --explain`. */
export const POLICY_EXPLANATION = `An admission policy sees the manifest, never the image. It can require what zerodep k8s gen
writes — Pod Security restricted (runAsNonRoot, allowPrivilegeEscalation: false, capabilities drop ALL
with at most NET_BIND_SERVICE added, seccomp RuntimeDefault or Localhost, no hostPath, host namespaces
or privileged containers), a numeric runAsUser, readOnlyRootFilesystem: true, images by digest,
resource limits and no service account token — but it cannot know whether those settings fit the
program: whether the runAsUser has a row in the image's /etc/passwd (os/user lookups then fail),
whether the image's USER is a name the kubelet cannot verify, where the program writes and so needs
an emptyDir (with a read-only root, os.CreateTemp fails with "read-only file system" at run time, not
at admission), whether a port below 1024 needs NET_BIND_SERVICE, whether the Go runtime follows the
CPU limit or needs GOMAXPROCS, whether the digest names an image that exists for the node's
architecture, or whether the entrypoint can start at all. Those are image facts: zerodep k8s gen
builds the manifest from them, and zerodep k8s lint checks an existing manifest against them.`;

/**
 * The same rules as Gatekeeper constraints, for clusters that run Gatekeeper with the templates of
 * open-policy-agent/gatekeeper-library installed (each constraint's kind is one of its templates; the
 * Pod Security restricted level is spelled out template by template, as the library has no single one).
 * Multi-document YAML; `action` becomes enforcementAction (dryrun for Audit, deny for Enforce).
 */
export function gatekeeperConstraints(opts: PolicyOptions = {}): PolicyResult & {
  documents: Record<string, unknown>[];
} {
  const prefix = opts.name ?? "zerodep-restricted";
  if (prefix.length > 200 || !DNS_SUBDOMAIN.test(prefix))
    throw new UsageError("USAGE", `k8s policy: name "${prefix}" is not a DNS-1123 subdomain`);
  const action = opts.action ?? "Audit";
  if (action !== "Audit" && action !== "Enforce")
    throw new UsageError("USAGE", `k8s policy: action "${action}" must be Audit or Enforce`);
  const exclude = opts.excludeNamespaces ?? ["kube-system"];
  const constraint = (kind: string, suffix: string, parameters?: Record<string, unknown>) => ({
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind,
    metadata: { name: `${prefix}-${suffix}` },
    spec: {
      enforcementAction: action === "Enforce" ? "deny" : "dryrun",
      match: {
        kinds: [{ apiGroups: [""], kinds: ["Pod"] }],
        ...(exclude.length > 0 ? { excludedNamespaces: exclude } : {}),
      },
      ...(parameters ? { parameters } : {}),
    },
  });
  const documents = [
    constraint("K8sPSPPrivilegedContainer", "privileged"),
    constraint("K8sPSPHostNamespace", "host-namespaces"),
    constraint("K8sPSPHostFilesystem", "host-paths"),
    constraint("K8sPSPAllowPrivilegeEscalationContainer", "privilege-escalation"),
    constraint("K8sPSPCapabilities", "capabilities", {
      allowedCapabilities: ["NET_BIND_SERVICE"],
      requiredDropCapabilities: ["ALL"],
    }),
    constraint("K8sPSPSeccompV2", "seccomp", {
      allowedProfiles: ["RuntimeDefault", "Localhost"],
      allowedLocalhostFiles: ["*"],
    }),
    // MustRunAs a range above 0: a numeric, non-root runAsUser (what runAsNonRoot alone cannot verify
    // for an image whose USER is a name).
    constraint("K8sPSPAllowedUsers", "users", {
      runAsUser: { rule: "MustRunAs", ranges: [{ min: 1, max: 2147483647 }] },
    }),
    constraint("K8sPSPReadOnlyRootFilesystem", "read-only-root"),
    constraint("K8sImageDigests", "image-digests"),
  ];
  return {
    document: documents[0]!,
    documents,
    yaml: toYamlDocuments(documents),
    explanation: POLICY_EXPLANATION,
  };
}
