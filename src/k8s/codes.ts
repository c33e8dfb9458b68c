/**
 * Stable codes of the k8s commands' errors (README "zerodep k8s"). Errors are ZerodepError (exit 3) or
 * UsageError (exit 2) with one of these codes.
 */
export const K8S_CODES = [
  "MANIFEST_INVALID", // a manifest file that is not YAML/JSON, too big, too deep, an alias bomb (FILE:LINE:COL)
  "PSA_VERSION", // a Pod Security version that is neither "latest" nor "v1.N"
] as const;
export type K8sCode = (typeof K8S_CODES)[number];
