/**
 * Shared shapes of the k8s commands (issue #16): documents read from YAML with their source positions,
 * Pod Security results, and lint findings (which become --json and SARIF 2.1.0 results).
 */

/** A position in a source file, 1-based (SARIF's region.startLine / startColumn). */
export interface SourcePosition {
  line: number;
  column: number;
}

/** One YAML document of a manifest file, as plain JSON values plus a way back to the source. */
export interface K8sDocument {
  /** The file as the user named it ("-" for stdin). */
  file: string;
  /** 0-based index of the document in the file. */
  index: number;
  /** The document converted to plain values (objects, arrays, strings, numbers, booleans, null). */
  value: unknown;
  /**
   * Where a field is in the source: a path of keys and indices from the document root
   * (["spec", "template", "spec", "containers", 0, "securityContext", "runAsNonRoot"]). When the field is
   * absent, the position of its nearest existing parent (so a "must set X" finding points at the object
   * that lacks X). Null only for an empty document.
   */
  positionOf(path: readonly (string | number)[]): SourcePosition | null;
}

/** Pod Security Standards level, as PSA names them. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** One failed Pod Security check, in the API server's words (k8s.io/pod-security-admission CheckResult). */
export interface PodSecurityViolation {
  /** The check's ID in PSA ("allowPrivilegeEscalation", "capabilities_restricted", "runAsNonRoot" …). */
  check: string;
  /** ForbiddenReason, e.g. "allowPrivilegeEscalation != false". */
  reason: string;
  /** ForbiddenDetail, e.g. `container "app" must set securityContext.allowPrivilegeEscalation=false`. */
  detail: string;
  /** The fields the check looked at (paths relative to the pod spec's owner document), for positions. */
  paths: (string | number)[][];
}

export type FindingLevel = "error" | "warning" | "note";

/** One lint result: a Pod Security violation or an image-aware check. */
export interface K8sFinding {
  /** Stable rule ID: "PSA_<check>" for Pod Security checks, or an image-aware rule code. */
  rule: string;
  level: FindingLevel;
  message: string;
  fix?: string;
  file: string;
  /** The document's index in the file and its kind/name, for humans. */
  document: { index: number; kind: string; name: string };
  /** The offending field, as a dotted path (spec.template.spec.containers[0].securityContext). */
  field: string;
  position: SourcePosition | null;
}
