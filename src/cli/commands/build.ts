import { type BuildResult, build } from "../../build/build.js";
import { showCommand } from "../../build/exec.js";
import { ZerodepError } from "../../errors.js";
import { parseImageArg } from "../../image/reference.js";
import { parsePackOut } from "../../pack/pack.js";
import { registryRef } from "../../transfer/copy.js";
import type { Invocation } from "../command.js";
import type { BUILD_FLAGS } from "../defs/build.js";
import { EXIT } from "../io.js";
import { ProgressBars } from "../progress.js";
import { registryOptions } from "../registry-flags.js";
import { colorWanted, humanBytes, humanizeSizes, makeStyle } from "../style.js";
import { printCopyReport } from "./copy.js";

export async function runBuild({ values, positionals, io }: Invocation<typeof BUILD_FLAGS>): Promise<number> {
  const sde = io.env.SOURCE_DATE_EPOCH;
  const st = makeStyle(!values["no-color"] && colorWanted(io.stderr.isTTY, io.env));
  const tty = io.stderr.isTTY && !values.json;
  const say = tty ? (m: string) => io.stderr.write(st.dim(`${m}\n`)) : undefined;
  const outRefs = (values.out ?? []).map(parsePackOut);
  const pushRefs = (values.push ?? []).map((p) => registryRef(p, "--push"));
  const platforms = values.platform?.flat();
  const bars = pushRefs.length > 0 && tty ? new ProgressBars(io.stderr, "uploading") : undefined;
  let r: BuildResult;
  try {
    r = await build({
      targets: positionals,
      dir: values.dir ?? io.cwd,
      platforms: platforms?.includes("all") ? "all" : platforms,
      tags: values.tag?.flat(),
      split: values.split === true,
      version: values.version,
      ldflags: values.ldflags,
      buildFlags: values["build-flag"],
      buildEnv: values["build-env"],
      cgo: values.cgo ?? "auto",
      noStrip: values["no-strip"] === true,
      noTrimpath: values["no-trimpath"] === true,
      add: values.add,
      args: values.args?.flat(),
      binDir: values["bin-dir"],
      out: outRefs,
      push: pushRefs,
      base: values.base ? parseImageArg(values.base) : undefined,
      caCerts: values["ca-certs"] ?? "auto",
      tzdata: values.tzdata ?? "auto",
      user: values.user,
      entrypoint: values.entrypoint?.flat(),
      env: values.env,
      workdir: values.workdir,
      labels: Object.fromEntries(values.label ?? []),
      annotations: Object.fromEntries(values.annotation ?? []),
      ports: values.port,
      stopSignal: values["stop-signal"],
      force: values.force === true,
      ...(sde !== undefined ? { sourceDateEpoch: Number(sde) } : {}),
      registry: registryOptions(values, io, say),
      processEnv: io.env,
      ...(io.env.TMPDIR ? { tmpDir: io.env.TMPDIR } : {}),
      ...(bars ? { onUpload: bars.onEvent } : {}),
      ...(say ? { log: say, onCommand: (argv: string[]) => say(`$ ${showCommand(argv)}`) } : {}),
    });
    bars?.done();
  } catch (err) {
    bars?.done();
    if (err instanceof ZerodepError && err.code === "IMAGE_WILL_NOT_RUN") {
      io.stderr.write(`zerodep build: ${err.message}\n`);
      return EXIT.VERDICT_FAILED;
    }
    throw err;
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify(r)}\n`);
    return EXIT.OK;
  }
  for (const w of r.warnings) io.stderr.write(`${st.yellow("!")} ${w.code} ${w.message}\n  fix: ${w.fix}\n`);
  for (const b of r.binaries)
    io.stderr.write(
      `  built ${b.platform.padEnd(14)} ${b.name}${b.cgo !== "off" ? ` (cgo ${b.cgo})` : ""}\n`,
    );
  for (const img of r.images) {
    for (const d of img.destinations) {
      if (d.transport === "registry") printCopyReport(d.report, io, false);
      else
        io.stdout.write(
          `${img.digest}  ${d.destination}${img.images.length > 1 ? ` (index of ${img.images.length})` : ""}\n`,
        );
    }
    for (const im of img.images) {
      const size = im.layers.reduce((a, l) => a + l.size, 0);
      const plat = `${im.platform.os}/${im.platform.architecture}${im.platform.variant ? `/${im.platform.variant}` : ""}`;
      io.stderr.write(
        `  ${plat.padEnd(14)} manifest ${im.manifest.digest.slice(0, 19)}…  ${im.layers.length} layers, ${humanBytes(size)} compressed\n`,
      );
      for (const w of im.warnings)
        io.stderr.write(`  ${st.yellow("!")} ${w.code} ${humanizeSizes(w.message)}\n    fix: ${w.fix}\n`);
    }
  }
  return EXIT.OK;
}
