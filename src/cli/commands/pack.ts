import { ZerodepError } from "../../errors.js";
import { parseImageArg } from "../../image/reference.js";
import { pack, parsePackOut } from "../../pack/pack.js";
import { packAndPush } from "../../pack/pack-push.js";
import { type CopyReport, registryRef } from "../../transfer/copy.js";
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
  const outRef = values.out ? parsePackOut(values.out) : undefined;
  const pushRef = values.push ? registryRef(values.push, "--push") : undefined;
  const baseRef = values.base ? parseImageArg(values.base) : undefined;
  const st = makeStyle(!values["no-color"] && colorWanted(io.stderr.isTTY, io.env));
  let r: Awaited<ReturnType<typeof pack>>;
  // A bar only on a TTY and only for layers worth watching (over 8 MiB).
  const bar = io.stderr.isTTY ? new ProgressBar(io.stderr) : null;
  let pushed: CopyReport | undefined;
  const registry = registryOptions(
    values,
    io,
    io.stderr.isTTY ? (m) => io.stderr.write(st.dim(`${m}\n`)) : undefined,
  );
  try {
    const packOpts = {
      binaries: positionals,
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
      log: io.stderr.isTTY ? (m: string) => io.stderr.write(st.dim(`${m}\n`)) : undefined,
      onProgress: bar
        ? (p: { platform: string; done: number; total: number }) => {
            if (p.total >= 8 << 20) bar.update(`${p.platform} layer`, p.done, p.total);
          }
        : undefined,
    };
    if (pushRef) {
      const bars = io.stderr.isTTY && !values.json ? new ProgressBars(io.stderr, "uploading") : undefined;
      try {
        const both = await packAndPush({ ...packOpts, ...(outRef ? { out: outRef } : {}) }, pushRef, {
          ...registry,
          ...(bars ? { onEvent: bars.onEvent } : {}),
          ...(io.env.TMPDIR ? { tmpDir: io.env.TMPDIR } : {}),
        });
        r = both.pack;
        pushed = both.push;
      } finally {
        bars?.done();
      }
    } else {
      r = await pack({ ...packOpts, out: outRef! });
    }
    bar?.finish();
  } catch (err) {
    bar?.finish();
    // The safety net refusing is a verdict (exit 1), not bad input.
    if (err instanceof ZerodepError && err.code === "IMAGE_WILL_NOT_RUN") {
      io.stderr.write(`zerodep pack: ${err.message}\n`);
      return EXIT.VERDICT_FAILED;
    }
    throw err;
  }
  if (values.json) {
    io.stdout.write(JSON.stringify(pushed ? { ...r, out: values.out ?? null, pushed } : r) + "\n");
    return EXIT.OK;
  }
  if (pushed) printCopyReport(pushed, io, false);
  if (values.out)
    io.stdout.write(`${r.digest}  ${r.out}${r.images.length > 1 ? ` (index of ${r.images.length})` : ""}\n`);
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
