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
} from "../../transfer/copy.js";
import type { Invocation } from "../command.js";
import type { COPY_FLAGS, PULL_FLAGS, PUSH_FLAGS } from "../defs/transfer.js";
import type { Flags, FlagValues } from "../flags.js";
import { type CliIO, EXIT } from "../io.js";
import { ProgressBars } from "../progress.js";
import { registryOptions } from "../registry-flags.js";
import { colorWanted, humanBytes, makeStyle } from "../style.js";

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

type TransferValues = Partial<FlagValues<typeof PULL_FLAGS> & FlagValues<typeof PUSH_FLAGS>>;

async function runTransfer(
  verb: "push" | "pull" | "copy",
  { values, positionals, io }: Invocation<Flags> & { values: TransferValues },
): Promise<number> {
  if (verb === "pull" && !values.out) throw new UsageError("USAGE", "pull: --out oci:DIR[:TAG] is required");
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
  const run =
    verb === "push"
      ? (
          (src, dest) => () =>
            push(src, dest, opts)
        )(parseImageArg(a), registryRef(b, "push"))
      : verb === "pull"
        ? (
            (src, dest) => () =>
              pull(src, dest, opts)
          )(registryRef(a, "pull"), parsePullOut(values.out!))
        : (
            (src, dest) => () =>
              copy(src, dest, opts)
          )(parseImageArg(a), parseImageRef(b));
  let r: CopyReport;
  try {
    r = await run();
  } finally {
    bars?.done();
  }
  printCopyReport(r, io, values.json === true);
  return EXIT.OK;
}

export const runPush = (inv: Invocation<typeof PUSH_FLAGS>) => runTransfer("push", inv);
export const runPull = (inv: Invocation<typeof PULL_FLAGS>) => runTransfer("pull", inv);
export const runCopy = (inv: Invocation<typeof COPY_FLAGS>) => runTransfer("copy", inv);
