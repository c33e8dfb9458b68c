/**
 * Rule codes of the image-aware k8s lint checks (src/k8s/image-checks.ts): stable IDs for --json and
 * SARIF results, beside the Pod Security ones ("PSA_<check>").
 */
export const IMAGE_CHECK_CODES = [
  /** runAsNonRoot, no runAsUser, and the image's USER is a name: the kubelet refuses to start the container. */
  "IMAGE_USER_NOT_NUMERIC",
  /** runAsNonRoot, no runAsUser, and the image runs as root (USER 0, root's name is not numeric, or no USER). */
  "IMAGE_USER_ROOT",
  /** runAsNonRoot, no runAsUser, and the image's numeric USER is outside 0..2147483647. */
  "IMAGE_USER_ID_INVALID",
  /** runAsUser is not in the image's /etc/passwd and the program looks users up there. */
  "RUN_AS_USER_NOT_IN_PASSWD",
  /** command[0] is not an executable of the image (sh on scratch). */
  "COMMAND_NOT_IN_IMAGE",
  /** The pod's nodeSelector / required node affinity names an architecture or OS the image does not have. */
  "PLATFORM_NOT_IN_IMAGE",
  /** readOnlyRootFilesystem without a writable mount where the program writes (its tmp need: /tmp or TMPDIR). */
  "READ_ONLY_ROOT_NEEDS_MOUNT",
  /** `zerodep check IMAGE` on what the container will start says it will not run. */
  "ENTRYPOINT_WILL_NOT_RUN",
  /** net/http/pprof or expvar linked into a program whose container has a port. */
  "DEBUG_ENDPOINT_EXPOSED",
  /** The image is named by a tag (or none: latest), not by a digest. */
  "IMAGE_NOT_PINNED",
] as const;

export type ImageCheckCode = (typeof IMAGE_CHECK_CODES)[number];
