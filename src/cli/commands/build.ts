import { resolve } from "node:path";
import { type BuildOptions, type BuildResult, build } from "../../build/build.js";
import { showCommand } from "../../build/exec.js";
import { findProjectFile, loadProject, mergeProject } from "../../build/project.js";
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
    // Only the flags given: a zerodep.yaml (--project, else one in the project directory) fills the
    // rest, and its defaults are build's own.
    const given: Partial<BuildOptions> = {
      targets: positionals.length ? positionals : undefined,
      dir: values.dir ? resolve(io.cwd, values.dir) : undefined,
      platforms: platforms?.includes("all") ? "all" : platforms,
      tags: values.tag?.flat(),
      split: values.split === true ? true : undefined,
      version: values.version,
      ldflags: values.ldflags,
      buildFlags: values["build-flag"],
      buildEnv: values["build-env"],
      cgo: values.cgo,
      noStrip: values["no-strip"] === true ? true : undefined,
      noTrimpath: values["no-trimpath"] === true ? true : undefined,
      add: values.add,
      args: values.args?.flat(),
      binDir: values["bin-dir"],
      out: outRefs.length ? outRefs : undefined,
      // As typed: a reference without a tag gets every -t tag (a parsed one would say "latest").
      push: values.push?.length ? values.push : undefined,
      base: values.base ? parseImageArg(values.base) : undefined,
      caCerts: values["ca-certs"],
      tzdata: values.tzdata,
      user: values.user,
      entrypoint: values.entrypoint?.flat(),
      env: values.env,
      workdir: values.workdir,
      labels: values.label ? Object.fromEntries(values.label) : undefined,
      annotations: values.annotation ? Object.fromEntries(values.annotation) : undefined,
      ports: values.port,
      stopSignal: values["stop-signal"],
      force: values.force === true ? true : undefined,
    };
    for (const k of Object.keys(given) as (keyof BuildOptions)[]) if (given[k] === undefined) delete given[k];
    const projectFile = values["no-project"]
      ? null
      : values.project
        ? resolve(io.cwd, values.project)
        : findProjectFile(resolve(io.cwd, values.dir ?? "."));
    const opts = projectFile ? mergeProject(await loadProject(projectFile), given) : given;
    if (projectFile) say?.(`using ${projectFile}`);
    r = await build({
      ...opts,
      dir: opts.dir ?? io.cwd,
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
