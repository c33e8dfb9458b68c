import { defineCommand } from "../command.js";
import { OUTPUT, PLATFORM, REGISTRY, TRANSFER, UPLOAD } from "../flag-groups.js";
import { nonEmpty, str } from "../flags.js";

const IMAGES =
  "oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REPO:TAG] | [docker://]HOST/REPO[:TAG][@DIGEST]";

const PLATFORM_ONE = { ...PLATFORM.platform, help: "only this platform's image of an index" };

export const PUSH_FLAGS = {
  platform: PLATFORM_ONE,
  json: { ...OUTPUT.json, help: "the result (pushed digests) as JSON" },
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
  ...TRANSFER,
  ...UPLOAD,
};

export const PULL_FLAGS = {
  out: str({
    short: "o",
    value: "DEST",
    help: "oci:DIR[:TAG] (TAG defaults to the reference's tag), oci-archive:, docker-archive:",
    parse: nonEmpty,
    repeated: "several destinations in one run are not supported yet (pull once, then zerodep copy)",
  }),
  platform: PLATFORM_ONE,
  json: { ...OUTPUT.json, help: "the result as JSON" },
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
  ...TRANSFER,
};

export const COPY_FLAGS = PUSH_FLAGS;

const CREDENTIALS =
  "Credentials: $REGISTRY_AUTH_FILE, podman's auth.json, $DOCKER_CONFIG/config.json (see zerodep login).";
const EXIT_TEXT = (verb: string) => `0 ${verb}, 2 usage error, 3 bad input, registry or network error.`;

export const pushCommand = defineCommand({
  name: "push",
  summary: "a local image to a registry (crane push, skopeo copy)",
  usage: ["SRC REF [options]"],
  description: `Pushes a local image (${IMAGES.split(" | [docker")[0]}) to a registry: blobs the
repository has are skipped (HEAD), blobs elsewhere in the registry are mounted, the rest streamed and
verified by digest; manifests go last (children before the index). REF: HOST/REPO[:TAG] (Docker rules:
"app" is docker.io/library/app:latest).`,
  flags: PUSH_FLAGS,
  positionals: { min: 2, max: 2, message: "push: expected SRC REF (see zerodep push --help)" },
  notes: CREDENTIALS,
  exit: EXIT_TEXT("pushed"),
  load: async () => (await import("../commands/copy.js")).runPush,
});

export const pullCommand = defineCommand({
  name: "pull",
  summary: "a registry image into an OCI layout or archive (crane pull)",
  usage: ["REF --out oci:DIR[:TAG] [options]"],
  description: `Pulls an image from a registry into an OCI layout (other images in DIR are kept; written atomically),
or an oci-archive:/docker-archive: file. Every platform of an index unless --platform is given. Every
blob is verified against its digest while it streams; a broken download resumes with a Range request.`,
  flags: PULL_FLAGS,
  positionals: { min: 1, max: 1, message: "pull: expected REF --out DEST (see zerodep pull --help)" },
  notes: CREDENTIALS,
  exit: EXIT_TEXT("pulled"),
  load: async () => (await import("../commands/copy.js")).runPull,
});

export const copyCommand = defineCommand({
  name: "copy",
  summary: "an image between registries, layouts and archives (skopeo copy)",
  usage: ["SRC DEST [options]"],
  description: `Copies an image between any two of: ${IMAGES}.
Within one registry, blobs are mounted across repositories instead of copied.`,
  flags: COPY_FLAGS,
  positionals: { min: 2, max: 2, message: "copy: expected SRC DEST (see zerodep copy --help)" },
  notes: CREDENTIALS,
  exit: EXIT_TEXT("copied"),
  load: async () => (await import("../commands/copy.js")).runCopy,
});
