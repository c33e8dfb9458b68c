import { defineCommand } from "../command.js";
import { IMAGE_READ, OUTPUT, REGISTRY } from "../flag-groups.js";
import { intValue, str } from "../flags.js";

export const DIFF_FLAGS = {
  json: { ...OUTPUT.json, help: 'the full result (schema: README "diff --json")' },
  ...IMAGE_READ,
  limit: str({
    value: "N",
    help: "paths listed per category in the human output",
    default: "20",
    parse: intValue(0),
  }),
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
};

export const diffCommand = defineCommand({
  name: "diff",
  summary: "files (content, sizes, modes) and config changed between two images (container-diff)",
  usage: ["IMAGE_A IMAGE_B [--json] [--platform P] [--limit N]"],
  description: `The files (added, removed, changed — content compared by sha256, size deltas) and the config fields
that differ between two images, each read in one stream per layer; of a list-valued field (Env) only
the entries added and removed, of a map (Labels) only the keys that changed. IMAGE: oci:DIR[:TAG],
oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG], or a registry HOST/REPO[:TAG|@DIGEST].`,
  flags: DIFF_FLAGS,
  positionals: { min: 2, max: 2, message: "diff: two images, IMAGE_A IMAGE_B (see zerodep diff --help)" },
  exit: "0 identical, 1 they differ, 3 bad input or I/O error, 2 usage error (like diff(1)).",
  load: async () => (await import("../commands/diff.js")).runDiff,
});
