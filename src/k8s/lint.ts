import type { RegistrySession } from "../registry/client.js";
import type { RegistryOptions } from "../registry/options.js";
import { imageChecks } from "./image-checks.js";
import { evaluatePodSecurity } from "./psa.js";
import type { FindingLevel, K8sDocument, K8sFinding, PodSecurityLevel } from "./types.js";
import { fieldPath, kindAndName, podOf, WORKLOAD_KINDS } from "./workloads.js";
import { loadManifests, readManifestFile } from "./yaml.js";

export interface LintOptions {
  /** Pod Security level to enforce (default restricted). */
  level?: Exclude<PodSecurityLevel, "privileged">;
  /** Pod Security version ("latest" or "v1.NN"; default latest). */
  version?: string;
  /** Read the referenced images and run the image-aware checks (default true). */
  images?: boolean;
  /** A manifest's image string → a local reference (oci:DIR:TAG …). */
  imageMap?: Record<string, string>;
  registry?: RegistryOptions;
  session?: RegistrySession;
  log?: (msg: string) => void;
}

export interface LintResult {
  schemaVersion: 1;
  files: string[];
  documents: number;
  /** Workloads (documents with a pod template) checked. */
  workloads: number;
  level: string;
  findings: K8sFinding[];
  /** Image checks skipped, and why (an image that cannot be fetched is not a finding). */
  notes: string[];
  summary: Record<FindingLevel, number>;
}

/** Severity order for --fail-on and sorting. */
export const LEVEL_RANK: Record<FindingLevel, number> = { error: 3, warning: 2, note: 1 };

/**
 * `zerodep k8s lint`: Pod Security (baseline or restricted, with the API server's words) for every
 * workload of the given manifests, plus the checks only an image-aware tool can make (the image's
 * user, the program's needs, shells, architectures, the entrypoint verdict). Findings keep the file,
 * line and column of the offending field.
 */
export async function lintManifests(
  inputs: { file: string; text?: string }[],
  opts: LintOptions = {},
): Promise<LintResult> {
  const level = opts.level ?? "restricted";
  const version = opts.version ?? "latest";
  const docs: K8sDocument[] = [];
  for (const i of inputs)
    docs.push(...(i.text !== undefined ? loadManifests(i.text, i.file) : await readManifestFile(i.file)));
  const findings: K8sFinding[] = [];
  const skipped: string[] = [];
  let workloads = 0;
  for (const doc of docs) {
    const pod = podOf(doc);
    if (!pod) {
      // Services, ConfigMaps, CRDs… have no pod to check; a document that is not an object at all is said.
      const { kind } = kindAndName(doc);
      const v = doc.value as Record<string, unknown> | null;
      if (kind === "" || typeof v?.apiVersion !== "string")
        skipped.push(
          `${doc.file}: document ${doc.index + 1} has no kind or apiVersion: not a Kubernetes object (skipped)`,
        );
      else if (WORKLOAD_KINDS.includes(kind))
        skipped.push(`${doc.file}: ${kind} ${kindAndName(doc).name || "?"} has no pod template (skipped)`);
      continue;
    }
    workloads++;
    const { kind, name } = kindAndName(doc);
    for (const v of evaluatePodSecurity({ metadata: pod.metadata, spec: pod.spec }, level, version, pod)) {
      const path = v.paths[0] ?? pod.specPath;
      findings.push({
        rule: `PSA_${v.check}`,
        level: "error",
        message: `violates PodSecurity "${level}:${version}": ${v.reason} (${v.detail})`,
        file: doc.file,
        document: { index: doc.index, kind, name },
        field: fieldPath(path),
        position: doc.positionOf(path),
      });
    }
  }
  let notes: string[] = skipped;
  if (opts.images !== false && workloads > 0) {
    const r = await imageChecks(docs, {
      ...(opts.registry ? { registry: opts.registry } : {}),
      ...(opts.session ? { session: opts.session } : {}),
      ...(opts.imageMap ? { images: opts.imageMap } : {}),
      ...(opts.log ? { log: opts.log } : {}),
    });
    findings.push(...r.findings);
    notes = [...skipped, ...r.notes];
  }
  findings.sort(
    (a, b) =>
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.document.index - b.document.index ||
      (a.position?.line ?? 0) - (b.position?.line ?? 0) ||
      (a.position?.column ?? 0) - (b.position?.column ?? 0) ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
  const summary: Record<FindingLevel, number> = { error: 0, warning: 0, note: 0 };
  for (const f of findings) summary[f.level]++;
  return {
    schemaVersion: 1,
    files: inputs.map((i) => i.file),
    documents: docs.length,
    workloads,
    level: `${level}:${version}`,
    findings,
    notes,
    summary,
  };
}
