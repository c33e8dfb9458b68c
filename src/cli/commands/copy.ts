import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { parseImageArg, parseImageRef } from "../../image/reference.js";
import {
  type CopyReport,
  copy,
  parsePullOut,
  pull,
  push,
  registryRef,
  type TransferOptions,
} from "../../registry/copy.js";
import { type CliIO, EXIT } from "../io.js";
import { ProgressBars } from "../progress.js";
import { REGISTRY_FLAGS, REGISTRY_FLAGS_HELP, registryOptions } from "../registry-flags.js";
import { colorWanted, humanBytes, makeStyle } from "../style.js";

const IMAGES =
  "oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REPO:TAG] | [docker://]HOST/REPO[:TAG][@DIGEST]";

export const pushHelp = `Usage: zerodep push SRC REF [options]

Pushes a local image (${IMAGES.split(" | [docker")[0]}) to a registry: blobs the
repository has are skipped (HEAD), blobs elsewhere in the registry are mounted, the rest streamed and
verified by digest; manifests go last (children before the index). REF: HOST/REPO[:TAG] (Docker rules:
"app" is docker.io/library/app:latest).

Options:
${REGISTRY_FLAGS_HELP}
  --platform OS/ARCH    push only this platform's image of an index
  --json                the result (pushed digests) as JSON
Credentials: $REGISTRY_AUTH_FILE, podman's auth.json, $DOCKER_CONFIG/config.json (see zerodep login).
Exit: 0 pushed, 2 usage error, 3 bad input, registry or network error.`;

export const pullHelp = `Usage: zerodep pull REF --out oci:DIR[:TAG] [options]

Pulls an image from a registry into an OCI layout (other images in DIR are kept; written atomically),
or an oci-archive:/docker-archive: file. Every platform of an index unless --platform is given. Every
blob is verified against its digest while it streams; a broken download resumes with a Range request.

Options:
  --out DEST            oci:DIR[:TAG] (TAG defaults to the reference's tag), oci-archive:, docker-archive:
  --platform OS/ARCH    only this platform's image
${REGISTRY_FLAGS_HELP}
  --json                the result as JSON
Exit: 0 pulled, 2 usage error, 3 bad input, registry or network error.`;

export const copyHelp = `Usage: zerodep copy SRC DEST [options]

Copies an image between any two of: ${IMAGES}.
Within one registry, blobs are mounted across repositories instead of copied.

Options:
  --platform OS/ARCH    only this platform's image
${REGISTRY_FLAGS_HELP}
  --json                the result as JSON
Exit: 0 copied, 2 usage error, 3 bad input, registry or network error.`;

const OPTIONS = {
  ...REGISTRY_FLAGS,
  platform: { type: "string" },
  out: { type: "string", short: "o" },
  json: { type: "boolean" },
  "no-color": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Human summary lines on stdout (digest and destination) and stderr (what moved). */
export function printCopyReport(r: CopyReport, io: CliIO, json: boolean): void {
  if (json) {
    io.stdout.write(JSON.stringify(r) + "\n");
    return;
  }
  io.stdout.write(`${r.digest}  ${r.destination}\n`);
  const count = (a: string) => r.blobs.filter((b) => b.action === a).length;
  const moved = count("uploaded") + count("written");
  io.stderr.write(
    `  ${r.manifests.length} manifest(s), ${r.blobs.length} blob(s): ${moved} transferred (${humanBytes(r.bytesTransferred)}), ${count("exists")} already there, ${count("mounted")} mounted\n`,
  );
}

async function runTransfer(verb: "push" | "pull" | "copy", args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (values.help) {
    io.stdout.write(`${verb === "push" ? pushHelp : verb === "pull" ? pullHelp : copyHelp}\n`);
    return EXIT.OK;
  }
  const want = verb === "pull" ? 1 : 2;
  if (positionals.length !== want)
    throw new UsageError(
      "USAGE",
      `${verb}: expected ${verb === "pull" ? "REF --out DEST" : verb === "push" ? "SRC REF" : "SRC DEST"} (see zerodep ${verb} --help)`,
    );
  if (verb === "pull" && !values.out) throw new UsageError("USAGE", "pull: --out oci:DIR[:TAG] is required");
  if (verb !== "pull" && values.out)
    throw new UsageError("USAGE", `${verb}: --out is for pull; give the destination as an argument`);
  const st = makeStyle(!values["no-color"] && colorWanted(io.stderr.isTTY, io.env));
  const tty = io.stderr.isTTY === true && !values.json;
  const bars = tty ? new ProgressBars(io.stderr, verb === "pull" ? "downloading" : "uploading") : undefined;
  const opts: TransferOptions = {
    ...registryOptions(values, io, tty ? (m) => io.stderr.write(st.dim(`${m}\n`)) : undefined),
    ...(values.platform ? { platform: values.platform } : {}),
    ...(bars ? { onEvent: bars.onEvent } : {}),
  };
  // References are parsed once, here: a bad one is a usage error before anything is opened or created.
  const [a, b] = positionals as [string, string];
  let r: CopyReport;
  try {
    if (verb === "push") r = await push(parseImageArg(a), registryRef(b, "push"), opts);
    else if (verb === "pull") r = await pull(registryRef(a, "pull"), parsePullOut(values.out!), opts);
    else r = await copy(parseImageArg(a), parseImageRef(b), opts);
  } finally {
    bars?.done();
  }
  printCopyReport(r, io, values.json === true);
  return EXIT.OK;
}

export const runPush = (args: string[], io: CliIO) => runTransfer("push", args, io);
export const runPull = (args: string[], io: CliIO) => runTransfer("pull", args, io);
export const runCopy = (args: string[], io: CliIO) => runTransfer("copy", args, io);
