import type { K8sDocument } from "./types.js";

/** A pod spec found in a document: where it is, and the pod's metadata and spec as plain values. */
export interface PodAt {
  doc: K8sDocument;
  kind: string;
  /** metadata.name of the document (the workload), or "" when absent. */
  name: string;
  namespace: string | null;
  /** Path of the pod's metadata object (["spec","template","metadata"]; ["metadata"] for a Pod). */
  metadataPath: (string | number)[];
  /** Path of the pod spec (["spec","template","spec"]; ["spec"] for a Pod). */
  specPath: (string | number)[];
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
}

/** Where each workload kind keeps its pod template (the kinds PSA evaluates). */
const TEMPLATE_PATH: Record<string, string[]> = {
  Pod: [],
  PodTemplate: ["template"],
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

export const WORKLOAD_KINDS = Object.keys(TEMPLATE_PATH);

function obj(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** The document's kind and metadata.name ("" when absent or not strings). */
export function kindAndName(doc: K8sDocument): { kind: string; name: string } {
  const v = obj(doc.value);
  const kind = typeof v?.kind === "string" ? v.kind : "";
  const name = typeof obj(v?.metadata)?.name === "string" ? (obj(v?.metadata)!.name as string) : "";
  return { kind, name };
}

/**
 * The pod spec of a workload document (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
 * ReplicationController, Job, CronJob, PodTemplate), or null for other kinds, lists (kind: List is
 * expanded by the YAML loader, not here) and documents whose template is not an object.
 */
export function podOf(doc: K8sDocument): PodAt | null {
  const root = obj(doc.value);
  if (!root) return null;
  const { kind, name } = kindAndName(doc);
  const at = TEMPLATE_PATH[kind];
  if (!at) return null;
  let tpl: unknown = root;
  for (const k of at) tpl = obj(tpl)?.[k];
  const t = obj(tpl);
  if (!t) return null;
  const spec = obj(t.spec);
  if (!spec) return null;
  const ns = obj(root.metadata)?.namespace;
  return {
    doc,
    kind,
    name,
    namespace: typeof ns === "string" ? ns : null,
    metadataPath: [...at, "metadata"],
    specPath: [...at, "spec"],
    metadata: obj(t.metadata) ?? {},
    spec,
  };
}

/** Dotted field path for humans and SARIF messages: spec.template.spec.containers[0].image. */
export function fieldPath(path: readonly (string | number)[]): string {
  let s = "";
  for (const p of path) s += typeof p === "number" ? `[${p}]` : s === "" ? p : `.${p}`;
  return s;
}
