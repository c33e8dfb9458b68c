import { parseArgs } from "node:util";
import { UsageError, ZerodepError } from "../../errors.js";
import { parseImageArg } from "../../image/reference.js";
import { pack, parsePackOut } from "../../pack/pack.js";
import { type CopyReport, registryRef } from "../../registry/copy.js";
import { packAndPush } from "../../registry/pack-push.js";
import { type CliIO, EXIT } from "../io.js";
import { ProgressBar, ProgressBars } from "../progress.js";
import { REGISTRY_FLAGS, REGISTRY_FLAGS_HELP, registryOptions } from "../registry-flags.js";
import { colorWanted, humanBytes, makeStyle } from "../style.js";
import { printCopyReport } from "./copy.js";

export const packHelp = `Usage: zerodep pack BINARY... --out oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REPO:TAG] [options]

A minimal, reproducible OCI image from binaries, without a daemon: the binary at /app/NAME on an empty
(scratch) base, distroless-compatible /etc/passwd and /etc/group (nonroot 65532), /tmp 1777, and the CA
bundle and zoneinfo when the binary needs them. Several binaries for different platforms make a
multi-arch index. The image is checked (zerodep check) before it is written: an entrypoint that cannot
run is refused, with the problem and its fix.

Options:
  --out oci:DIR[:TAG]   OCI image layout (other images in DIR are kept)
  --out oci-archive:FILE[:TAG]         the layout as one tar (skopeo, podman load)
  --out docker-archive:FILE[:REPO:TAG] docker load / podman load tarball (Docker 25+ style, one platform)
  --ca-certs auto|none|FILE   CA bundle (auto: the host's, when the binary loads system roots)
  --tzdata auto|all|none      /usr/share/zoneinfo (auto: when the binary loads named zones)
  --user U              runtime user (default 65532:65532)
  --entrypoint A,B      entrypoint (default: the binary)     --cmd A,B   arguments
  --env K=V             environment (repeatable)             --workdir D
  --label K=V           config label (repeatable)            --annotation K=V   manifest annotation
  --port P[/tcp]        exposed port (repeatable)            --stop-signal S
  --path /IN/IMAGE      the binary's path in the image (default /app/NAME)
  --base IMAGE          build on an existing image: oci:DIR[:TAG], oci-archive:FILE[:TAG],
                        docker-archive:FILE[:REPO:TAG] or a registry HOST/REPO[:TAG]
                        (layers kept, config merged, media types kept)
  --push REF            push the image to a registry too (after writing --out, or alone without --out)
${REGISTRY_FLAGS_HELP}
  --bundle-libs         copy the interpreter and the library closure (zerodep deps) into the image
  --libs-root DIR       where those libraries come from (default /)
  --force               write the image even if check says it will not run
  --json                what was written (digests, sizes) as JSON
SOURCE_DATE_EPOCH sets every timestamp (default 0): same inputs, same digests.

Exit: 0 written, 1 refused by check, 3 bad input or I/O error, 2 usage error.`;

function kvList(list: string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list ?? []) {
    const i = kv.indexOf("=");
    if (i <= 0) throw new UsageError("USAGE", `${what} wants KEY=VALUE (got "${kv}")`);
    out[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return out;
}

export async function runPack(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: "string", short: "o" },
      "ca-certs": { type: "string" },
      tzdata: { type: "string" },
      user: { type: "string" },
      entrypoint: { type: "string" },
      cmd: { type: "string" },
      env: { type: "string", multiple: true },
      workdir: { type: "string" },
      label: { type: "string", multiple: true },
      annotation: { type: "string", multiple: true },
      port: { type: "string", multiple: true },
      "stop-signal": { type: "string" },
      path: { type: "string" },
      force: { type: "boolean" },
      "bundle-libs": { type: "boolean" },
      base: { type: "string" },
      "libs-root": { type: "string" },
      push: { type: "string" },
      ...REGISTRY_FLAGS,
      json: { type: "boolean" },
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(packHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length === 0)
    throw new UsageError("USAGE", "pack: no BINARY given (see zerodep pack --help)");
  if (!values.out && !values.push)
    throw new UsageError(
      "USAGE",
      "pack: --out oci:DIR[:TAG] (or oci-archive:/docker-archive:) or --push REF is required",
    );
  const tz = values.tzdata ?? "auto";
  if (!["auto", "all", "none"].includes(tz))
    throw new UsageError("USAGE", `--tzdata: auto, all or none (got "${tz}")`);
  const sde = io.env.SOURCE_DATE_EPOCH;
  if (sde !== undefined && !/^\d+$/.test(sde))
    throw new UsageError("USAGE", `SOURCE_DATE_EPOCH must be whole seconds (got "${sde}")`);
  for (const kv of values.env ?? [])
    if (kv.indexOf("=") <= 0) throw new UsageError("USAGE", `--env wants KEY=VALUE (got "${kv}")`);
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
      tzdata: tz as "auto" | "all" | "none",
      user: values.user,
      entrypoint: values.entrypoint?.split(","),
      cmd: values.cmd?.split(","),
      env: values.env,
      workdir: values.workdir,
      labels: kvList(values.label, "--label"),
      annotations: kvList(values.annotation, "--annotation"),
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
      io.stderr.write(`  ${st.yellow("!")} ${w.code} ${w.message}\n    fix: ${w.fix}\n`);
  }
  return EXIT.OK;
}
