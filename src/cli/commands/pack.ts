import { ZerodepError } from "../../errors.js";
import { parseImageArg } from "../../image/reference.js";
import { type PackResult, pack, parsePackOut } from "../../pack/pack.js";
import { registryRef } from "../../transfer/copy.js";
import type { Invocation } from "../command.js";
import type { PACK_FLAGS } from "../defs/pack.js";
import { EXIT } from "../io.js";
import { ProgressBar, ProgressBars } from "../progress.js";
import { registryOptions } from "../registry-flags.js";
import { colorWanted, humanBytes, humanizeSizes, makeStyle } from "../style.js";
import { printCopyReport } from "./copy.js";

export async function runPack({ values, positionals, io }: Invocation<typeof PACK_FLAGS>): Promise<number> {
  const sde = io.env.SOURCE_DATE_EPOCH;
  // Image references are parsed once, here, before anything is read or written.
  const outRefs = (values.out ?? []).map(parsePackOut);
  const pushRefs = (values.push ?? []).map((p) => registryRef(p, "--push"));
  const baseRef = values.base ? parseImageArg(values.base) : undefined;
  const st = makeStyle(!values["no-color"] && colorWanted(io.stderr.isTTY, io.env));
  let r: PackResult;
  // A bar only on a TTY and only for layers worth watching (over 8 MiB).
  const bar = io.stderr.isTTY ? new ProgressBar(io.stderr) : null;
  const bars =
    pushRefs.length > 0 && io.stderr.isTTY && !values.json
      ? new ProgressBars(io.stderr, "uploading")
      : undefined;
  const registry = registryOptions(
    values,
    io,
    io.stderr.isTTY ? (m) => io.stderr.write(st.dim(`${m}\n`)) : undefined,
  );
  try {
    r = await pack({
      binaries: positionals,
      out: outRefs,
      push: pushRefs,
      caCerts: values["ca-certs"] ?? "auto",
      tzdata: values.tzdata ?? "auto",
      user: values.user,
      entrypoint: values.entrypoint?.flat(),
      cmd: values.cmd?.flat(),
      env: values.env,
      workdir: values.workdir,
      labels: Object.fromEntries(values.label ?? []),
      annotations: Object.fromEntries(values.annotation ?? []),
      ports: values.port,
      stopSignal: values["stop-signal"],
      path: values.path,
      force: values.force === true,
      bundleLibs: values["bundle-libs"] === true,
      base: baseRef,
      libsRoot: values["libs-root"],
      sourceDateEpoch: sde === undefined ? 0 : Number(sde),
      registry,
      ...(io.env.TMPDIR ? { tmpDir: io.env.TMPDIR } : {}),
      ...(bars ? { onUpload: bars.onEvent } : {}),
      log: io.stderr.isTTY ? (m: string) => io.stderr.write(st.dim(`${m}\n`)) : undefined,
      onProgress: bar
        ? (p: { platform: string; done: number; total: number }) => {
            if (p.total >= 8 << 20) bar.update(`${p.platform} layer`, p.done, p.total);
          }
        : undefined,
    });
    bar?.finish();
    bars?.done();
  } catch (err) {
    bar?.finish();
    bars?.done();
    // The safety net refusing is a verdict (exit 1), not bad input.
    if (err instanceof ZerodepError && err.code === "IMAGE_WILL_NOT_RUN") {
      io.stderr.write(`zerodep pack: ${err.message}\n`);
      return EXIT.VERDICT_FAILED;
    }
    throw err;
  }
  if (values.json) {
    io.stdout.write(JSON.stringify(r) + "\n");
    return EXIT.OK;
  }
  for (const d of r.destinations) {
    if (d.transport === "registry") printCopyReport(d.report, io, false);
    else
      io.stdout.write(
        `${r.digest}  ${d.destination}${r.images.length > 1 ? ` (index of ${r.images.length})` : ""}\n`,
      );
  }
  for (const im of r.images) {
    const size = im.layers.reduce((a, l) => a + l.size, 0);
    const plat = `${im.platform.os}/${im.platform.architecture}${im.platform.variant ? `/${im.platform.variant}` : ""}`;
    io.stderr.write(
      `  ${plat.padEnd(14)} manifest ${im.manifest.digest.slice(0, 19)}…  layer ${humanBytes(size)} compressed\n`,
    );
    for (const w of im.warnings)
      io.stderr.write(`  ${st.yellow("!")} ${w.code} ${humanizeSizes(w.message)}\n    fix: ${w.fix}\n`);
  }
  return EXIT.OK;
}
